//! A crawl's state in Redis, shared by the dispatcher (which starts, watches and cancels
//! crawls) and the workers (which admit the links they find). Admission is one Lua script:
//! each discovered link ends in exactly one counted state (`out-of-scope`, `too-deep`,
//! `duplicate`, `cancelled`, `over-budget`, or admitted), and an admitted link's job joins
//! the deferred set in the same step, from which every worker's promoter publishes it: a
//! worker that dies after admitting loses nothing. Dedup is on 13-byte (104-bit) BLAKE3
//! digests of canonical URLs in a Redis set: 55.7 bytes per URL at 100,000 URLs (16-byte
//! digests take 71.7: a jemalloc size class), and the chance that a crawl of a million URLs
//! mistakes a new URL for a seen one is about 10^-19.

use std::collections::BTreeMap;

use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};
use serde::Serialize;
use std::sync::LazyLock;
use url::Url;

use crate::crawl::CrawlSpec;
use crate::job::now_ms;
use crate::keys;
use crate::state::script_on_redis_clock;

/// A crawl's life.
pub mod state {
    pub const RUNNING: &str = "running";
    pub const COMPLETED: &str = "completed";
    pub const CANCELLED: &str = "cancelled";
}

/// A link found on a crawl's page, judged before admission.
pub enum Discovered {
    /// Outside the crawl's scope, or matched by a deny (or no allow) pattern.
    OutOfScope,
    /// Deeper than the crawl's `max_depth`.
    TooDeep,
    /// In scope: admitted unless already seen, the crawl is cancelled, or out of budget.
    Candidate {
        url: Url,
        /// The job to run for it, MessagePack.
        job: Vec<u8>,
    },
}

/// KEYS: crawl hash, seen set, deferred set. ARGV: max pages, then per link a kind (`o`,
/// `t`, `c`), and for `c` its digest and job. Returns how many were admitted.
static DISCOVER: LazyLock<Script> = LazyLock::new(|| {
    script_on_redis_clock(
        r#"
local max_pages = tonumber(ARGV[1])
local running = redis.call('HGET', KEYS[1], 'state') == 'running'
local admitted = 0
local i = 2
while i <= #ARGV do
  local kind = ARGV[i]
  redis.call('HINCRBY', KEYS[1], 'discovered', 1)
  if kind == 'o' then
    redis.call('HINCRBY', KEYS[1], 'out-of-scope', 1)
    i = i + 1
  elseif kind == 't' then
    redis.call('HINCRBY', KEYS[1], 'too-deep', 1)
    i = i + 1
  else
    local digest, job = ARGV[i + 1], ARGV[i + 2]
    i = i + 3
    if redis.call('SADD', KEYS[2], digest) == 0 then
      redis.call('HINCRBY', KEYS[1], 'duplicate', 1)
    elseif not running then
      redis.call('HINCRBY', KEYS[1], 'cancelled', 1)
    elseif tonumber(redis.call('HGET', KEYS[1], 'admitted') or '0') >= max_pages then
      redis.call('HINCRBY', KEYS[1], 'over-budget', 1)
    else
      redis.call('HINCRBY', KEYS[1], 'admitted', 1)
      redis.call('HINCRBY', KEYS[1], 'pending', 1)
      redis.call('ZADD', KEYS[3], now, job)
      admitted = admitted + 1
    end
  end
end
return admitted
"#,
    )
});

/// Records a new crawl as running.
pub async fn create(conn: &ConnectionManager, spec: &CrawlSpec) -> redis::RedisResult<()> {
    let json = serde_json::to_string(spec).unwrap_or_default();
    let mut conn = conn.clone();
    redis::pipe()
        .atomic()
        .hset_multiple(
            keys::crawl(&spec.id),
            &[
                ("spec", json),
                ("state", state::RUNNING.to_string()),
                ("started_at_ms", now_ms().to_string()),
                ("discovered", "0".to_string()),
                ("pending", "0".to_string()),
            ],
        )
        .sadd(keys::CRAWLS, &spec.id)
        .query_async(&mut conn)
        .await
}

/// The crawl's spec, if the crawl exists.
pub async fn spec(conn: &ConnectionManager, id: &str) -> redis::RedisResult<Option<CrawlSpec>> {
    let mut conn = conn.clone();
    let json: Option<String> = conn.hget(keys::crawl(id), "spec").await?;
    Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
}

/// The crawl's state (`running`, `completed`, `cancelled`), if it exists.
pub async fn state(conn: &ConnectionManager, id: &str) -> redis::RedisResult<Option<String>> {
    let mut conn = conn.clone();
    conn.hget(keys::crawl(id), "state").await
}

