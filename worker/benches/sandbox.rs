//! Sandbox benchmarks, each comparison measured side by side in one run:
//! per-job overhead (fresh store + instantiate + trivial call) with and without the pooling
//! allocator; extraction of the median dev page natively and in wasm with each layer of
//! limits and the size-optimized guest; component load with a warm AOT cache
//! versus compiling. Run with `cargo bench -p riptide-worker`.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../../guest-extractor/tests/corpus/mod.rs"]
mod corpus;

use std::path::PathBuf;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use riptide_extractor::{ExtractionMode, Limits};
use riptide_worker::sandbox::{Sandbox, SandboxConfig};

fn sandbox(config: SandboxConfig) -> Sandbox {
    Sandbox::new(config).expect("sandbox")
}

fn per_job_overhead(c: &mut Criterion) {
    let mut group = c.benchmark_group("per_job_overhead");
    let pooled = sandbox(common::config(PathBuf::new()));
    let on_demand = sandbox(SandboxConfig {
        pooling: false,
        ..common::config(PathBuf::new())
    });
    assert!(pooled.load_report().pooling && !on_demand.load_report().pooling);
    group.bench_function("pooling_cow", |b| b.iter(|| pooled.modes().unwrap()));
    if let Some(baseline) = common::baseline(&common::config(PathBuf::new())) {
        group.bench_function("pooling_cow_baseline", |b| {
            b.iter(|| baseline.modes().unwrap())
        });
    }
    group.bench_function("on_demand", |b| b.iter(|| on_demand.modes().unwrap()));
    group.finish();
}

/// Native against wasm with each layer of limits, and the size-optimized guest
/// (when `GUEST_PROFILE=guest-size ops/build-guest.sh` has built it).
fn extraction_wasm_vs_native(c: &mut Criterion) {
    let page = &corpus::median();
    let base = common::config(PathBuf::new());
    let mut sandboxes = common::limit_layers(&base);
    if let Some(baseline) = common::baseline(&base) {
        sandboxes.push(("wasm_fuel_deadline_baseline", baseline));
    }
    let size_guest = base
        .component_path
        .with_file_name("riptide_extractor-guest-size.wasm");
    if size_guest.exists() {
        sandboxes.push((
            "wasm_fuel_deadline_opt_s",
            sandbox(SandboxConfig {
                component_path: size_guest,
                ..base.clone()
            }),
        ));
    }
    let mut group = c.benchmark_group(format!("extract_median_page_{}KiB", page.html.len() / 1024));
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(6));
    group.bench_function("native", |b| {
        b.iter(|| {
            riptide_extractor::extract_with_stats(
                &page.html,
                &page.url,
                &ExtractionMode::Article,
                &Limits::default(),
            )
            .unwrap()
        })
    });
    for (name, wasm) in &sandboxes {
        group.bench_function(*name, |b| {
            b.iter(|| {
                wasm.extract(&page.html, &page.url, &ExtractionMode::Article)
                    .unwrap()
            })
        });
    }
    group.finish();
}

fn component_load(c: &mut Criterion) {
    let cache = common::temp_dir("bench-aot");
    sandbox(common::config(cache.clone()));
    let mut group = c.benchmark_group("component_load");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("warm_aot_cache", |b| {
        b.iter(|| sandbox(common::config(cache.clone())))
    });
    group.bench_function("no_cache_compile", |b| {
        b.iter(|| sandbox(common::config(PathBuf::new())))
    });
    group.finish();
}

criterion_group!(
    benches,
    per_job_overhead,
    extraction_wasm_vs_native,
    component_load
);
criterion_main!(benches);
