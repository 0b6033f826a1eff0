//! Property tests: generated and mutated HTML (dev-corpus pages cut, spliced and garbled,
//! and hostile shapes: deep nesting, unclosed tags, entity storms, huge attributes, NUL
//! bytes, invalid UTF-8) through the extractor natively and in the sandbox. Never a panic,
//! never a trap: a result or a typed error, the same from both engines, in bounded time.
//!
//! `PROPTEST_CASES` sets the number of cases (default 64 per property); `ops/fuzz.sh
//! SECONDS` runs these for as long as it is given, with a new seed each round.

mod common;

#[path = "../../guest-extractor/tests/corpus/mod.rs"]
mod corpus;

use std::panic::AssertUnwindSafe;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use riptide_extractor::{ExtractionMode, Limits};
use riptide_worker::sandbox::Sandbox;

/// Native extraction of one case must end within this: a hang detector, not a benchmark.
const NATIVE_BOUND: Duration = Duration::from_secs(20);

fn sandbox() -> &'static Sandbox {
    static SANDBOX: OnceLock<Sandbox> = OnceLock::new();
    SANDBOX.get_or_init(|| {
        let dir = common::temp_dir("properties");
        Sandbox::new(common::config(dir)).expect("the extractor component loads")
    })
}

fn pages() -> &'static [corpus::Page] {
    static PAGES: OnceLock<Vec<corpus::Page>> = OnceLock::new();
    PAGES.get_or_init(|| corpus::all().into_iter().step_by(9).collect())
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(64),
        ..ProptestConfig::default()
    }
}

fn modes() -> impl Strategy<Value = ExtractionMode> {
    prop_oneof![
        Just(ExtractionMode::Article),
        Just(ExtractionMode::Full),
        Just(ExtractionMode::Metadata),
        Just(ExtractionMode::Custom(vec!["p, h1, .content".into()])),
        Just(ExtractionMode::Custom(vec!["*".into()])),
    ]
}

/// Runs both engines and checks the properties; returns nothing, panics (fails) otherwise.
fn check(html: &str, mode: &ExtractionMode) {
    let url = "https://example.com/a/b.html";
    let started = Instant::now();
    let native = std::panic::catch_unwind(AssertUnwindSafe(|| {
        riptide_extractor::extract_with_stats(html, url, mode, &Limits::default())
    }))
    .unwrap_or_else(|_| panic!("the native extractor panicked on {} bytes", html.len()));
    assert!(
        started.elapsed() < NATIVE_BOUND,
        "native extraction of {} bytes took {:?}",
        html.len(),
        started.elapsed()
    );
    match sandbox().extract(html, url, mode) {
        Ok(run) => {
            let wasm = run.result.map(|(doc, _)| doc);
            let native = native.map(|(doc, _)| doc);
            assert_eq!(wasm, native, "wasm and native disagree");
        }
        Err(error) => assert!(
            error.is_page_resource_limit(),
            "the sandbox failed with something other than a page limit: {error}"
        ),
    }
}

/// Edits a page the way broken servers and hostile authors do.
#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Insert(usize, String),
    Delete(usize, usize),
    Duplicate(usize, usize),
}

fn fragments() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<div><p><b><i>".to_string()),
        Just("</div></div></body></html>".to_string()),
        Just("<script>if (a < b) { x = '</div>'; }".to_string()),
        Just("<![CDATA[ ]]><!-- unclosed comment".to_string()),
        Just("&amp;&#x1F600;&#xFFFFFFFF;&#0;&notanentity;&".to_string()),
        Just("\u{0}\u{0}\u{FEFF}\u{FFFD}".to_string()),
        Just("<a href=\"javascript:alert(1)\">x</a><img src=//x/y.png>".to_string()),
        Just("<table><tr><td><table><tr><td>".to_string()),
        "[ -~]{0,64}",
        any::<String>().prop_map(|s| s.chars().take(64).collect()),
    ]
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    let at = any::<usize>();
    let mutation = prop_oneof![
        at.prop_map(Mutation::Truncate),
        (at, fragments()).prop_map(|(a, f)| Mutation::Insert(a, f)),
        (at, 0usize..4096).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (at, 0usize..4096).prop_map(|(a, n)| Mutation::Duplicate(a, n)),
    ];
    prop::collection::vec(mutation, 1..6)
}

fn apply(page: &str, mutations: &[Mutation]) -> String {
    let mut html = page.to_string();
    let boundary = |html: &String, at: usize| {
        let mut at = at % (html.len() + 1);
        while !html.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    for mutation in mutations {
        match mutation {
            Mutation::Truncate(at) => {
                let at = boundary(&html, *at);
                html.truncate(at);
            }
            Mutation::Insert(at, fragment) => {
                let at = boundary(&html, *at);
                html.insert_str(at, fragment);
            }
            Mutation::Delete(at, len) => {
                let start = boundary(&html, *at);
                let end = boundary(&html, start + len);
                html.replace_range(start..end.max(start), "");
            }
            Mutation::Duplicate(at, len) => {
                let start = boundary(&html, *at);
                let end = boundary(&html, start + len).max(start);
                let copy = html[start..end].to_string();
                html.insert_str(end, &copy);
            }
        }
    }
    html
}

/// Pages built to hurt a parser.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            1usize..60_000,
            prop::sample::select(vec!["div", "b", "table", "li", "span"])
        )
            .prop_map(|(depth, tag)| format!(
                "<html><body>{}text{}</body></html>",
                format!("<{tag}>").repeat(depth),
                format!("</{tag}>").repeat(depth / 2)
            )),
        (1usize..50_000).prop_map(|n| format!(
            "<html><body><p>{}</p></body></html>",
            "<p><a href=x>unclosed ".repeat(n / 10 + 1)
        )),
        (1usize..200_000).prop_map(|n| format!(
            "<html><body><article><p>{}</p></article></body></html>",
            "&amp;&lt;&#169;&#x1F600;&bogus;".repeat(n / 20 + 1)
        )),
        (1usize..2_000_000).prop_map(|n| format!(
            "<html><body><div title=\"{}\" data-x='{}'>words</div></body></html>",
            "a".repeat(n),
            "\"".repeat(n / 100)
        )),
        prop::collection::vec(any::<u8>(), 0..4096)
            .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
        prop::collection::vec(any::<u8>(), 0..4096).prop_map(|bytes| {
            let mut page = b"<html><body><p>".to_vec();
            page.extend(bytes);
            page.extend(b"\0\0</p></body></html>");
            String::from_utf8_lossy(&page).into_owned()
        }),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mutated_corpus_pages_extract_alike_in_both_engines(
        page in 0usize..1000,
        mutations in mutations(),
        mode in modes(),
    ) {
        let pages = pages();
        let html = apply(&pages[page % pages.len()].html, &mutations);
        check(&html, &mode);
    }

    #[test]
    fn hostile_pages_get_a_result_or_a_typed_error_alike_in_both_engines(
        html in hostile(),
        mode in modes(),
    ) {
        check(&html, &mode);
    }
}
