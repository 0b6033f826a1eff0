//! Page bytes to text, by one set of rules wherever bytes enter: HTTP responses (the
//! fetcher), files and standard input (`riptide-worker extract`), and inline jobs whose
//! `html` arrives as MessagePack binary. The extractor itself only ever sees text, so a
//! page decodes the same whether it was fetched, read from disk or published inline.
//!
//! The order is the browsers' (WHATWG "determining the character encoding"): a byte order
//! mark; the charset the transport declares (`Content-Type`); a `<meta charset>` or
//! `http-equiv` declaration near the top of the page; otherwise detection with chardetng,
//! Firefox's detector. One departure, for pages that were re-saved as UTF-8 but kept their
//! old declaration (common in archives and behind misconfigured servers): when the bytes
//! are valid UTF-8 and not plain ASCII, a declared legacy encoding is not believed, since
//! text in a legacy encoding is almost never also valid UTF-8.

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

/// How far into the page a `<meta>` declaration is looked for. Browsers stop at 1 KiB;
/// real pages often put long scripts and styles first, so this reads further.
const META_PRESCAN_BYTES: usize = 8 * 1024;

/// How many bytes chardetng sees: enough to settle any real page, bounded for huge ones.
const DETECTION_BYTES: usize = 256 * 1024;

/// Where the encoding of a page came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    ByteOrderMark,
    Transport,
    Meta,
    /// Valid UTF-8 despite a declared legacy encoding, or with no declaration at all.
    Utf8,
    Detected,
}

/// Decodes a page. `content_type` is the transport's header, when there is one. Never
/// fails: bytes the encoding cannot map become U+FFFD.
pub fn decode_html(bytes: &[u8], content_type: Option<&str>) -> String {
    let (encoding, _) = sniff(bytes, content_type);
    // `decode` strips a BOM of the encoding it was given and, for a BOM of another
    // encoding, follows the BOM, as sniffing did.
    let (text, _, _) = encoding.decode(bytes);
    text.into_owned()
}

/// The encoding a page is in, and why.
pub fn sniff(bytes: &[u8], content_type: Option<&str>) -> (&'static Encoding, Source) {
    if let Some((encoding, _)) = Encoding::for_bom(bytes) {
        return (encoding, Source::ByteOrderMark);
    }
    let declared = content_type
        .and_then(charset_parameter)
        .map(|e| (e, Source::Transport))
        .or_else(|| meta_charset(bytes).map(|e| (e, Source::Meta)));
    let utf8 = || std::str::from_utf8(bytes).is_ok();
    match declared {
        Some((encoding, _)) if encoding != UTF_8 && !bytes.is_ascii() && utf8() => {
            (UTF_8, Source::Utf8)
        }
        Some((encoding, source)) => (encoding, source),
        None if utf8() => (UTF_8, Source::Utf8),
        None => (detect(bytes), Source::Detected),
    }
}

/// The `charset` parameter of a `Content-Type` value, if it names an encoding.
fn charset_parameter(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        Encoding::for_label(value.trim().trim_matches(['"', '\'']).as_bytes())
    })
}

/// The encoding a `<meta charset=...>` or `<meta http-equiv=content-type content="...;
/// charset=...">` near the top of the page declares. As in browsers, a declared UTF-16 means
/// UTF-8 (a page that really were UTF-16 would have had a BOM) and `x-user-defined` means
/// windows-1252.
fn meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(META_PRESCAN_BYTES)];
    let mut rest = head;
    while let Some(at) = find_ignore_case(rest, b"<meta") {
        let tag = &rest[at + 5..];
        let end = tag.iter().position(|b| *b == b'>').unwrap_or(tag.len());
        if let Some(encoding) = charset_in_tag(&tag[..end]) {
            return Some(match encoding.name() {
                "UTF-16LE" | "UTF-16BE" => UTF_8,
                "x-user-defined" => WINDOWS_1252,
                _ => encoding,
            });
        }
        rest = &tag[end..];
    }
    None
}

/// The encoding named after `charset` inside one `<meta ...>` tag's attributes.
fn charset_in_tag(attributes: &[u8]) -> Option<&'static Encoding> {
    let at = find_ignore_case(attributes, b"charset")?;
    let value = attributes[at + 7..].trim_ascii_start();
    let value = value.strip_prefix(b"=")?.trim_ascii_start();
    let value = value.strip_prefix(b"\"").unwrap_or(value);
    let value = value.strip_prefix(b"'").unwrap_or(value);
    let end = value
        .iter()
        .position(|b| matches!(b, b'"' | b'\'' | b';' | b'/') || b.is_ascii_whitespace())
        .unwrap_or(value.len());
    Encoding::for_label(&value[..end])
}

