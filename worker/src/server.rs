//! The worker process assembled: the sandbox, Redis, the HTTP endpoints, the heartbeat and
//! the consumer, started in order and stopped together when `shutdown` is cancelled.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use backon::{ExponentialBuilder, Retryable};
use riptide_shared::deferred::Promoter;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::breaker::Breaker;
use crate::callback::Sender;
use crate::cancel::Cancellations;
use crate::config::WorkerConfig;
use crate::consume::Listener;
use crate::crawl::Crawls;
use crate::extraction::Extractor;
use crate::fetch::Fetcher;
use crate::handle::JobHandler;
use crate::health::{self, Readiness};
use crate::metrics::Metrics;
use crate::politeness::Politeness;
use crate::robots::Robots;
use crate::runner::Runner;
use crate::sandbox::Sandbox;
use crate::store::Store;

/// How often the worker publishes its breaker state and load to Redis.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);

/// Runs the worker until `shutdown` is cancelled and in-flight jobs are drained.
pub async fn run(config: WorkerConfig, shutdown: CancellationToken) -> anyhow::Result<()> {
    let worker_id = if config.worker.id.is_empty() {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "worker".into());
        format!("{host}-{}", std::process::id())
    } else {
        config.worker.id.clone()
    };
    let metrics = Arc::new(Metrics::with_tenants(&config.worker.tenant_labels)?);
    let readiness = Arc::new(Readiness::default());

    let listen = config
        .worker
        .listen
        .parse()
        .with_context(|| format!("worker.listen `{}`", config.worker.listen))?;
    let http = tokio::spawn(health::serve(
        listen,
        metrics.clone(),
        readiness.clone(),
        shutdown.clone(),
    ));

    let sandbox_config = config.wasm.clone();
    let sandbox = tokio::task::spawn_blocking(move || Sandbox::new(sandbox_config))
        .await?
        .context("loading the extractor component")?;
    let slots = sandbox.config().max_instances as usize;
    let extractor = Arc::new(Extractor::sandboxed(
        sandbox,
        Breaker::new(config.breaker.clone()),
        config.native.clone(),
        metrics.clone(),
    ));
    readiness.sandbox.store(true, Ordering::Relaxed);

    let connect_redis = (|| Store::connect(&config.redis, &config.broker.namespace))
        .retry(
            ExponentialBuilder::default()
                .with_max_delay(Duration::from_secs(10))
                .without_max_times(),
        )
        .notify(|e, delay| tracing::warn!(error = %e, ?delay, "Redis unreachable; retrying"));
    let store = tokio::select! {
        _ = shutdown.cancelled() => return Ok(()),
        store = connect_redis => store.context("connecting to Redis")?,
    };
    readiness.redis.store(true, Ordering::Relaxed);

    let in_flight = Arc::new(AtomicUsize::new(0));
    let cancellations = Arc::new(Cancellations::new(store.connection()));
    let handler = JobHandler {
        worker_id: worker_id.clone(),
        cancellations: cancellations.clone(),
        crawls: Crawls::new(store.connection()),
        broker: config.broker.clone(),
        runner: Runner {
            worker_id: worker_id.clone(),
            extractor: extractor.clone(),
            fetcher: Fetcher::new(config.fetch.clone()).context("building the HTTP client")?,
            robots: if config.fetch.respect_robots {
                Some(Robots::new(
                    store.connection(),
                    metrics.clone(),
                    &config.fetch.user_agent,
                    Duration::from_secs(config.politeness.max_crawl_delay_secs),
                ))
            } else {
                None
            },
            politeness: Politeness::new(
                store.connection(),
                config.politeness.clone(),
                Duration::from_millis(config.fetch.timeout_ms),
            ),
            slots: Arc::new(Semaphore::new(slots)),
        },
        store: store.clone(),
        metrics: metrics.clone(),
        readiness: readiness.clone(),
    };
    let listener = Listener {
        broker: config.broker.clone(),
        consumer_tag: format!("riptide-worker-{worker_id}"),
        prefetch: config
            .worker
            .prefetch
            .unwrap_or_else(|| u16::try_from(slots).unwrap_or(u16::MAX)),
        drain_timeout: Duration::from_secs(config.worker.drain_timeout_secs),
        readiness: readiness.clone(),
        in_flight: in_flight.clone(),
        handler: Arc::new(handler),
    };

    let promoter = {
        let promoter = Promoter {
            broker: config.broker.clone(),
            redis: store.connection(),
        };
        let shutdown = shutdown.clone();
        tokio::spawn(async move { promoter.run(shutdown).await })
    };

    let sender = {
        let sender = Sender {
            redis: store.connection(),
            namespace: config.broker.namespace.clone(),
            fetcher: Fetcher::new(config.fetch.clone()).context("building the HTTP client")?,
            config: config.callbacks.clone(),
        };
        let shutdown = shutdown.clone();
        tokio::spawn(async move { sender.run(shutdown).await })
    };

    let watcher = {
        let shutdown = shutdown.clone();
        tokio::spawn(async move { cancellations.run(shutdown).await })
    };

    let heartbeat = {
        let shutdown = shutdown.clone();
        let worker_id = worker_id.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(HEARTBEAT_EVERY);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = every.tick() => {
                        // Read here too, so an idle worker's gauge leaves `open` on time.
                        let state = extractor.breaker().state();
                        metrics.breaker_state.set(state as i64);
                        let in_flight = in_flight.load(Ordering::Relaxed);
                        let ok = store.heartbeat(&worker_id, state, in_flight).await.is_ok();
                        readiness.redis.store(ok, Ordering::Relaxed);
                    }
                }
            }
        })
    };

    tracing::info!(worker = %worker_id, "worker started");
    listener.run(shutdown.clone()).await;
    shutdown.cancel();
    let _ = heartbeat.await;
    let _ = promoter.await;
    let _ = watcher.await;
    let _ = sender.await;
    if let Ok(Err(e)) = http.await {
        tracing::warn!(error = %e, "health endpoint stopped with an error");
    }
    tracing::info!("worker stopped");
    Ok(())
}
