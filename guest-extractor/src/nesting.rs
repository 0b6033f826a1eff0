//! Caps element nesting before the HTML is parsed.
//!
//! The HTML tree builder checks element scopes by walking its stack of open elements, so
//! a page of 100,000 nested `<div>`s costs O(depth²) to parse (minutes) and deep trees
//! overflow recursive walks later. One linear scan over the markup drops the start and end
//! tags of elements nested deeper than the limit; their text and children stay, attached
//! to the deepest kept ancestor. Elements whose end tag is optional (`p`, `li`, `td`, ...)
//! are not counted: unclosed ones would make ordinary pages look deep.

use std::borrow::Cow;

use memchr::{memchr, memchr3, memmem};

/// What the scan saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NestingStats {
    /// Start tags seen (elements, approximately: the parser may add or merge some).
    pub elements: u32,
    /// Deepest nesting of counted elements.
    pub max_depth: u32,
    /// Start tags dropped because they were nested deeper than the limit.
    pub flattened: u32,
}

/// How the scan treats an element, by its lowercased name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Nested and closed: counted in the depth.
    Counted,
    /// Void (no content, never pushed on the stack), an element whose end tag may be left
    /// out, or the document skeleton: not counted.
    Uncounted,
    /// Raw text: markup inside it is not markup.
    RawText,
}

impl Kind {
    /// One `match`, which the compiler turns into a length switch and a few compares, in
    /// place of scanning three lists for every tag.
    fn of(name: &str) -> Self {
        match name {
            // Void elements.
            "area" | "base" | "br" | "col" | "embed" | "hr" | "img" | "input" | "link"
            | "meta" | "param" | "source" | "track" | "wbr" | "keygen" | "frame"
            | "basefont" | "bgsound" | "image"
            // Optional end tags, and the skeleton.
            | "p" | "li" | "dt" | "dd" | "option" | "optgroup" | "tr" | "td" | "th"
            | "thead" | "tbody" | "tfoot" | "colgroup" | "caption" | "rb" | "rt" | "rp"
            | "rtc" | "html" | "head" | "body" => Self::Uncounted,
            "script" | "style" | "textarea" | "title" | "xmp" | "iframe" | "noembed"
            | "noframes" | "plaintext" => Self::RawText,
            _ => Self::Counted,
        }
    }
}

