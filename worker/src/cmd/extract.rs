//! `riptide-worker extract`: runs HTML files through the extractor and prints JSON lines,
//! for people debugging a page and for the quality harness.

use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use riptide_extractor::{ExtractError, ExtractedDoc, ExtractionMode, Limits};
use serde::Serialize;

#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// What to extract.
    #[arg(long, value_enum, default_value_t = ModeArg::Article)]
    mode: ModeArg,
    /// CSS selector for `--mode custom`; repeat for several.
    #[arg(long = "selector", value_name = "S")]
    selectors: Vec<String>,
    /// The page's URL, for resolving relative links (default: file:// of the path).
    #[arg(long, value_name = "U")]
    url: Option<String>,
    /// Which extractor runs the page.
    #[arg(long, value_enum, default_value_t = EngineArg::Native)]
    engine: EngineArg,
    /// HTML files; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ModeArg {
    Article,
    Full,
    Metadata,
    Custom,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum EngineArg {
    Native,
}

/// One output line.
#[derive(Serialize)]
struct Line<'a> {
    path: String,
    #[serde(flatten)]
    outcome: Outcome<'a>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Outcome<'a> {
    Doc(&'a ExtractedDoc),
    Error { error: &'a ExtractError },
}

pub fn run(args: ExtractArgs) -> anyhow::Result<()> {
    let mode = match args.mode {
        ModeArg::Article => ExtractionMode::Article,
        ModeArg::Full => ExtractionMode::Full,
        ModeArg::Metadata => ExtractionMode::Metadata,
        ModeArg::Custom => ExtractionMode::Custom(args.selectors.clone()),
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for path in &args.files {
        let html = read_input(path)?;
        let url = args.url.clone().unwrap_or_else(|| file_url(path));
        let result = match args.engine {
            EngineArg::Native => riptide_extractor::extract_with_stats(&html, &url, &mode, &Limits::default())
                .map(|(doc, _)| doc),
        };
        let outcome = match &result {
            Ok(doc) => Outcome::Doc(doc),
            Err(error) => Outcome::Error { error },
        };
        let line = Line { path: path.display().to_string(), outcome };
        serde_json::to_writer(&mut out, &line)?;
        out.write_all(b"\n")?;
        out.flush()?;
    }
    Ok(())
}

/// Reads a file (or stdin for `-`) as text, replacing invalid UTF-8 rather than failing.
fn read_input(path: &PathBuf) -> anyhow::Result<String> {
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes).context("reading standard input")?;
    } else {
        bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn file_url(path: &PathBuf) -> String {
    std::path::absolute(path)
        .ok()
        .and_then(|p| url_from_path(&p))
        .unwrap_or_default()
}

fn url_from_path(path: &std::path::Path) -> Option<String> {
    Some(format!("file://{}", path.to_str()?))
}
