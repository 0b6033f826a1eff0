//! Submitting jobs and reading back their status: deduplication and the `queued` status in
//! Redis, then a confirmed publish; status, results, completions and counters from Redis.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::streams::{StreamReadOptions, StreamReadReply};
use redis::AsyncCommands;
use riptide_shared::job::{Job, Status};
use riptide_shared::keys::{self, field};
use riptide_shared::settings::RedisSettings;
use riptide_shared::state::{self, Transition};
use serde::Serialize;

use crate::broker::Broker;

/// What happened to one submission.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Submitted {
    pub id: String,
    pub url: String,
    /// The same job was submitted within the dedup window: `id` is the earlier job's.
    pub duplicate: bool,
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

    /// Submits a job unless the same job was submitted within the dedup window.
    pub async fn submit(&self, broker: &Broker, job: &Job) -> anyhow::Result<Submitted> {
        let mut conn = self.redis.clone();
        let dedup = keys::dedup(&job.fingerprint());
        let claimed: bool = redis::cmd("SET")
            .arg(&dedup)
            .arg(&job.id)
            .arg("NX")
            .arg("EX")
            .arg(self.settings.dedup_window_secs.max(1))
            .query_async::<Option<String>>(&mut conn)
            .await?
            .is_some();
        if !claimed {
            let earlier: Option<String> = conn.get(&dedup).await?;
            if let Some(earlier) = earlier {
                return Ok(Submitted {
                    id: earlier,
                    url: job.url.clone(),
                    duplicate: true,
                });
            }
        }
        let key = keys::job(&job.id);
        let queued = state::transition(
            &self.redis,
            &job.id,
            Status::Queued,
            &[(field::ATTEMPTS, "0".to_string())],
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
        if let Err(e) = broker.publish(job).await {
            // Not queued after all: let the same job be submitted again.
            let _: redis::RedisResult<()> = conn.del(&dedup).await;
            let _: redis::RedisResult<()> = conn.del(&key).await;
            return Err(e);
        }
        Ok(Submitted {
            id: job.id.clone(),
            url: job.url.clone(),
            duplicate: false,
        })
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
