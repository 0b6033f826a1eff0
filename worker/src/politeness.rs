//! Politeness that holds across the whole fleet, however many workers run: per host, fetch
//! starts at least a delay apart (`politeness.delay_ms`, raised by the site's `Crawl-delay`,
//! and after a 429 or 503 by `Retry-After` or an exponential back-off) and at most
//! `politeness.max_concurrency` fetches in flight.
//!
//! The state lives in Redis and changes only in Lua scripts that read Redis's clock, so
//! workers with skewed clocks still agree. A fetch in flight holds a lease that expires by
//! itself: a worker that dies frees its share of the host without anyone's help.
//!
//! No worker slot waits for a host. A job whose host is not free is *deferred*: put in a
//! Redis sorted set scored by the time it may run (each deferral reserves the host's next
//! free slot, so a backlog of one host spreads out instead of bouncing), and its delivery
//! is acked. A deferred job is promoted a little ahead of its slot
//! ([`PROMOTION_LEAD`]), the time the trip back through the queue takes, so it reaches
//! the host as the slot opens; one that arrives a hair early, within [`NEAR_MISS`], waits
//! that long in place instead of going round again. A [`riptide_shared::deferred::Promoter`] in every worker (and in the dispatcher's
//! API server) publishes deferred jobs back to the jobs queue
//! when their time comes; a promoter that dies between claiming and publishing leaves a
//! claim that expires and is promoted again. The jobs queue, which KEDA scales on, thus
//! only holds work that is ready to fetch.

use std::sync::LazyLock;
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::Script;
use riptide_shared::job::millis;
use riptide_shared::keys;
use riptide_shared::state::script_on_redis_clock;
use serde::{Deserialize, Serialize};

/// Politeness settings (`[politeness]`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct PolitenessConfig {
    /// Least time between two fetch starts on one host, in milliseconds.
    pub delay_ms: u64,
    /// Fetches in flight on one host at once, across the fleet.
    pub max_concurrency: u32,
    /// A site whose robots.txt asks for a longer Crawl-delay, in seconds, is skipped.
    pub max_crawl_delay_secs: u64,
    /// Longest back-off after 429/503 answers, in seconds.
    pub max_backoff_secs: u64,
}

impl Default for PolitenessConfig {
    fn default() -> Self {
        Self {
            delay_ms: 1_000,
            max_concurrency: 1,
            max_crawl_delay_secs: 30,
            max_backoff_secs: 600,
        }
    }
}

/// How much longer than the longest fetch (`fetch.timeout_ms`) a fetch's lease lasts if
/// its worker never releases it: time to release it.
const LEASE_MARGIN: Duration = Duration::from_secs(5);
/// A host that frees within this is a near miss: the job waits that long where it is and
/// keeps its turn, instead of going back through the deferred set and the queue (which
/// costs about [`PROMOTION_LEAD`]) and likely behind the host's reserved slots.
pub const NEAR_MISS: Duration = Duration::from_millis(50);
/// How far ahead of its slot a deferred job is promoted: a promoter round (25 ms, two
/// promoters in a fleet of two) plus the publish, the delivery and the checks before a
/// fetch. Measured with `ops/bench-crawl.sh`; below [`NEAR_MISS`], so an early arrival
/// waits in place.
pub const PROMOTION_LEAD: Duration = Duration::from_millis(25);

/// The answer to "may I fetch from this host now?"
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// Yes: fetch, then [`Politeness::release`] the lease.
    Granted(Lease),
    /// Not before `wait` has passed.
    Wait(Duration),
}

/// A fetch in flight on a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    host: String,
    id: String,
}

/// How a fetch went, for the host's pace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    /// The host answered normally: any back-off ends.
    Normally,
    /// 429 or 503: slow down, for `Retry-After` if given, else exponentially.
    Throttled { retry_after: Option<Duration> },
}

pub struct Politeness {
    redis: ConnectionManager,
    config: PolitenessConfig,
    /// How long a lease lasts unreleased: a dead worker's share comes back after it.
    lease: Duration,
}

/// KEYS: host hash, host leases. ARGV: lease id, delay ms, max concurrency, lease ms, the
/// configured delay ms (kept beside the delay so `crawl status` can tell a host that
/// robots.txt slows down). Returns {1, 0} when granted, {0, wait ms} otherwise. The delay
/// is measured from the last start with what is known now (a Crawl-delay learned since
/// counts at once).
static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    script_on_redis_clock(
        r#"
local delay = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local last = tonumber(redis.call('HGET', KEYS[1], 'last_start_ms') or '0')
local blocked = tonumber(redis.call('HGET', KEYS[1], 'blocked_until_ms') or '0')
local ready = math.max(last + delay, blocked)
if now < ready then return {0, ready - now} end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then
  return {0, math.max(delay, 50)}
end
redis.call('HSET', KEYS[1], 'last_start_ms', now, 'delay_ms', delay, 'base_delay_ms', ARGV[5])
redis.call('PEXPIRE', KEYS[1], 86400000)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[1])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[4]) * 2)
return {1, 0}
"#,
    )
});

