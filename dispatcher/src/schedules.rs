//! Periodic schedules: a cron expression and what to run at each tick (jobs for a list of
//! URLs, or a crawl from seeds). Schedules live in Redis per queue namespace
//! (`keys::schedules`, and `keys::schedules_due` scored by each one's next tick), and every
//! `riptide-dispatcher serve` runs a [`Ticker`]. A due schedule is claimed with a compare-and-set on its score
//! that also moves it to its next tick *after now*: however many ticks an outage missed,
//! the schedule runs once when it ends, and of several dispatchers exactly one runs a
//! tick. For URL jobs the claim and the jobs' entry into the deferred set are one Lua step,
//! so a tick's jobs are queued exactly once; a crawl is started right after its claim (a
//! dispatcher dying in between skips that one tick).

use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use croner::parser::{CronParser, Seconds};
use croner::Cron;
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};
use riptide_extractor::ExtractionMode;
use riptide_shared::crawl::{default_max_depth, default_max_pages, Scope};
use riptide_shared::job::{now_ms, Job, JobKind};
use riptide_shared::keys;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::crawls::{CrawlRequest, Crawls};

/// How often the ticker looks for due schedules.
const TICK_EVERY: Duration = Duration::from_millis(200);

/// What a schedule runs at each tick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Target {
    /// One job per URL.
    Jobs {
        urls: Vec<String>,
        #[serde(default = "article")]
        mode: String,
        #[serde(default)]
        tenant: Option<String>,
    },
    /// A crawl from these seeds.
    Crawl {
        seeds: Vec<String>,
        #[serde(default = "default_max_depth")]
        max_depth: u32,
        #[serde(default = "default_max_pages")]
        max_pages: u64,
        #[serde(default)]
        scope: Scope,
        #[serde(default)]
        sitemaps: bool,
        #[serde(default = "article")]
        mode: String,
    },
}

fn article() -> String {
    "article".into()
}

/// A periodic schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    pub id: String,
    /// Five fields (minute hour day month weekday), or six with seconds first; UTC.
    pub cron: String,
    pub target: Target,
    pub created_at_ms: u64,
}

/// A schedule as listed: with its next tick.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    #[serde(flatten)]
    pub schedule: Schedule,
    pub next_run_ms: Option<u64>,
}

/// Why a schedule is refused.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("invalid cron expression `{0}`: {1}")]
    Cron(String, String),
    #[error("a schedule needs at least one URL")]
    Empty,
    #[error("invalid mode: {0}")]
    Mode(String),
    #[error("`{0}` is not an http(s) URL")]
    Url(String),
}

/// The cron expression parsed: five fields, or six with seconds first.
pub fn parse_cron(expression: &str) -> Result<Cron, ScheduleError> {
    CronParser::builder()
        .seconds(Seconds::Optional)
        .build()
        .parse(expression)
        .map_err(|e| ScheduleError::Cron(expression.to_string(), e.to_string()))
}

/// The first tick of `cron` strictly after `after_ms`.
pub fn next_tick(cron: &Cron, after_ms: u64) -> Option<u64> {
    let after: DateTime<Utc> = Utc
        .timestamp_millis_opt(i64::try_from(after_ms).ok()?)
        .single()?;
    let next = cron.find_next_occurrence(&after, false).ok()?;
    u64::try_from(next.timestamp_millis()).ok()
}

/// KEYS: due set, deferred set. ARGV: schedule id, the score it was claimed at, its next
/// tick, then encoded jobs to queue now. Returns 1 if this caller won the tick.
static CLAIM_TICK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 4, #ARGV do redis.call('ZADD', KEYS[2], now, ARGV[i]) end
return 1
"#,
    )
});

pub struct Schedules {
    redis: ConnectionManager,
    namespace: String,
}

impl Schedules {
    pub fn new(redis: ConnectionManager, namespace: &str) -> Self {
        Self {
            redis,
            namespace: namespace.to_string(),
        }
    }

