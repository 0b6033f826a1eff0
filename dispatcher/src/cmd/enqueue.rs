//! `riptide-dispatcher enqueue`: submits jobs with publisher confirms and a progress bar,
//! prints one JSON line per job (`id`, `url`, `duplicate`), and with `--wait` follows the
//! completion stream and prints each job's status and result as it finishes.

use std::collections::HashSet;
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::builder::PossibleValuesParser;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use riptide_extractor::{ExtractionMode, MODES};
use riptide_shared::job::{Job, JobKind};
use tokio::task::JoinSet;

use super::Connections;

/// Submissions in flight at once (each waits for its publisher confirm).
const CONCURRENT_SUBMISSIONS: usize = 64;

#[derive(Debug, Args)]
pub struct EnqueueArgs {
    /// URLs to crawl.
    urls: Vec<String>,
    /// A file of URLs, one per line (`-` for stdin). Without URLs or files, stdin is read
    /// when it is not a terminal.
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// Inline HTML files to extract (no fetch): `--html a.html b.html ...`.
    #[arg(long = "html", value_name = "FILE", num_args = 1..)]
    html: Vec<PathBuf>,
    /// The page URL for `--html` jobs (resolves their links).
    #[arg(
        long = "base-url",
        value_name = "URL",
        default_value = "https://example.invalid/"
    )]
    base_url: String,
    /// What to extract: article, full, metadata or custom.
    #[arg(long, default_value = "article", value_parser = PossibleValuesParser::new(MODES))]
    mode: String,
    /// CSS selector for `--mode custom`; repeat for several.
    #[arg(long = "selector", value_name = "S")]
    selectors: Vec<String>,
    /// 0-9, higher first where the queue supports priorities.
    #[arg(long, default_value_t = 0)]
    priority: u8,
    /// Wait for every job to finish and print the results.
    #[arg(long)]
    wait: bool,
    /// With `--wait`: give up after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout_secs: u64,
}

pub async fn run(ctx: &Connections, args: EnqueueArgs) -> anyhow::Result<()> {
    let mode = ExtractionMode::parse(&args.mode, args.selectors.clone())?;
    let mut jobs = Vec::new();
    for url in read_urls(&args)? {
        jobs.push(Job::new(JobKind::Url, url, None, &mode));
    }
    for path in &args.html {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let html = String::from_utf8_lossy(&bytes).into_owned();
        jobs.push(Job::new(
            JobKind::Html,
            args.base_url.clone(),
            Some(html),
            &mode,
        ));
    }
    anyhow::ensure!(
        !jobs.is_empty(),
        "nothing to enqueue: give URLs, --file, --html, or pipe URLs to stdin"
    );
    for job in &mut jobs {
        job.priority = args.priority;
    }

    let cursor = if args.wait {
        Some(ctx.jobs.completions_cursor().await?)
    } else {
        None
    };
    let progress = ProgressBar::new(jobs.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} queued {per_sec} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut pending = HashSet::new();
    let mut tasks = JoinSet::new();
    let mut queue = jobs.into_iter();
    let mut failures = 0usize;
    loop {
        while tasks.len() < CONCURRENT_SUBMISSIONS {
            let Some(job) = queue.next() else { break };
            let (broker, store) = (ctx.broker.clone(), ctx.jobs.clone());
            tasks.spawn(async move {
                store
                    .submit(&broker, &job)
                    .await
                    .map_err(|e| (job.url.clone(), e))
            });
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        match joined? {
            Ok(submitted) => {
                println!("{}", serde_json::to_string(&submitted)?);
                pending.insert(submitted.id);
            }
            Err((url, e)) => {
                failures += 1;
                eprintln!("enqueue: {url}: {e:#}");
            }
        }
        progress.inc(1);
    }
    progress.finish_and_clear();

    if let Some(cursor) = cursor {
        let jobs = ctx.jobs.clone();
        let mut finished = Vec::new();
        let still = ctx
            .jobs
            .wait(
                cursor,
                pending,
                Duration::from_secs(args.timeout_secs),
                |id, _| finished.push(id.to_string()),
            )
            .await?;
        for id in finished {
            if let Some(view) = jobs.view(&id).await? {
                println!("{}", serde_json::to_string(&view)?);
            }
        }
        anyhow::ensure!(
            still.is_empty(),
            "{} jobs did not finish within {} s",
            still.len(),
            args.timeout_secs
        );
    }
    anyhow::ensure!(failures == 0, "{failures} jobs could not be enqueued");
    Ok(())
}

fn read_urls(args: &EnqueueArgs) -> anyhow::Result<Vec<String>> {
    let mut urls = args.urls.clone();
    let from_stdin = args.file.as_deref().is_some_and(|f| f.as_os_str() == "-")
        || (args.file.is_none()
            && urls.is_empty()
            && args.html.is_empty()
            && !std::io::stdin().is_terminal());
    let lines: Box<dyn Iterator<Item = std::io::Result<String>>> = if from_stdin {
        Box::new(std::io::stdin().lock().lines())
    } else if let Some(file) = &args.file {
        let file =
            std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
        Box::new(std::io::BufReader::new(file).lines())
    } else {
        Box::new(std::iter::empty())
    };
    for line in lines {
        let line = line?;
        let url = line.trim();
        if !url.is_empty() && !url.starts_with('#') {
            urls.push(url.to_string());
        }
    }
    Ok(urls)
}
