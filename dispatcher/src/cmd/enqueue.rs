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
use riptide_shared::job::{now_ms, Job, JobKind};
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
    /// Not before this many seconds from now (the jobs wait in Redis until then).
    #[arg(long, conflicts_with = "run_at_ms")]
    delay_secs: Option<u64>,
    /// Not before this time, in Unix milliseconds.
    #[arg(long)]
    run_at_ms: Option<u64>,
    /// Whose jobs these are: their cost is summed under this tenant (`usage`).
    #[arg(long, value_parser = parse_tenant)]
    tenant: Option<String>,
    /// Wait for every job to finish and print the results.
    #[arg(long)]
    wait: bool,
    /// With `--wait`: give up after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout_secs: u64,
}

pub async fn run(ctx: &Connections, args: EnqueueArgs) -> anyhow::Result<()> {
    let mode = ExtractionMode::parse(&args.mode, args.selectors.clone())?;
    // Streamed: a URL list of any length is read, submitted and forgotten line by line.
    let priority = args.priority;
    let tenant = args.tenant.clone();
    let run_at_ms = args
        .run_at_ms
        .or_else(|| args.delay_secs.map(|secs| now_ms() + secs * 1000));
    let url_jobs =
        read_urls(&args)?.map(|url| url.map(|url| Job::new(JobKind::Url, url, None, &mode)));
    let html_jobs = args.html.iter().map(|path| {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let html = String::from_utf8_lossy(&bytes).into_owned();
        Ok(Job::new(
            JobKind::Html,
            args.base_url.clone(),
            Some(html),
            &mode,
        ))
    });
    let mut queue = url_jobs.chain(html_jobs).map(|job| {
        job.map(|mut job| {
            job.priority = priority;
            job.tenant = tenant.clone();
            job.run_at_ms = run_at_ms;
            job
        })
    });

    let cursor = if args.wait {
        Some(ctx.jobs.completions_cursor().await?)
    } else {
        None
    };
    let progress = ProgressBar::no_length().with_style(
        ProgressStyle::with_template("{spinner} {pos} queued {per_sec} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let mut pending = HashSet::new();
    let mut tasks = JoinSet::new();
    let mut failures = 0usize;
    let mut submitted_any = false;
    loop {
        while tasks.len() < CONCURRENT_SUBMISSIONS {
            let Some(job) = queue.next().transpose()? else {
                break;
            };
            submitted_any = true;
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
                if args.wait {
                    pending.insert(submitted.id);
                }
            }
            Err((url, e)) => {
                failures += 1;
                eprintln!("enqueue: {url}: {e:#}");
            }
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    anyhow::ensure!(
        submitted_any,
        "nothing to enqueue: give URLs, --file, --html, or pipe URLs to stdin"
    );

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

/// The URLs to submit, lazily: arguments, then a file or stdin, one per line (blank lines
/// and `#` comments skipped).
fn read_urls(args: &EnqueueArgs) -> anyhow::Result<impl Iterator<Item = anyhow::Result<String>>> {
    let from_stdin = args.file.as_deref().is_some_and(|f| f.as_os_str() == "-")
        || (args.file.is_none()
            && args.urls.is_empty()
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
    let listed = lines.filter_map(|line| match line {
        Ok(line) => {
            let url = line.trim();
            (!url.is_empty() && !url.starts_with('#')).then(|| Ok(url.to_string()))
        }
        Err(e) => Some(Err(anyhow::Error::from(e).context("reading URLs"))),
    });
    Ok(args.urls.clone().into_iter().map(Ok).chain(listed))
}

fn parse_tenant(tenant: &str) -> Result<String, String> {
    if riptide_shared::job::valid_tenant(tenant) {
        Ok(tenant.to_string())
    } else {
        Err(format!(
            "at most {} letters, digits, `.`, `_` or `-`",
            riptide_shared::job::MAX_TENANT_LEN
        ))
    }
}
