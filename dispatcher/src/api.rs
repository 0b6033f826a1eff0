//! The dispatcher's HTTP API, served by `riptide-dispatcher serve`: producers that would
//! rather not speak AMQP submit jobs here, and Prometheus scrapes queue depths here.
//!
//! - `POST /v1/jobs` with `{"jobs": [{"url": ..., "html": ..., "mode": ..., "selectors": [...],
//!   "priority": 0, "metadata": {...}, "tenant": "t", "idempotency_key": "k", "run_at_ms":
//!   1795000000000 or "delay_secs": 30}]}` → 202 with one `{id, url, duplicate, status}` per
//!   job
//! - `GET /v1/jobs/{id}` → the job's status and result, 404 when unknown
//! - `DELETE /v1/jobs/{id}` → cancels it wherever it is: 200 `cancelled` (it was waiting),
//!   202 `stopping` (running: ends `cancelled` within a second), 409 when it already
//!   finished, 404 when unknown
//! - `POST /v1/batches` with `{"jobs": [...as above], "callback_url": "https://...",
//!   "idempotency_key": "k"}` (0 to 1000 jobs) → 202 with `{batch: {id, state, ...}, jobs:
//!   [ids]}`; the batch completes once when its last job ends, and its webhook is POSTed
//! - `GET /v1/batches/{id}` → the batch's state and counts by terminal status
//! - `POST /v1/schedules` with `{"cron": "0 */6 * * *", "target": {"kind": "jobs", "urls":
//!   [...]} or {"kind": "crawl", "seeds": [...], "max_depth": 2, ...}}` → 201 with the
//!   schedule and its next tick; 400 for an invalid cron; `GET /v1/schedules`; `DELETE
//!   /v1/schedules/{id}` (404 when unknown)
//! - `GET /v1/usage[?tenant=T]` → summed receipts per tenant
//! - `POST /v1/crawls` with `{"seeds": [...], "max_depth": 2, "max_pages": 1000, "scope":
//!   "host", "allow": [...], "deny": [...], "sitemaps": false, "mode": "article", "selectors":
//!   [...]}` → 202
//!   with the crawl's spec (its `id`)
//! - `GET /v1/crawls/{id}` → the crawl's state and counts, 404 when unknown
//! - `DELETE /v1/crawls/{id}` → cancels it; 409 when it is not running
//! - `GET /v1/crawls/{id}/pages?offset=0&limit=100` → its done pages with their results
//! - `GET /metrics` → queue depths, jobs by status and crawls by state, refreshed at each
//!   scrape
//! - `GET /healthz` → 200 while the process runs
//! - `GET /readyz` → 200 when RabbitMQ and Redis answer, else 503 naming what does not

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use prometheus::{Encoder, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};
use riptide_extractor::ExtractionMode;
use riptide_shared::crawl::{default_max_depth, default_max_pages, CrawlError, Scope};
use riptide_shared::frontier;
use riptide_shared::guard;
use riptide_shared::job::{now_ms, valid_tenant, Job, JobKind, MAX_TENANT_LEN};
use riptide_shared::metrics as names;
use serde::Deserialize;

use crate::batches::{Batches, NewBatch, MAX_BATCH};
use crate::broker::Broker;
use crate::crawls::{CrawlRequest, Crawls};
use crate::jobs::{Cancellation, Jobs};
use crate::schedules::{ScheduleError, Schedules, Target};

#[derive(Deserialize)]
struct Batch {
    jobs: Vec<JobRequest>,
}

#[derive(Deserialize)]
struct JobRequest {
    url: String,
    #[serde(default)]
    html: Option<String>,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    selectors: Vec<String>,
    #[serde(default)]
    priority: u8,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default)]
    idempotency_key: Option<String>,
    /// Not before this time (Unix milliseconds).
    #[serde(default)]
    run_at_ms: Option<u64>,
    /// Not before this many seconds from now.
    #[serde(default)]
    delay_secs: Option<f64>,
    /// Where the job's end is POSTed.
    #[serde(default)]
    callback_url: Option<String>,
}

/// Longest idempotency key accepted.
const MAX_IDEMPOTENCY_KEY: usize = 256;

