//! Misbehaving components written in WAT (no toolchain needed): each is stopped by its own
//! limit with its own error kind, the process survives, and the next call succeeds. Also
//! the breaker and fallback routing around a broken sandbox.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use riptide_extractor::ExtractionMode;
use riptide_worker::breaker::{Breaker, BreakerConfig, State};
use riptide_worker::config::NativeConfig;
use riptide_worker::extraction::{Engine, Extractor};
use riptide_worker::metrics::Metrics;
use riptide_worker::sandbox::{Sandbox, SandboxConfig, SandboxError, FUEL_PER_CHECK};
use tokio_util::sync::CancellationToken;

/// A component with the `riptide:extractor` world's exact types whose `extract`,
/// `extract-with-stats` and `extract-for-crawl` run `body`; `health-check` returns true.
fn component(body: &str) -> Vec<u8> {
    let wat = format!(
        r#"(component
  (core module $m
    (memory (export "memory") 1)
    (global $bump (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (global.get $bump))
      (global.set $bump (i32.and (i32.add (i32.add (global.get $bump) (local.get 3)) (i32.const 7)) (i32.const -8)))
      (local.get $p))
    (func $misbehave {body})
    (func (export "extract") (param i32 i32 i32 i32 i32 i32 i32) (result i32) (call $misbehave) (i32.const 0))
    (func (export "extract-with-stats") (param i32 i32 i32 i32 i32 i32 i32) (result i32) (call $misbehave) (i32.const 0))
    (func (export "extract-for-crawl") (param i32 i32 i32 i32 i32 i32 i32) (result i32) (call $misbehave) (i32.const 0))
    (func (export "validate-html") (param i32 i32) (result i32) unreachable)
    (func (export "health-check") (result i32) (i32.const 1))
    (func (export "get-info") (result i32) unreachable)
    (func (export "get-modes") (result i32) unreachable))
  (core instance $i (instantiate $m))
  (type $mode' (variant (case "article") (case "full") (case "metadata") (case "custom" (list string))))
  (export $mode "extraction-mode" (type $mode'))
  (type $content' (record
    (field "url" string) (field "title" (option string)) (field "byline" (option string))
    (field "published-iso" (option string)) (field "markdown" string) (field "text" string)
    (field "links" (list string)) (field "media" (list string)) (field "language" (option string))
    (field "reading-time" u32) (field "quality-score" u8) (field "word-count" u32)
    (field "categories" (list string)) (field "site-name" (option string)) (field "description" (option string))))
  (export $content "extracted-content" (type $content'))
  (type $error' (variant (case "invalid-html" string) (case "parse-error" string) (case "resource-limit" string)
    (case "extractor-error" string) (case "internal-error" string) (case "unsupported-mode" string)))
  (export $error "extraction-error" (type $error'))
  (type $stats' (record (field "input-bytes" u64) (field "node-count" u32) (field "max-depth" u32) (field "flattened-nodes" u32)))
  (export $stats "extraction-stats" (type $stats'))
  (type $links' (record (field "follow" (list string)) (field "canonical" (option string)) (field "nofollow" bool) (field "noindex" bool)))
  (export $links "page-links" (type $links'))
  (type $info' (record (field "name" string) (field "version" string) (field "modes" (list string)) (field "max-input-bytes" u64)))
  (export $info "extractor-info" (type $info'))
  (type $report' (record (field "valid" bool) (field "problems" (list string)) (field "element-count" u32) (field "max-depth" u32)))
  (export $report "validation-report" (type $report'))
  (func (export "extract") (param "html" string) (param "url" string) (param "mode" $mode) (result (result $content (error $error)))
    (canon lift (core func $i "extract") (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
  (type $content-and-stats (tuple $content $stats))
  (func (export "extract-with-stats") (param "html" string) (param "url" string) (param "mode" $mode) (result (result $content-and-stats (error $error)))
    (canon lift (core func $i "extract-with-stats") (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
  (type $crawl-page (tuple $content $stats $links))
  (func (export "extract-for-crawl") (param "html" string) (param "url" string) (param "mode" $mode) (result (result $crawl-page (error $error)))
    (canon lift (core func $i "extract-for-crawl") (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
  (func (export "validate-html") (param "html" string) (result $report)
    (canon lift (core func $i "validate-html") (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
  (func (export "health-check") (result bool) (canon lift (core func $i "health-check")))
  (func (export "get-info") (result $info) (canon lift (core func $i "get-info") (memory (core memory $i "memory"))))
  (func (export "get-modes") (result (list string)) (canon lift (core func $i "get-modes") (memory (core memory $i "memory")))))"#
    );
    wat::parse_str(wat).expect("valid component text")
}

const NEVER_RETURNS: &str = "(loop $forever (br $forever))";
const GROWS_MEMORY: &str =
    "(loop $more (br_if $more (i32.ne (memory.grow (i32.const 16)) (i32.const -1)))) unreachable";
const TRAPS: &str = "unreachable";

fn config() -> SandboxConfig {
    SandboxConfig {
        cache_dir: PathBuf::new(),
        max_instances: 2,
        ..SandboxConfig::default()
    }
}

fn sandbox(body: &str, config: SandboxConfig) -> Sandbox {
    Sandbox::from_bytes(config, &component(body), Instant::now()).expect("the component loads")
}

fn failure(sandbox: &Sandbox) -> SandboxError {
    let error = sandbox
        .extract(
            "<p>page</p>",
            "https://example.com/",
            &ExtractionMode::Article,
        )
        .expect_err("the misbehaving call fails");
    assert!(
        sandbox.health_check().unwrap(),
        "the next call on the same sandbox succeeds"
    );
    error
}

#[test]
fn a_guest_that_never_returns_is_stopped_by_the_wall_clock_deadline() {
    let sandbox = sandbox(
        NEVER_RETURNS,
        SandboxConfig {
            timeout_ms: 200,
            fuel_base: u64::MAX / 2,
            ..config()
        },
    );
    let started = Instant::now();
    let error = failure(&sandbox);
    assert_eq!(error, SandboxError::DeadlineExceeded { timeout_ms: 200 });
    assert!(error.is_page_resource_limit());
    assert!(started.elapsed().as_secs() < 10);
}

#[test]
fn a_looping_guest_whose_job_is_cancelled_stops_within_a_check_while_others_run() {
    let sandbox = Arc::new(sandbox(
        NEVER_RETURNS,
        SandboxConfig {
            timeout_ms: 60_000,
            fuel_base: u64::MAX / 2,
            ..config()
        },
    ));
    let cancel = CancellationToken::new();
    let looping = std::thread::spawn({
        let sandbox = sandbox.clone();
        let cancel = cancel.clone();
        move || {
            sandbox.extract_page(
                "<p>page</p>",
                "https://example.com/",
                &ExtractionMode::Article,
                false,
                &cancel,
            )
        }
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    // Another job on the same sandbox is unaffected by the looping one.
    assert!(sandbox.health_check().unwrap());
    let cancelled_at = Instant::now();
    cancel.cancel();
    let outcome = looping.join().unwrap();
    let stopped_after = cancelled_at.elapsed();
    assert_eq!(outcome.unwrap_err(), SandboxError::Cancelled);
    assert!(
        stopped_after < std::time::Duration::from_millis(500),
        "stopped {stopped_after:?} after the cancel"
    );
    assert!(sandbox.health_check().unwrap(), "the sandbox serves on");
}

#[test]
fn a_guest_that_burns_fuel_is_stopped_by_fuel() {
    let sandbox = sandbox(
        NEVER_RETURNS,
        SandboxConfig {
            fuel_base: 1_000_000,
            fuel_per_kib: 0,
            ..config()
        },
    );
    assert_eq!(
        failure(&sandbox),
        SandboxError::FuelExhausted { fuel: 1_000_000 }
    );
}

/// A guest whose loop keeps integer, vector and float values in registers while the fuel
/// check at its header yields to the host every [`FUEL_PER_CHECK`]: each value must come
/// back from every yield unchanged (the check calls the host through a trampoline that
/// preserves all registers, `worker/patched/wasmtime-internal-cranelift`). The guest traps
/// if any sum is wrong.
#[test]
fn values_kept_in_registers_survive_the_yields_at_fuel_checks() {
    const ITERATIONS: u64 = 1_000_000;
    const INTEGERS: u64 = 12;
    const VECTORS: u64 = 4;
    const FLOATS: u64 = 2;
    let mut locals = String::from("(local $n i64)");
    let mut start = String::new();
    let mut step = String::new();
    let mut check = String::new();
    for k in 0..INTEGERS {
        let (first, add) = (1000 * k, k + 1);
        let last = first + ITERATIONS * add;
        locals += &format!(" (local $i{k} i64)");
        start += &format!(" (local.set $i{k} (i64.const {first}))");
        step += &format!(" (local.set $i{k} (i64.add (local.get $i{k}) (i64.const {add})))");
        check += &format!(" (if (i64.ne (local.get $i{k}) (i64.const {last})) (then unreachable))");
    }
    for k in 0..VECTORS {
        let (low, high) = (k + 3, 2 * k + 5);
        let (last_low, last_high) = (ITERATIONS * low, ITERATIONS * high);
        locals += &format!(" (local $v{k} v128)");
        step += &format!(
            " (local.set $v{k} (i64x2.add (local.get $v{k}) (v128.const i64x2 {low} {high})))"
        );
        check += &format!(
            " (if (i32.eqz (i64x2.all_true (i64x2.eq (local.get $v{k}) (v128.const i64x2 {last_low} {last_high})))) (then unreachable))"
        );
    }
    for k in 0..FLOATS {
        let add = 0.5 * (k + 1) as f64;
        let last = add * ITERATIONS as f64;
        locals += &format!(" (local $f{k} f64)");
        step += &format!(" (local.set $f{k} (f64.add (local.get $f{k}) (f64.const {add})))");
        check += &format!(" (if (f64.ne (local.get $f{k}) (f64.const {last})) (then unreachable))");
    }
    let body = format!(
        "{locals}{start} (loop $again{step} (local.set $n (i64.add (local.get $n) (i64.const 1))) \
         (br_if $again (i64.lt_u (local.get $n) (i64.const {ITERATIONS})))){check}"
    );
    let sandbox = sandbox(&body, config());
    let run = sandbox
        .extract(
            "<p>page</p>",
            "https://example.com/",
            &ExtractionMode::Article,
        )
        .expect("every value came back from the yields unchanged");
    assert!(run.result.is_ok());
    assert!(
        run.stats.fuel_consumed > 20 * FUEL_PER_CHECK,
        "the loop yielded at least 20 times ({} fuel)",
        run.stats.fuel_consumed
    );
}

#[test]
fn a_guest_that_grows_memory_without_end_is_denied() {
    let sandbox = sandbox(
        GROWS_MEMORY,
        SandboxConfig {
            max_memory_mb: 8,
            ..config()
        },
    );
    match failure(&sandbox) {
        SandboxError::MemoryLimit {
            limit_mb: 8,
            denied,
        } => assert!(denied >= 1),
        other => panic!("expected a memory limit, got {other:?}"),
    }
}

#[test]
fn a_guest_that_traps_is_a_sandbox_failure() {
    let sandbox = sandbox(TRAPS, config());
    let error = failure(&sandbox);
    assert!(
        matches!(&error, SandboxError::Trap(m) if m.contains("unreachable")),
        "{error:?}"
    );
    assert!(!error.is_page_resource_limit());
}

#[test]
fn trapping_pages_are_not_rerun_natively_and_open_the_breaker_for_the_next_ones() {
    let metrics = Arc::new(Metrics::new().unwrap());
    let extractor = Extractor::sandboxed(
        sandbox(TRAPS, config()),
        Breaker::new(BreakerConfig::default()),
        NativeConfig {
            max_input_bytes: 200,
        },
        metrics.clone(),
    );
    let html = "<html><head><title>T</title></head><body><article><p>Words of the article body.</p></article></body></html>";
    for _ in 0..5 {
        let extraction = extractor.extract(html, "https://example.com/", &ExtractionMode::Article);
        assert_eq!(
            extraction.stats.engine,
            Engine::Wasm,
            "a page that makes the guest trap is not re-run without limits"
        );
        let error = extraction.result.unwrap_err();
        assert_eq!(error.kind(), "internal-error");
        assert!(error.message().contains("unreachable"), "{error}");
        assert!(!extraction.retry_later);
    }
    assert_eq!(extractor.breaker().state(), State::Open);
    assert_eq!(metrics.breaker_state.get(), 1);
    assert_eq!(metrics.breaker_trips.get(), 1);
    assert_eq!(
        metrics.sandbox_failures.with_label_values(&["trap"]).get(),
        5
    );

    // While open, pages go to the native fallback, within its size cap.
    let extraction = extractor.extract(html, "https://example.com/", &ExtractionMode::Article);
    assert_eq!(extraction.stats.engine, Engine::NativeFallback);
    assert!(extraction
        .result
        .unwrap()
        .text
        .contains("Words of the article"));
    assert_eq!(metrics.fallback.get(), 1);

    // A page over the cap waits for the sandbox: retried later, not dead-lettered.
    let big = html.replace("Words", &"Words ".repeat(50));
    let extraction = extractor.extract(&big, "https://example.com/", &ExtractionMode::Article);
    assert_eq!(extraction.stats.engine, Engine::NativeFallback);
    assert_eq!(extraction.result.unwrap_err().kind(), "resource-limit");
    assert!(extraction.retry_later);
    assert_eq!(metrics.fallback.get(), 1, "not extracted natively");
}

#[test]
fn a_page_over_its_own_budget_is_not_retried_natively_and_keeps_the_breaker_closed() {
    let metrics = Arc::new(Metrics::new().unwrap());
    let extractor = Extractor::sandboxed(
        sandbox(
            NEVER_RETURNS,
            SandboxConfig {
                fuel_base: 1_000_000,
                fuel_per_kib: 0,
                ..config()
            },
        ),
        Breaker::new(BreakerConfig::default()),
        NativeConfig::default(),
        metrics.clone(),
    );
    for _ in 0..10 {
        let extraction =
            extractor.extract("<p>x</p>", "https://example.com/", &ExtractionMode::Article);
        assert_eq!(extraction.stats.engine, Engine::Wasm);
        assert_eq!(extraction.result.unwrap_err().kind(), "resource-limit");
        // The page's cost up to the limit is reported, not zeros.
        assert_eq!(extraction.stats.fuel_consumed, 1_000_000);
        assert!(extraction.stats.processing_time_us > 0);
    }
    assert_eq!(extractor.breaker().state(), State::Closed);
    assert_eq!(metrics.fallback.get(), 0);
}
