//! Hostile and broken input: a typed error with a clear message, or a result; never a panic.

use riptide_extractor::{extract, extract_with_stats, ExtractError, ExtractionMode, Limits};

const URL: &str = "https://example.com/";

fn kind_of(html: &str) -> &'static str {
    extract(html, URL, &ExtractionMode::Article)
        .unwrap_err()
        .kind()
}

#[test]
fn empty_input_is_invalid_html() {
    assert_eq!(kind_of(""), "invalid-html");
    assert_eq!(kind_of(" \n\t "), "invalid-html");
}

#[test]
fn binary_bytes_are_invalid_html() {
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    png.extend((0..4000u32).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8));
    let text = String::from_utf8_lossy(&png);
    let err = extract(&text, URL, &ExtractionMode::Article).unwrap_err();
    assert!(
        matches!(&err, ExtractError::InvalidHtml(m) if m.contains("binary")),
        "{err}"
    );
}

#[test]
fn plain_text_is_invalid_html() {
    let err = extract("just words, no markup at all", URL, &ExtractionMode::Full).unwrap_err();
    assert!(
        matches!(&err, ExtractError::InvalidHtml(m) if m.contains("no HTML markup")),
        "{err}"
    );
}

#[test]
fn invalid_utf8_is_replaced_not_fatal() {
    let mut bytes = b"<html><body><p>caf".to_vec();
    bytes.extend([0xff, 0xfe]);
    bytes.extend(b" au lait and more words here</p></body></html>");
    let html = String::from_utf8_lossy(&bytes);
    let doc = extract(&html, URL, &ExtractionMode::Full).unwrap();
    assert!(
        doc.text.contains("caf\u{FFFD}\u{FFFD} au lait"),
        "{}",
        doc.text
    );
}

#[test]
fn a_page_over_the_size_cap_is_a_resource_limit() {
    let limits = Limits {
        max_input_bytes: 1024,
        ..Limits::default()
    };
    let html = format!("<p>{}</p>", "x".repeat(2048));
    let err = extract_with_stats(&html, URL, &ExtractionMode::Article, &limits).unwrap_err();
    assert!(
        matches!(&err, ExtractError::ResourceLimit(m) if m.contains("1024")),
        "{err}"
    );
}

#[test]
fn a_hundred_thousand_nested_divs_do_not_overflow_the_stack() {
    let depth = 100_000;
    let html = format!(
        "<html><body>{}deepest words{}</body></html>",
        "<div>".repeat(depth),
        "</div>".repeat(depth)
    );
    for mode in [ExtractionMode::Article, ExtractionMode::Full] {
        let (doc, stats) = extract_with_stats(&html, URL, &mode, &Limits::default()).unwrap();
        assert!(doc.text.contains("deepest words"), "{mode:?}: {}", doc.text);
        assert_eq!(stats.max_depth as usize, depth);
        assert_eq!(
            stats.flattened_nodes as usize,
            depth - riptide_extractor::DEFAULT_MAX_DEPTH
        );
    }
}

#[test]
fn unclosed_and_misnested_tags_still_extract() {
    let html = "<html><body><div><p>one <b>two <i>three</b> four</i><p>five<table><td>six</div>";
    let doc = extract(html, URL, &ExtractionMode::Full).unwrap();
    for word in ["one", "two", "three", "four", "five", "six"] {
        assert!(doc.text.contains(word), "{word} missing from {}", doc.text);
    }
}

#[test]
fn relative_urls_without_a_page_url_are_dropped_not_fatal() {
    let doc = extract(
        "<p><a href='/x'>link</a> <a href='https://a.example/'>abs</a></p>",
        "not a url",
        &ExtractionMode::Full,
    )
    .unwrap();
    assert_eq!(doc.links, vec!["https://a.example/"]);
}

#[test]
fn custom_star_on_a_4_mib_page_finishes_in_bounded_time() {
    // ~100k elements, nested a few levels: every one matches `*`. A quadratic "is an
    // ancestor matched" check made this run for hours natively, where no fuel stops it.
    let row = "<div class=r><p>cell <b>bold</b> <a href=/x>link</a></p></div>\n";
    let mut html = String::from("<html><head><title>Big</title></head><body><main>");
    while html.len() < 4 * 1024 * 1024 {
        html.push_str(row);
    }
    html.push_str("</main></body></html>");
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mode = ExtractionMode::Custom(vec!["*".into()]);
        let result = extract(&html, URL, &mode).map(|doc| doc.word_count);
        let _ = done.send(result);
    });
    // A bound on the algorithm, not a benchmark: linear work takes a few seconds even on a
    // loaded machine, the quadratic version hours.
    let words = finished
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("custom `*` on 4 MiB did not finish in 120 s")
        .expect("extracted");
    assert!(words > 100_000, "every cell rendered once: {words} words");
}
