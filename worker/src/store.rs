//! The worker's writes to Redis: job status, results, the completion stream and its own
//! heartbeat. Key names come from `riptide_shared::keys`.
//!
//! A job's message is acked only after [`Store::complete`] (or [`Store::finish_failed`])
//! returned: the result is durably in Redis before the broker forgets the job.

use redis::aio::ConnectionManager;
use redis::streams::StreamMaxlen;
use redis::AsyncCommands;
use riptide_shared::job::{now_ms, JobResult, Status};
use riptide_shared::keys::{self, field};
use riptide_shared::settings::RedisSettings;

/// How long a worker's heartbeat hash outlives its last refresh.
const HEARTBEAT_TTL_SECS: i64 = 30;

#[derive(Clone)]
pub struct Store {
    conn: ConnectionManager,
    ttl_secs: i64,
}

impl Store {
    /// Connects; the connection manager reconnects by itself after Redis restarts.
    pub async fn connect(settings: &RedisSettings) -> redis::RedisResult<Self> {
        Ok(Self {
            conn: settings.connect().await?,
            ttl_secs: i64::try_from(settings.result_ttl_secs).unwrap_or(i64::MAX),
        })
    }

    pub async fn ping(&self) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map(|_| ())
    }

    /// The job's current status, if Redis knows the job.
    pub async fn status(&self, id: &str) -> redis::RedisResult<Option<Status>> {
        let mut conn = self.conn.clone();
        let status: Option<String> = conn.hget(keys::job(id), field::STATUS).await?;
        Ok(status.as_deref().and_then(Status::parse))
    }

    /// Marks the job taken by this worker and counts the delivery (redeliveries included).
    pub async fn mark_processing(
        &self,
        id: &str,
        attempts: u32,
        worker: &str,
    ) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        redis::pipe()
            .atomic()
            .hset_multiple(
                keys::job(id),
                &[
                    (field::STATUS, Status::Processing.as_str().to_string()),
                    (field::ATTEMPTS, attempts.to_string()),
                    (field::WORKER, worker.to_string()),
                    (field::UPDATED_AT_MS, now_ms().to_string()),
                ],
            )
            .expire(keys::job(id), self.ttl_secs)
            .hincr(keys::STATUS_COUNTS, Status::Processing.as_str(), 1)
            .query_async::<()>(&mut conn)
            .await
    }

    /// Stores the result, marks the job done and announces it on the completion stream, in
    /// one transaction.
    pub async fn complete(&self, result: &JobResult) -> redis::RedisResult<()> {
        let json = serde_json::to_string(result).map_err(|e| {
            redis::RedisError::from((
                redis::ErrorKind::Client,
                "serializing result",
                e.to_string(),
            ))
        })?;
        let mut conn = self.conn.clone();
        let key = keys::job(&result.id);
        redis::pipe()
            .atomic()
            .hset_multiple(
                &key,
                &[
                    (field::STATUS, Status::Done.as_str().to_string()),
                    (field::RESULT, json),
                    (field::ATTEMPTS, result.attempts.to_string()),
                    (field::WORKER, result.worker.clone()),
                    (field::UPDATED_AT_MS, now_ms().to_string()),
                ],
            )
            .hdel(&key, field::ERROR)
            .expire(&key, self.ttl_secs)
            .hincr(keys::STATUS_COUNTS, Status::Done.as_str(), 1)
            .xadd_maxlen(
                keys::COMPLETIONS,
                StreamMaxlen::Approx(keys::COMPLETIONS_MAX_LEN),
                "*",
                &[
                    ("id", result.id.as_str()),
                    ("status", Status::Done.as_str()),
                ],
            )
            .query_async::<()>(&mut conn)
            .await
    }

    /// Records a failure: `Failed` (a retry is scheduled) or `Dead` (dead-lettered, and
    /// announced on the completion stream).
    pub async fn finish_failed(
        &self,
        id: &str,
        status: Status,
        attempts: u32,
        error: &str,
        worker: &str,
    ) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        let key = keys::job(id);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .hset_multiple(
                &key,
                &[
                    (field::STATUS, status.as_str().to_string()),
                    (field::ERROR, error.to_string()),
                    (field::ATTEMPTS, attempts.to_string()),
                    (field::WORKER, worker.to_string()),
                    (field::UPDATED_AT_MS, now_ms().to_string()),
                ],
            )
            .expire(&key, self.ttl_secs)
            .hincr(keys::STATUS_COUNTS, status.as_str(), 1);
        if status == Status::Dead {
            pipe.xadd_maxlen(
                keys::COMPLETIONS,
                StreamMaxlen::Approx(keys::COMPLETIONS_MAX_LEN),
                "*",
                &[("id", id), ("status", status.as_str())],
            );
        }
        pipe.query_async::<()>(&mut conn).await
    }

    /// Publishes this worker's breaker state and load for `riptide-dispatcher stats`.
    pub async fn heartbeat(
        &self,
        worker: &str,
        breaker_state: i64,
        in_flight: usize,
    ) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        let key = keys::worker(worker);
        redis::pipe()
            .hset_multiple(
                &key,
                &[
                    ("breaker_state", breaker_state.to_string()),
                    ("in_flight", in_flight.to_string()),
                    (field::UPDATED_AT_MS, now_ms().to_string()),
                ],
            )
            .expire(&key, HEARTBEAT_TTL_SECS)
            .query_async::<()>(&mut conn)
            .await
    }
}
