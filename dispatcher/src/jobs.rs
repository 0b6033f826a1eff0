//! Submitting jobs and reading back their status: deduplication and the `queued` status in
//! Redis, then a confirmed publish; status, results, completions and counters from Redis.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::streams::{StreamReadOptions, StreamReadReply};
use redis::AsyncCommands;
use riptide_shared::deferred;
use riptide_shared::job::{now_ms, Job, Status};
use riptide_shared::keys::{self, field};
use riptide_shared::settings::RedisSettings;
use riptide_shared::state::{self, CancelRequest, Transition};
use serde::Serialize;

use crate::broker::Broker;

/// What happened to one submission.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Submitted {
    pub id: String,
    pub url: String,
    /// The same job (or idempotency key) was submitted within its window: `id` is the
    /// earlier job's.
    pub duplicate: bool,
    /// The job's status as of this answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// What a cancellation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum Cancellation {
    /// No such job.
    Unknown,
    /// It had finished: nothing changed.
    AlreadyFinished { status: String },
    /// It was waiting: it ended `cancelled` now and is never fetched.
    Cancelled,
    /// It is running (or is a crawl's page): the worker running it stops it and ends it
    /// `cancelled` within a second; a worker that picks it up later refuses it.
    Stopping,
}

/// A job as Redis knows it.
#[derive(Debug, Serialize)]
pub struct JobView {
    pub id: String,
    pub status: Option<String>,
    pub attempts: Option<u32>,
    pub error: Option<String>,
    pub worker: Option<String>,
    pub updated_at_ms: Option<u64>,
    /// When a scheduled job may run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_at_ms: Option<u64>,
    pub result: Option<serde_json::Value>,
}

/// A worker's last heartbeat.
#[derive(Debug, Serialize)]
pub struct WorkerView {
    pub id: String,
    pub breaker_state: i64,
    pub in_flight: u64,
    pub updated_at_ms: u64,
}

pub struct Jobs {
    redis: ConnectionManager,
    settings: RedisSettings,
}

impl Jobs {
    pub async fn connect(settings: &RedisSettings) -> redis::RedisResult<Self> {
        Ok(Self {
            redis: settings.connect().await?,
            settings: settings.clone(),
        })
    }

    /// Submits a job unless the same job (or the same `idempotency_key`) was submitted
    /// within its window: then the earlier job's id and status come back instead.
    pub async fn submit(&self, broker: &Broker, job: &Job) -> anyhow::Result<Submitted> {
        job.check_run_at(now_ms())?;
        let mut conn = self.redis.clone();
        let (dedup, window) = match &job.idempotency_key {
            Some(key) => (
                keys::idempotency(key),
                self.settings.idempotency_window_secs,
            ),
            None => (
                keys::dedup(&job.fingerprint()),
                self.settings.dedup_window_secs,
            ),
        };
        // SET NX GET: one atomic step, so of concurrent submits exactly one creates the job
        // and every other one learns its id.
        let earlier: Option<String> = redis::cmd("SET")
            .arg(&dedup)
            .arg(&job.id)
            .arg("NX")
            .arg("GET")
            .arg("EX")
            .arg(window.max(1))
            .query_async(&mut conn)
            .await?;
        if let Some(earlier) = earlier {
            let status: Option<String> = conn.hget(keys::job(&earlier), field::STATUS).await?;
            return Ok(Submitted {
                id: earlier,
                url: job.url.clone(),
                duplicate: true,
                status: Some(status.unwrap_or_else(|| Status::Queued.as_str().to_string())),
            });
        }
        if let Err(e) = self.enqueue(broker, job).await {
            // Not queued after all: let the same job be submitted again.
            let _: redis::RedisResult<()> = conn.del(&dedup).await;
            return Err(e);
        }
        Ok(Submitted {
            id: job.id.clone(),
            url: job.url.clone(),
            duplicate: false,
            status: Some(Status::Queued.as_str().to_string()),
        })
    }

    pub fn settings(&self) -> &RedisSettings {
        &self.settings
    }

    /// The Redis connection (shared by the dispatcher's background tasks).
    pub fn connection(&self) -> ConnectionManager {
        self.redis.clone()
    }

