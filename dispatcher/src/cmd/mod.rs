//! The dispatcher's subcommands, one module each.

mod crawl;
mod dlq;
mod enqueue;
mod schedule;
mod serve;
mod stats;
mod status;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use riptide_dispatcher::broker::Broker;
use riptide_dispatcher::config::DispatcherConfig;
use riptide_dispatcher::crawls::Crawls;
use riptide_dispatcher::jobs::{Cancellation, Jobs};

/// RipTide dispatcher.
#[derive(Debug, Parser)]
#[command(name = "riptide-dispatcher", version, about)]
pub struct Cli {
    /// Configuration file (TOML); `RIPTIDE_*` environment variables override it.
    #[arg(long, global = true, env = "RIPTIDE_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Enqueue crawl jobs: URLs as arguments, from a file, or from stdin; or inline HTML.
    Enqueue(enqueue::EnqueueArgs),
    /// Show a job's status and result.
    Status {
        /// The job id.
        id: String,
    },
    /// Cancel jobs wherever they are: waiting ones end `cancelled` at once, running ones
    /// are stopped by their worker within a second. One JSON line per job.
    Cancel {
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Periodic schedules: add, list, remove (run by `serve`).
    #[command(subcommand)]
    Schedule(schedule::ScheduleCommand),
    /// Site crawls: start, status, cancel, list.
    #[command(subcommand)]
    Crawl(crawl::CrawlCommand),
    /// Inspect, replay or purge the dead-letter queue.
    #[command(subcommand)]
    Dlq(dlq::DlqCommand),
    /// Queue depths, jobs by status and workers' breaker state.
    Stats(stats::StatsArgs),
    /// What done jobs cost, summed per tenant (JSON).
    Usage {
        /// Only this tenant (`default`: jobs that named none).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Serve the HTTP API.
    Serve,
    /// Redeclare queues that an older release declared with other arguments (classic
    /// retry tiers, a dead-letter queue without its limits), keeping every message. Stop
    /// the workers first; they reconnect by themselves afterwards.
    MigrateQueues,
}

/// The connections a command needs.
pub struct Connections {
    pub config: DispatcherConfig,
    pub broker: Arc<Broker>,
    pub jobs: Arc<Jobs>,
    pub crawls: Arc<Crawls>,
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = DispatcherConfig::load(cli.config.as_deref()).context("loading configuration")?;
    let jobs = Jobs::connect(&config.redis)
        .await
        .with_context(|| format!("connecting to Redis at {}", config.redis.url))?;
    let broker = Arc::new(Broker::new(&config.broker));
    let crawls = Crawls::connect(&config.redis, &config.broker.namespace)
        .await
        .with_context(|| format!("connecting to Redis at {}", config.redis.url))?;
    let ctx = Connections {
        config,
        broker,
        jobs: Arc::new(jobs),
        crawls: Arc::new(crawls),
    };
    let broker = ctx.broker.clone();
    let outcome = match cli.command {
        Command::Enqueue(args) => enqueue::run(&ctx, args).await,
        Command::Status { id } => status::run(&ctx, &id).await,
        Command::Dlq(command) => dlq::run(&ctx, command).await,
        Command::Crawl(command) => crawl::run(&ctx, command).await,
        Command::Schedule(command) => schedule::run(&ctx, command).await,
        Command::Stats(args) => stats::run(&ctx, args).await,
        Command::Cancel { ids } => cancel(&ctx, &ids).await,
        Command::Usage { tenant } => usage(&ctx, tenant.as_deref()).await,
        Command::Serve => serve::run(ctx).await,
        Command::MigrateQueues => migrate_queues(&ctx).await,
    };
    broker.close().await;
    outcome
}

async fn cancel(ctx: &Connections, ids: &[String]) -> anyhow::Result<()> {
    let mut refused = 0;
    for id in ids {
        let cancellation = ctx.jobs.cancel(&ctx.config.broker.namespace, id).await?;
        if matches!(
            cancellation,
            Cancellation::Unknown | Cancellation::AlreadyFinished { .. }
        ) {
            refused += 1;
        }
        let mut line = serde_json::to_value(&cancellation)?;
        line["id"] = id.clone().into();
        println!("{line}");
    }
    anyhow::ensure!(
        refused == 0,
        "{refused} of {} jobs were unknown or already finished",
        ids.len()
    );
    Ok(())
}

async fn usage(ctx: &Connections, tenant: Option<&str>) -> anyhow::Result<()> {
    let usage = ctx.jobs.usage(tenant).await?;
    println!("{}", serde_json::to_string_pretty(&usage)?);
    Ok(())
}

async fn migrate_queues(ctx: &Connections) -> anyhow::Result<()> {
    let migrated = ctx.broker.migrate_queues().await?;
    println!("{}", serde_json::json!({ "migrated": migrated }));
    Ok(())
}
