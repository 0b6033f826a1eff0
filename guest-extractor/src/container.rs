//! The second main-content strategy: the block the page's own markup names as its content
//! (`itemprop=articleBody`, `<article>`, `entry-content`, `#content`, `<main>`...), with the
//! site's chrome pruned around and inside it.
//!
//! Readability scores prose in paragraphs, and on pages whose content is not that (recipes,
//! shop and event pages, landing pages, short posts) it picks whatever box has the most
//! prose-like text: an author bio, a contact box, "related posts". Content management
//! systems name their content block, and the strongest extractors (trafilatura) look there
//! first. [`crate::content::article`] runs both strategies and keeps the one that looks right.

use dom_query::{Document, NodeRef};

use crate::content::remove_marked;
use crate::text::TextCounts;

/// Elements that are chrome wherever they are: navigation, forms, embedded widgets.
const CHROME_ELEMENTS: &str = "nav, aside, footer, form, iframe, button, select, textarea, \
     [role=navigation], [role=complementary], [role=contentinfo], [role=search], [hidden], \
     [aria-hidden=true], dialog";

/// Words in class and id names that mark chrome: menus, sidebars, cookie banners, sharing,
/// comments, widgets, pagination.
const CHROME_WORDS: &[&str] = &[
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
];

/// Names of the content block (see [`names_content`] for the notation), strongest first.
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

/// The content block the page's markup names, with chrome removed, as a document of its
/// own; `None` when the page names none with enough text.
pub fn named_content(doc: Document) -> Option<Document> {
    let body = doc.select("body").nodes().first().copied()?;
    let counts = TextCounts::of(&body);
    let body_words = counts.words(&body).max(1);
    // A wrapper that holds most of the page (an ASP.NET `<form>`, a `<div class="menu-open">`
    // around everything) is not chrome, whatever it is called.
    let is_small = |node: &NodeRef<'_>| counts.words(node) * 2 < body_words;

    remove_marked(&doc, CHROME_ELEMENTS, CHROME_WORDS, is_small);

    let candidates: Vec<NodeRef<'_>> = doc
        .select("article, div, main, section, [itemprop=articleBody]")
        .nodes()
        .to_vec();
    for tier in CONTENT_NAMES {
        let found = candidates.iter().find(|node| {
            tier.iter().any(|name| names_content(node, name))
                && visible_chars(node) >= MIN_CONTENT_CHARS
        });
        if let Some(node) = found {
            return Some(node.to_fragment());
        }
    }
    None
}

/// Whether the node is named `name`: `<tag>` for an element, `@x` for an `itemprop` of `x`,
/// `=x` for a class or id that is exactly `x`, `^x` for one that starts with `x`, otherwise
/// a fragment of the class or id.
fn names_content(node: &NodeRef<'_>, name: &str) -> bool {
    if let Some(tag) = name.strip_prefix('<').and_then(|n| n.strip_suffix('>')) {
        return node.node_name().is_some_and(|n| n.as_ref() == tag);
    }
    if let Some(property) = name.strip_prefix('@') {
        return node
            .attr("itemprop")
            .is_some_and(|p| p.eq_ignore_ascii_case(property));
    }
    let values = [node.attr("class"), node.attr("id")];
    values.iter().flatten().any(|value| {
        let value = value.to_ascii_lowercase();
        if let Some(exact) = name.strip_prefix('=') {
            value.split_ascii_whitespace().any(|v| v == exact)
        } else if let Some(prefix) = name.strip_prefix('^') {
            value.starts_with(prefix)
        } else {
            value.contains(name)
        }
    })
}

fn visible_chars(node: &NodeRef<'_>) -> usize {
    let text = node.text();
    text.chars().filter(|c| !c.is_whitespace()).count()
}