    /// Cancels a job fleet-wide (see [`Cancellation`]).
    /// `namespace`: the job's queue namespace (its webhook, if any, is delivered there).
    pub async fn cancel(&self, namespace: &str, id: &str) -> redis::RedisResult<Cancellation> {
        let (was, crawl) = match state::request_cancel(&self.redis, id).await? {
            CancelRequest::Unknown => return Ok(Cancellation::Unknown),
            CancelRequest::Finished(status) => {
                return Ok(Cancellation::AlreadyFinished {
                    status: status.as_str().to_string(),
                })
            }
            CancelRequest::Marked { was, crawl } => (was, crawl),
        };
        // A crawl's page ends through a worker, which counts it in its crawl.
        if was == Status::Processing || crawl.is_some() {
            return Ok(Cancellation::Stopping);
        }
        let ended = state::transition(
            &self.redis,
            namespace,
            id,
            Status::Cancelled,
            &[(field::ERROR, "cancelled: by request".to_string())],
            self.settings.result_ttl_secs,
        )
        .await?;
        Ok(match ended {
            Transition::Applied | Transition::Refused(Some(Status::Cancelled)) => {
                Cancellation::Cancelled
            }
            Transition::Refused(status) => Cancellation::AlreadyFinished {
                status: status.map_or("unknown", |s| s.as_str()).to_string(),
            },
            Transition::CancelRequested => Cancellation::Stopping,
        })
    }

    /// Summed receipts per tenant (every tenant, or just `tenant`).
    pub async fn usage(
        &self,
        tenant: Option<&str>,
    ) -> redis::RedisResult<BTreeMap<String, BTreeMap<String, u64>>> {
        let mut conn = self.redis.clone();
        let tenants: Vec<String> = match tenant {
            Some(tenant) => vec![tenant.to_string()],
            None => {
                let mut all: Vec<String> = conn.smembers(keys::TENANTS).await?;
                all.sort();
                all
            }
        };
        let mut usage = BTreeMap::new();
        for tenant in tenants {
            let totals: BTreeMap<String, u64> = conn.hgetall(keys::usage(&tenant)).await?;
            usage.insert(tenant, totals);
        }
        Ok(usage)
    }

    /// Records the job `queued` and publishes it (or, scheduled for later, sets it aside
    /// in Redis until its time); no deduplication. A job that could not be published is
    /// forgotten again, so it can be submitted anew.
    pub async fn enqueue(&self, broker: &Broker, job: &Job) -> anyhow::Result<()> {
        let mut fields = vec![(field::ATTEMPTS, "0".to_string())];
        let scheduled = job.run_at_ms.filter(|at| *at > now_ms());
        if let Some(at) = scheduled {
            fields.push((field::RUN_AT_MS, at.to_string()));
        }
        if let Some(url) = &job.callback_url {
            fields.push((field::CALLBACK_URL, url.clone()));
        }
        let queued = state::transition(
            &self.redis,
            broker.namespace(),
            &job.id,
            Status::Queued,
            &fields,
            self.settings.result_ttl_secs,
        )
        .await?;
        if let Transition::Refused(status) = queued {
            // The producer reused the id of a job that already finished: nothing to run.
            anyhow::bail!(
                "job {} already finished ({}); submit it with a new id",
                job.id,
                status.map_or("unknown", |s| s.as_str())
            );
        }
        let enqueued = match scheduled {
            // Waits in Redis, not in the queue, until its time: see `riptide_shared::deferred`.
            Some(at) => deferred::schedule(&self.redis, broker.namespace(), &job.encode(), at)
                .await
                .map_err(anyhow::Error::from),
            None => broker.publish(job).await,
        };
        if let Err(e) = enqueued {
            let mut conn = self.redis.clone();
            let _: redis::RedisResult<()> = conn.del(keys::job(&job.id)).await;
            return Err(e);
        }
        Ok(())
    }

    /// Makes a dead job `queued` again, before its dead letter is replayed.
    pub async fn reopen_dead(&self, id: &str) -> redis::RedisResult<Transition> {
        state::reopen_dead(&self.redis, id, self.settings.result_ttl_secs).await
    }

