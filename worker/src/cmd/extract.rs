//! `riptide-worker extract`: runs HTML files through the extractor (sandboxed by default)
//! and prints one JSON line per file, for people debugging a page and for the quality
//! harness. With `--stats`, each line carries what the extraction cost and a last line
//! summarizes the run, with pages per CPU-second of the whole process, so anyone can check
//! the throughput figure on their own machine.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::builder::PossibleValuesParser;
use clap::{Args, ValueEnum};
use riptide_extractor::{ExtractError, ExtractedDoc, ExtractionMode, MODES};
use riptide_shared::charset;
use riptide_worker::breaker::Breaker;
use riptide_worker::config::WorkerConfig;
use riptide_worker::extraction::{process_cpu_seconds, Extractor, Stats};
use riptide_worker::metrics::Metrics;
use riptide_worker::sandbox::Sandbox;
use serde::Serialize;

#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// What to extract: article, full, metadata or custom.
    #[arg(long, default_value = "article", value_parser = PossibleValuesParser::new(MODES))]
    mode: String,
    /// CSS selector for `--mode custom`; repeat for several.
    #[arg(long = "selector", value_name = "S")]
    selectors: Vec<String>,
    /// The page's URL, for resolving relative links (default: file:// of the path).
    #[arg(long, value_name = "U")]
    url: Option<String>,
    /// Which extractor runs the pages.
    #[arg(long, value_enum, default_value_t = EngineArg::Wasm)]
    engine: EngineArg,
    /// Add `stats` to each line and a final `summary` line.
    #[arg(long)]
    stats: bool,
    /// HTML files; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EngineArg {
    /// The component in the Wasmtime sandbox, with the native fallback behind the breaker.
    Wasm,
    /// The extractor compiled into this binary.
    Native,
}

/// One output line.
#[derive(Serialize)]
struct Line<'a> {
    path: String,
    #[serde(flatten)]
    outcome: Outcome<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stats: Option<&'a Stats>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Outcome<'a> {
    Doc(&'a ExtractedDoc),
    Error { error: &'a ExtractError },
}

#[derive(Serialize, Default)]
struct Summary {
    pages: usize,
    failures: BTreeMap<&'static str, usize>,
    engines: BTreeMap<&'static str, usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    component_load_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aot_cache: Option<&'static str>,
    total_processing_time_us: u64,
    /// CPU time of the whole process (every thread) from the first page to the last:
    /// reading and decoding the files, extracting, writing the lines. Start-up (loading
    /// or compiling the component) is not in it; `component_load_ms` reports that.
    cpu_seconds: f64,
    pages_per_cpu_second: f64,
    max_fuel_consumed: u64,
    max_peak_memory_bytes: u64,
}

pub fn run(args: ExtractArgs, config: WorkerConfig) -> anyhow::Result<()> {
    let mode = ExtractionMode::parse(&args.mode, args.selectors.clone())?;
    let metrics = Arc::new(Metrics::new()?);
    let extractor = match args.engine {
        EngineArg::Native => Extractor::native(config.native.clone(), metrics),
        EngineArg::Wasm => {
            let sandbox = Sandbox::new(config.wasm.clone()).context("starting the sandbox")?;
            Extractor::sandboxed(
                sandbox,
                Breaker::new(config.breaker.clone()),
                config.native.clone(),
                metrics,
            )
        }
    };

    let mut summary = Summary::default();
    if let Some(sandbox) = extractor.sandbox() {
        let load = sandbox.load_report();
        summary.component_load_ms = Some(load.component_load_ms);
        summary.aot_cache = Some(load.aot_cache.as_str());
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let cpu_at_start = process_cpu_seconds();
    for path in &args.files {
        let html = read_input(path)?;
        let url = args.url.clone().unwrap_or_else(|| file_url(path));
        let extraction = extractor.extract(&html, &url, &mode);
        summary.pages += 1;
        *summary
            .engines
            .entry(extraction.stats.engine.as_str())
            .or_default() += 1;
        summary.total_processing_time_us += extraction.stats.processing_time_us;
        summary.max_fuel_consumed = summary
            .max_fuel_consumed
            .max(extraction.stats.fuel_consumed);
        summary.max_peak_memory_bytes = summary
            .max_peak_memory_bytes
            .max(extraction.stats.peak_memory_bytes);
        let outcome = match &extraction.result {
            Ok(doc) => Outcome::Doc(doc),
            Err(error) => {
                *summary.failures.entry(error.kind()).or_default() += 1;
                Outcome::Error { error }
            }
        };
        let line = Line {
            path: path.display().to_string(),
            outcome,
            stats: args.stats.then_some(&extraction.stats),
        };
        serde_json::to_writer(&mut out, &line)?;
        out.write_all(b"\n")?;
        out.flush()?;
    }
    if args.stats {
        summary.cpu_seconds = process_cpu_seconds() - cpu_at_start;
        summary.pages_per_cpu_second = if summary.cpu_seconds > 0.0 {
            summary.pages as f64 / summary.cpu_seconds
        } else {
            0.0
        };
        serde_json::to_writer(&mut out, &serde_json::json!({ "summary": summary }))?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Reads a file (or stdin for `-`) and decodes it by the page's charset, as the fetcher
/// decodes a response (undecodable bytes are replaced, never fatal).
fn read_input(path: &Path) -> anyhow::Result<String> {
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("reading standard input")?;
    } else {
        bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    }
    Ok(charset::decode_html(&bytes, None))
}

fn file_url(path: &Path) -> String {
    std::path::absolute(path)
        .ok()
        .and_then(|p| p.to_str().map(|p| format!("file://{p}")))
        .unwrap_or_default()
}