#[derive(Deserialize)]
struct CrawlBody {
    seeds: Vec<String>,
    #[serde(default = "default_max_depth")]
    max_depth: u32,
    #[serde(default = "default_max_pages")]
    max_pages: u64,
    #[serde(default)]
    scope: Scope,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    deny: Vec<String>,
    #[serde(default)]
    sitemaps: bool,
    #[serde(default)]
    callback_url: Option<String>,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    selectors: Vec<String>,
}

#[derive(Deserialize)]
struct PageRange {
    #[serde(default)]
    offset: usize,
    #[serde(default = "default_range")]
    limit: usize,
}

fn default_range() -> usize {
    100
}

/// Largest page of crawl results one request returns.
const MAX_PAGE_RANGE: usize = 1000;

struct Api {
    schedules: Schedules,
    broker: Arc<Broker>,
    jobs: Arc<Jobs>,
    crawls: Arc<Crawls>,
    batches: Batches,
    options: ApiOptions,
    registry: Registry,
    queue_depth: IntGaugeVec,
    by_status: IntGaugeVec,
    crawls_by_state: IntGaugeVec,
    submitted: IntCounterVec,
    dependency_up: IntGaugeVec,
}

/// How the API treats what producers give it.
#[derive(Debug, Clone, Default)]
pub struct ApiOptions {
    /// Accept callback URLs on private addresses (tests, a receiver inside the cluster).
    pub allow_private_callbacks: bool,
}

/// The API's routes over the dispatcher's broker and Redis connections.
pub fn router(
    broker: Arc<Broker>,
    jobs: Arc<Jobs>,
    crawls: Arc<Crawls>,
    options: ApiOptions,
) -> prometheus::Result<Router> {
    let registry = Registry::new();
    let queue_depth = IntGaugeVec::new(
        Opts::new(names::QUEUE_DEPTH, "Messages waiting, by queue"),
        &["queue"],
    )?;
    let by_status = IntGaugeVec::new(
        Opts::new(names::JOBS_BY_STATUS, "Jobs that reached each status"),
        &["status"],
    )?;
    let crawls_by_state =
        IntGaugeVec::new(Opts::new(names::CRAWLS, "Crawls, by state"), &["state"])?;
    for state in frontier::state::ALL {
        crawls_by_state.with_label_values(&[state]);
    }
    let submitted = IntCounterVec::new(
        Opts::new(names::JOBS_SUBMITTED_TOTAL, "Jobs submitted, by result"),
        &["result"],
    )?;
    let dependency_up = IntGaugeVec::new(
        Opts::new(
            names::DEPENDENCY_UP,
            "Whether the broker and Redis answered at the last scrape",
        ),
        &["dependency"],
    )?;
    for result in ["queued", "duplicate", "error"] {
        submitted.with_label_values(&[result]);
    }
    registry.register(Box::new(queue_depth.clone()))?;
    registry.register(Box::new(by_status.clone()))?;
    registry.register(Box::new(crawls_by_state.clone()))?;
    registry.register(Box::new(submitted.clone()))?;
    registry.register(Box::new(dependency_up.clone()))?;
    let api = Arc::new(Api {
        schedules: Schedules::new(jobs.connection(), broker.namespace()),
        batches: Batches::new(&jobs),
        broker,
        jobs,
        crawls,
        options,
        registry,
        queue_depth,
        by_status,
        crawls_by_state,
        submitted,
        dependency_up,
    });
    Ok(Router::new()
        .route("/v1/jobs", post(submit))
        .route("/v1/jobs/{id}", get(job).delete(cancel_job))
        .route("/v1/batches", post(create_batch))
        .route("/v1/batches/{id}", get(batch))
        .route("/v1/crawls", post(start_crawl))
        .route("/v1/crawls/{id}", get(crawl).delete(cancel_crawl))
        .route("/v1/crawls/{id}/pages", get(crawl_pages))
        .route("/v1/schedules", post(add_schedule).get(list_schedules))
        .route("/v1/schedules/{id}", delete(remove_schedule))
        .route("/v1/usage", get(usage))
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .with_state(api))
}