/// KEYS: host hash, host leases. ARGV: lease id, -1 (answered normally) or the Retry-After
/// in ms (0: none given), max back-off ms, reason.
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
redis.call('ZREM', KEYS[2], ARGV[1])
local retry_after = tonumber(ARGV[2])
if retry_after < 0 then
  redis.call('HDEL', KEYS[1], 'backoff', 'reason')
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local backoff = redis.call('HINCRBY', KEYS[1], 'backoff', 1)
local delay = tonumber(redis.call('HGET', KEYS[1], 'delay_ms') or '1000')
local penalty = math.max(retry_after, delay * math.pow(2, math.min(backoff, 20)))
penalty = math.min(penalty, tonumber(ARGV[3]))
local blocked = tonumber(redis.call('HGET', KEYS[1], 'blocked_until_ms') or '0')
if now + penalty > blocked then
  redis.call('HSET', KEYS[1], 'blocked_until_ms', now + penalty)
end
redis.call('HSET', KEYS[1], 'reason', ARGV[4])
redis.call('PEXPIRE', KEYS[1], 86400000)
return penalty
"#,
    )
});

/// KEYS: host hash, deferred set. ARGV: job bytes, wait ms, delay ms, promotion lead ms.
/// Reserves the host's next free slot for the job and schedules its promotion the lead
/// ahead of it. Returns how long until the slot.
static DEFER: LazyLock<Script> = LazyLock::new(|| {
    script_on_redis_clock(
        r#"
local reserved = tonumber(redis.call('HGET', KEYS[1], 'reserved_ms') or '0')
local ready = math.max(now + tonumber(ARGV[2]), reserved + tonumber(ARGV[3]))
redis.call('HSET', KEYS[1], 'reserved_ms', ready)
redis.call('PEXPIRE', KEYS[1], 86400000)
redis.call('ZADD', KEYS[2], ready - tonumber(ARGV[4]), ARGV[1])
return ready - now
"#,
    )
});

impl Politeness {
    /// `longest_fetch`: the fetcher's whole-exchange timeout.
    pub fn new(
        redis: ConnectionManager,
        config: PolitenessConfig,
        longest_fetch: Duration,
    ) -> Self {
        Self {
            redis,
            config,
            lease: longest_fetch + LEASE_MARGIN,
        }
    }

    /// The delay between fetch starts on a host whose robots.txt asks for `crawl_delay`.
    pub fn delay(&self, crawl_delay: Option<Duration>) -> Duration {
        Duration::from_millis(self.config.delay_ms).max(crawl_delay.unwrap_or_default())
    }

    /// Asks to start a fetch on `host` now, `delay` after the previous start at the least.
    pub async fn acquire(
        &self,
        host: &str,
        lease_id: &str,
        delay: Duration,
    ) -> redis::RedisResult<Gate> {
        let mut conn = self.redis.clone();
        let (granted, wait_ms): (i64, i64) = ACQUIRE
            .key(keys::host(host))
            .key(keys::host_leases(host))
            .arg(lease_id)
            .arg(millis(delay))
            .arg(self.config.max_concurrency.max(1))
            .arg(millis(self.lease))
            .arg(self.config.delay_ms)
            .invoke_async(&mut conn)
            .await?;
        Ok(if granted == 1 {
            Gate::Granted(Lease {
                host: host.to_string(),
                id: lease_id.to_string(),
            })
        } else {
            Gate::Wait(Duration::from_millis(wait_ms.max(1) as u64))
        })
    }

    /// Ends a fetch's lease; a throttling answer slows the host down.
    pub async fn release(&self, lease: &Lease, answered: Answered) -> redis::RedisResult<()> {
        let (retry_after_ms, reason) = match answered {
            Answered::Normally => (-1, String::new()),
            Answered::Throttled {
                retry_after: Some(after),
            } => (
                millis(after) as i64,
                format!("Retry-After {} s", after.as_secs()),
            ),
            Answered::Throttled { retry_after: None } => (0, "back-off after 429/503".to_string()),
        };
        let mut conn = self.redis.clone();
        RELEASE
            .key(keys::host(&lease.host))
            .key(keys::host_leases(&lease.host))
            .arg(&lease.id)
            .arg(retry_after_ms)
            .arg(millis(Duration::from_secs(self.config.max_backoff_secs)))
            .arg(reason)
            .invoke_async::<i64>(&mut conn)
            .await
            .map(|_| ())
    }

    /// Puts a job aside until its host's next free slot (at least `wait` from now); returns
    /// how long until then.
    pub async fn defer(
        &self,
        namespace: &str,
        host: &str,
        job: &[u8],
        wait: Duration,
        delay: Duration,
    ) -> redis::RedisResult<Duration> {
        let mut conn = self.redis.clone();
        let until: i64 = DEFER
            .key(keys::host(host))
            .key(keys::deferred(namespace))
            .arg(job)
            .arg(millis(wait))
            .arg(millis(delay))
            .arg(millis(PROMOTION_LEAD))
            .invoke_async(&mut conn)
            .await?;
        Ok(Duration::from_millis(until.max(0) as u64))
    }
}
