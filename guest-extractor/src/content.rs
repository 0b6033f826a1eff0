//! Chooses which part of the document is "the content" for each extraction mode.

use std::collections::HashSet;

use dom_query::{Document, Matcher, NodeRef};
use dom_smoothie::{Config, Readability, TextMode};

use crate::container;
use crate::error::ExtractError;
use crate::render::collapse_whitespace;
use crate::text::{with_text, TextCounts};

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
];

/// Short blocks that say this anywhere are legal or credit lines.
const FURNITURE_ANYWHERE: &[&str] = &["\u{a9}", "all rights reserved", "alle rechte vorbehalten"];

/// Blocks shorter than this many words may be furniture; longer ones are kept regardless.
const SHORT_BLOCK_WORDS: usize = 15;

/// Readability's pick is compared with the block the page names only when it is shorter
/// than this: a longer pick is an article's body, and the comparison would cost every
/// article a second pass for nothing.
const SHORT_PICK_WORDS: usize = 200;

/// The page's main content block, `None` when there is none. Readability's choice, unless
/// it is short and the block the page's markup names as its content
/// ([`container::named_content`]) holds more than twice its text: then readability settled
/// on a box beside the content (a bio, a contact box, "related posts") or on a fragment of
/// it. `page` is the page as readability was given it.
pub fn article(readability: &mut Readability, page: &Document) -> Option<Document> {
    let readable = readable(readability);
    let readable_words = readable.as_ref().map_or(0, prose_words);
    if readable_words >= SHORT_PICK_WORDS {
        return readable;
    }
    let named = container::named_content(page.clone()).filter(|named| {
        remove_furniture(named);
        rendered_words(named) > 2 * readable_words
    });
    named.or(readable)
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

/// The page's lead (standfirst, chapo, teaser) when `extracted` lacks it: the block whose
/// text begins with the page's own description. Readability tends to leave it out: it sits
/// in the article's header beside the title rather than among the paragraphs. Found from
/// the text nodes, so a page without one costs one walk.
pub fn missing_lead(page: &Document, description: &str, extracted: &str) -> Option<String> {
    let wanted = collapse_whitespace(description.trim_end_matches(['.', '\u{2026}', ' ']));
    let prefix: String = wanted.chars().take(LEAD_PREFIX_CHARS).collect();
    if prefix.chars().count() < LEAD_MIN_CHARS || collapse_whitespace(extracted).contains(&prefix) {
        return None;
    }
    let longest = wanted.chars().count() * 3 / 2 + LEAD_MIN_CHARS;
    let first_word = prefix.split(' ').next().unwrap_or_default();
    let body = page.select("body").nodes().first().copied()?;
    let lead = body
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
        })
        .take(50)
        .find_map(|start| {
            start.ancestors_it(Some(4)).find_map(|block| {
                let name = block.node_name()?;
                if INVISIBLE_PARENTS.contains(&name.as_ref()) {
                    return None;
                }
                let text = collapse_whitespace(&block.text());
                let ok = !is_dek_or_caption(&block)
                    && text.starts_with(&prefix)
                    && text.chars().count() <= longest;
                ok.then_some(text)
            })
        });
    lead
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

/// Runs the readability pass. `None` when it finds no main content block.
fn readable(readability: &mut Readability) -> Option<Document> {
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

/// Removes bylines, captions, share bars, related-link lists and the like from an article
/// block. A candidate holding most of the article's text is kept: a wrapper whose class
/// happens to say "meta" must not take the article with it.
pub fn remove_furniture(doc: &Document) {
    let root = doc.root();
    let counts = TextCounts::of(&root);
    let total_words = counts.words(&root).max(1);
    let is_small = |node: &NodeRef<'_>| counts.words(node) * 3 < total_words;

    remove_marked(doc, FURNITURE_ELEMENTS, FURNITURE_WORDS, is_small);
    // Lists and boxes that are mostly links are navigation or "more stories", not prose.
    for node in doc.select("ul, ol, div, section").nodes() {
        let words = counts.words(node);
        if words > 0 && is_small(node) && counts.linked_words(node) * 10 >= words * 6 {
            node.remove_from_parent();
        }
    }
    for node in doc
        .select("p, div, span, li, h2, h3, h4, h5, h6, strong, em")
        .nodes()
    {
        let words = counts.words(node);
        if words == 0 || words >= 2 * SHORT_BLOCK_WORDS {
            continue;
        }
        let lower = node.text().to_lowercase();
        let lower =
            lower.trim_start_matches(|c: char| !c.is_alphanumeric() && c != '\u{a9}' && c != '(');
        // A block that is one link and nothing else is a pointer to another story.
        let standalone_link = counts.linked_words(node) == words
            && !matches!(node.node_name().as_deref(), Some("span" | "strong" | "em"));
        let labelled = words < SHORT_BLOCK_WORDS
            && (FURNITURE_PREFIXES.iter().any(|p| lower.starts_with(p))
                || FURNITURE_ANYWHERE.iter().any(|p| lower.contains(p)));
        if standalone_link || labelled {
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
            .filter(|n| n.is_text() && !n.text().trim().is_empty())
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

/// Removes the elements `elements` matches and those whose class or id has one of `words`,
/// where `is_small` says they hold too little of the page to be the content.
pub fn remove_marked(
    doc: &Document,
    elements: &str,
    words: &[&str],
    is_small: impl Fn(&NodeRef<'_>) -> bool,
) {
    for node in doc.select(elements).nodes() {
        if is_small(node) {
            node.remove_from_parent();
        }
    }
    for node in doc.select("[class], [id]").nodes() {
        if names_match(node, words) && is_small(node) {
            node.remove_from_parent();
        }
    }
}

/// Whether one of the words of the node's class or id is in `words`.
pub fn names_match(node: &NodeRef<'_>, words: &[&str]) -> bool {
    [node.attr("class"), node.attr("id")]
        .iter()
        .flatten()
        .any(|value| {
            value
                .split(|c: char| !c.is_ascii_alphanumeric())
                .any(|word| words.iter().any(|w| word.eq_ignore_ascii_case(w)))
        })
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
