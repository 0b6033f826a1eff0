//! `riptide-worker run`: the long-running worker, until SIGTERM; then it drains and exits 0.

use anyhow::Context;
use riptide_worker::config::WorkerConfig;

pub fn run(config: WorkerConfig) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?
        .block_on(async {
            let shutdown =
                riptide_worker::shutdown::on_signal().context("installing signal handlers")?;
            riptide_worker::server::run(config, shutdown).await
        })
}
