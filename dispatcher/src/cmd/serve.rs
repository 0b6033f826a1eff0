//! `riptide-dispatcher serve`: the HTTP API of `riptide_dispatcher::api` on `listen`, until
//! SIGINT or SIGTERM.

use anyhow::Context;
use riptide_dispatcher::api;
use tokio::signal::unix::{signal, SignalKind};

use super::Connections;

pub async fn run(ctx: Connections) -> anyhow::Result<()> {
    let app = api::router(ctx.broker.clone(), ctx.jobs.clone(), ctx.crawls.clone())?;
    let listen = &ctx.config.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let mut terminate = signal(SignalKind::terminate())?;
    eprintln!("riptide-dispatcher: serving the API on http://{listen}");
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        })
        .await?;
    Ok(())
}
