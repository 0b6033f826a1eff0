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
use crate::state::{script_on_redis_clock, COMPLETE_GROUP_LUA};

/// A crawl's life.
pub mod state {
    pub const RUNNING: &str = "running";
    pub const COMPLETED: &str = "completed";
    pub const CANCELLED: &str = "cancelled";
    pub const ALL: [&str; 3] = [RUNNING, COMPLETED, CANCELLED];
}

/// What becomes of a discovered link: admitted, or one of the terminal reasons of a link
/// never fetched.
pub const LINK_REASONS: [&str; 6] = [
    "admitted",
    "out-of-scope",
    "too-deep",
    "duplicate",
    "over-budget",
    "cancelled",
];

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

/// KEYS: crawl hash, seen set, deferred set, followed set, hosts set. ARGV: max pages, the
/// digest of the page whose links these are (empty for seeds), then per link a kind (`o`,
/// `t`, `c`), and for `c` its digest, job and host. A page whose links were admitted once
/// changes nothing the second time. Returns the counts admitted, duplicate, cancelled and
/// over budget, and 1 if the page's links had been admitted before.
static DISCOVER: LazyLock<Script> = LazyLock::new(|| {
    script_on_redis_clock(
        r#"
if ARGV[2] ~= '' and redis.call('SADD', KEYS[4], ARGV[2]) == 0 then
  return {0, 0, 0, 0, 1}
end
local max_pages = tonumber(ARGV[1])
local running = redis.call('HGET', KEYS[1], 'state') == 'running'
local admitted, duplicate, cancelled, over = 0, 0, 0, 0
local i = 3
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
    local digest, job, host = ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
    i = i + 4
    if redis.call('SADD', KEYS[2], digest) == 0 then
      redis.call('HINCRBY', KEYS[1], 'duplicate', 1)
      duplicate = duplicate + 1
    elseif not running then
      redis.call('HINCRBY', KEYS[1], 'cancelled', 1)
      cancelled = cancelled + 1
    elseif tonumber(redis.call('HGET', KEYS[1], 'admitted') or '0') >= max_pages then
      redis.call('HINCRBY', KEYS[1], 'over-budget', 1)
      over = over + 1
    else
      redis.call('HINCRBY', KEYS[1], 'admitted', 1)
      redis.call('HINCRBY', KEYS[1], 'pending', 1)
      redis.call('ZADD', KEYS[3], now, job)
      redis.call('SADD', KEYS[5], host)
      admitted = admitted + 1
    end
  end
end
return {admitted, duplicate, cancelled, over, 0}
"#,
    )
});

/// What became of the links a page (or a crawl's start) offered, beyond what the worker
/// judged itself (out of scope, too deep).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Admission {
    pub admitted: u64,
    pub duplicate: u64,
    pub cancelled: u64,
    pub over_budget: u64,
    /// The page's links had been admitted before (the page ran again): nothing changed.
    pub repeated: bool,
}

impl Admission {
    /// The counts by terminal reason (admitted links are not terminal: `admitted`).
    pub fn by_reason(&self) -> [(&'static str, u64); 4] {
        [
            ("admitted", self.admitted),
            ("duplicate", self.duplicate),
            ("cancelled", self.cancelled),
            ("over-budget", self.over_budget),
        ]
    }
}

/// Records a new crawl as running.
pub async fn create(conn: &ConnectionManager, spec: &CrawlSpec) -> redis::RedisResult<()> {
    let json = serde_json::to_string(spec).unwrap_or_default();
    let mut fields = vec![
        ("spec", json),
        ("state", state::RUNNING.to_string()),
        ("started_at_ms", now_ms().to_string()),
        ("discovered", "0".to_string()),
        ("pending", "0".to_string()),
    ];
    if let Some(url) = &spec.callback_url {
        fields.push((keys::field::CALLBACK_URL, url.clone()));
    }
    let mut conn = conn.clone();
    redis::pipe()
        .atomic()
        .hset_multiple(keys::crawl(&spec.id), &fields)
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

/// Admits what a page of the crawl discovered (`page`: its canonical URL; `None` for a
/// crawl's seeds), once per page however often the page runs.
pub async fn discover(
    conn: &ConnectionManager,
    spec: &CrawlSpec,
    namespace: &str,
    page: Option<&Url>,
    links: Vec<Discovered>,
) -> redis::RedisResult<Admission> {
    if links.is_empty() {
        return Ok(Admission::default());
    }
    let mut invocation = DISCOVER.prepare_invoke();
    invocation
        .key(keys::crawl(&spec.id))
        .key(keys::crawl_seen(&spec.id))
        .key(keys::deferred(namespace))
        .key(keys::crawl_followed(&spec.id))
        .key(keys::crawl_hosts(&spec.id))
        .arg(spec.max_pages)
        .arg(page.map(|url| digest(url).to_vec()).unwrap_or_default());
    for link in links {
        match link {
            Discovered::OutOfScope => {
                invocation.arg("o");
            }
            Discovered::TooDeep => {
                invocation.arg("t");
            }
            Discovered::Candidate { url, job } => {
                invocation
                    .arg("c")
                    .arg(digest(&url).as_slice())
                    .arg(job)
                    .arg(host_key(&url));
            }
        }
    }
    let mut conn = conn.clone();
    let (admitted, duplicate, cancelled, over_budget, repeated): (u64, u64, u64, u64, u8) =
        invocation.invoke_async(&mut conn).await?;
    Ok(Admission {
        admitted,
        duplicate,
        cancelled,
        over_budget,
        repeated: repeated == 1,
    })
}

/// The name politeness knows a URL's host by: lower-case host, and the port when not the
/// scheme's default.
pub fn host_key(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{}:{port}", host.to_ascii_lowercase()),
        (Some(host), None) => host.to_ascii_lowercase(),
        (None, _) => String::new(),
    }
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
pub async fn cancel(
    conn: &ConnectionManager,
    namespace: &str,
    id: &str,
) -> redis::RedisResult<bool> {
    let mut conn = conn.clone();
    let cancelled: i64 = CANCEL
        .key(keys::crawl(id))
        .key(keys::COMPLETIONS)
        .key(keys::callbacks(namespace))
        .arg(now_ms())
        .arg(keys::COMPLETIONS_MAX_LEN)
        .arg(id)
        .invoke_async(&mut conn)
        .await?;
    Ok(cancelled == 1)
}

/// KEYS: crawl hash, completion stream, callbacks set. ARGV: now, stream max length, crawl
/// id. A crawl with nothing pending completes (as `cancelled`) at once.
static CANCEL: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        r#"{}
if redis.call('HGET', KEYS[1], 'state') ~= 'running' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'cancelled')
if tonumber(redis.call('HGET', KEYS[1], 'pending') or '0') <= 0 then
  complete_group(KEYS[1], KEYS[2], KEYS[3], ARGV[2], 'crawl', ARGV[3], ARGV[1])
end
return 1
"#,
        COMPLETE_GROUP_LUA
    ))
});

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
    /// The crawl's hosts that are slowed down right now, and why (at most
    /// [`THROTTLED_SHOWN`]; only while the crawl runs).
    pub throttled: Vec<ThrottledHost>,
}

