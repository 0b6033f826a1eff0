//! RipTide's HTML extractor.
//!
//! One library, two builds: natively it is linked into the worker (tests, the native
//! fallback, the wasm-versus-native benchmark); as a WebAssembly component (feature
//! `component`, built by `ops/build-guest.sh`) it exports the WIT world in `wit/`.
//! The types here are the host-side types: the component glue converts them to and from
//! the WIT bindings at the boundary, so neither side leaks into the other.
//!
//! The extractor returns typed errors and never panics on any input: inside the sandbox a
//! panic would be a trap whose message is lost.

mod container;
mod content;
mod element;
mod embedded;
mod error;
mod language;
mod limits;
mod links;
mod markup;
mod metadata;
mod quality;
mod render;
mod text;

#[cfg(feature = "component")]
mod component;
#[cfg(all(feature = "component", target_family = "wasm"))]
mod heap;

use std::borrow::Cow;

use dom_query::{local_name, Document};
use dom_smoothie::Readability;
use serde::{Deserialize, Serialize};
use url::Url;

use markup::Attributes;

pub use error::ExtractError;
pub use limits::{Limits, DEFAULT_MAX_DEPTH, DEFAULT_MAX_INPUT_BYTES};
pub use links::PageLinks;

/// The extractor's name, as reported by `get-info`.
pub const NAME: &str = env!("CARGO_PKG_NAME");
/// The extractor's version, as reported by `get-info`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The mode names `extract` accepts.
pub const MODES: [&str; 4] = ["article", "full", "metadata", "custom"];

/// What to extract from a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "selectors")]
pub enum ExtractionMode {
    /// The main content only.
    Article,
    /// All visible content.
    Full,
    /// Metadata only; `markdown` and `text` stay empty.
    Metadata,
    /// The content matched by these CSS selectors.
    Custom(Vec<String>),
}

impl ExtractionMode {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Article => "article",
            Self::Full => "full",
            Self::Metadata => "metadata",
            Self::Custom(_) => "custom",
        }
    }

    /// The mode called `name` (one of [`MODES`]); `selectors` are used by `custom` only.
    pub fn parse(name: &str, selectors: Vec<String>) -> Result<Self, ExtractError> {
        match name {
            "article" => Ok(Self::Article),
            "full" => Ok(Self::Full),
            "metadata" => Ok(Self::Metadata),
            "custom" => Ok(Self::Custom(selectors)),
            other => Err(ExtractError::UnsupportedMode(format!(
                "unknown mode `{other}`; use one of {}",
                MODES.join(", ")
            ))),
        }
    }
}

/// Everything extracted from one page (the 15 fields of the WIT `extracted-content`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtractedDoc {
    pub url: String,
    pub title: Option<String>,
    pub byline: Option<String>,
    pub published_iso: Option<String>,
    pub markdown: String,
    pub text: String,
    pub links: Vec<String>,
    pub media: Vec<String>,
    pub language: Option<String>,
    pub reading_time: u32,
    pub quality_score: u8,
    pub word_count: u32,
    pub categories: Vec<String>,
    pub site_name: Option<String>,
    pub description: Option<String>,
}

/// Measurements of one extraction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtractionStats {
    pub input_bytes: u64,
    pub node_count: u32,
    pub max_depth: u32,
    pub flattened_nodes: u32,
}

/// The outcome of [`validate_html`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationReport {
    pub valid: bool,
    pub problems: Vec<String>,
    pub element_count: u32,
    pub max_depth: u32,
}

/// Extracts with the default limits.
pub fn extract(html: &str, url: &str, mode: &ExtractionMode) -> Result<ExtractedDoc, ExtractError> {
    extract_with_stats(html, url, mode, &Limits::default()).map(|(doc, _)| doc)
}

/// Extracts, and reports what the work cost.
pub fn extract_with_stats(
    html: &str,
    url: &str,
    mode: &ExtractionMode,
    limits: &Limits,
) -> Result<(ExtractedDoc, ExtractionStats), ExtractError> {
    extract_page(html, url, mode, limits, false).map(|(doc, stats, _)| (doc, stats))
}

/// Extracts, reports the cost, and lists the links a crawler may follow from the page
/// (from the same parse).
pub fn extract_for_crawl(
    html: &str,
    url: &str,
    mode: &ExtractionMode,
    limits: &Limits,
) -> Result<(ExtractedDoc, ExtractionStats, PageLinks), ExtractError> {
    extract_page(html, url, mode, limits, true)
}