/// Returns the HTML with elements deeper than `max_depth` flattened, and what the scan saw.
/// Borrows the input when nothing had to change.
pub fn flatten_deep_nesting(html: &str, max_depth: usize) -> (Cow<'_, str>, NestingStats) {
    let bytes = html.as_bytes();
    let mut stats = NestingStats::default();
    let mut depth: usize = 0;
    // Start tags dropped and not yet closed: their end tags must be dropped too.
    let mut dropped_open: usize = 0;
    let mut out: Option<String> = None;
    // Bytes before `copied` are already in `out` (when it exists).
    let mut copied = 0;
    let mut pos = 0;

    while let Some(offset) = memchr(b'<', &bytes[pos..]) {
        let start = pos + offset;
        let rest = &bytes[start + 1..];
        if rest.starts_with(b"!--") {
            pos = find(bytes, start + 4, b"-->").map_or(bytes.len(), |end| end + 3);
            continue;
        }
        if rest.first().is_some_and(|b| *b == b'!' || *b == b'?') {
            pos = memchr(b'>', rest).map_or(bytes.len(), |end| start + 1 + end + 1);
            continue;
        }
        let closing = rest.first() == Some(&b'/');
        let name_start = start + 1 + usize::from(closing);
        let name_len = bytes[name_start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-' || **b == b':')
            .count();
        if name_len == 0 || !bytes[name_start].is_ascii_alphabetic() {
            pos = start + 1;
            continue;
        }
        let lowered = TagName::new(&bytes[name_start..name_start + name_len]);
        let name = lowered.as_str();
        let tag_end = tag_end(bytes, name_start + name_len);
        pos = tag_end;

        let kind = Kind::of(name);
        if closing {
            if kind != Kind::Uncounted {
                if dropped_open > 0 {
                    dropped_open -= 1;
                    drop_range(html, &mut out, &mut copied, start, tag_end);
                } else {
                    depth = depth.saturating_sub(1);
                }
            }
            continue;
        }

        stats.elements = stats.elements.saturating_add(1);
        let self_closing = tag_end >= 2 && bytes[tag_end - 2] == b'/';
        if kind == Kind::RawText {
            pos = raw_text_end(bytes, tag_end, name);
            continue;
        }
        if kind == Kind::Uncounted || self_closing {
            continue;
        }
        if depth >= max_depth {
            dropped_open += 1;
            stats.flattened = stats.flattened.saturating_add(1);
            drop_range(html, &mut out, &mut copied, start, tag_end);
            stats.max_depth = stats.max_depth.max(clamp_u32(depth + dropped_open));
        } else {
            depth += 1;
            stats.max_depth = stats.max_depth.max(clamp_u32(depth));
        }
    }

    match out {
        None => (Cow::Borrowed(html), stats),
        Some(mut s) => {
            s.push_str(&html[copied..]);
            (Cow::Owned(s), stats)
        }
    }
}

fn clamp_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Copies `html[copied..start]` to the output and skips `start..end`.
fn drop_range(html: &str, out: &mut Option<String>, copied: &mut usize, start: usize, end: usize) {
    let buf = out.get_or_insert_with(|| String::with_capacity(html.len()));
    buf.push_str(&html[*copied..start]);
    // A space keeps words on either side of the dropped tag apart.
    buf.push(' ');
    *copied = end;
}

/// Index just past the `>` closing a tag whose name ends at `from`, honouring quoted attributes.
fn tag_end(bytes: &[u8], from: usize) -> usize {
    let mut pos = from;
    while let Some(offset) = memchr3(b'>', b'"', b'\'', &bytes[pos..]) {
        let at = pos + offset;
        match bytes[at] {
            b'>' => return at + 1,
            quote => match memchr(quote, &bytes[at + 1..]) {
                Some(close) => pos = at + 1 + close + 1,
                None => break,
            },
        }
    }
    bytes.len()
}

/// Index just past the end tag closing a raw-text element, or the end of input.
fn raw_text_end(bytes: &[u8], from: usize, name: &str) -> usize {
    let mut pos = from;
    while let Some(offset) = find(bytes, pos, b"</") {
        let name_start = offset + 2;
        let candidate = bytes.get(name_start..name_start + name.len());
        if candidate.is_some_and(|c| c.eq_ignore_ascii_case(name.as_bytes())) {
            return tag_end(bytes, name_start + name.len());
        }
        pos = name_start;
    }
    bytes.len()
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    memmem::find(bytes.get(from..)?, needle).map(|i| from + i)
}

/// A tag name lowercased on the stack: every name [`Kind::of`] knows is short, so a longer
/// one only needs to be told apart from them, not spelled out.
struct TagName {
    buf: [u8; TagName::MAX],
    len: usize,
}

impl TagName {
    const MAX: usize = 16;

    fn new(name: &[u8]) -> Self {
        let mut buf = [0u8; Self::MAX];
        let len = if name.len() <= Self::MAX {
            for (to, from) in buf.iter_mut().zip(name) {
                *to = from.to_ascii_lowercase();
            }
            name.len()
        } else {
            0
        };
        Self { buf, len }
    }

    /// The lowercased name, or `""` for a name longer than any listed one.
    fn as_str(&self) -> &str {
        // The scanner only accepts ASCII letters, digits, '-' and ':' in names.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shallow_pages_are_borrowed_unchanged() {
        let html = "<html><body><div><p>one<p>two</div><img src=x></body></html>";
        let (out, stats) = flatten_deep_nesting(html, 4);
        assert!(matches!(out, Cow::Borrowed(_)));
        assert_eq!(stats.max_depth, 1);
        assert_eq!(stats.flattened, 0);
    }

    #[test]
    fn deep_nesting_is_flattened_keeping_text() {
        let html = format!("{}deep text{}", "<div>".repeat(10), "</div>".repeat(10));
        let (out, stats) = flatten_deep_nesting(&html, 3);
        assert_eq!(stats.flattened, 7);
        assert_eq!(stats.max_depth, 10);
        assert_eq!(out.matches("<div>").count(), 3);
        assert_eq!(out.matches("</div>").count(), 3);
        assert!(out.contains("deep text"));
    }

    #[test]
    fn markup_in_comments_scripts_and_attributes_is_not_counted() {
        let html = r#"<!-- <div><div> --><script>"<div><div>"</script><a title="<div>">x</a>"#;
        let (_, stats) = flatten_deep_nesting(html, 1);
        assert_eq!(stats.max_depth, 1);
        assert_eq!(stats.flattened, 0);
    }

    #[test]
    fn truncated_markup_does_not_panic() {
        for html in [
            "<",
            "<div",
            "<!--",
            "</",
            "<script>",
            "<a href=\"",
            "<é>",
            "<div><",
        ] {
            let _ = flatten_deep_nesting(html, 0);
        }
    }
}