fn detect(bytes: &[u8]) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new();
    let sample = &bytes[..bytes.len().min(DETECTION_BYTES)];
    detector.feed(sample, sample.len() == bytes.len());
    detector.guess(None, true)
}

fn find_ignore_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(encoding: &'static Encoding, text: &str) -> Vec<u8> {
        let (bytes, _, unmappable) = encoding.encode(text);
        assert!(
            !unmappable,
            "{text} is not representable in {}",
            encoding.name()
        );
        bytes.into_owned()
    }

    fn page(head: &str, body: &str) -> String {
        format!("<!doctype html><html><head>{head}<title>t</title></head><body><p>{body}</p></body></html>")
    }

    const GERMAN: &str = "Die Bürgerinnen und Bürger müssen sich über die größeren Veränderungen äußern, bevor die Straße gesperrt wird.";
    const POLISH: &str = "Zażółć gęślą jaźń: władze miasta ogłosiły, że źródła wody pitnej są bezpieczne, a mieszkańcy nie muszą się martwić.";
    const JAPANESE: &str = "日本語のテキストです。東京都は新しい政策を発表しました。市民の皆さんは、来月から新しい制度を利用できます。";
    const CHINESE: &str = "这是中文文本。北京市政府今天宣布了新的交通政策，市民可以从下个月开始使用新的公共交通系统。";

    #[test]
    fn meta_declarations_are_followed() {
        for (encoding, head, text) in [
            (
                encoding_rs::WINDOWS_1252,
                "<meta charset=\"windows-1252\">",
                GERMAN,
            ),
            (
                encoding_rs::ISO_8859_2,
                "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-2\">",
                POLISH,
            ),
            (
                encoding_rs::SHIFT_JIS,
                "<META HTTP-EQUIV='content-type' CONTENT='text/html;charset=Shift_JIS'>",
                JAPANESE,
            ),
            (encoding_rs::GBK, "<meta charset=gbk>", CHINESE),
        ] {
            let html = page(head, text);
            let bytes = encode(encoding, &html);
            assert_eq!(sniff(&bytes, None), (encoding, Source::Meta), "{head}");
            assert_eq!(decode_html(&bytes, None), html, "{head}");
        }
    }

    #[test]
    fn undeclared_pages_are_detected() {
        for (encoding, text) in [
            (encoding_rs::WINDOWS_1252, GERMAN),
            (encoding_rs::ISO_8859_2, POLISH),
            (encoding_rs::SHIFT_JIS, JAPANESE),
            (encoding_rs::GBK, CHINESE),
        ] {
            let html = page("", &format!("{text} {text}"));
            let bytes = encode(encoding, &html);
            assert_eq!(decode_html(&bytes, None), html, "{}", encoding.name());
        }
    }

    #[test]
    fn a_byte_order_mark_wins() {
        let html = page("<meta charset=\"iso-8859-1\">", GERMAN);
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(html.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(sniff(&utf16, None).1, Source::ByteOrderMark);
        assert_eq!(
            decode_html(&utf16, Some("text/html; charset=iso-8859-1")),
            html
        );
        let mut utf8 = b"\xEF\xBB\xBF".to_vec();
        utf8.extend(html.as_bytes());
        assert_eq!(decode_html(&utf8, None), html, "the BOM itself is dropped");
    }

    #[test]
    fn the_transport_declaration_comes_before_meta() {
        let html = page("<meta charset=\"iso-8859-2\">", GERMAN);
        let bytes = encode(encoding_rs::WINDOWS_1252, &html);
        assert_eq!(
            sniff(&bytes, Some("text/html; Charset=\"windows-1252\"")),
            (encoding_rs::WINDOWS_1252, Source::Transport)
        );
        assert_eq!(
            decode_html(b"caf\xe9", Some("text/html; charset=ISO-8859-1")),
            "café"
        );
    }

    #[test]
    fn utf8_pages_with_a_stale_legacy_declaration_stay_utf8() {
        let html = page("<meta charset=\"iso-8859-1\">", GERMAN);
        assert_eq!(sniff(html.as_bytes(), None), (UTF_8, Source::Utf8));
        assert_eq!(decode_html(html.as_bytes(), None), html);
        let ascii = page("<meta charset=\"iso-8859-1\">", "plain");
        assert_eq!(sniff(ascii.as_bytes(), None).1, Source::Meta);
    }

    #[test]
    fn declared_utf16_without_a_bom_means_utf8() {
        let html = page("<meta charset=\"utf-16\">", "caf\u{e9}");
        assert_eq!(decode_html(html.as_bytes(), None), html);
    }

    #[test]
    fn undecodable_bytes_are_replaced_not_fatal() {
        assert_eq!(
            decode_html(b"<meta charset=utf-8>caf\xff", None),
            "<meta charset=utf-8>caf\u{FFFD}"
        );
        assert_eq!(decode_html(b"", None), "");
    }
}
