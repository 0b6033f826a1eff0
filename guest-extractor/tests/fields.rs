//! Each field and each mode, on real pages from the dev corpus.

mod corpus;

use riptide_extractor::{extract, ExtractError, ExtractionMode};

#[test]
fn every_field_is_filled_on_a_real_article() {
    let page = corpus::page("4219d096");
    let doc = extract(&page.html, &page.url, &ExtractionMode::Article).unwrap();
    assert_eq!(doc.url, page.url);
    assert!(
        doc.title
            .as_deref()
            .unwrap()
            .contains("Spiced Honey Pear Jam"),
        "{:?}",
        doc.title
    );
    assert_eq!(doc.byline.as_deref(), Some("Regan"));
    assert!(doc
        .published_iso
        .as_deref()
        .unwrap()
        .starts_with("2017-12-06"));
    assert!(
        doc.categories.iter().any(|c| c == "Recipes"),
        "{:?}",
        doc.categories
    );
    assert_eq!(doc.site_name.as_deref(), Some("The Anti-June Cleaver"));
    assert_eq!(doc.language.as_deref(), Some("en"));
    assert!(doc.description.as_deref().is_some_and(|d| !d.is_empty()));
    assert!(
        doc.markdown.contains("\n- ") || doc.markdown.contains("\n1. "),
        "a list in markdown"
    );
    assert!(
        doc.markdown.lines().any(|l| l.starts_with('#')),
        "a heading in markdown"
    );
    assert!(!doc.links.is_empty() && doc.links.iter().all(|l| l.starts_with("http")));
    assert!(!doc.media.is_empty() && doc.media.iter().all(|m| m.starts_with("http")));
    assert!(doc.word_count > 300, "{}", doc.word_count);
    assert_eq!(doc.reading_time, doc.word_count.div_ceil(200));
    assert!(doc.quality_score >= 70, "{}", doc.quality_score);
    assert!(doc.text.contains("pear"));
    assert!(!doc.text.contains("**"), "plain text carries no markdown");
}

#[test]
fn fields_are_filled_across_the_corpus() {
    let pages = corpus::all();
    assert!(pages.len() >= 50);
    let docs: Vec<_> = pages
        .iter()
        .map(|p| extract(&p.html, &p.url, &ExtractionMode::Article).unwrap())
        .collect();
    let share = |f: &dyn Fn(&riptide_extractor::ExtractedDoc) -> bool| {
        docs.iter().filter(|d| f(d)).count() as f64 / docs.len() as f64
    };
    assert_eq!(share(&|d| d.title.is_some()), 1.0);
    assert!(share(&|d| d.language.is_some()) >= 0.95);
    assert!(share(&|d| d.published_iso.is_some()) >= 0.8);
    assert!(share(&|d| d.byline.is_some()) >= 0.7);
    assert!(share(&|d| d.site_name.is_some()) >= 0.8);
    assert!(share(&|d| d.description.is_some()) >= 0.8);
    assert!(share(&|d| !d.categories.is_empty()) >= 0.6);
    assert!(share(&|d| d.word_count >= 100) >= 0.95);
    assert_eq!(
        share(&|d| d
            .links
            .iter()
            .chain(&d.media)
            .all(|u| url::Url::parse(u).is_ok())),
        1.0
    );
    assert!(
        share(&|d| d.quality_score >= 50) >= 0.9,
        "articles score as articles"
    );
}

#[test]
fn base_element_resolves_relative_links_and_media() {
    let html = r#"<html><head><base href="https://cdn.example.net/assets/"></head><body><article>
        <p>A paragraph long enough to be the article, with <a href="page.html">a link</a>
        and a picture <img src="/img/a.png" alt="a">, and more words to make it count as content.</p>
        </article></body></html>"#;
    let doc = extract(html, "https://example.com/news/1", &ExtractionMode::Full).unwrap();
    assert_eq!(doc.links, vec!["https://cdn.example.net/assets/page.html"]);
    assert_eq!(doc.media, vec!["https://cdn.example.net/img/a.png"]);
}

#[test]
fn full_mode_keeps_more_than_article_mode() {
    let page = corpus::page("4219d096");
    let article = extract(&page.html, &page.url, &ExtractionMode::Article).unwrap();
    let full = extract(&page.html, &page.url, &ExtractionMode::Full).unwrap();
    assert!(full.word_count > article.word_count);
    assert!(full.text.contains("pear"));
}