impl Api {
    /// A job from its request, or why the request is refused.
    async fn job_from(&self, request: JobRequest) -> Result<Job, String> {
        let mode = ExtractionMode::parse(
            request.mode.as_deref().unwrap_or("article"),
            request.selectors,
        )
        .map_err(|e| e.message().to_string())?;
        let kind = if request.html.is_some() {
            JobKind::Html
        } else {
            JobKind::Url
        };
        if let Some(tenant) = &request.tenant {
            if !valid_tenant(tenant) {
                return Err(format!(
                    "tenant `{tenant}`: at most {MAX_TENANT_LEN} letters, digits, `.`, `_` or `-`"
                ));
            }
        }
        if let Some(key) = &request.idempotency_key {
            if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY {
                return Err(format!(
                    "an idempotency_key holds 1 to {MAX_IDEMPOTENCY_KEY} bytes"
                ));
            }
        }
        let run_at_ms = match (request.run_at_ms, request.delay_secs) {
            (Some(_), Some(_)) => return Err("give run_at_ms or delay_secs, not both".into()),
            (Some(at), None) => Some(at),
            (None, Some(delay)) if delay.is_finite() && delay >= 0.0 => {
                Some(now_ms() + (delay * 1000.0) as u64)
            }
            (None, Some(delay)) => {
                return Err(format!(
                    "delay_secs {delay} is not a number of seconds from now"
                ))
            }
            (None, None) => None,
        };
        let mut job = Job::new(kind, request.url, request.html, &mode);
        job.priority = request.priority;
        job.metadata = request.metadata;
        job.tenant = request.tenant;
        job.idempotency_key = request.idempotency_key;
        job.run_at_ms = run_at_ms;
        job.check_run_at(now_ms()).map_err(|e| e.to_string())?;
        job.callback_url = self.callback(request.callback_url.as_deref()).await?;
        Ok(job)
    }

    /// A checked callback URL: http(s), to a public address (the SSRF guard's rules).
    async fn callback(&self, url: Option<&str>) -> Result<Option<String>, String> {
        match url {
            None => Ok(None),
            Some(url) => guard::check_callback(url, self.options.allow_private_callbacks)
                .await
                .map(|url| Some(url.to_string())),
        }
    }
}

/// What a batch request holds.
#[derive(Deserialize)]
struct BatchRequest {
    jobs: Vec<JobRequest>,
    #[serde(default)]
    callback_url: Option<String>,
    #[serde(default)]
    idempotency_key: Option<String>,
}

async fn create_batch(State(api): State<Arc<Api>>, Json(request): Json<BatchRequest>) -> Response {
    if request.jobs.len() > MAX_BATCH {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "a batch holds at most {MAX_BATCH} jobs, not {}",
                request.jobs.len()
            ),
        );
    }
    let callback_url = match api.callback(request.callback_url.as_deref()).await {
        Ok(url) => url,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let mut jobs = Vec::with_capacity(request.jobs.len());
    for job in request.jobs {
        match api.job_from(job).await {
            Ok(job) => jobs.push(job),
            Err(message) => return error(StatusCode::BAD_REQUEST, message),
        }
    }
    let ids: Vec<String> = jobs.iter().map(|job| job.id.clone()).collect();
    let batch = NewBatch {
        jobs,
        callback_url,
        idempotency_key: request.idempotency_key,
    };
    match api.batches.create(&api.jobs, &api.broker, batch).await {
        Ok(status) if status.duplicate => {
            Json(serde_json::json!({ "batch": status })).into_response()
        }
        Ok(status) => (
            StatusCode::ACCEPTED,
            Json(serde_json::json!({ "batch": status, "jobs": ids })),
        )
            .into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, format!("{e:#}")),
    }
}

async fn batch(State(api): State<Arc<Api>>, Path(id): Path<String>) -> Response {
    match api.batches.status(&id).await {
        Ok(Some(status)) => Json(status).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no batch {id}")),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, format!("Redis: {e}")),
    }
}

