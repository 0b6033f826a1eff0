//! Chooses which part of the document is "the content" for each extraction mode.

use std::collections::HashSet;
use std::sync::LazyLock;

use dom_query::{Attr, Document, Matcher, NodeRef};
use dom_smoothie::{Config, Metadata, Readability, TextMode};

use crate::container::NamedBlock;
use crate::element::{self, with_element, NameWords};
use crate::error::ExtractError;
use crate::render::collapse_whitespace;
use crate::text::{is_code_text, text_outside_code, with_text, TextCounts};

/// Words in class and id names that mark page furniture inside an article block: bylines,
/// datelines, captions, sharing, related links, galleries, newsletter prompts.
static FURNITURE_WORDS: LazyLock<NameWords> = LazyLock::new(|| {
    NameWords::new(&[
        "ad",
        "ads",
        "advert",
        "advertisement",
        "author",
        "bio",
        "breadcrumb",
        "breadcrumbs",
        "byline",
        "caption",
        "carousel",
        "comment",
        "comments",
        "credit",
        "credits",
        "dateline",
        "disclaimer",
        "gallery",
        "meta",
        "newsletter",
        "promo",
        "recommended",
        "related",
        "share",
        "sharing",
        "signup",
        "slideshow",
        "social",
        "sponsor",
        "sponsored",
        "subscribe",
        "subscription",
        "tags",
        "timestamp",
        "toolbar",
        "readmore",
    ])
});

/// Elements inside an article block that are never part of the article's prose.
const FURNITURE_ELEMENTS: &[&str] = &[
    "figcaption",
    "aside",
    "nav",
    "footer",
    "form",
    "button",
    "time",
];

/// Lists and boxes, which may be navigation or "more stories" rather than prose.
const LINK_BOX_ELEMENTS: &[&str] = &["ul", "ol", "div", "section"];

/// Blocks that may be a label, a credit or a pointer to another story.
const LABEL_ELEMENTS: &[&str] = &[
    "p", "div", "span", "li", "h2", "h3", "h4", "h5", "h6", "strong", "em",
];

/// Short blocks that begin like this are page furniture, not prose: labels of "more
/// stories" boxes, credits, prompts. In the languages most of the web is written in.
const FURNITURE_PREFIXES: &[&str] = &[
    // English
    "advertisement",
    "continue reading",
    "click here",
    "credit:",
    "don't miss",
    "follow us",
    "image 1 of",
    "more from",
    "photo:",
    "posted",
    "published",
    "read more",
    "read also",
    "related:",
    "see also",
    "share this",
    "sign up",
    "subscribe",
    "updated",
    "by ",
    "tags",
    "you may also like",
    "(image:",
    "copyright",
    "leave a comment",
    "load more",
    "never miss",
    "print recipe",
    "rate this",
    "share on",
    "show more",
    "source:",
    // German
    "anzeige",
    "- anzeige",
    "auch interessant",
    "bild:",
    "das könnte",
    "foto:",
    "fotos:",
    "lesen sie auch",
    "lesen sie mehr",
    "mehr zum thema",
    "mehr zu",
    "schlagwörter",
    "von ",
    "quelle:",
    "schon gelesen",
    "siehe auch",
    "weitere artikel",
    "weitere beiträge",
    "weiterlesen",
    "zum weiterlesen",
    "artikel bewerten",
    "artikel gefallen",
    "bild anzeigen",
    "dieses skript",
    "kommentar schreiben",
    "kommentare",
    "lade weitere",
    "mehr laden",
    "mit freunden teilen",
    "möchten sie den artikel",
    "rezept drucken",
    "sie könnten auch",
    "titelbild:",
    "verpasse keine",
    "war der artikel",
    // Spanish, French, Italian, Polish
    "lea también",
    "lee también",
    "le puede interesar",
    "puedes ver",
    "vea también",
    "lire aussi",
    "à lire aussi",
    "voir aussi",
    "leggi anche",
    "czytaj także",
    "czytaj też",
    "zobacz też",
    "zobacz także",
    "comparte",
    "valora esta",
    "síguenos",
    "partager",
    "suivez-nous",
    "condividi",
    "źródło:",
    "udostępnij",
    "komentarze",
    "ten tekst przeczytasz",
];

