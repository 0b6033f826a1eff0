//! Chooses which part of the document is "the content" for each extraction mode.

use dom_query::{Document, Matcher, NodeRef};
use dom_smoothie::{Config, Readability, TextMode};

use crate::error::ExtractError;

/// Runs the readability pass. `None` when it finds no main content block.
pub fn article(readability: &mut Readability) -> Option<Document> {
    readability.config = Config {
        text_mode: TextMode::Raw,
        ..Config::default()
    };
    let article = readability.parse().ok()?;
    let html = article.content.to_string();
    Some(Document::fragment(html))
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
/// another matched node is rendered with it, not again.
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
    let ids: Vec<_> = nodes.iter().map(|n| n.id).collect();
    Ok(nodes
        .iter()
        .filter(|n| !n.ancestors_it(None).any(|a| ids.contains(&a.id)))
        .cloned()
        .collect())
}