async fn submit(State(api): State<Arc<Api>>, Json(batch): Json<Batch>) -> Response {
    if batch.jobs.is_empty() || batch.jobs.len() > MAX_BATCH {
        return error(
            StatusCode::BAD_REQUEST,
            format!("a batch holds 1 to {MAX_BATCH} jobs"),
        );
    }
    let mut jobs = Vec::with_capacity(batch.jobs.len());
    for request in batch.jobs {
        match api.job_from(request).await {
            Ok(job) => jobs.push(job),
            Err(message) => return error(StatusCode::BAD_REQUEST, message),
        }
    }
    let mut accepted = Vec::with_capacity(jobs.len());
    for job in &jobs {
        match api.jobs.submit(&api.broker, job).await {
            Ok(submitted) => {
                let result = if submitted.duplicate {
                    "duplicate"
                } else {
                    "queued"
                };
                api.submitted.with_label_values(&[result]).inc();
                accepted.push(submitted);
            }
            Err(e) => {
                api.submitted.with_label_values(&["error"]).inc();
                return error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("could not enqueue {}: {e:#}", job.url),
                );
            }
        }
    }
    (
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "jobs": accepted })),
    )
        .into_response()
}

async fn job(State(api): State<Arc<Api>>, Path(id): Path<String>) -> Response {
    match api.jobs.view(&id).await {
        Ok(Some(view)) => Json(view).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no job {id}")),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, format!("Redis: {e}")),
    }
}

async fn cancel_job(State(api): State<Arc<Api>>, Path(id): Path<String>) -> Response {
    match api.jobs.cancel(api.broker.namespace(), &id).await {
        Ok(Cancellation::Unknown) => error(StatusCode::NOT_FOUND, format!("no job {id}")),
        Ok(Cancellation::AlreadyFinished { status }) => error(
            StatusCode::CONFLICT,
            format!("job {id} already finished ({status}); nothing to cancel"),
        ),
        Ok(Cancellation::Cancelled) => {
            Json(serde_json::json!({ "id": id, "status": "cancelled" })).into_response()
        }
        Ok(Cancellation::Stopping) => (
            StatusCode::ACCEPTED,
            Json(serde_json::json!({ "id": id, "status": "stopping" })),
        )
            .into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, format!("Redis: {e}")),
    }
}

async fn start_crawl(State(api): State<Arc<Api>>, Json(body): Json<CrawlBody>) -> Response {
    let mode =
        match ExtractionMode::parse(body.mode.as_deref().unwrap_or("article"), body.selectors) {
            Ok(mode) => mode,
            Err(e) => return error(StatusCode::BAD_REQUEST, e.message().to_string()),
        };
    let callback_url = match api.callback(body.callback_url.as_deref()).await {
        Ok(url) => url,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let request = CrawlRequest {
        seeds: body.seeds,
        max_depth: body.max_depth,
        max_pages: body.max_pages,
        scope: body.scope,
        allow: body.allow,
        deny: body.deny,
        sitemaps: body.sitemaps,
        callback_url,
        mode,
    };
    match api.crawls.start(request).await {
        Ok(spec) => (StatusCode::ACCEPTED, Json(spec)).into_response(),
        Err(e) if e.downcast_ref::<CrawlError>().is_some() => {
            error(StatusCode::BAD_REQUEST, format!("{e:#}"))
        }
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, format!("{e:#}")),
    }
}

async fn crawl(State(api): State<Arc<Api>>, Path(id): Path<String>) -> Response {
    match api.crawls.status(&id).await {
        Ok(Some(status)) => Json(status).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no crawl {id}")),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, format!("Redis: {e}")),
    }
}

async fn cancel_crawl(State(api): State<Arc<Api>>, Path(id): Path<String>) -> Response {
    match api.crawls.cancel(&id).await {
        Ok(true) => Json(serde_json::json!({ "id": id, "cancelled": true })).into_response(),
        Ok(false) => match api.crawls.status(&id).await {
            Ok(Some(status)) => error(
                StatusCode::CONFLICT,
                format!("crawl {id} is {}, not running", status.state),
            ),
            Ok(None) => error(StatusCode::NOT_FOUND, format!("no crawl {id}")),
            Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, format!("Redis: {e}")),
        },
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, format!("Redis: {e}")),
    }
}