    /// Adds a schedule; its first tick is the first one after now.
    pub async fn add(&self, cron: &str, target: Target) -> anyhow::Result<Listed> {
        let parsed = parse_cron(cron)?;
        let (urls, mode) = match &target {
            Target::Jobs { urls, mode, .. } => (urls, mode),
            Target::Crawl { seeds, mode, .. } => (seeds, mode),
        };
        if urls.is_empty() {
            return Err(ScheduleError::Empty.into());
        }
        for url in urls {
            let parsed = url::Url::parse(url).map_err(|_| ScheduleError::Url(url.clone()))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(ScheduleError::Url(url.clone()).into());
            }
        }
        ExtractionMode::parse(mode, Vec::new())
            .map_err(|e| ScheduleError::Mode(e.message().to_string()))?;
        let schedule = Schedule {
            id: uuid::Uuid::new_v4().to_string(),
            cron: cron.to_string(),
            target,
            created_at_ms: now_ms(),
        };
        let next = next_tick(&parsed, now_ms())
            .ok_or_else(|| ScheduleError::Cron(cron.to_string(), "it never fires".into()))?;
        let mut conn = self.redis.clone();
        redis::pipe()
            .atomic()
            .hset(
                keys::schedules(&self.namespace),
                &schedule.id,
                serde_json::to_string(&schedule)?,
            )
            .zadd(keys::schedules_due(&self.namespace), &schedule.id, next)
            .query_async::<()>(&mut conn)
            .await?;
        Ok(Listed {
            schedule,
            next_run_ms: Some(next),
        })
    }

    /// Every schedule with its next tick.
    pub async fn list(&self) -> redis::RedisResult<Vec<Listed>> {
        let mut conn = self.redis.clone();
        let all: BTreeMap<String, String> = conn.hgetall(keys::schedules(&self.namespace)).await?;
        let mut listed = Vec::new();
        for json in all.values() {
            let Ok(schedule) = serde_json::from_str::<Schedule>(json) else {
                continue;
            };
            let next: Option<f64> = conn
                .zscore(keys::schedules_due(&self.namespace), &schedule.id)
                .await?;
            listed.push(Listed {
                schedule,
                next_run_ms: next.map(|n| n as u64),
            });
        }
        listed.sort_by_key(|l| l.schedule.created_at_ms);
        Ok(listed)
    }

    /// Removes a schedule; false when there was none.
    pub async fn remove(&self, id: &str) -> redis::RedisResult<bool> {
        let mut conn = self.redis.clone();
        let (removed, _): (u32, u32) = redis::pipe()
            .atomic()
            .hdel(keys::schedules(&self.namespace), id)
            .zrem(keys::schedules_due(&self.namespace), id)
            .query_async(&mut conn)
            .await?;
        Ok(removed == 1)
    }

    /// Runs the schedules that are due; returns how many ticks this caller ran.
    pub async fn run_due(&self, crawls: &Crawls) -> anyhow::Result<usize> {
        let mut conn = self.redis.clone();
        let now = now_ms();
        let due: Vec<(String, f64)> = conn
            .zrangebyscore_withscores(keys::schedules_due(&self.namespace), "-inf", now)
            .await?;
        let mut ran = 0;
        for (id, score) in due {
            let json: Option<String> = conn.hget(keys::schedules(&self.namespace), &id).await?;
            let Some(schedule) = json.and_then(|j| serde_json::from_str::<Schedule>(&j).ok())
            else {
                conn.zrem::<_, _, ()>(keys::schedules_due(&self.namespace), &id)
                    .await?;
                continue;
            };
            let Ok(cron) = parse_cron(&schedule.cron) else {
                continue;
            };
            // The next tick after now, not after the missed one: an outage runs once.
            let Some(next) = next_tick(&cron, now.max(score as u64)) else {
                continue;
            };
            let jobs = match &schedule.target {
                Target::Jobs { urls, mode, tenant } => {
                    let mode =
                        ExtractionMode::parse(mode, Vec::new()).unwrap_or(ExtractionMode::Article);
                    urls.iter()
                        .map(|url| {
                            let mut job = Job::new(JobKind::Url, url, None, &mode);
                            job.tenant = tenant.clone();
                            job.metadata.insert("schedule".into(), schedule.id.clone());
                            job.encode()
                        })
                        .collect()
                }
                Target::Crawl { .. } => Vec::new(),
            };
            let mut claim = CLAIM_TICK.prepare_invoke();
            claim
                .key(keys::schedules_due(&self.namespace))
                .key(keys::deferred(&self.namespace))
                .arg(&id)
                .arg(score)
                .arg(next);
            for job in &jobs {
                claim.arg(job.as_slice());
            }
            let won: i64 = claim.invoke_async(&mut conn).await?;
            if won != 1 {
                continue;
            }
            ran += 1;
            if let Target::Crawl {
                seeds,
                max_depth,
                max_pages,
                scope,
                sitemaps,
                mode,
            } = &schedule.target
            {
                let request = CrawlRequest {
                    max_depth: *max_depth,
                    max_pages: *max_pages,
                    scope: *scope,
                    sitemaps: *sitemaps,
                    mode: ExtractionMode::parse(mode, Vec::new())
                        .unwrap_or(ExtractionMode::Article),
                    ..CrawlRequest::new(seeds.clone())
                };
                if let Err(e) = crawls.start(request).await {
                    tracing::error!(schedule = %id, error = %e, "scheduled crawl did not start");
                }
            }
        }
        Ok(ran)
    }
}

/// Runs due schedules until shutdown (in `riptide-dispatcher serve`).
pub struct Ticker {
    pub schedules: Schedules,
    pub crawls: std::sync::Arc<Crawls>,
}

impl Ticker {
    pub async fn run(&self, shutdown: CancellationToken) {
        let mut every = tokio::time::interval(TICK_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = every.tick() => {}
            }
            if let Err(e) = self.schedules.run_due(&self.crawls).await {
                tracing::warn!(error = %e, "running due schedules failed; retrying");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_and_six_field_expressions_tick_in_utc() {
        let every_six_hours = parse_cron("0 */6 * * *").unwrap();
        // 2026-11-27 20:40:00 UTC -> 2026-11-28 00:00:00 UTC.
        assert_eq!(
            next_tick(&every_six_hours, 1_795_812_000_000),
            Some(1_795_824_000_000)
        );
        let every_second = parse_cron("* * * * * *").unwrap();
        assert_eq!(next_tick(&every_second, 1_000_500), Some(1_001_000));
        assert!(parse_cron("61 * * * *").is_err());
        assert!(parse_cron("not cron").is_err());
    }
}
