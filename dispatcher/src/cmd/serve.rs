//! `riptide-dispatcher serve`: the HTTP API.
//!
//! - `POST /v1/jobs` with `{"jobs": [{"url": ..., "html": ..., "mode": ..., "selectors": [...],
//!   "priority": 0, "metadata": {...}}]}` → 202 with one `{id, url, duplicate}` per job
//! - `GET /v1/jobs/{id}` → the job's status and result, 404 when unknown
//! - `GET /metrics` → queue depths and jobs by status, refreshed at each scrape
//! - `GET /healthz` → 200 while the process runs

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use prometheus::{Encoder, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};
use riptide_extractor::ExtractionMode;
use riptide_shared::job::{Job, JobKind};
use riptide_shared::metrics as names;
use serde::Deserialize;

use super::Connections;

/// Largest batch one request may submit.
const MAX_BATCH: usize = 1000;

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
}

struct Api {
    ctx: Connections,
    registry: Registry,
    queue_depth: IntGaugeVec,
    by_status: IntGaugeVec,
    submitted: IntCounterVec,
}

pub async fn run(ctx: Connections) -> anyhow::Result<()> {
    let registry = Registry::new();
    let queue_depth = IntGaugeVec::new(
        Opts::new(names::QUEUE_DEPTH, "Messages waiting, by queue"),
        &["queue"],
    )?;
    let by_status = IntGaugeVec::new(
        Opts::new(names::JOBS_BY_STATUS, "Jobs that reached each status"),
        &["status"],
    )?;
    let submitted = IntCounterVec::new(
        Opts::new(names::JOBS_SUBMITTED_TOTAL, "Jobs submitted, by result"),
        &["result"],
    )?;
    registry.register(Box::new(queue_depth.clone()))?;
    registry.register(Box::new(by_status.clone()))?;
    registry.register(Box::new(submitted.clone()))?;
    let listen = ctx.config.listen.clone();
    let api = Arc::new(Api {
        ctx,
        registry,
        queue_depth,
        by_status,
        submitted,
    });

    let app = Router::new()
        .route("/v1/jobs", post(submit))
        .route("/v1/jobs/{id}", get(job))
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .with_state(api);
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    eprintln!("riptide-dispatcher: serving the API on http://{listen}");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
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
        let mode = match ExtractionMode::parse(
            request.mode.as_deref().unwrap_or("article"),
            request.selectors,
        ) {
            Ok(mode) => mode,
            Err(e) => return error(StatusCode::BAD_REQUEST, e.message().to_string()),
        };
        let kind = if request.html.is_some() {
            JobKind::Html
        } else {
            JobKind::Url
        };
        let mut job = Job::new(kind, request.url, request.html, &mode);
        job.priority = request.priority;
        job.metadata = request.metadata;
        jobs.push(job);
    }
    let mut accepted = Vec::with_capacity(jobs.len());
    for job in &jobs {
        match api.ctx.jobs.submit(&api.ctx.broker, job).await {
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
    match api.ctx.jobs.view(&id).await {
        Ok(Some(view)) => Json(view).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no job {id}")),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, format!("Redis: {e}")),
    }
}

async fn metrics(State(api): State<Arc<Api>>) -> Response {
    match api.ctx.broker.queue_depths().await {
        Ok(depths) => {
            for (queue, depth) in depths {
                api.queue_depth
                    .with_label_values(&[&queue])
                    .set(i64::from(depth));
            }
        }
        Err(e) => tracing::warn!(error = %e, "queue depths unavailable"),
    }
    if let Ok(counts) = api.ctx.jobs.status_counts().await {
        for (status, count) in counts {
            api.by_status
                .with_label_values(&[&status])
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
    }
    let mut body = Vec::new();
    let _ = TextEncoder::new().encode(&api.registry.gather(), &mut body);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}
