//! The worker's HTTP endpoints: `/metrics` (Prometheus), `/healthz` (the process is alive)
//! and `/readyz` (connected to RabbitMQ and Redis with the sandbox loaded: ready for jobs).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;

/// What `/readyz` reports; each flag is set by the part it describes.
#[derive(Default)]
pub struct Readiness {
    pub broker: AtomicBool,
    pub redis: AtomicBool,
    pub sandbox: AtomicBool,
}

impl Readiness {
    /// The parts that are not ready, by name.
    pub fn missing(&self) -> Vec<&'static str> {
        [
            ("broker", &self.broker),
            ("redis", &self.redis),
            ("sandbox", &self.sandbox),
        ]
        .into_iter()
        .filter(|(_, flag)| !flag.load(Ordering::Relaxed))
        .map(|(name, _)| name)
        .collect()
    }
}

#[derive(Clone)]
struct AppState {
    metrics: Arc<Metrics>,
    readiness: Arc<Readiness>,
}

/// Serves until `shutdown` is cancelled.
pub async fn serve(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    readiness: Arc<Readiness>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/metrics", get(metrics_text))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .with_state(AppState { metrics, readiness });
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "serving /metrics, /healthz, /readyz");
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}

async fn metrics_text(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let missing = state.readiness.missing();
    if missing.is_empty() {
        (StatusCode::OK, "ready\n".to_string())
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {}\n", missing.join(", ")),
        )
    }
}