/// Short blocks that say this anywhere are legal or credit lines.
const FURNITURE_ANYWHERE: &[&str] = &["\u{a9}", "all rights reserved", "alle rechte vorbehalten"];

/// Blocks shorter than this many words may be furniture; longer ones are kept regardless.
const SHORT_BLOCK_WORDS: usize = 15;

/// Readability's pick is short below this many words: a bio, a contact box or a fragment of
/// the content as likely as the content itself.
const SHORT_PICK_WORDS: usize = 200;

/// How many times a short pick's words the named block must render to replace it.
const SHORT_PICK_RATIO: usize = 2;

/// How many times a long pick's words the named block must render to replace it, when it
/// also holds the pick: readability kept part of the content (one of the blocks a page
/// builder splits an article into, or the prose without the lists and tables between it).
const HOLDING_PICK_RATIO: f64 = 1.5;

/// The page's main content block, `None` when there is none. Readability's choice, unless
/// the block the page's markup names as its content (`named`, from
/// [`crate::container::named_content`]) holds clearly more: more than twice a short pick's text
/// (readability settled on a box beside the content, such as a bio, a contact box or
/// "related posts", or on a fragment of it), or half as much again as a long pick that it
/// contains.
pub fn article(
    readability: &mut Readability,
    metadata: Metadata,
    named: Option<NamedBlock>,
) -> Option<Document> {
    let readable = readable(readability, metadata);
    let readable_words = readable.as_ref().map_or(0, prose_words);
    let short = readable_words < SHORT_PICK_WORDS;
    let more_than = if short {
        SHORT_PICK_RATIO * readable_words
    } else {
        (HOLDING_PICK_RATIO * readable_words as f64) as usize
    };
    let named = named
        .filter(|named| named.words_at_most > more_than)
        .map(|named| named.block)
        .filter(|named| {
            remove_furniture(named);
            rendered_words(named) > more_than
                && (short || readable.as_ref().is_some_and(|pick| holds(named, pick)))
        });
    named.or(readable)
}

/// Whether `outer` holds the text `inner` begins and ends with.
fn holds(outer: &Document, inner: &Document) -> bool {
    let texts: Vec<String> = inner
        .root()
        .descendants_it()
        .filter(|n| n.is_text() && !is_code_text(n))
        .map(|n| collapse_whitespace(&n.text()))
        .filter(|t| t.chars().count() >= 20)
        .collect();
    let (Some(first), Some(last)) = (texts.first(), texts.last()) else {
        return false;
    };
    let outer_text = collapse_whitespace(&text_outside_code(&outer.root()));
    outer_text.contains(first.as_str()) && outer_text.contains(last.as_str())
}

/// Words of the text the document renders to.
fn rendered_words(doc: &Document) -> usize {
    let root = doc.root();
    TextCounts::of(&root).words(&root)
}

/// Words the document renders outside forms. A pick whose text is a form's (a newsletter
/// sign-up with its labels and consent lines) is not the page's prose, however long; a form
/// inside the content (a shop's product form around its description) still renders.
fn prose_words(doc: &Document) -> usize {
    let root = doc.root();
    let counts = TextCounts::of(&root);
    let in_forms: usize = doc
        .select("form")
        .nodes()
        .iter()
        .filter(|form| {
            !form
                .ancestors_it(None)
                .any(|a| a.node_name().as_deref() == Some("form"))
        })
        .map(|form| counts.words(form))
        .sum();
    counts.words(&root).saturating_sub(in_forms)
}

/// Characters of the description that identify the lead block.
const LEAD_PREFIX_CHARS: usize = 60;
/// A description shorter than this is a slogan, not the start of a lead.
const LEAD_MIN_CHARS: usize = 40;

