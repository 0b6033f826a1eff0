//! The real extractor component, built by ops/build-guest.sh, run through Wasmtime.

mod common;
#[path = "../../guest-extractor/tests/corpus/mod.rs"]
mod corpus;

use std::collections::BTreeSet;
use std::path::PathBuf;

use riptide_extractor::{ExtractionMode, Limits};
use riptide_worker::sandbox::{CacheOutcome, Sandbox, SandboxConfig, SandboxError};
use wasmtime::component::Component;
use wasmtime::Engine;

#[test]
fn the_component_imports_nothing_and_exports_the_contract() {
    let engine = Engine::default();
    let component = Component::from_file(&engine, common::component_path()).unwrap();
    let ty = component.component_type();
    let imports: Vec<String> = ty
        .imports(&engine)
        .map(|(name, _)| name.to_string())
        .collect();
    assert!(imports.is_empty(), "imports: {imports:?}");
    let exports: BTreeSet<String> = ty
        .exports(&engine)
        .map(|(name, _)| name.to_string())
        .collect();
    for name in [
        "extract",
        "extract-with-stats",
        "validate-html",
        "health-check",
        "get-info",
        "get-modes",
    ] {
        assert!(
            exports.contains(name),
            "missing export {name} in {exports:?}"
        );
    }
}

#[test]
fn extract_through_wasmtime_matches_the_native_build() {
    let sandbox = Sandbox::new(common::config(PathBuf::new())).unwrap();
    let page = corpus::page("4219d096");
    let run = sandbox
        .extract(&page.html, &page.url, &ExtractionMode::Article)
        .unwrap();
    let (doc, stats) = run.result.unwrap();
    let (native, native_stats) = riptide_extractor::extract_with_stats(
        &page.html,
        &page.url,
        &ExtractionMode::Article,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(doc, native);
    assert_eq!(stats, native_stats);
    assert!(doc.title.unwrap().contains("Pear Jam"));
    assert!(run.stats.fuel_consumed > 0 && run.stats.peak_memory_bytes > 0);

    assert!(sandbox.health_check().unwrap());
    let (name, _, modes) = sandbox.info().unwrap();
    assert_eq!(name, "riptide-extractor");
    assert_eq!(modes, ["article", "full", "metadata", "custom"]);
    let err = sandbox
        .extract("", "", &ExtractionMode::Article)
        .unwrap()
        .result
        .unwrap_err();
    assert_eq!(err.kind(), "invalid-html");
}

#[test]
fn default_fuel_leaves_ten_times_headroom_on_every_dev_page() {
    let sandbox = Sandbox::new(common::config(PathBuf::new())).unwrap();
    for page in corpus::all() {
        let run = sandbox
            .extract(&page.html, &page.url, &ExtractionMode::Article)
            .unwrap();
        assert!(run.result.is_ok(), "{}: {:?}", page.id, run.result.err());
        let budget = sandbox.config().fuel_for(page.html.len());
        assert!(
            run.stats.fuel_consumed.saturating_mul(10) <= budget,
            "{}: used {} of {budget}",
            page.id,
            run.stats.fuel_consumed
        );
        assert!(run.stats.peak_memory_bytes <= 64 << 20);
    }
}

#[test]
fn fuel_grows_linearly_with_a_page_of_many_links() {
    // Fuel counts instructions, so it measures the algorithm, not the machine: doubling the
    // links must not much more than double the work (listing links once was quadratic).
    let sandbox = Sandbox::new(common::config(PathBuf::new())).unwrap();
    let fuel = |paragraphs: usize| {
        let mut html = String::from("<html><head><title>Links</title></head><body><article>");
        for n in 0..paragraphs {
            html.push_str(&format!(
                "<p>Paragraph {n} of a long article, with <a href=/l{n}>a link</a> and words.</p>"
            ));
        }
        html.push_str("</article></body></html>");
        let run = sandbox
            .extract(&html, "https://example.com/", &ExtractionMode::Article)
            .unwrap();
        assert_eq!(run.result.unwrap().0.links.len(), paragraphs);
        run.stats.fuel_consumed
    };
    let (small, large) = (fuel(1_000), fuel(4_000));
    assert!(
        large < small * 5,
        "4x the links cost {:.1}x the fuel",
        large as f64 / small as f64
    );
}

#[test]
fn a_page_past_the_memory_limit_stops_with_a_memory_limit_and_the_next_page_runs() {
    // The guest starts with 4 MiB and grows 1 MiB at a time; with a 6 MiB limit a page
    // whose heap needs far more is denied, and the denial is reported as the limit.
    let sandbox = Sandbox::new(SandboxConfig {
        max_memory_mb: 6,
        ..common::config(PathBuf::new())
    })
    .unwrap();
    let mut html = String::from("<html><head><title>Big</title></head><body><article>");
    while html.len() < 2 << 20 {
        html.push_str("<p>A paragraph of an article far larger than the memory limit allows.</p>");
    }
    html.push_str("</article></body></html>");
    match sandbox.extract(&html, "https://example.com/", &ExtractionMode::Article) {
        Err(SandboxError::MemoryLimit {
            limit_mb: 6,
            denied,
        }) => assert!(denied >= 1),
        other => panic!(
            "expected the memory limit, got {:?}",
            other.map(|run| run.stats)
        ),
    }
    let page = corpus::page("4219d096");
    let run = sandbox
        .extract(&page.html, &page.url, &ExtractionMode::Article)
        .unwrap();
    assert!(run.result.is_ok(), "{:?}", run.result.err());
    assert!(run.stats.peak_memory_bytes <= 6 << 20);
}

#[test]
fn aot_cache_hits_on_second_load_and_rebuilds_a_corrupt_artifact() {
    let dir = common::temp_dir("aot");
    let first = Sandbox::new(common::config(dir.clone())).unwrap();
    assert_eq!(first.load_report().aot_cache, CacheOutcome::Miss);
    let second = Sandbox::new(common::config(dir.clone())).unwrap();
    assert_eq!(second.load_report().aot_cache, CacheOutcome::Hit);
    assert!(second.health_check().unwrap());

    let artifact = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .expect("an artifact in the cache");
    let mut bytes = std::fs::read(&artifact).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&artifact, &bytes).unwrap();
    let rebuilt = Sandbox::new(common::config(dir.clone())).unwrap();
    assert_eq!(
        rebuilt.load_report().aot_cache,
        CacheOutcome::Miss,
        "corrupt artifact must not load"
    );
    assert!(rebuilt.health_check().unwrap());
    let again = Sandbox::new(common::config(dir.clone())).unwrap();
    assert_eq!(again.load_report().aot_cache, CacheOutcome::Hit);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_cache_directory_others_can_write_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = common::temp_dir("aot-shared");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o775)).unwrap();
    let sandbox = Sandbox::new(common::config(dir.clone())).unwrap();
    assert_eq!(sandbox.load_report().aot_cache, CacheOutcome::Refused);
    assert!(
        sandbox.health_check().unwrap(),
        "compiled in memory instead"
    );
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "nothing written to a directory others can write"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
