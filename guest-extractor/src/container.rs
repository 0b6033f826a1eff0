//! The second main-content strategy: the block the page's own markup names as its content
//! (`itemprop=articleBody`, `<article>`, `entry-content`, `#content`, `<main>`...), with the
//! site's chrome pruned around and inside it.
//!
//! Readability scores prose in paragraphs, and on pages whose content is not that (recipes,
//! shop and event pages, landing pages, short posts) it picks whatever box has the most
//! prose-like text: an author bio, a contact box, "related posts". Content management
//! systems name their content block, and the strongest extractors (trafilatura) look there
//! first. [`crate::content::article`] runs both strategies and keeps the one that looks right.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use dom_query::{local_name, Attr, Document, NodeData, NodeId, NodeRef};
use rustc_hash::FxHashMap;

use crate::element::{attr, body, is_hidden, NameWords};
use crate::text::{for_each_text_outside_code, tally, Count, Tally};

/// Elements that are chrome wherever they are: navigation, forms, embedded widgets.
const CHROME_ELEMENTS: &[&str] = &[
    "nav", "aside", "footer", "form", "iframe", "button", "select", "textarea", "dialog",
];

/// ARIA roles of chrome.
const CHROME_ROLES: &[&str] = &["navigation", "complementary", "contentinfo", "search"];

/// Elements that may be the named content block.
const CANDIDATE_ELEMENTS: &[&str] = &["article", "div", "main", "section"];

/// Whether an element is chrome by its tag, its role or because it is hidden.
fn is_chrome_element(name: &str, attrs: &[Attr]) -> bool {
    CHROME_ELEMENTS.contains(&name)
        || attr(attrs, &local_name!("role")).is_some_and(|role| CHROME_ROLES.contains(&role))
        || is_hidden(attrs)
}

/// Words in class and id names that mark chrome: menus, sidebars, cookie banners, sharing,
/// comments, widgets, pagination.
static CHROME_WORDS: LazyLock<NameWords> = LazyLock::new(|| {
    NameWords::new(&[
        "ad",
        "ads",
        "advert",
        "advertisement",
        "banner",
        "breadcrumb",
        "breadcrumbs",
        "comment",
        "comments",
        "consent",
        "cookie",
        "cookies",
        "footer",
        "login",
        "menu",
        "modal",
        "nav",
        "navbar",
        "navigation",
        "newsletter",
        "pagination",
        "pager",
        "popup",
        "promo",
        "recommended",
        "related",
        "share",
        "sharing",
        "sidebar",
        "skip",
        "social",
        "sponsored",
        "subscribe",
        "toolbar",
        "widget",
    ])
});

/// Names of the content block (see [`Names::of`] for the notation), strongest first.
/// Each tier is tried in turn; within a tier the first block in document order with enough
/// text wins.
const CONTENT_NAMES: &[&[&str]] = &[
    &[
        "@articlebody",
        "articlebody",
        "article-body",
        "article__body",
        "article-content",
        "article__content",
        "article-text",
        "articletext",
        "entry-content",
        "post-content",
        "post_content",
        "postcontent",
        "post-body",
        "post-text",
        "post_text",
        "post-entry",
        "postentry",
        "body-text",
        "text-content",
        "page-content",
        "art-content",
    ],
    &["<article>"],
    &[
        "story-body",
        "story-content",
        "storycontent",
        "single-content",
        "single-post",
        "blog-content",
        "theme-content",
        "section-content",
        "field-body",
        "fulltext",
        "main-column",
        "wpb_text_column",
    ],
    &[
        "main-content",
        "maincontent",
        "content-main",
        "content_main",
        "content-body",
        "contentbody",
        "content__body",
        "=content",
    ],
    &["<main>", "^main"],
];

/// Fewer characters than this in a named block means the name promised more than it holds
/// (an empty wrapper, a teaser): the next tier is tried.
const MIN_CONTENT_CHARS: usize = 250;

/// The block the page's markup names as its content, copied out with its chrome removed.
pub struct NamedBlock {
    pub block: Document,
    /// The words it held with its chrome: at least what it renders without.
    pub words_at_most: usize,
}

