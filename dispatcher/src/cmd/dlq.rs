//! `riptide-dispatcher dlq list|replay|purge`: the dead-letter queue.

use clap::Subcommand;

use super::Connections;

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// Print dead letters (left in the queue) as JSON lines.
    List {
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Move dead letters back to the jobs queue with attempts reset.
    Replay {
        /// Only these job ids (default: all).
        ids: Vec<String>,
    },
    /// Delete every dead letter.
    Purge,
}

pub async fn run(ctx: &Connections, command: DlqCommand) -> anyhow::Result<()> {
    match command {
        DlqCommand::List { limit } => {
            for letter in ctx.broker.dead_letters(limit).await? {
                println!("{}", serde_json::to_string(&letter)?);
            }
        }
        DlqCommand::Replay { ids } => {
            let replayed = ctx.broker.replay(&ctx.jobs, &ids).await?;
            println!("{}", serde_json::json!({ "replayed": replayed }));
        }
        DlqCommand::Purge => {
            let purged = ctx.broker.purge_dead().await?;
            println!("{}", serde_json::json!({ "purged": purged }));
        }
    }
    Ok(())
}