/// Admits what a page of the crawl discovered; returns how many links were admitted.
pub async fn discover(
    conn: &ConnectionManager,
    spec: &CrawlSpec,
    namespace: &str,
    links: Vec<Discovered>,
) -> redis::RedisResult<u64> {
    if links.is_empty() {
        return Ok(0);
    }
    let mut invocation = DISCOVER.prepare_invoke();
    invocation
        .key(keys::crawl(&spec.id))
        .key(keys::crawl_seen(&spec.id))
        .key(keys::deferred(namespace))
        .arg(spec.max_pages);
    for link in links {
        match link {
            Discovered::OutOfScope => {
                invocation.arg("o");
            }
            Discovered::TooDeep => {
                invocation.arg("t");
            }
            Discovered::Candidate { url, job } => {
                invocation.arg("c").arg(digest(&url).as_slice()).arg(job);
            }
        }
    }
    let mut conn = conn.clone();
    invocation.invoke_async(&mut conn).await
}

/// Bytes of a URL digest (see the module doc for the size and the odds).
pub const DIGEST_BYTES: usize = 13;

/// The digest a crawl deduplicates a canonical URL on.
pub fn digest(url: &Url) -> [u8; DIGEST_BYTES] {
    let hash = blake3::hash(url.as_str().as_bytes());
    let mut digest = [0; DIGEST_BYTES];
    digest.copy_from_slice(&hash.as_bytes()[..DIGEST_BYTES]);
    digest
}

/// Stops a running crawl: no new link is admitted, and its queued pages end `cancelled`
/// without being fetched. Returns false when the crawl was not running.
pub async fn cancel(conn: &ConnectionManager, id: &str) -> redis::RedisResult<bool> {
    let mut conn = conn.clone();
    let script = Script::new(
        r#"
if redis.call('HGET', KEYS[1], 'state') ~= 'running' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'cancelled')
if tonumber(redis.call('HGET', KEYS[1], 'pending') or '0') <= 0 then
  redis.call('HSETNX', KEYS[1], 'finished_at_ms', ARGV[1])
end
return 1
"#,
    );
    let cancelled: i64 = script
        .key(keys::crawl(id))
        .arg(now_ms())
        .invoke_async(&mut conn)
        .await?;
    Ok(cancelled == 1)
}

/// A crawl as `crawl status` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CrawlStatus {
    pub id: String,
    pub state: String,
    pub seeds: Vec<String>,
    pub discovered: u64,
    pub admitted: u64,
    pub pending: u64,
    /// Links by terminal reason; they add up to `discovered` minus `pending`.
    pub terminal: BTreeMap<String, u64>,
    pub started_at_ms: u64,
    pub finished_at_ms: Option<u64>,
    /// Pages done per second since the crawl started (until it finished).
    pub pages_per_second: f64,
}

/// Counters that are not terminal reasons.
const NOT_TERMINAL: [&str; 3] = ["discovered", "admitted", "pending"];

/// The crawl's counters and state, if it exists.
pub async fn status(conn: &ConnectionManager, id: &str) -> redis::RedisResult<Option<CrawlStatus>> {
    let mut conn = conn.clone();
    let fields: BTreeMap<String, String> = conn.hgetall(keys::crawl(id)).await?;
    if fields.is_empty() {
        return Ok(None);
    }
    let number = |name: &str| fields.get(name).and_then(|v| v.parse::<u64>().ok());
    let spec: Option<CrawlSpec> = fields
        .get("spec")
        .and_then(|j| serde_json::from_str(j).ok());
    let terminal: BTreeMap<String, u64> = fields
        .iter()
        .filter(|(name, _)| {
            !NOT_TERMINAL.contains(&name.as_str())
                && !matches!(
                    name.as_str(),
                    "spec" | "state" | "started_at_ms" | "finished_at_ms"
                )
        })
        .filter_map(|(name, value)| Some((name.clone(), value.parse().ok()?)))
        .collect();
    let started_at_ms = number("started_at_ms").unwrap_or_default();
    let finished_at_ms = number("finished_at_ms");
    let elapsed_s = finished_at_ms
        .unwrap_or_else(now_ms)
        .saturating_sub(started_at_ms) as f64
        / 1000.0;
    let done = terminal.get("done").copied().unwrap_or_default();
    Ok(Some(CrawlStatus {
        id: id.to_string(),
        state: fields.get("state").cloned().unwrap_or_default(),
        seeds: spec.map(|s| s.seeds).unwrap_or_default(),
        discovered: number("discovered").unwrap_or_default(),
        admitted: number("admitted").unwrap_or_default(),
        pending: number("pending").unwrap_or_default(),
        terminal,
        started_at_ms,
        finished_at_ms,
        pages_per_second: if elapsed_s > 0.0 {
            done as f64 / elapsed_s
        } else {
            0.0
        },
    }))
}

/// Every crawl's id.
pub async fn list(conn: &ConnectionManager) -> redis::RedisResult<Vec<String>> {
    let mut conn = conn.clone();
    let mut ids: Vec<String> = conn.smembers(keys::CRAWLS).await?;
    ids.sort();
    Ok(ids)
}

/// Ids of the crawl's done pages, `limit` from `offset`.
pub async fn pages(
    conn: &ConnectionManager,
    id: &str,
    offset: isize,
    limit: isize,
) -> redis::RedisResult<Vec<String>> {
    let mut conn = conn.clone();
    conn.lrange(keys::crawl_pages(id), offset, offset + limit - 1)
        .await
}
