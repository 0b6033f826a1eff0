//! The RipTide worker: consumes crawl jobs, fetches pages, extracts them in a Wasmtime
//! sandbox (falling back to the native extractor while the sandbox is failing), and stores
//! results in Redis.

/// Circuit breaker in front of the sandbox.
pub mod breaker;
/// Worker configuration (defaults < file < environment).
pub mod config;
/// The RabbitMQ consumer: one job from delivery to ack.
pub mod consume;
/// Routing of a page to the sandbox or the native fallback.
pub mod extraction;
/// Fetching pages: limits, charset, politeness, SSRF guard.
pub mod fetch;
/// `/metrics`, `/healthz`, `/readyz`.
pub mod health;
/// Prometheus metrics.
pub mod metrics;
/// The Wasmtime sandbox running the extractor component.
pub mod sandbox;
/// The worker process assembled.
pub mod server;
/// SIGTERM/SIGINT into one cancellation token.
pub mod shutdown;
/// Results and status in Redis.
pub mod store;