    pub async fn view(&self, id: &str) -> redis::RedisResult<Option<JobView>> {
        let mut conn = self.redis.clone();
        let fields: BTreeMap<String, String> = conn.hgetall(keys::job(id)).await?;
        if fields.is_empty() {
            return Ok(None);
        }
        Ok(Some(JobView {
            id: id.to_string(),
            status: fields.get(field::STATUS).cloned(),
            attempts: fields.get(field::ATTEMPTS).and_then(|a| a.parse().ok()),
            error: fields.get(field::ERROR).cloned(),
            worker: fields.get(field::WORKER).cloned(),
            updated_at_ms: fields
                .get(field::UPDATED_AT_MS)
                .and_then(|a| a.parse().ok()),
            run_at_ms: fields.get(field::RUN_AT_MS).and_then(|a| a.parse().ok()),
            result: fields
                .get(field::RESULT)
                .and_then(|r| serde_json::from_str(r).ok()),
        }))
    }

    /// The id of the newest completion, to follow the stream from there.
    pub async fn completions_cursor(&self) -> redis::RedisResult<String> {
        let mut conn = self.redis.clone();
        let newest: redis::streams::StreamRangeReply =
            conn.xrevrange_count(keys::COMPLETIONS, "+", "-", 1).await?;
        Ok(newest
            .ids
            .first()
            .map(|e| e.id.clone())
            .unwrap_or_else(|| "0-0".into()))
    }

    /// Follows the completion stream from `cursor` until every id in `pending` finished
    /// (`done` or `dead`) or `timeout` passed; calls `finished` for each. Returns what is
    /// still pending.
    pub async fn wait(
        &self,
        mut cursor: String,
        mut pending: HashSet<String>,
        timeout: Duration,
        mut finished: impl FnMut(&str, &str),
    ) -> redis::RedisResult<HashSet<String>> {
        let mut conn = self.redis.clone();
        // Jobs that finished before we started following (duplicates of earlier jobs).
        for id in pending.clone() {
            let status: Option<String> = conn.hget(keys::job(&id), field::STATUS).await?;
            let terminal = status
                .as_deref()
                .and_then(Status::parse)
                .is_some_and(Status::is_terminal);
            if let Some(status) = status.filter(|_| terminal) {
                finished(&id, &status);
                pending.remove(&id);
            }
        }
        let deadline = tokio::time::Instant::now() + timeout;
        while !pending.is_empty() && tokio::time::Instant::now() < deadline {
            let options = StreamReadOptions::default().block(1000).count(1000);
            let reply: StreamReadReply = conn
                .xread_options(&[keys::COMPLETIONS], &[&cursor], &options)
                .await?;
            for stream in reply.keys {
                for entry in stream.ids {
                    cursor = entry.id.clone();
                    let id: Option<String> = entry.get("id");
                    let status: Option<String> = entry.get("status");
                    if let (Some(id), Some(status)) = (id, status) {
                        if pending.remove(&id) {
                            finished(&id, &status);
                        }
                    }
                }
            }
        }
        Ok(pending)
    }

    /// How many jobs reached each status.
    pub async fn status_counts(&self) -> redis::RedisResult<BTreeMap<String, u64>> {
        let mut conn = self.redis.clone();
        conn.hgetall(keys::STATUS_COUNTS).await
    }

    /// Every live worker's last heartbeat.
    pub async fn workers(&self) -> redis::RedisResult<Vec<WorkerView>> {
        let mut conn = self.redis.clone();
        let names: Vec<String> = {
            let mut iter: redis::AsyncIter<String> = conn.scan_match(keys::WORKERS_PATTERN).await?;
            let mut names = Vec::new();
            while let Some(name) = futures_lite::StreamExt::next(&mut iter).await {
                names.push(name?);
            }
            names
        };
        let mut workers = Vec::new();
        for name in names {
            let fields: BTreeMap<String, String> = conn.hgetall(&name).await?;
            let number = |k: &str| {
                fields
                    .get(k)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_default()
            };
            workers.push(WorkerView {
                id: keys::worker_id(&name).to_string(),
                breaker_state: number(field::BREAKER_STATE) as i64,
                in_flight: number(field::IN_FLIGHT),
                updated_at_ms: number(field::UPDATED_AT_MS),
            });
        }
        workers.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(workers)
    }
}