async fn crawl_pages(
    State(api): State<Arc<Api>>,
    Path(id): Path<String>,
    Query(range): Query<PageRange>,
) -> Response {
    let limit = range.limit.clamp(1, MAX_PAGE_RANGE);
    let ids = match api.crawls.pages(&id, range.offset, limit).await {
        Ok(ids) => ids,
        Err(e) => return error(StatusCode::SERVICE_UNAVAILABLE, format!("Redis: {e}")),
    };
    let mut pages = Vec::with_capacity(ids.len());
    for page in ids {
        match api.jobs.view(&page).await {
            Ok(Some(view)) => pages.push(view),
            Ok(None) => {}
            Err(e) => return error(StatusCode::SERVICE_UNAVAILABLE, format!("Redis: {e}")),
        }
    }
    Json(serde_json::json!({ "crawl": id, "offset": range.offset, "pages": pages })).into_response()
}

#[derive(Deserialize)]
struct ScheduleRequest {
    cron: String,
    target: Target,
}

async fn add_schedule(
    State(api): State<Arc<Api>>,
    Json(request): Json<ScheduleRequest>,
) -> Response {
    match api.schedules.add(&request.cron, request.target).await {
        Ok(added) => (StatusCode::CREATED, Json(added)).into_response(),
        Err(e) if e.downcast_ref::<ScheduleError>().is_some() => {
            error(StatusCode::BAD_REQUEST, format!("{e:#}"))
        }
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, format!("{e:#}")),
    }
}

async fn list_schedules(State(api): State<Arc<Api>>) -> Response {
    match api.schedules.list().await {
        Ok(all) => Json(serde_json::json!({ "schedules": all })).into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, format!("Redis: {e}")),
    }
}

async fn remove_schedule(State(api): State<Arc<Api>>, Path(id): Path<String>) -> Response {
    match api.schedules.remove(&id).await {
        Ok(true) => Json(serde_json::json!({ "id": id, "removed": true })).into_response(),
        Ok(false) => error(StatusCode::NOT_FOUND, format!("no schedule {id}")),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, format!("Redis: {e}")),
    }
}

#[derive(Deserialize)]
struct UsageQuery {
    tenant: Option<String>,
}

async fn usage(State(api): State<Arc<Api>>, Query(query): Query<UsageQuery>) -> Response {
    match api.jobs.usage(query.tenant.as_deref()).await {
        Ok(usage) => Json(serde_json::json!({ "tenants": usage })).into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, format!("Redis: {e}")),
    }
}

async fn metrics(State(api): State<Arc<Api>>) -> Response {
    let broker_up = match api.broker.queue_depths().await {
        Ok(depths) => {
            for (queue, depth) in depths {
                api.queue_depth
                    .with_label_values(&[&queue])
                    .set(i64::from(depth));
            }
            true
        }
        Err(e) => {
            tracing::warn!(error = %e, "queue depths unavailable");
            false
        }
    };
    let counts = match api.jobs.status_counts().await {
        Ok(counts) => api
            .crawls
            .count_by_state()
            .await
            .map(|crawls| (counts, crawls)),
        Err(e) => Err(e),
    };
    let redis_up = match counts {
        Ok((jobs, crawls)) => {
            for (status, count) in jobs {
                api.by_status
                    .with_label_values(&[&status])
                    .set(i64::try_from(count).unwrap_or(i64::MAX));
            }
            for (state, count) in crawls {
                api.crawls_by_state
                    .with_label_values(&[&state])
                    .set(i64::try_from(count).unwrap_or(i64::MAX));
            }
            true
        }
        Err(e) => {
            tracing::warn!(error = %e, "job counts unavailable");
            false
        }
    };
    api.dependency_up
        .with_label_values(&["broker"])
        .set(i64::from(broker_up));
    api.dependency_up
        .with_label_values(&["redis"])
        .set(i64::from(redis_up));
    let mut body = Vec::new();
    let _ = TextEncoder::new().encode(&api.registry.gather(), &mut body);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

async fn readyz(State(api): State<Arc<Api>>) -> Response {
    let mut missing = Vec::new();
    if let Err(e) = api.broker.queue_depths().await {
        missing.push(format!("broker: {e:#}"));
    }
    if let Err(e) = api.jobs.status_counts().await {
        missing.push(format!("redis: {e}"));
    }
    if missing.is_empty() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {}\n", missing.join("; ")),
        )
            .into_response()
    }
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}
