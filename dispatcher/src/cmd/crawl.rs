//! `riptide-dispatcher crawl start|status|cancel|list`: site crawls.

use std::io::IsTerminal;
use std::time::Duration;

use clap::builder::PossibleValuesParser;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use riptide_dispatcher::crawls::CrawlRequest;
use riptide_extractor::{ExtractionMode, MODES};
use riptide_shared::crawl::{Scope, DEFAULT_MAX_DEPTH, DEFAULT_MAX_PAGES};
use riptide_shared::frontier::{self, CrawlStatus};
use riptide_shared::guard;

use super::Connections;

/// How often `--wait` and `--watch` read the crawl's counters.
const POLL: Duration = Duration::from_millis(500);

#[derive(Debug, Subcommand)]
pub enum CrawlCommand {
    /// Start a crawl from these seeds; prints its id.
    Start(StartArgs),
    /// A crawl's state, counts by terminal reason, pages per second and the hosts being
    /// throttled, as JSON.
    Status {
        id: String,
        /// Follow the crawl until it ends: a live view on a terminal, else one JSON line
        /// per change.
        #[arg(long)]
        watch: bool,
    },
    /// Stop a crawl: its queued pages end `cancelled` without being fetched.
    Cancel { id: String },
    /// Every crawl, one JSON line each.
    List,
}

/// How far a crawl goes: shared by `crawl start` and `schedule add --crawl`.
#[derive(Debug, Args)]
pub struct CrawlLimits {
    /// Links followed from a seed, at most.
    #[arg(long, default_value_t = DEFAULT_MAX_DEPTH)]
    pub max_depth: u32,
    /// Pages fetched, at most.
    #[arg(long, default_value_t = DEFAULT_MAX_PAGES)]
    pub max_pages: u64,
    /// host, domain (registrable domain) or prefix.
    #[arg(long, default_value = "host", value_parser = PossibleValuesParser::new(["host", "domain", "prefix"]))]
    scope: String,
    /// Also crawl the pages listed by the sitemaps the seeds' robots.txt names.
    #[arg(long)]
    pub sitemaps: bool,
}

impl CrawlLimits {
    pub fn scope(&self) -> Scope {
        Scope::parse(&self.scope).unwrap_or_default()
    }
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// Where the crawl starts.
    #[arg(required = true)]
    seeds: Vec<String>,
    #[command(flatten)]
    limits: CrawlLimits,
    /// Only URLs matching one of these regular expressions.
    #[arg(long = "allow", value_name = "REGEX")]
    allow: Vec<String>,
    /// No URL matching one of these regular expressions.
    #[arg(long = "deny", value_name = "REGEX")]
    deny: Vec<String>,
    /// POST the crawl's completion here (signed; public addresses only, unless
    /// `allow_private_callbacks`).
    #[arg(long, value_name = "URL")]
    callback_url: Option<String>,
    /// What to extract from each page.
    #[arg(long, default_value = "article", value_parser = PossibleValuesParser::new(MODES))]
    mode: String,
    /// CSS selector for `--mode custom`; repeat for several.
    #[arg(long = "selector", value_name = "S")]
    selectors: Vec<String>,
    /// Wait for the crawl to end, with a progress bar, then print its summary.
    #[arg(long)]
    wait: bool,
    /// With `--wait`: give up after this many seconds.
    #[arg(long, default_value_t = 3600)]
    timeout_secs: u64,
}

pub async fn run(ctx: &Connections, command: CrawlCommand) -> anyhow::Result<()> {
    match command {
        CrawlCommand::Start(args) => start(ctx, args).await,
        CrawlCommand::Status { id, watch } => {
            if watch {
                let status = follow(ctx, &id, Duration::MAX, View::Lines).await?;
                println!("{}", serde_json::to_string(&status)?);
            } else {
                println!("{}", serde_json::to_string(&status(ctx, &id).await?)?);
            }
            Ok(())
        }
        CrawlCommand::Cancel { id } => {
            let cancelled = ctx.crawls.cancel(&id).await?;
            println!(
                "{}",
                serde_json::json!({ "id": id, "cancelled": cancelled })
            );
            Ok(())
        }
        CrawlCommand::List => {
            for crawl in ctx.crawls.list().await? {
                println!("{}", serde_json::to_string(&crawl)?);
            }
            Ok(())
        }
    }
}

