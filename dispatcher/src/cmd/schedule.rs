//! `riptide-dispatcher schedule add|list|remove`: periodic jobs and crawls, run by every
//! `riptide-dispatcher serve`.

use clap::builder::PossibleValuesParser;
use clap::{Args, Subcommand};
use riptide_dispatcher::schedules::{Schedules, Target};
use riptide_extractor::MODES;
use riptide_shared::crawl::{Scope, DEFAULT_MAX_DEPTH, DEFAULT_MAX_PAGES};

use super::Connections;

#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Run jobs for these URLs (or, with --crawl, a crawl from them) at every tick of a
    /// cron expression (UTC; five fields, or six with seconds first). Prints the schedule.
    Add(AddArgs),
    /// Every schedule with its next tick, one JSON line each.
    List,
    /// Stop a schedule.
    Remove { id: String },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// For example "0 */6 * * *" (every six hours).
    #[arg(long)]
    cron: String,
    #[arg(required = true)]
    urls: Vec<String>,
    /// Crawl from the URLs instead of fetching just them.
    #[arg(long)]
    crawl: bool,
    /// With --crawl: links followed from a seed, at most.
    #[arg(long, default_value_t = DEFAULT_MAX_DEPTH)]
    max_depth: u32,
    /// With --crawl: pages fetched, at most.
    #[arg(long, default_value_t = DEFAULT_MAX_PAGES)]
    max_pages: u64,
    /// With --crawl: host, domain or prefix.
    #[arg(long, default_value = "host", value_parser = PossibleValuesParser::new(["host", "domain", "prefix"]))]
    scope: String,
    #[arg(long, default_value = "article", value_parser = PossibleValuesParser::new(MODES))]
    mode: String,
    /// Whose jobs these are (usage is summed per tenant).
    #[arg(long)]
    tenant: Option<String>,
}

pub async fn run(ctx: &Connections, command: ScheduleCommand) -> anyhow::Result<()> {
    let schedules = Schedules::new(ctx.jobs.connection(), &ctx.config.broker.namespace);
    match command {
        ScheduleCommand::Add(args) => {
            let target = if args.crawl {
                Target::Crawl {
                    seeds: args.urls,
                    max_depth: args.max_depth,
                    max_pages: args.max_pages,
                    scope: Scope::parse(&args.scope).unwrap_or_default(),
                    sitemaps: false,
                    mode: args.mode,
                }
            } else {
                Target::Jobs {
                    urls: args.urls,
                    mode: args.mode,
                    tenant: args.tenant,
                }
            };
            let added = schedules.add(&args.cron, target).await?;
            println!("{}", serde_json::to_string(&added)?);
        }
        ScheduleCommand::List => {
            for schedule in schedules.list().await? {
                println!("{}", serde_json::to_string(&schedule)?);
            }
        }
        ScheduleCommand::Remove { id } => {
            let removed = schedules.remove(&id).await?;
            println!("{}", serde_json::json!({ "id": id, "removed": removed }));
            anyhow::ensure!(removed, "no schedule {id}");
        }
    }
    Ok(())
}