/// The content block the page's markup names; `None` when the page names none with enough
/// text. The page itself is left as it is (readability reads it next).
pub fn named_content(doc: &Document) -> Option<NamedBlock> {
    let body = body(doc)?;
    let survey = Survey::of(doc, &body);
    let body_words = survey.body_words.max(1);
    // A wrapper that holds most of the page (an ASP.NET `<form>`, a `<div class="menu-open">`
    // around everything) is not chrome, whatever it is called.
    let is_chrome = |node: &NodeRef<'_>| {
        survey
            .chrome_words
            .get(&node.id)
            .is_some_and(|words| words * 2 < body_words)
    };
    // Chrome is only looked for around and inside the blocks that are named: a block inside
    // chrome (an `<article>` in a sidebar) is not the content, and chrome inside the chosen
    // block is left out of its copy.
    for tier in 0..CONTENT_NAMES.len() {
        let found = survey.candidates.iter().find(|(candidate, _)| {
            let node = &candidate.node;
            candidate.says_tier(tier)
                && !std::iter::once(*node)
                    .chain(node.ancestors_it(None))
                    .any(|n| is_chrome(&n))
                && visible_chars(node, is_chrome) >= MIN_CONTENT_CHARS
        });
        if let Some((Names { node, .. }, words)) = found {
            return Some(NamedBlock {
                block: copy_without(node, is_chrome),
                words_at_most: *words,
            });
        }
    }
    None
}

/// What the named-block search needs to know of a page, from one walk over it: the elements
/// that may be the named block and those that may be chrome, each with the words it renders
/// under the body. Only those elements are recorded: a count for every node of the page
/// cost more time than the rest of the search.
struct Survey<'a> {
    body_words: usize,
    /// The elements that may name the content, in document order, with their words.
    candidates: Vec<(Names<'a>, usize)>,
    /// The elements that are chrome by their tag, role or names, with their words.
    chrome_words: FxHashMap<NodeId, usize>,
    /// Where the words start to count.
    body: NodeId,
}

/// Which of a survey's records an element's words go to.
#[derive(Clone, Copy)]
struct Recorded {
    node: NodeId,
    /// Its index among the candidates.
    candidate: Option<usize>,
    body: bool,
    chrome: bool,
}

impl<'a> Survey<'a> {
    fn of(doc: &'a Document, body: &NodeRef<'a>) -> Self {
        let mut survey = Survey {
            body_words: 0,
            candidates: Vec::new(),
            chrome_words: FxHashMap::default(),
            body: body.id,
        };
        tally(doc.root(), body.id, &mut survey);
        survey
    }
}

impl<'a> Tally<'a> for Survey<'a> {
    type Mark = Recorded;

    fn enter(&mut self, node: &NodeRef<'a>, element: Option<(&str, &[Attr])>) -> Option<Recorded> {
        let (name, attrs) = element?;
        let recorded = Recorded {
            node: node.id,
            candidate: is_candidate(name, attrs).then(|| {
                self.candidates.push((Names::of(*node), 0));
                self.candidates.len() - 1
            }),
            body: node.id == self.body,
            chrome: is_chrome_element(name, attrs) || CHROME_WORDS.name(attrs),
        };
        (recorded.body || recorded.candidate.is_some() || recorded.chrome).then_some(recorded)
    }

    fn leave(&mut self, recorded: Recorded, count: Count) {
        if recorded.body {
            self.body_words = count.words;
        }
        if let Some(candidate) = recorded.candidate.and_then(|i| self.candidates.get_mut(i)) {
            candidate.1 = count.words;
        }
        if recorded.chrome {
            self.chrome_words.insert(recorded.node, count.words);
        }
    }
}

/// Whether an element may be the named content block: only a tag or a name can name the
/// content, a bare `<div>` never does.
fn is_candidate(name: &str, attrs: &[Attr]) -> bool {
    matches!(name, "article" | "main")
        || (CANDIDATE_ELEMENTS.contains(&name)
            && [
                local_name!("class"),
                local_name!("id"),
                local_name!("itemprop"),
            ]
            .iter()
            .any(|a| attr(attrs, a).is_some()))
        || attr(attrs, &local_name!("itemprop")) == Some("articleBody")
}

/// `node` copied out as a document of its own, without the elements `leave_out` picks.
fn copy_without(node: &NodeRef<'_>, leave_out: impl Fn(&NodeRef<'_>) -> bool) -> Document {
    let doomed: Vec<usize> = node
        .descendants_it()
        .enumerate()
        .filter(|(_, n)| leave_out(n))
        .map(|(i, _)| i)
        .collect();
    let copy = node.to_fragment();
    if !doomed.is_empty() {
        // The copy's descendants come in the same order as the original's.
        let copied = copy
            .root()
            .first_child()
            .and_then(|html| html.first_child());
        if let Some(copied) = copied {
            let descendants: Vec<NodeRef<'_>> = copied.descendants_it().collect();
            for i in doomed {
                if let Some(element) = descendants.get(i) {
                    element.remove_from_parent();
                }
            }
        }
    }
    copy
}

/// Whether the node carries one of the strongest content names (`itemprop=articleBody`,
/// `entry-content`, `post-content`...): the block a content management system fills with
/// the article.
pub fn is_named_article_body(node: &NodeRef<'_>) -> bool {
    Names::of(*node).says_tier(0)
}