async fn start(ctx: &Connections, args: StartArgs) -> anyhow::Result<()> {
    let callback_url = match &args.callback_url {
        Some(url) => Some(
            guard::check_callback(url, ctx.config.allow_private_callbacks)
                .await
                .map_err(anyhow::Error::msg)?
                .to_string(),
        ),
        None => None,
    };
    let spec = ctx
        .crawls
        .start(CrawlRequest {
            seeds: args.seeds,
            max_depth: args.limits.max_depth,
            max_pages: args.limits.max_pages,
            scope: args.limits.scope(),
            allow: args.allow,
            deny: args.deny,
            sitemaps: args.limits.sitemaps,
            callback_url,
            mode: ExtractionMode::parse(&args.mode, args.selectors)?,
        })
        .await?;
    println!("{}", spec.id);
    if args.wait {
        let status = follow(
            ctx,
            &spec.id,
            Duration::from_secs(args.timeout_secs),
            View::Quiet,
        )
        .await?;
        println!("{}", serde_json::to_string(&status)?);
        anyhow::ensure!(
            status.state != frontier::state::RUNNING,
            "crawl {} still running after {} s",
            spec.id,
            args.timeout_secs
        );
    }
    Ok(())
}

async fn status(ctx: &Connections, id: &str) -> anyhow::Result<CrawlStatus> {
    ctx.crawls
        .status(id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no crawl {id}"))
}

/// What `follow` shows when stderr is not a terminal.
#[derive(Clone, Copy, PartialEq)]
enum View {
    /// Nothing until the end.
    Quiet,
    /// One JSON line on stdout per change.
    Lines,
}

/// Follows a crawl until it ends or `timeout` passes, with a live view on a terminal;
/// returns its last status.
async fn follow(
    ctx: &Connections,
    id: &str,
    timeout: Duration,
    view: View,
) -> anyhow::Result<CrawlStatus> {
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new(0).with_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} pages {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        )
    } else {
        ProgressBar::hidden()
    };
    let deadline = tokio::time::Instant::now().checked_add(timeout);
    let mut last_line = String::new();
    loop {
        let status = status(ctx, id).await?;
        let settled = status.admitted.saturating_sub(status.pending);
        bar.set_length(status.admitted);
        bar.set_position(settled);
        bar.set_message(live_view(&status));
        let ended = status.state != frontier::state::RUNNING && status.pending == 0;
        if view == View::Lines && bar.is_hidden() && !ended {
            let line = serde_json::to_string(&status)?;
            if line != last_line {
                println!("{line}");
                last_line = line;
            }
        }
        let timed_out = deadline.is_some_and(|d| tokio::time::Instant::now() >= d);
        if ended || timed_out {
            bar.finish_and_clear();
            return Ok(status);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The progress bar's message: pace, counts by terminal reason, throttled hosts and why.
fn live_view(status: &CrawlStatus) -> String {
    let reasons: Vec<String> = status
        .terminal
        .iter()
        .map(|(reason, count)| format!("{reason} {count}"))
        .collect();
    let mut view = format!(
        "{:.1} pages/s, {} discovered, {} pending\n  {}",
        status.pages_per_second,
        status.discovered,
        status.pending,
        reasons.join(", ")
    );
    for host in &status.throttled {
        view.push_str(&format!("\n  throttled {}: {}", host.host, host.reason));
        if host.blocked_for_ms > 0 {
            view.push_str(&format!(
                " ({:.1} s left)",
                host.blocked_for_ms as f64 / 1000.0
            ));
        }
    }
    view
}