#[test]
fn metadata_mode_has_metadata_and_no_body() {
    let page = corpus::page("4219d096");
    let article = extract(&page.html, &page.url, &ExtractionMode::Article).unwrap();
    let meta = extract(&page.html, &page.url, &ExtractionMode::Metadata).unwrap();
    assert!(meta.text.is_empty() && meta.markdown.is_empty() && meta.links.is_empty());
    assert_eq!(meta.word_count, 0);
    assert_eq!(meta.title, article.title);
    assert_eq!(meta.byline, article.byline);
    assert_eq!(meta.published_iso, article.published_iso);
    assert_eq!(meta.language.as_deref(), Some("en"));
}

#[test]
fn custom_mode_extracts_what_the_selectors_match_in_order() {
    let html = "<body><h1>Head</h1><div class=a>first <span class=b>inner</span></div><p class=b>second</p></body>";
    let mode = ExtractionMode::Custom(vec![".b".into(), "h1".into(), ".a".into()]);
    let doc = extract(html, "https://example.com/", &mode).unwrap();
    assert_eq!(doc.text, "Head\n\nfirst inner\n\nsecond");
    assert!(doc.markdown.starts_with("# Head\n\n"), "{}", doc.markdown);
}

#[test]
fn custom_mode_matches_data_attributes_that_other_modes_leave_out() {
    let html = r#"<body><div data-role="price">12 EUR</div><div>other</div></body>"#;
    let mode = ExtractionMode::Custom(vec![r#"[data-role="price"]"#.into()]);
    let doc = extract(html, "https://example.com/", &mode).unwrap();
    assert_eq!(doc.text, "12 EUR");
    let full = extract(html, "https://example.com/", &ExtractionMode::Full).unwrap();
    assert!(
        full.text.contains("12 EUR") && full.text.contains("other"),
        "{}",
        full.text
    );
}

#[test]
fn custom_mode_rejects_bad_selectors_with_a_clear_message() {
    let html = "<p>x</p>";
    let err = extract(html, "", &ExtractionMode::Custom(vec!["div[".into()])).unwrap_err();
    assert!(
        matches!(&err, ExtractError::UnsupportedMode(m) if m.contains("div[")),
        "{err}"
    );
    let err = extract(html, "", &ExtractionMode::Custom(vec![])).unwrap_err();
    assert_eq!(err.kind(), "unsupported-mode");
}

#[test]
fn index_and_error_pages_score_low() {
    let links: String = (0..40)
        .map(|i| format!("<li><a href='/story/{i}'>Story number {i} headline</a></li>"))
        .collect();
    let index =
        format!("<html><head><title>News</title></head><body><ul>{links}</ul></body></html>");
    let index = extract(&index, "https://example.com/", &ExtractionMode::Article).unwrap();
    let error = "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>The page you requested was not found.</p></body></html>";
    let error = extract(error, "https://example.com/x", &ExtractionMode::Article).unwrap();
    assert!(
        index.quality_score <= 30,
        "index scored {}",
        index.quality_score
    );
    assert!(
        error.quality_score <= 10,
        "error page scored {}",
        error.quality_score
    );
}

#[test]
fn text_is_what_a_reader_sees_ruby_readings_and_soft_hyphens_left_out_and_composed() {
    // Furigana over the kanji, soft hyphens inside long words, a decomposed "é".
    let html = "<html><body><article><p><ruby>子<rp>(</rp><rt>こ</rt><rp>)</rp></ruby>どもの\
        <ruby>教育<rt>きょういく</rt></ruby>について。</p><p>Schon im Mit\u{ad}tel\u{ad}al\u{ad}ter \
        war der Wein ein Aushängeschild, und das Cafe\u{301} am Markt hat ihn heute noch.</p>\
        </article></body></html>";
    let doc = extract(html, "https://example.com/a", &ExtractionMode::Article).unwrap();
    assert!(doc.text.contains("子どもの教育について。"), "{}", doc.text);
    assert!(doc.text.contains("Schon im Mittelalter"), "{}", doc.text);
    assert!(doc.text.contains("Caf\u{e9} am Markt"), "{}", doc.text);
    assert!(
        doc.markdown.contains("Schon im Mittelalter"),
        "{}",
        doc.markdown
    );
}