/// What an element is called: its tag, its `itemprop`, its class and id (lower-cased once,
/// since each is tried against every name of every tier).
struct Names<'a> {
    node: NodeRef<'a>,
    /// Bit `t` set: the element says a name of tier `t` of [`CONTENT_NAMES`].
    tiers: u32,
}

/// [`CONTENT_NAMES`] sorted by how they are matched, each with its tier: fragments of a
/// class or id in one Aho-Corasick automaton (one pass over an element's names, however
/// many names there are), the others one by one.
struct NameIndex {
    fragments: AhoCorasick,
    fragment_tiers: Vec<u32>,
    /// `(tier, tag)` for `<tag>`, `(tier, property)` for `@property`, and so on.
    tags: Vec<(u32, &'static str)>,
    properties: Vec<(u32, &'static str)>,
    exact: Vec<(u32, &'static str)>,
    prefixes: Vec<(u32, &'static str)>,
}

static NAME_INDEX: LazyLock<NameIndex> = LazyLock::new(|| {
    let mut fragments = Vec::new();
    let mut fragment_tiers = Vec::new();
    let (mut tags, mut properties, mut exact, mut prefixes) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (tier, names) in (0u32..).zip(CONTENT_NAMES) {
        for name in *names {
            if let Some(tag) = name.strip_prefix('<').and_then(|n| n.strip_suffix('>')) {
                tags.push((tier, tag));
            } else if let Some(property) = name.strip_prefix('@') {
                properties.push((tier, property));
            } else if let Some(whole) = name.strip_prefix('=') {
                exact.push((tier, whole));
            } else if let Some(prefix) = name.strip_prefix('^') {
                prefixes.push((tier, prefix));
            } else {
                fragments.push(*name);
                fragment_tiers.push(tier);
            }
        }
    }
    NameIndex {
        // The fastest kind to search and the slowest to build, which is paid once: the
        // guest builds it in its pre-initialization (the warm-up page names its blocks),
        // not in each page's fresh instance. Against a noncontiguous NFA: 0.4% fewer
        // instructions in the sandbox over the dev pages, 25 KB more in the memory image.
        fragments: AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::DFA))
            .build(fragments)
            .expect("content names build an automaton"),
        fragment_tiers,
        tags,
        properties,
        exact,
        prefixes,
    }
});

impl<'a> Names<'a> {
    /// Reads the element's tag, `itemprop`, class and id (lower-cased) once, and marks the
    /// tiers whose names it says: `<tag>` for an element, `@x` for an `itemprop` of `x`,
    /// `=x` for a class or id that is exactly `x`, `^x` for one that starts with `x`,
    /// otherwise a fragment of the class or id.
    fn of(node: NodeRef<'a>) -> Self {
        let index = &*NAME_INDEX;
        let tiers = node
            .query(|n| {
                let NodeData::Element(element) = &n.data else {
                    return 0;
                };
                let attrs = &element.attrs;
                let tag: &str = &element.name.local;
                let mut tiers = 0u32;
                let mut mark = |tier: u32| tiers |= 1 << tier;
                for (tier, name) in &index.tags {
                    if tag == *name {
                        mark(*tier);
                    }
                }
                if let Some(itemprop) = attr(attrs, &local_name!("itemprop")) {
                    for (tier, property) in &index.properties {
                        if itemprop.eq_ignore_ascii_case(property) {
                            mark(*tier);
                        }
                    }
                }
                for value in [
                    attr(attrs, &local_name!("class")),
                    attr(attrs, &local_name!("id")),
                ]
                .into_iter()
                .flatten()
                {
                    let value = value.to_ascii_lowercase();
                    for found in index.fragments.find_overlapping_iter(&value) {
                        mark(index.fragment_tiers[found.pattern().as_usize()]);
                    }
                    for (tier, exact) in &index.exact {
                        if value.split_ascii_whitespace().any(|v| v == *exact) {
                            mark(*tier);
                        }
                    }
                    for (tier, prefix) in &index.prefixes {
                        if value.starts_with(prefix) {
                            mark(*tier);
                        }
                    }
                }
                tiers
            })
            .unwrap_or(0);
        Self { node, tiers }
    }

    fn says_tier(&self, tier: usize) -> bool {
        self.tiers & (1 << tier) != 0
    }
}

/// Characters other than whitespace in the text under `node`, outside scripts, style
/// sheets and what `skip` says to leave out.
fn visible_chars(node: &NodeRef<'_>, skip: impl Fn(&NodeRef<'_>) -> bool) -> usize {
    let mut chars = 0;
    for_each_text_outside_code(node, skip, |text| {
        chars += text.chars().filter(|c| !c.is_whitespace()).count();
    });
    chars
}