/// The page's lead (standfirst, chapo, teaser): the block whose text begins with the
/// page's own description, found from the text nodes, so a page without one costs one walk.
/// Readability tends to leave it out: it sits in the article's header beside the title
/// rather than among the paragraphs ([`Lead::missing_from`] tells).
pub fn lead(page: &Document, description: &str) -> Option<Lead> {
    let wanted = collapse_whitespace(description.trim_end_matches(['.', '\u{2026}', ' ']));
    let prefix: String = wanted.chars().take(LEAD_PREFIX_CHARS).collect();
    if prefix.chars().count() < LEAD_MIN_CHARS {
        return None;
    }
    let longest = wanted.chars().count() * 3 / 2 + LEAD_MIN_CHARS;
    let first_word = prefix.split(' ').next().unwrap_or_default();
    let body = element::body(page)?;
    let text = body
        .descendants_it()
        .filter(|node| {
            with_text(node, |text| {
                let text = text.trim();
                // Most text nodes fail on their first word, without an allocation.
                if text.is_empty()
                    || !(text.starts_with(first_word) || first_word.starts_with(text))
                {
                    return false;
                }
                let text = collapse_whitespace(text);
                text.starts_with(&prefix) || prefix.starts_with(&text)
            })
            .unwrap_or(false)
                && !is_code_text(node)
        })
        .take(50)
        .find_map(|start| {
            start.ancestors_it(Some(4)).find_map(|block| {
                let name = block.node_name()?;
                if INVISIBLE_PARENTS.contains(&name.as_ref()) {
                    return None;
                }
                let text = collapse_whitespace(&text_outside_code(&block));
                let ok = !is_dek_or_caption(&block)
                    && text.starts_with(&prefix)
                    && text.chars().count() <= longest;
                ok.then_some(text)
            })
        })?;
    Some(Lead { prefix, text })
}

/// A page's lead block.
pub struct Lead {
    /// The description's first characters, which the lead begins with.
    prefix: String,
    pub text: String,
}

impl Lead {
    /// Whether `extracted` lacks the lead.
    pub fn missing_from(&self, extracted: &str) -> bool {
        !collapse_whitespace(extracted).contains(&self.prefix)
    }
}

/// A description repeated in a heading is the article's subtitle (its dek), which readers of
/// the article text leave out as they leave out the title; one repeated in a caption or a
/// quote is not where the article starts.
fn is_dek_or_caption(block: &NodeRef<'_>) -> bool {
    std::iter::once(*block)
        .chain(block.ancestors_it(None))
        .any(|node| {
            node.node_name().is_some_and(|name| {
                matches!(
                    name.as_ref(),
                    "h1" | "h2"
                        | "h3"
                        | "h4"
                        | "h5"
                        | "h6"
                        | "figure"
                        | "figcaption"
                        | "blockquote"
                )
            })
        })
}

/// Parents whose text is not the page's visible text.
const INVISIBLE_PARENTS: &[&str] = &["script", "style", "noscript", "template", "title", "head"];

/// The element readability wraps the article it finds in.
const ARTICLE_BLOCK: &str = "#readability-page-1";

/// Runs the readability pass from the page's `metadata` (read before the pass changes the
/// tree). `None` when it finds no main content block.
fn readable(readability: &mut Readability, metadata: Metadata) -> Option<Document> {
    readability.config = Config {
        text_mode: TextMode::Raw,
        keep_classes: true,
        ..Config::default()
    };
    readability.grab_with_metadata(metadata).ok()?;
    // The article block is copied out of readability's tree as it stands: readability
    // serializes nothing, and nothing is parsed again.
    let doc = readability
        .doc
        .select_single(ARTICLE_BLOCK)
        .nodes()
        .first()?
        .to_fragment();
    remove_furniture(&doc);
    Some(doc)
}

/// Removes bylines, captions, share bars, related-link lists and the like from an article
/// block. A candidate holding most of the article's text is kept: a wrapper whose class
/// happens to say "meta" must not take the article with it.
pub fn remove_furniture(doc: &Document) {
    let root = doc.root();
    let counts = TextCounts::of(&root);
    let total_words = counts.words(&root).max(1);
    let is_small = |node: &NodeRef<'_>| counts.words(node) * 3 < total_words;

    remove_marked(
        doc,
        |name, _| FURNITURE_ELEMENTS.contains(&name),
        &FURNITURE_WORDS,
        is_small,
    );
    // Lists and boxes that are mostly links are navigation or "more stories", not prose.
    for node in elements_named(doc, LINK_BOX_ELEMENTS) {
        let words = counts.words(&node);
        if words > 0 && is_small(&node) && counts.linked_words(&node) * 10 >= words * 6 {
            node.remove_from_parent();
        }
    }
    for node in elements_named(doc, LABEL_ELEMENTS) {
        let node = &node;
        let words = counts.words(node);
        if words == 0 || words >= 2 * SHORT_BLOCK_WORDS {
            continue;
        }
        // A block that is one link and nothing else is a pointer to another story.
        let standalone_link = counts.linked_words(node) == words
            && !matches!(node.node_name().as_deref(), Some("span" | "strong" | "em"));
        // The text is lowercased only where a label may be found in it.
        let labelled = || {
            let lower = text_outside_code(node).to_lowercase();
            let lower = lower
                .trim_start_matches(|c: char| !c.is_alphanumeric() && c != '\u{a9}' && c != '(');
            FURNITURE_PREFIXES.iter().any(|p| lower.starts_with(p))
                || FURNITURE_ANYWHERE.iter().any(|p| lower.contains(p))
        };
        if standalone_link || (words < SHORT_BLOCK_WORDS && labelled()) {
            node.remove_from_parent();
        }
    }
    remove_trailing_headings(doc);
}

