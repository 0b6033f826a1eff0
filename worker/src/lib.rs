//! The RipTide worker: consumes crawl jobs, fetches pages, extracts them in a Wasmtime
//! sandbox (falling back to the native extractor while the sandbox is failing), and stores
//! results in Redis.

/// Circuit breaker in front of the sandbox.
pub mod breaker;
/// Webhook deliveries, signed and retried until accepted.
pub mod callback;
/// Stopping running jobs that were cancelled, wherever they run.
pub mod cancel;
/// Worker configuration (defaults < file < environment).
pub mod config;
/// The RabbitMQ consumer loop: connect, QoS, tasks, drain, reconnect.
pub mod consume;
/// Following a crawl's links into its frontier.
pub mod crawl;
/// Routing of a page to the sandbox or the native fallback.
pub mod extraction;
/// Fetching pages: limits, charset, politeness, SSRF guard.
pub mod fetch;
/// One delivery from its bytes to a settled outcome.
pub mod handle;
/// `/metrics`, `/healthz`, `/readyz`.
pub mod health;
/// Prometheus metrics.
pub mod metrics;
/// Fleet-wide pace per host: fetch starts a delay apart, bounded concurrency, deferral.
pub mod politeness;
/// robots.txt for every fetch, cached for the whole fleet.
pub mod robots;
/// One job from its page to a result: fetch, then extract.
pub mod runner;
/// The Wasmtime sandbox running the extractor component.
pub mod sandbox;
/// The worker process assembled.
pub mod server;
/// What becomes of a job once it ran: complete, retry or dead-letter.
pub mod settle;
/// SIGTERM/SIGINT into one cancellation token.
pub mod shutdown;
/// Sitemaps a crawl reads for its pages.
pub mod sitemap;
/// Results and status in Redis.
pub mod store;
