//! Jobs set aside in Redis until a time: those whose host was busy (politeness) and those
//! scheduled by their producer (`run_at_ms`). They wait in one sorted set per queue
//! namespace, scored by when they may run (Redis time, ms), so a scheduled job survives any
//! restart and the jobs queue, which KEDA scales on, holds only work that is ready. A
//! [`Promoter`] runs in every worker and in the dispatcher's API server: each round it
//! claims the jobs whose time has come and publishes them to the jobs queue; a promoter
//! that dies between claiming and publishing leaves a claim that expires, and another
//! promotes the job (a job published twice is run once: its status is guarded).

use std::sync::LazyLock;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use lapin::BasicProperties;
use redis::aio::ConnectionManager;
use redis::Script;
use tokio_util::sync::CancellationToken;

use crate::job::millis;
use crate::keys;
use crate::publish::{self, Publisher};
use crate::settings::BrokerSettings;
use crate::state::script_on_redis_clock;

/// How long a promoter's claim on a deferred job lasts before another may promote it (a
/// publish takes milliseconds; a copy promoted twice is run once).
const CLAIM: Duration = Duration::from_secs(10);
/// How often the promoter looks for deferred jobs whose time has come.
const PROMOTE_EVERY: Duration = Duration::from_millis(25);
/// Deferred jobs published per promoter round, at most.
const PROMOTE_BATCH: usize = 200;

/// Sets `job` (encoded) aside until `at_ms` (Unix time in milliseconds).
pub async fn schedule(
    conn: &ConnectionManager,
    namespace: &str,
    job: &[u8],
    at_ms: u64,
) -> redis::RedisResult<()> {
    let mut conn = conn.clone();
    redis::cmd("ZADD")
        .arg(keys::deferred(namespace))
        .arg(at_ms)
        .arg(job)
        .query_async(&mut conn)
        .await
}

/// KEYS: deferred set, claimed set. ARGV: batch size, claim ms. Returns the jobs whose time
/// has come, claimed; expired claims are returned to the deferred set first.
static PROMOTE: LazyLock<Script> = LazyLock::new(|| {
    script_on_redis_clock(
        r#"
for _, job in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do
  redis.call('ZREM', KEYS[2], job)
  redis.call('ZADD', KEYS[1], now, job)
end
local ready = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, job in ipairs(ready) do
  redis.call('ZREM', KEYS[1], job)
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), job)
end
return ready
"#,
    )
});

/// Publishes deferred jobs back to the jobs queue when their time comes.
pub struct Promoter {
    pub broker: BrokerSettings,
    pub redis: ConnectionManager,
}

impl Promoter {
    /// Promotes until `shutdown`, reconnecting to RabbitMQ after it goes away.
    pub async fn run(&self, shutdown: CancellationToken) {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(200))
            .with_max_delay(Duration::from_secs(10))
            .without_max_times();
        let topology = self.broker.topology();
        loop {
            let connect = (|| publish::connect(&self.broker.url, &topology)).retry(backoff);
            let (connection, publisher) = tokio::select! {
                _ = shutdown.cancelled() => return,
                connected = connect => match connected {
                    Ok(connected) => connected,
                    Err(e) => { tracing::error!(error = %e, "promoter giving up connecting"); return; }
                },
            };
            let stopped = self.promote(&publisher, &shutdown).await;
            let _ = connection.close(200, "promoter stopping".into()).await;
            match stopped {
                Ok(()) => return,
                Err(e) => tracing::warn!(error = %e, "promoter lost a connection; reconnecting"),
            }
        }
    }

    async fn promote(
        &self,
        publisher: &Publisher,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<()> {
        let namespace = &self.broker.namespace;
        let jobs_queue = self.broker.topology().jobs();
        let mut every = tokio::time::interval(PROMOTE_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = every.tick() => {}
            }
            let mut conn = self.redis.clone();
            let ready: Vec<Vec<u8>> = PROMOTE
                .key(keys::deferred(namespace))
                .key(keys::deferred_claims(namespace))
                .arg(PROMOTE_BATCH)
                .arg(millis(CLAIM))
                .invoke_async(&mut conn)
                .await?;
            for job in ready {
                publisher
                    .publish(&jobs_queue, &job, BasicProperties::default())
                    .await?;
                redis::cmd("ZREM")
                    .arg(keys::deferred_claims(namespace))
                    .arg(&job)
                    .query_async::<()>(&mut conn)
                    .await?;
            }
        }
    }
}