/// Removes headings that nothing follows: the label of a box whose links were removed
/// ("More on this topic", "Weitere Artikel") is left at the end of the block.
fn remove_trailing_headings(doc: &Document) {
    let root = doc.root();
    loop {
        let last_text = root
            .descendants_it()
            .filter(|n| n.is_text() && !is_code_text(n) && !n.text().trim().is_empty())
            .last();
        let Some(last_text) = last_text else { return };
        let heading = last_text.ancestors_it(None).find(|a| {
            a.node_name()
                .is_some_and(|n| matches!(n.as_ref(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6"))
        });
        match heading {
            Some(heading) => heading.remove_from_parent(),
            None => return,
        }
    }
}

/// Removes the elements `marked` picks (by their tag name and attributes) and those whose
/// class or id has one of `words`, where `is_small` says they hold too little of the page
/// to be the content. One walk, without the CSS matcher: this runs on every page.
fn remove_marked(
    doc: &Document,
    marked: impl Fn(&str, &[Attr]) -> bool,
    words: &NameWords,
    is_small: impl Fn(&NodeRef<'_>) -> bool,
) {
    let doomed: Vec<NodeRef<'_>> = doc
        .root()
        .descendants_it()
        .filter(|node| {
            with_element(node, |name, attrs| marked(name, attrs) || words.name(attrs))
                .unwrap_or(false)
                && is_small(node)
        })
        .collect();
    for node in doomed {
        node.remove_from_parent();
    }
}

/// The elements under the document's root whose tag is one of `names`, in document order,
/// as the tree is now.
fn elements_named<'a>(doc: &'a Document, names: &[&str]) -> Vec<NodeRef<'a>> {
    doc.root()
        .descendants_it()
        .filter(|node| with_element(node, |name, _| names.contains(&name)).unwrap_or(false))
        .collect()
}

/// The page's visible content: the body, or the whole document when it has none.
pub fn full_page(doc: &Document) -> Vec<NodeRef<'_>> {
    let body = doc.select("body");
    match body.nodes().first() {
        Some(body) => vec![*body],
        None => vec![doc.root()],
    }
}

/// The nodes matched by any of the selectors, in document order, each once. A node inside
/// another matched node is rendered with it, not again. Linear in the matches: each looks
/// up its ancestors (at most the nesting cap) in a hash set, so `*` on a large page costs
/// no more than the page.
pub fn custom<'a>(
    doc: &'a Document,
    selectors: &[String],
) -> Result<Vec<NodeRef<'a>>, ExtractError> {
    if selectors.is_empty() {
        return Err(ExtractError::UnsupportedMode(
            "custom mode needs at least one CSS selector".into(),
        ));
    }
    for selector in selectors {
        Matcher::new(selector).map_err(|_| {
            ExtractError::UnsupportedMode(format!(
                "`{selector}` is not a valid CSS selector; use a selector such as `article .body` or `#content`"
            ))
        })?;
    }
    let joined = selectors.join(", ");
    let matched = doc.select(&joined);
    let nodes = matched.nodes();
    let ids: HashSet<_> = nodes.iter().map(|n| n.id).collect();
    Ok(nodes
        .iter()
        .filter(|n| !n.ancestors_it(None).any(|a| ids.contains(&a.id)))
        .cloned()
        .collect())
}
