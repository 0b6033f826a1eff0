//! Chooses which part of the document is "the content" for each extraction mode.

use std::collections::HashSet;

use dom_query::{Document, Matcher, NodeRef};
use dom_smoothie::{Config, Readability, TextMode};

use crate::error::ExtractError;

/// Words in class and id names that mark page furniture inside an article block: bylines,
/// datelines, captions, sharing, related links, galleries, newsletter prompts.
const FURNITURE_WORDS: &[&str] = &[
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
];

/// Elements inside an article block that are never part of the article's prose.
const FURNITURE_ELEMENTS: &str = "figcaption, aside, nav, footer, form, button, time";

/// Short blocks that begin like this are page furniture, not prose.
const FURNITURE_PREFIXES: &[&str] = &[
    "advertisement",
    "continue reading",
    "click here",
    "don't miss",
    "follow us",
    "image 1 of",
    "more from",
    "photo:",
    "posted",
    "published",
    "read more",
    "related:",
    "share this",
    "sign up",
    "subscribe",
    "updated",
    "you may also like",
    "(image:",
];

/// Blocks shorter than this many words may be furniture; longer ones are kept regardless.
const SHORT_BLOCK_WORDS: usize = 15;

/// Runs the readability pass. `None` when it finds no main content block.
pub fn article(readability: &mut Readability) -> Option<Document> {
    readability.config = Config {
        text_mode: TextMode::Raw,
        keep_classes: true,
        ..Config::default()
    };
    let article = readability.parse().ok()?;
    let doc = Document::fragment(article.content.to_string());
    remove_furniture(&doc);
    Some(doc)
}

/// Removes bylines, captions, share bars, related-link lists and the like from the article
/// block. A candidate holding most of the article's text is kept: a wrapper whose class
/// happens to say "meta" must not take the article with it.
fn remove_furniture(doc: &Document) {
    let total_words = doc.root().text().split_whitespace().count().max(1);
    let is_small = |node: &NodeRef<'_>| node.text().split_whitespace().count() * 3 < total_words;

    for node in doc.select(FURNITURE_ELEMENTS).nodes() {
        if is_small(node) {
            node.remove_from_parent();
        }
    }
    for node in doc.select("[class], [id]").nodes() {
        let names = format!(
            "{} {}",
            node.attr("class").unwrap_or_default(),
            node.attr("id").unwrap_or_default()
        )
        .to_ascii_lowercase();
        let furniture = names
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|word| FURNITURE_WORDS.contains(&word));
        if furniture && is_small(node) {
            node.remove_from_parent();
        }
    }
    // Lists and boxes that are mostly links are navigation or "more stories", not prose.
    for node in doc.select("ul, ol, div, section").nodes() {
        let words = node.text().split_whitespace().count();
        if words == 0 || !is_small(node) {
            continue;
        }
        let linked: usize = node
            .descendants_it()
            .filter(|d| d.node_name().is_some_and(|n| n.as_ref() == "a"))
            .map(|a| a.text().split_whitespace().count())
            .sum();
        if linked * 10 >= words * 6 {
            node.remove_from_parent();
        }
    }
    for node in doc
        .select("p, div, span, li, h2, h3, h4, h5, h6, strong, em")
        .nodes()
    {
        let text = node.text();
        let words = text.split_whitespace().count();
        if words == 0 || words >= SHORT_BLOCK_WORDS {
            continue;
        }
        let lower = text.trim().to_lowercase();
        if FURNITURE_PREFIXES.iter().any(|p| lower.starts_with(p)) {
            node.remove_from_parent();
        }
    }
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