fn extract_page(
    html: &str,
    url: &str,
    mode: &ExtractionMode,
    limits: &Limits,
    with_links: bool,
) -> Result<(ExtractedDoc, ExtractionStats, PageLinks), ExtractError> {
    check_input(html, limits)?;
    let input_bytes = html.len();
    // The caller's selectors may match any attribute; otherwise only what extraction reads
    // is parsed.
    let attributes = match mode {
        ExtractionMode::Custom(_) => Attributes::All,
        _ => Attributes::Read,
    };
    let (html, nesting) = markup::prepare(html, limits.max_depth, attributes);
    let page_url = Url::parse(url.trim()).ok().filter(|u| u.has_host());
    let doc =
        Document::from_html_with_capacity(html.as_ref(), expected_nodes(&nesting, html.len()));
    if memchr::memmem::find(html.as_bytes(), b"text/template").is_some() {
        embedded::inline_content_templates(&doc, limits.max_depth, attributes);
    }
    let census = Census::of(&doc);
    let node_count = u32::try_from(census.elements)
        .unwrap_or(u32::MAX)
        .saturating_add(nesting.left_out);
    let base = base_url(census.base_href.as_deref(), page_url.as_ref());
    let page_links = if with_links {
        links::discover(&doc, base.as_ref())
    } else {
        PageLinks::default()
    };

    let mut readability = Readability::with_document(doc, page_url.as_ref().map(Url::as_str), None)
        .map_err(|e| ExtractError::InternalError(format!("readability setup failed: {e}")))?;
    let json_ld = readability.parse_json_ld();
    // Read once: the article pass is handed what it would otherwise read again.
    let readability_meta = readability.get_article_metadata(json_ld);
    let page_meta = metadata::read(&readability.doc, readability_meta.clone());
    // Readability rewrites the tree it scores: what the article is compared with and
    // completed from is taken out of the page before it does (no copy of the whole page).
    let (named, lead) = if matches!(mode, ExtractionMode::Article) {
        let page = &readability.doc;
        (
            container::named_content(page),
            page_meta
                .description
                .as_deref()
                .and_then(|description| content::lead(page, description)),
        )
    } else {
        (None, None)
    };

    let (rendered, found_article) = match mode {
        ExtractionMode::Metadata => (render::Rendered::default(), false),
        ExtractionMode::Full => (
            render::render(content::full_page(&readability.doc), base.as_ref()),
            true,
        ),
        ExtractionMode::Custom(selectors) => {
            let nodes = content::custom(&readability.doc, selectors)?;
            (render::render(nodes, base.as_ref()), !selectors.is_empty())
        }
        ExtractionMode::Article => {
            let article = content::article(&mut readability, readability_meta, named)
                .map(|article| render::render([article.root()], base.as_ref()))
                .filter(|rendered| !rendered.text.is_empty());
            let article = embedded::prefer_article_body(
                article,
                page_meta.article_body.as_deref(),
                base.as_ref(),
                limits.max_depth,
            );
            match article {
                Some(mut rendered) => {
                    if let Some(lead) = lead.filter(|lead| lead.missing_from(&rendered.text)) {
                        rendered.prepend_paragraph(&lead.text);
                    }
                    (rendered, true)
                }
                // No main content block, or one with no visible text (an index page, a
                // stub): what is left of the page after readability's cleaning, scored low.
                None => (
                    render::render(content::full_page(&readability.doc), base.as_ref()),
                    false,
                ),
            }
        }
    };

    let prose = quality::Prose::of(&rendered.text);
    let language_sample = if rendered.text.is_empty() {
        Cow::Owned(
            [page_meta.title.as_deref(), page_meta.description.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(". "),
        )
    } else {
        Cow::Borrowed(rendered.text.as_str())
    };
    let language = language::detect(&language_sample, page_meta.declared_language.as_deref());
    let quality_score = quality::score(&quality::QualitySignals {
        content: &rendered,
        prose,
        title: page_meta.title.as_deref(),
        has_byline_or_date: page_meta.byline.is_some() || page_meta.published_iso.is_some(),
        declares_article: page_meta.declares_article,
        found_article,
    });

    let doc = ExtractedDoc {
        url: page_url
            .map(String::from)
            .unwrap_or_else(|| url.to_string()),
        title: page_meta.title,
        byline: page_meta.byline,
        published_iso: page_meta.published_iso,
        markdown: rendered.markdown,
        text: rendered.text,
        links: rendered.links,
        media: rendered.media,
        language,
        reading_time: quality::reading_time(prose.words),
        quality_score,
        word_count: prose.words,
        categories: page_meta.categories,
        site_name: page_meta.site_name,
        description: page_meta.description,
    };
    let stats = ExtractionStats {
        input_bytes: u64::try_from(input_bytes).unwrap_or(u64::MAX),
        node_count,
        max_depth: nesting.max_depth,
        flattened_nodes: nesting.flattened,
    };
    discard(readability);
    Ok((doc, stats, page_links))
}

/// Nodes to make room for before parsing, so the tree does not grow (and copy every node)
/// a step at a time: on the dev and snippet pages a start tag makes 2.3 nodes (with the text
/// and comments between tags), 2.7 at the 90th percentile. Never more than one per 16 bytes
/// of markup, so start tags the parser merges (a page of repeated `<html>`) reserve little.
fn expected_nodes(nesting: &markup::NestingStats, html_bytes: usize) -> usize {
    let per_tags =
        usize::try_from(nesting.elements).map_or(usize::MAX, |tags| tags.saturating_mul(5) / 2);
    per_tags.min(html_bytes / 16).saturating_add(16)
}

/// Lets go of the page's parsed tree at the end of an extraction. In the component every
/// page runs in a fresh instance whose memory the host resets after the call, so freeing
/// the tree node by node would be work for nothing; natively it is dropped as usual.
fn discard<T>(value: T) {
    #[cfg(all(feature = "component", target_family = "wasm"))]
    std::mem::forget(value);
    #[cfg(not(all(feature = "component", target_family = "wasm")))]
    drop(value);
}

/// Checks what can be told without parsing: size, emptiness, binary content, markup.
pub fn validate_html(html: &str) -> ValidationReport {
    let limits = Limits::default();
    let mut problems = Vec::new();
    if let Err(e) = check_input(html, &limits) {
        problems.push(e.to_string());
    }
    let (_, nesting) = markup::prepare(html, limits.max_depth, Attributes::All);
    if nesting.flattened > 0 {
        problems.push(format!(
            "{} elements are nested deeper than {} levels and will be flattened",
            nesting.flattened, limits.max_depth
        ));
    }
    ValidationReport {
        valid: problems.is_empty(),
        problems,
        element_count: nesting.elements,
        max_depth: nesting.max_depth,
    }
}

/// Runs a tiny extraction end to end: true when the extractor works.
pub fn health_check() -> bool {
    let html = "<html><head><title>ok</title></head><body><article><p>health check</p></article></body></html>";
    extract(html, "https://health.invalid/", &ExtractionMode::Full)
        .is_ok_and(|doc| doc.text.contains("health check"))
}

/// The characters of UTF-8 `text`, and how many are U+FFFD (what could not be decoded) or
/// controls other than whitespace, counted from the bytes: a character starts at every byte
/// that is not a continuation, the controls are ASCII (U+0000-U+001F, U+007F) or C1
/// (U+0080-U+009F, `C2 80`-`C2 9F`), and of them U+0009-U+000D and U+0085 are whitespace.
/// Continuations and ASCII controls are counted eight bytes at a time, with the byte tests
/// the word count uses (the two byte-at-a-time passes took twice the instructions); only the
/// lead bytes of C1 controls and U+FFFD (`C2`, `EF`) are looked at one by one.
fn suspicious_characters(text: &[u8]) -> (usize, usize) {
    use crate::text::{byte_bits, eight_bytes_at, range_bits, HIGH};

    let mut continuations = 0;
    let mut ascii_controls = 0;
    for at in (0..text.len()).step_by(8) {
        // Past the end, spaces: neither a continuation nor a control.
        let eight = eight_bytes_at(text, at);
        // A continuation byte is 0b10xx_xxxx: its high bit set, the next one down clear.
        continuations += (eight & !(eight << 1) & HIGH).count_ones() as usize;
        // The byte tests read ASCII bytes; a byte that is not (its high bit set) is no
        // ASCII control, and is ruled out at the end.
        let low_seven = eight & !HIGH;
        let controls = (range_bits(low_seven, 0x00, 0x1F) & !range_bits(low_seven, 0x09, 0x0D))
            | byte_bits(low_seven, 0x7F);
        ascii_controls += (controls & !eight).count_ones() as usize;
    }
    let other = memchr::memchr2_iter(0xC2, 0xEF, text)
        .filter(|&at| {
            let next = &text[at + 1..];
            match text[at] {
                0xC2 => next
                    .first()
                    .is_some_and(|&byte| (0x80..=0x9F).contains(&byte) && byte != 0x85),
                _ => next.starts_with(&[0xBF, 0xBD]),
            }
        })
        .count();
    (text.len() - continuations, ascii_controls + other)
}

/// Rejects input that cannot be a page, with the reason.
fn check_input(html: &str, limits: &Limits) -> Result<(), ExtractError> {
    if html.len() > limits.max_input_bytes {
        return Err(ExtractError::ResourceLimit(format!(
            "input is {} bytes, over the {}-byte limit; raise max_input_bytes or skip this page",
            html.len(),
            limits.max_input_bytes
        )));
    }
    if html.trim().is_empty() {
        return Err(ExtractError::InvalidHtml(
            "input is empty: there is no HTML to extract from".into(),
        ));
    }
    // The input is text already (undecodable bytes became U+FFFD where it was decoded): its
    // first 8 KiB are read once, on a character boundary.
    let head = &html[..html.floor_char_boundary(8192)];
    let (chars, suspicious) = suspicious_characters(head.as_bytes());
    if head.as_bytes().contains(&0) || suspicious * 10 > chars {
        return Err(ExtractError::InvalidHtml(
            "input looks like binary data, not HTML (NUL bytes or many control or undecodable characters); check the content type of what was fetched".into(),
        ));
    }
    if !html.contains('<') {
        return Err(ExtractError::InvalidHtml(
            "input has no HTML markup (no `<` anywhere); plain text is not a page".into(),
        ));
    }
    Ok(())
}

/// What one walk over the parsed page counts before extraction: its elements, and the
/// first `<base href>`.
struct Census {
    elements: usize,
    base_href: Option<String>,
}

impl Census {
    fn of(doc: &Document) -> Self {
        let mut census = Census {
            elements: 0,
            base_href: None,
        };
        for node in doc.root().descendants_it() {
            element::with_element(&node, |name, attrs| {
                census.elements += 1;
                if census.base_href.is_none() && name == "base" {
                    census.base_href =
                        element::attr(attrs, &local_name!("href")).map(str::to_string);
                }
            });
        }
        census
    }
}

/// The URL relative links resolve against: `<base href>` (itself relative to the page), or the page URL.
fn base_url(base_href: Option<&str>, page_url: Option<&Url>) -> Option<Url> {
    match (base_href, page_url) {
        (Some(href), Some(page)) => page.join(href.trim()).ok().or_else(|| Some(page.clone())),
        (Some(href), None) => Url::parse(href.trim()).ok(),
        (None, page) => page.cloned(),
    }
}

#[cfg(test)]
mod tests {
    use dom_query::Document;

    use super::{expected_nodes, markup, suspicious_characters, Limits};

    /// The nodes a page parses into, and the room made for them.
    fn made_and_room(html: &str) -> (usize, usize) {
        let (prepared, nesting) =
            markup::prepare(html, Limits::default().max_depth, markup::Attributes::Read);
        let made = Document::from(prepared.as_ref()).tree.len();
        (made, expected_nodes(&nesting, prepared.len()))
    }

    #[test]
    fn room_for_a_page_s_nodes_is_made_before_parsing_and_bounded_by_its_markup() {
        let (made, room) = made_and_room(include_str!("warm_up.html"));
        assert!(
            made <= room && room <= 2 * made,
            "{made} nodes, room for {room}"
        );
        // The parser merges repeated `<html>` tags into one element: the room stays small.
        let merged = "<html>".repeat(100_000);
        let (made, room) = made_and_room(&merged);
        assert!(made < 10, "{made}");
        assert!(room <= merged.len() / 16 + 16, "room for {room}");
    }

    /// The definition the byte count must agree with, read by characters.
    fn by_characters(text: &str) -> (usize, usize) {
        let suspicious = text
            .chars()
            .filter(|&c| c == '\u{FFFD}' || (c.is_control() && !c.is_whitespace()))
            .count();
        (text.chars().count(), suspicious)
    }

    #[test]
    fn suspicious_characters_are_counted_from_the_bytes_as_from_the_characters() {
        let every_low_character: String = (0u32..0x800).filter_map(char::from_u32).collect();
        for text in [
            every_low_character.as_str(),
            "plain <p>text</p>\t\r\n\x0b\x0c",
            "\u{85}\u{84}\u{9f}\u{a0}\u{fffd}\u{fffc}\u{fffe}\u{1F600} é 中文",
            "\0\x01\x1f\x7f\u{80}\u{ff}",
            "",
        ] {
            assert_eq!(
                suspicious_characters(text.as_bytes()),
                by_characters(text),
                "{text:?}"
            );
        }
    }
}
