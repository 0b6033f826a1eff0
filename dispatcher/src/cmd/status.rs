//! `riptide-dispatcher status ID`: the job's status, attempts, error and result as JSON.

use super::Connections;

pub async fn run(ctx: &Connections, id: &str) -> anyhow::Result<()> {
    match ctx.jobs.view(id).await? {
        Some(view) => {
            println!("{}", serde_json::to_string(&view)?);
            Ok(())
        }
        None => anyhow::bail!("no job {id} in Redis (never submitted, or its result expired)"),
    }
}
