//! The wasm/native ratio on the median dev page, measured so that a shared, noisy machine
//! does not decide it: native extraction and the sandbox with each layer of limits take
//! turns, one extraction each per round (the order rotating from round to round), and each
//! one's fastest and lower-decile times are set against native's. The `sandbox` bench
//! measures the layers one after another, seconds apart, so load from elsewhere can land
//! on one layer and not on the next.
//!
//! Run with `cargo bench -p riptide-worker --bench ratio`; `RIPTIDE_RATIO_ROUNDS` sets the
//! number of rounds (default 400), `RIPTIDE_BENCH_BASELINE` a component to time beside the
//! current one with production limits.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../../guest-extractor/tests/corpus/mod.rs"]
mod corpus;

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use riptide_extractor::{ExtractionMode, Limits};

/// One way of extracting the page, timed once per round.
type Extract<'a> = Box<dyn Fn() + 'a>;

fn main() {
    let rounds: usize = std::env::var("RIPTIDE_RATIO_ROUNDS")
        .ok()
        .map(|rounds| rounds.parse().expect("RIPTIDE_RATIO_ROUNDS is a number"))
        .unwrap_or(400);
    let page = &corpus::median();
    let base = common::config(PathBuf::new());
    let mut layers = common::limit_layers(&base);
    if let Some(baseline) = common::baseline(&base) {
        layers.push(("wasm_fuel_deadline_baseline", baseline));
    }
    let mut ways: Vec<(&str, Extract)> = vec![(
        "native",
        Box::new(|| {
            black_box(
                riptide_extractor::extract_with_stats(
                    &page.html,
                    &page.url,
                    &ExtractionMode::Article,
                    &Limits::default(),
                )
                .unwrap(),
            );
        }),
    )];
    for (name, wasm) in &layers {
        ways.push((
            name,
            Box::new(move || {
                black_box(
                    wasm.extract(&page.html, &page.url, &ExtractionMode::Article)
                        .unwrap(),
                );
            }),
        ));
    }

    for (_, extract) in &ways {
        for _ in 0..20 {
            extract();
        }
    }
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(rounds); ways.len()];
    for round in 0..rounds {
        for turn in 0..ways.len() {
            let way = (round + turn) % ways.len();
            let started = Instant::now();
            (ways[way].1)();
            times[way].push(started.elapsed());
        }
    }

    println!(
        "median dev page ({} KiB), {rounds} interleaved rounds",
        page.html.len() / 1024
    );
    println!(
        "{:<28} {:>9} {:>9} {:>9} {:>12} {:>12}",
        "", "best ms", "p10 ms", "median ms", "best/native", "p10/native"
    );
    let summary: Vec<[f64; 3]> = times
        .iter_mut()
        .map(|times| {
            times.sort();
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            [
                ms(times[0]),
                ms(times[times.len() / 10]),
                ms(times[times.len() / 2]),
            ]
        })
        .collect();
    for ((name, _), [best, p10, median]) in ways.iter().zip(&summary) {
        println!(
            "{name:<28} {best:>9.3} {p10:>9.3} {median:>9.3} {:>12.2} {:>12.2}",
            best / summary[0][0],
            p10 / summary[0][1],
        );
    }
}
