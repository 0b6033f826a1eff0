//! Batches: jobs submitted together whose completion is recorded once, when the last of
//! them ends, wherever it ends. The batch's counters live in Redis (`keys::batch`); each
//! job carries the batch id, and the worker's terminal transition counts it there in the
//! same Lua step (`riptide_shared::state`), which also completes the batch, announces it on
//! the completion stream and queues the signed webhook when the last one ends, so two jobs
//! ending at the same moment on two workers complete it once. An empty batch completes
//! when it is created.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};
use riptide_shared::job::{now_ms, Job};
use riptide_shared::keys;
use riptide_shared::settings::RedisSettings;
use riptide_shared::state::COMPLETE_GROUP_LUA;
use serde::Serialize;

use crate::broker::Broker;
use crate::jobs::Jobs;

/// Jobs one batch holds, at most.
pub const MAX_BATCH: usize = 1000;

/// KEYS: batch hash, completion stream, callbacks set. ARGV: total, now, callback URL ("":
/// none), stream max length, batch id, TTL seconds.
static CREATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        r#"{}
redis.call('HSET', KEYS[1], 'state', 'running', 'total', ARGV[1], 'pending', ARGV[1],
  'created_at_ms', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'callback_url', ARGV[3]) end
redis.call('EXPIRE', KEYS[1], ARGV[6])
if tonumber(ARGV[1]) == 0 then
  complete_group(KEYS[1], KEYS[2], KEYS[3], ARGV[4], 'batch', ARGV[5], ARGV[2])
end
"#,
        COMPLETE_GROUP_LUA
    ))
});

/// KEYS: batch hash, completion stream, callbacks set. ARGV: jobs never queued, now, stream
/// max length, batch id. They count as `not-queued`, so the batch still completes.
static ABANDON: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        r#"{}
redis.call('HINCRBY', KEYS[1], 'not-queued', ARGV[1])
if redis.call('HINCRBY', KEYS[1], 'pending', -tonumber(ARGV[1])) <= 0 then
  complete_group(KEYS[1], KEYS[2], KEYS[3], ARGV[3], 'batch', ARGV[4], ARGV[2])
end
"#,
        COMPLETE_GROUP_LUA
    ))
});

/// A batch as `GET /v1/batches/{id}` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct BatchStatus {
    pub id: String,
    /// `running` or `completed`.
    pub state: String,
    pub total: u64,
    pub pending: u64,
    /// Jobs by terminal status (`done`, `dead`, `cancelled`, `skipped`, `not-queued`).
    pub counts: BTreeMap<String, u64>,
    pub created_at_ms: u64,
    pub finished_at_ms: Option<u64>,
    /// The batch already existed under the submission's idempotency key.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
}

/// A batch to create.
pub struct NewBatch {
    pub jobs: Vec<Job>,
    pub callback_url: Option<String>,
    pub idempotency_key: Option<String>,
}

pub struct Batches {
    redis: ConnectionManager,
    settings: RedisSettings,
}

impl Batches {
    pub fn new(jobs: &Jobs) -> Self {
        Self {
            redis: jobs.connection(),
            settings: jobs.settings().clone(),
        }
    }

    /// Creates the batch and queues its jobs; with an idempotency key already used, returns
    /// the earlier batch instead. If queueing stops part way (the broker went away), the
    /// jobs not queued count as `not-queued` and the error is returned.
    pub async fn create(
        &self,
        jobs: &Jobs,
        broker: &Broker,
        batch: NewBatch,
    ) -> anyhow::Result<BatchStatus> {
        anyhow::ensure!(
            batch.jobs.len() <= MAX_BATCH,
            "a batch holds at most {MAX_BATCH} jobs, not {}",
            batch.jobs.len()
        );
        let id = uuid::Uuid::new_v4().to_string();
        let mut conn = self.redis.clone();
        if let Some(key) = &batch.idempotency_key {
            let earlier: Option<String> = redis::cmd("SET")
                .arg(keys::idempotency(&format!("batch:{key}")))
                .arg(&id)
                .arg("NX")
                .arg("GET")
                .arg("EX")
                .arg(self.settings.idempotency_window_secs.max(1))
                .query_async(&mut conn)
                .await?;
            if let Some(earlier) = earlier {
                let mut status = self
                    .status(&earlier)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("batch {earlier} expired"))?;
                status.duplicate = true;
                return Ok(status);
            }
        }
        CREATE
            .key(keys::batch(&id))
            .key(keys::COMPLETIONS)
            .key(keys::callbacks(broker.namespace()))
            .arg(batch.jobs.len())
            .arg(now_ms())
            .arg(batch.callback_url.as_deref().unwrap_or(""))
            .arg(keys::COMPLETIONS_MAX_LEN)
            .arg(&id)
            .arg(self.settings.result_ttl_secs.max(1))
            .invoke_async::<()>(&mut conn)
            .await?;
        let total = batch.jobs.len();
        for (queued, mut job) in batch.jobs.into_iter().enumerate() {
            job.batch = Some(id.clone());
            if let Err(e) = jobs.enqueue(broker, &job).await {
                ABANDON
                    .key(keys::batch(&id))
                    .key(keys::COMPLETIONS)
                    .key(keys::callbacks(broker.namespace()))
                    .arg(total - queued)
                    .arg(now_ms())
                    .arg(keys::COMPLETIONS_MAX_LEN)
                    .arg(&id)
                    .invoke_async::<()>(&mut conn)
                    .await?;
                return Err(e.context(format!("batch {id}: {} of {total} jobs queued", queued)));
            }
        }
        self.status(&id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("batch {id} vanished"))
    }

    /// The batch's counters, if it exists.
    pub async fn status(&self, id: &str) -> redis::RedisResult<Option<BatchStatus>> {
        let mut conn = self.redis.clone();
        let fields: BTreeMap<String, String> = conn.hgetall(keys::batch(id)).await?;
        if fields.is_empty() {
            return Ok(None);
        }
        let number = |name: &str| fields.get(name).and_then(|v| v.parse::<u64>().ok());
        let counts = fields
            .iter()
            .filter(|(name, _)| {
                !matches!(
                    name.as_str(),
                    "state"
                        | "total"
                        | "pending"
                        | "created_at_ms"
                        | "finished_at_ms"
                        | "callback_url"
                )
            })
            .filter_map(|(name, value)| Some((name.clone(), value.parse().ok()?)))
            .collect();
        Ok(Some(BatchStatus {
            id: id.to_string(),
            state: fields.get("state").cloned().unwrap_or_default(),
            total: number("total").unwrap_or_default(),
            pending: number("pending").unwrap_or_default(),
            counts,
            created_at_ms: number("created_at_ms").unwrap_or_default(),
            finished_at_ms: number("finished_at_ms"),
            duplicate: false,
        }))
    }
}
