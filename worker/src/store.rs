//! The worker's writes to Redis: job status, results, the completion stream and its own
//! heartbeat. Key names come from `riptide_shared::keys`; every job status change goes
//! through `riptide_shared::state`, whose transitions are atomic and never overwrite a
//! terminal status (`done`, `dead`).
//!
//! A job's message is acked only after [`Store::complete`] returned: the result is durably
//! in Redis before the broker forgets the job.

use redis::aio::ConnectionManager;
use riptide_shared::job::{now_ms, Job, JobResult, Status};
use riptide_shared::keys::{self, field};
use riptide_shared::outcome::BreakerState;
use riptide_shared::settings::RedisSettings;
use riptide_shared::state::{self, GroupKind, GroupTally, Tally, Transition, UsageTally};

/// How long a worker's heartbeat hash outlives its last refresh.
const HEARTBEAT_TTL_SECS: i64 = 30;

#[derive(Clone)]
pub struct Store {
    conn: ConnectionManager,
    ttl_secs: u64,
    /// The queue namespace: its workers deliver the webhooks of the jobs it runs.
    namespace: String,
}

impl Store {
    /// Connects; the connection manager reconnects by itself after Redis restarts.
    pub async fn connect(settings: &RedisSettings, namespace: &str) -> redis::RedisResult<Self> {
        Ok(Self {
            conn: settings.connect().await?,
            ttl_secs: settings.result_ttl_secs,
            namespace: namespace.to_string(),
        })
    }

    /// The connection, for other parts that keep state in Redis (the robots.txt cache).
    pub fn connection(&self) -> ConnectionManager {
        self.conn.clone()
    }

    pub async fn ping(&self) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map(|_| ())
    }

    /// Marks the job taken by this worker, unless it is already finished (a redelivered or
    /// stale copy): then the transition is refused with the terminal status.
    pub async fn begin(&self, job: &Job, worker: &str) -> redis::RedisResult<Transition> {
        let mut fields = vec![
            (field::ATTEMPTS, job.attempts.to_string()),
            (field::WORKER, worker.to_string()),
        ];
        if let Some(crawl) = &job.crawl {
            fields.push((field::CRAWL_ID, crawl.id.clone()));
        }
        if let Some(url) = &job.callback_url {
            fields.push((field::CALLBACK_URL, url.clone()));
        }
        state::transition(
            &self.conn,
            &self.namespace,
            &job.id,
            Status::Processing,
            &fields,
            self.ttl_secs,
        )
        .await
    }

    /// Stores the result and marks the job done, announcing it on the completion stream
    /// (and counting it in its crawl), in one atomic step; refused (the stored outcome kept)
    /// if the job already finished.
    pub async fn complete(&self, job: &Job, result: &JobResult) -> redis::RedisResult<Transition> {
        let json = serde_json::to_string(result).map_err(|e| {
            redis::RedisError::from((
                redis::ErrorKind::Client,
                "serializing result",
                e.to_string(),
            ))
        })?;
        let tenant = job.tenant.as_deref().unwrap_or(keys::DEFAULT_TENANT);
        self.transition(
            job,
            Status::Done,
            &[
                (field::RESULT, json),
                (field::ATTEMPTS, result.attempts.to_string()),
                (field::WORKER, result.worker.clone()),
            ],
            "done",
            Some(UsageTally {
                tenant,
                receipt: &result.receipt,
            }),
        )
        .await
    }

    /// Marks the job waiting again (deferred until its host is free).
    pub async fn requeued(&self, id: &str) -> redis::RedisResult<Transition> {
        state::transition(
            &self.conn,
            &self.namespace,
            id,
            Status::Queued,
            &[],
            self.ttl_secs,
        )
        .await
    }

    /// Records an outcome other than a result: `Failed` (a retry is scheduled), `Dead`
    /// (dead-lettered, and announced on the completion stream), `Skipped` or `Cancelled`
    /// (a crawl's page not fetched). A crawl's page that ends here is counted in its crawl
    /// under `crawl_reason`. Refused if the job already finished.
    pub async fn finish(
        &self,
        job: &Job,
        status: Status,
        attempts: u32,
        error: &str,
        worker: &str,
        crawl_reason: &str,
    ) -> redis::RedisResult<Transition> {
        self.transition(
            job,
            status,
            &[
                (field::ERROR, error.to_string()),
                (field::ATTEMPTS, attempts.to_string()),
                (field::WORKER, worker.to_string()),
            ],
            crawl_reason,
            None,
        )
        .await
    }

    async fn transition(
        &self,
        job: &Job,
        to: Status,
        fields: &[(&str, String)],
        crawl_reason: &str,
        usage: Option<UsageTally<'_>>,
    ) -> redis::RedisResult<Transition> {
        let group = match (&job.crawl, &job.batch) {
            (Some(crawl), _) => Some(GroupTally {
                kind: GroupKind::Crawl,
                id: &crawl.id,
                reason: crawl_reason,
            }),
            (None, Some(batch)) => Some(GroupTally {
                kind: GroupKind::Batch,
                id: batch,
                reason: to.as_str(),
            }),
            (None, None) => None,
        };
        let tally = Tally { group, usage };
        state::transition_tallied(
            &self.conn,
            &self.namespace,
            &job.id,
            to,
            fields,
            self.ttl_secs,
            tally,
        )
        .await
    }

    /// Publishes this worker's breaker state and load for `riptide-dispatcher stats`.
    pub async fn heartbeat(
        &self,
        worker: &str,
        breaker: BreakerState,
        in_flight: usize,
    ) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        let key = keys::worker(worker);
        redis::pipe()
            .hset_multiple(
                &key,
                &[
                    (field::BREAKER_STATE, (breaker as i64).to_string()),
                    (field::IN_FLIGHT, in_flight.to_string()),
                    (field::UPDATED_AT_MS, now_ms().to_string()),
                ],
            )
            .expire(&key, HEARTBEAT_TTL_SECS)
            .query_async::<()>(&mut conn)
            .await
    }
}
