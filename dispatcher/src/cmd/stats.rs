//! `riptide-dispatcher stats`: queue depths, jobs by status, and each worker's breaker
//! state, as one JSON object.

use clap::Args;

use super::Connections;

#[derive(Debug, Args)]
pub struct StatsArgs {}

pub async fn run(ctx: &Connections, _args: StatsArgs) -> anyhow::Result<()> {
    let depths: serde_json::Map<String, serde_json::Value> = ctx
        .broker
        .queue_depths()
        .await?
        .into_iter()
        .map(|(queue, depth)| (queue, depth.into()))
        .collect();
    let stats = serde_json::json!({
        "queues": depths,
        "jobs_by_status": ctx.jobs.status_counts().await?,
        "workers": ctx.jobs.workers().await?,
    });
    println!("{stats}");
    Ok(())
}