/// A host fetched slower than the configured pace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThrottledHost {
    pub host: String,
    /// `Retry-After …`, `back-off after 429/503`, or `robots.txt Crawl-delay …`.
    pub reason: String,
    /// Least time between fetch starts on the host now, in milliseconds.
    pub delay_ms: u64,
    /// How long the host stays blocked after a throttling answer, in milliseconds.
    pub blocked_for_ms: u64,
}

/// Hosts a status lists as throttled, at most; a crawl's hosts looked at, at most.
pub const THROTTLED_SHOWN: usize = 50;
const HOSTS_EXAMINED: usize = 1_000;

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
                    "spec" | "state" | "started_at_ms" | "finished_at_ms" | "callback_url"
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
        throttled: if fields.get("state").map(String::as_str) == Some(state::RUNNING) {
            throttled(&mut conn, id).await?
        } else {
            Vec::new()
        },
    }))
}

/// The crawl's hosts that are blocked after throttling answers or slowed by robots.txt.
async fn throttled(
    conn: &mut ConnectionManager,
    id: &str,
) -> redis::RedisResult<Vec<ThrottledHost>> {
    let hosts: Vec<String> = redis::cmd("SRANDMEMBER")
        .arg(keys::crawl_hosts(id))
        .arg(HOSTS_EXAMINED)
        .query_async(conn)
        .await?;
    if hosts.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = redis::pipe();
    for host in &hosts {
        pipe.cmd("HMGET").arg(keys::host(host)).arg(&[
            "delay_ms",
            "base_delay_ms",
            "blocked_until_ms",
            "reason",
        ]);
    }
    type Pace = (Option<u64>, Option<u64>, Option<u64>, Option<String>);
    let paces: Vec<Pace> = pipe.query_async(conn).await?;
    let (seconds, micros): (u64, u64) = redis::cmd("TIME").query_async(conn).await?;
    let now = seconds * 1000 + micros / 1000;
    let mut throttled = Vec::new();
    for (host, (delay, base, blocked_until, reason)) in hosts.into_iter().zip(paces) {
        let delay_ms = delay.unwrap_or_default();
        let blocked_for_ms = blocked_until.unwrap_or_default().saturating_sub(now);
        let reason = if blocked_for_ms > 0 {
            reason.unwrap_or_else(|| "back-off after 429/503".to_string())
        } else if delay_ms > base.unwrap_or(u64::MAX) {
            format!("robots.txt Crawl-delay {} s", delay_ms as f64 / 1000.0)
        } else {
            continue;
        };
        throttled.push(ThrottledHost {
            host,
            reason,
            delay_ms,
            blocked_for_ms,
        });
    }
    throttled.sort_by(|a, b| a.host.cmp(&b.host));
    throttled.truncate(THROTTLED_SHOWN);
    Ok(throttled)
}

/// How many crawls are in each state (every state listed, zeros included).
pub async fn count_by_state(conn: &ConnectionManager) -> redis::RedisResult<BTreeMap<String, u64>> {
    let mut conn = conn.clone();
    let ids: Vec<String> = conn.smembers(keys::CRAWLS).await?;
    let mut counts: BTreeMap<String, u64> = state::ALL.iter().map(|s| (s.to_string(), 0)).collect();
    for chunk in ids.chunks(500) {
        let mut pipe = redis::pipe();
        for id in chunk {
            pipe.hget(keys::crawl(id), "state");
        }
        let states: Vec<Option<String>> = pipe.query_async(&mut conn).await?;
        for state in states.into_iter().flatten() {
            *counts.entry(state).or_default() += 1;
        }
    }
    Ok(counts)
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
