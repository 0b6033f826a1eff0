//! `riptide-dispatcher serve`: the HTTP API of `riptide_dispatcher::api` on `listen`, and a
//! promoter of scheduled and deferred jobs, and the ticker of periodic schedules, until
//! SIGINT or SIGTERM.

use anyhow::Context;
use riptide_dispatcher::api;
use riptide_dispatcher::schedules::{Schedules, Ticker};
use riptide_shared::deferred::Promoter;
use tokio::signal::unix::{signal, SignalKind};
use tokio_util::sync::CancellationToken;

use super::Connections;

pub async fn run(ctx: Connections) -> anyhow::Result<()> {
    let options = api::ApiOptions {
        allow_private_callbacks: ctx.config.allow_private_callbacks,
    };
    let app = api::router(
        ctx.broker.clone(),
        ctx.jobs.clone(),
        ctx.crawls.clone(),
        options,
    )?;
    // Scheduled jobs run on time even while no worker runs (KEDA scaled them to zero).
    let stop = CancellationToken::new();
    let promoter = {
        let promoter = Promoter {
            broker: ctx.config.broker.clone(),
            redis: ctx.jobs.connection(),
        };
        let stop = stop.clone();
        tokio::spawn(async move { promoter.run(stop).await })
    };
    let ticker = {
        let ticker = Ticker {
            schedules: Schedules::new(ctx.jobs.connection(), &ctx.config.broker.namespace),
            crawls: ctx.crawls.clone(),
        };
        let stop = stop.clone();
        tokio::spawn(async move { ticker.run(stop).await })
    };
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
    stop.cancel();
    let _ = promoter.await;
    let _ = ticker.await;
    Ok(())
}
