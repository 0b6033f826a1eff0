//! `riptide-dispatcher schedule add|list|remove`: periodic jobs and crawls, run by every
//! `riptide-dispatcher serve`.

use super::crawl::CrawlLimits;
use super::Connections;
use clap::builder::PossibleValuesParser;
use clap::{Args, Subcommand};
use riptide_dispatcher::schedules::{Schedules, Target};
use riptide_extractor::MODES;

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
    /// Crawl from the URLs instead of fetching just them (with the crawl options below).
    #[arg(long)]
    crawl: bool,
    #[command(flatten)]
    limits: CrawlLimits,
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
                    max_depth: args.limits.max_depth,
                    max_pages: args.limits.max_pages,
                    scope: args.limits.scope(),
                    sitemaps: args.limits.sitemaps,
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
