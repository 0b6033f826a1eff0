//! robots.txt (RFC 9309) before every fetch, for single-URL jobs and crawls alike.
//!
//! Each origin's robots.txt is fetched once for the whole fleet and cached in Redis
//! (`riptide:robots:<origin>`): a worker that misses the cache takes a short lock, fetches
//! (at most 5 redirects, the first 512 KiB parsed; the request counts against the host's
//! politeness like any other), and stores what it learned; the others wait for that answer
//! instead of fetching too. A 2xx body is kept for 24 hours, a 4xx
//! means "allow all" for 24 hours, and a 5xx or an unreachable server means "disallow all"
//! for [`UNAVAILABLE_TTL`], during which fetches of that origin fail as transient (retried
//! later, as the RFC asks).
//!
//! The verdict is Google's reference matcher (the `robotstxt` crate) for the product token
//! of the configured User-Agent; the same crate's parser gives the group's `Crawl-delay`,
//! the `Sitemap:` lines, and the rule that refused a URL.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use riptide_shared::keys;
use robotstxt::matcher::{LongestMatchRobotsMatchStrategy, RobotsMatchStrategy};
use robotstxt::{DefaultMatcher, RobotsParseHandler};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::fetch::{BodyLimit, FetchError, Fetcher};
use crate::metrics::Metrics;

/// How long a robots.txt (or a 4xx: no robots.txt) is trusted.
const CACHE_TTL: Duration = Duration::from_secs(24 * 3600);
/// How long an origin whose robots.txt answered 5xx, or did not answer, stays disallowed.
pub const UNAVAILABLE_TTL: Duration = Duration::from_secs(10 * 60);
/// Redirects followed for robots.txt (RFC 9309: at least five).
const MAX_REDIRECTS: usize = 5;
/// Bytes of robots.txt parsed (RFC 9309: at least 500 KiB).
const MAX_BYTES: usize = 512 * 1024;
/// How long a worker holds the right to fetch an origin's robots.txt for the fleet.
const FETCH_LOCK: Duration = Duration::from_secs(30);
/// How often a worker waiting for another's robots.txt fetch looks for the answer.
const WAIT_POLL: Duration = Duration::from_millis(50);

/// What an origin's robots.txt says, as cached for the fleet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "policy", rename_all = "kebab-case")]
pub enum Policy {
    /// A robots.txt: its rules apply.
    Rules { body: String },
    /// No robots.txt (4xx): everything is allowed.
    AllowAll,
    /// The server failed (5xx) or did not answer: nothing is fetched for a while.
    Unavailable { reason: String },
}

/// May this URL be fetched?
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Yes; at most one request per `crawl_delay` if the group sets one.
    Allowed { crawl_delay: Option<Duration> },
    /// No: the rule that refuses it (`Disallow: /private` at line 4).
    Disallowed { rule: String },
    /// The origin asks for a longer delay between requests than the fleet accepts: skipped.
    DelayTooLong { crawl_delay: Duration },
    /// robots.txt could not be read: try again later.
    Unavailable { reason: String },
}

impl Verdict {
    /// Every [`Verdict::result`], so the counters start at zero.
    pub const RESULTS: [&'static str; 4] =
        ["allowed", "disallowed", "delay-too-long", "unavailable"];

    /// Short name, for metrics.
    pub fn result(&self) -> &'static str {
        match self {
            Self::Allowed { .. } => "allowed",
            Self::Disallowed { .. } => "disallowed",
            Self::DelayTooLong { .. } => "delay-too-long",
            Self::Unavailable { .. } => "unavailable",
        }
    }
}

/// Where a policy came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The fleet's cache (fetched by any worker).
    Cache,
    /// Fetched by this worker, for the fleet.
    Fetched,
}

impl Source {
    pub const ALL: [Source; 2] = [Self::Cache, Self::Fetched];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cache => "cache",
            Self::Fetched => "fetched",
        }
    }
}

/// The fleet's robots.txt checker.
pub struct Robots {
    redis: ConnectionManager,
    metrics: Arc<Metrics>,
    /// The product token matched against `User-agent:` lines (`RipTide`).
    product: String,
    max_crawl_delay: Duration,
}

impl Robots {
    pub fn new(
        redis: ConnectionManager,
        metrics: Arc<Metrics>,
        user_agent: &str,
        max_crawl_delay: Duration,
    ) -> Self {
        Self {
            redis,
            metrics,
            product: product_token(user_agent),
            max_crawl_delay,
        }
    }

    /// The fleet's cached policy for the URL's origin, if any worker fetched it lately.
    pub async fn cached(&self, url: &Url) -> Result<Option<Policy>, RobotsError> {
        let mut conn = self.redis.clone();
        let cached: Option<String> = conn.get(keys::robots(&origin(url))).await?;
        let policy = cached.and_then(|json| serde_json::from_str(&json).ok());
        if policy.is_some() {
            self.count_lookup(Source::Cache);
        }
        Ok(policy)
    }

    /// Fetches the origin's robots.txt for the fleet (or, if another worker is fetching it
    /// right now, waits for that answer) and caches it.
    pub async fn fetch(&self, fetcher: &Fetcher, url: &Url) -> Result<Policy, RobotsError> {
        let origin = origin(url);
        let key = keys::robots(&origin);
        let lock = keys::robots_lock(&origin);
        let mut conn = self.redis.clone();
        let deadline = tokio::time::Instant::now() + FETCH_LOCK;
        loop {
            let ttl_ms = u64::try_from(FETCH_LOCK.as_millis()).unwrap_or(u64::MAX);
            let mine: bool = redis::cmd("SET")
                .arg(&lock)
                .arg(1)
                .arg("NX")
                .arg("PX")
                .arg(ttl_ms)
                .query_async::<Option<String>>(&mut conn)
                .await?
                .is_some();
            if mine {
                // The fetch that held the lock before may have just stored the policy.
                if let Some(policy) = self.cached(url).await? {
                    redis::cmd("DEL")
                        .arg(&lock)
                        .query_async::<()>(&mut conn)
                        .await?;
                    return Ok(policy);
                }
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(WAIT_POLL).await;
            if let Some(policy) = self.cached(url).await? {
                return Ok(policy);
            }
        }
        let policy = fetch_policy(fetcher, &origin).await?;
        self.count_lookup(Source::Fetched);
        let ttl = match policy {
            Policy::Unavailable { .. } => UNAVAILABLE_TTL,
            _ => CACHE_TTL,
        };
        let json = serde_json::to_string(&policy).unwrap_or_default();
        redis::pipe()
            .set_ex(&key, json, ttl.as_secs())
            .del(&lock)
            .query_async::<()>(&mut conn)
            .await?;
        Ok(policy)
    }

    /// The verdict of a policy for `url`, counted in the metrics.
    pub fn judge(&self, policy: &Policy, url: &Url) -> Verdict {
        let verdict = verdict(policy, &self.product, url.as_str(), self.max_crawl_delay);
        self.metrics
            .robots_checks
            .with_label_values(&[verdict.result()])
            .inc();
        verdict
    }

    fn count_lookup(&self, source: Source) {
        self.metrics
            .robots_lookups
            .with_label_values(&[source.as_str()])
            .inc();
    }
}

fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// Why no verdict could be reached.
#[derive(Debug, thiserror::Error)]
pub enum RobotsError {
    #[error("Redis is unavailable for the robots.txt cache: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("robots.txt: {0}")]
    Fetch(#[from] FetchError),
}

async fn fetch_policy(fetcher: &Fetcher, origin: &str) -> Result<Policy, FetchError> {
    let url = format!("{origin}/robots.txt");
    match fetcher
        .get(&url, MAX_REDIRECTS, BodyLimit::Truncate(MAX_BYTES))
        .await
    {
        Ok(response) if (200..300).contains(&response.status) => Ok(Policy::Rules {
            body: String::from_utf8_lossy(&response.body).into_owned(),
        }),
        Ok(response) if (400..500).contains(&response.status) => Ok(Policy::AllowAll),
        Ok(response) => Ok(Policy::Unavailable {
            reason: format!("{url} answered HTTP {}", response.status),
        }),
        Err(FetchError::Transient(reason)) => Ok(Policy::Unavailable { reason }),
        Err(permanent) => Err(permanent),
    }
}

/// The product token of a User-Agent (`RipTide/0.1 (+...)` → `RipTide`): the letters,
/// `-` and `_` robots.txt groups are matched on.
pub fn product_token(user_agent: &str) -> String {
    user_agent
        .chars()
        .take_while(|c| c.is_ascii_alphabetic() || *c == '-' || *c == '_')
        .collect()
}

/// The verdict of a policy for one URL.
pub fn verdict(policy: &Policy, product: &str, url: &str, max_crawl_delay: Duration) -> Verdict {
    let body = match policy {
        Policy::AllowAll => return Verdict::Allowed { crawl_delay: None },
        Policy::Unavailable { reason } => {
            return Verdict::Unavailable {
                reason: reason.clone(),
            }
        }
        Policy::Rules { body } => body,
    };
    let facts = Facts::parse(body, product);
    let allowed = DefaultMatcher::default().one_agent_allowed_by_robots(body, product, url);
    if !allowed {
        return Verdict::Disallowed {
            rule: facts.refusing_rule(url),
        };
    }
    match facts.crawl_delay() {
        Some(delay) if delay > max_crawl_delay => Verdict::DelayTooLong { crawl_delay: delay },
        crawl_delay => Verdict::Allowed { crawl_delay },
    }
}

/// The `Sitemap:` URLs of a policy.
pub fn sitemaps(policy: &Policy) -> Vec<String> {
    match policy {
        Policy::Rules { body } => Facts::parse(body, "").sitemaps,
        _ => Vec::new(),
    }
}

/// What the matcher does not report: the groups' rules (to name the refusing one), their
/// `Crawl-delay`, and the sitemaps.
#[derive(Default)]
struct Facts {
    product: String,
    /// Rules and delay of the groups naming the product, and of the `*` groups.
    specific: Group,
    global: Group,
    sitemaps: Vec<String>,
    /// The user-agent lines of the group being read, and whether a rule ended them.
    current_agents: Vec<String>,
    in_rules: bool,
}

#[derive(Default)]
struct Group {
    seen: bool,
    disallows: Vec<(u32, String)>,
    crawl_delay: Option<f64>,
}

impl Facts {
    fn parse(body: &str, product: &str) -> Self {
        let mut facts = Facts {
            product: product.to_ascii_lowercase(),
            ..Facts::default()
        };
        robotstxt::parse_robotstxt(body, &mut facts);
        facts
    }

    /// The groups that apply: the product's if any names it, else `*`.
    fn applicable(&self) -> &Group {
        if self.specific.seen {
            &self.specific
        } else {
            &self.global
        }
    }

    fn crawl_delay(&self) -> Option<Duration> {
        self.applicable()
            .crawl_delay
            .filter(|d| d.is_finite() && *d >= 0.0)
            .map(Duration::from_secs_f64)
    }

    /// The longest `Disallow` pattern of the applicable group matching the URL's path.
    fn refusing_rule(&self, url: &str) -> String {
        let path = robotstxt::get_path_params_query(url);
        self.applicable()
            .disallows
            .iter()
            .filter(|(_, pattern)| LongestMatchRobotsMatchStrategy::matches(&path, pattern))
            .max_by_key(|(_, pattern)| pattern.len())
            .map(|(line, pattern)| format!("Disallow: {pattern} (line {line})"))
            .unwrap_or_else(|| "a Disallow rule of robots.txt".into())
    }

    fn groups(&mut self) -> Vec<&mut Group> {
        let specific = self
            .current_agents
            .iter()
            .any(|a| !self.product.is_empty() && a.to_ascii_lowercase().starts_with(&self.product));
        let global = self.current_agents.iter().any(|a| a == "*");
        let mut groups = Vec::new();
        if specific {
            groups.push(&mut self.specific);
        } else if global {
            groups.push(&mut self.global);
        }
        groups
    }
}

impl RobotsParseHandler for Facts {
    fn handle_robots_start(&mut self) {}

    fn handle_robots_end(&mut self) {}

    fn handle_user_agent(&mut self, _line: u32, user_agent: &str) {
        if self.in_rules {
            self.current_agents.clear();
            self.in_rules = false;
        }
        let token: String = if user_agent.starts_with('*') {
            "*".into()
        } else {
            product_token(user_agent)
        };
        self.current_agents.push(token);
        for group in self.groups() {
            group.seen = true;
        }
    }

    fn handle_allow(&mut self, _line: u32, _value: &str) {
        self.in_rules = true;
    }

    fn handle_disallow(&mut self, line: u32, value: &str) {
        self.in_rules = true;
        if value.is_empty() {
            return;
        }
        for group in self.groups() {
            group.disallows.push((line, value.to_string()));
        }
    }

    fn handle_sitemap(&mut self, _line: u32, value: &str) {
        self.sitemaps.push(value.to_string());
    }

    fn handle_unknown_action(&mut self, _line: u32, action: &str, value: &str) {
        if !action.eq_ignore_ascii_case("crawl-delay") {
            return;
        }
        self.in_rules = true;
        if let Ok(delay) = value.trim().parse::<f64>() {
            for group in self.groups() {
                group.crawl_delay = Some(group.crawl_delay.map_or(delay, |d| d.max(delay)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: Duration = Duration::from_secs(30);

    fn rules(body: &str) -> Policy {
        Policy::Rules { body: body.into() }
    }

    const ROBOTS: &str = "\
# comment
User-agent: *
Disallow: /private
Disallow: /*.pdf$
Allow: /private/open
Crawl-delay: 2

User-agent: OtherBot
User-agent: RipTide
Disallow: /riptide-only
Crawl-delay: 0.5

Sitemap: https://example.com/sitemap.xml
";

    #[test]
    fn the_product_group_wins_over_the_wildcard_group() {
        let policy = rules(ROBOTS);
        let check = |url: &str| verdict(&policy, "RipTide", url, MAX);
        assert_eq!(
            check("https://example.com/private/page"),
            Verdict::Allowed {
                crawl_delay: Some(Duration::from_millis(500))
            },
            "the RipTide group does not disallow /private"
        );
        assert_eq!(
            check("https://example.com/riptide-only/x"),
            Verdict::Disallowed {
                rule: "Disallow: /riptide-only (line 10)".into()
            }
        );
    }

    #[test]
    fn wildcards_dollar_and_allow_in_the_wildcard_group() {
        let policy = rules(ROBOTS);
        let check = |url: &str| verdict(&policy, "OtherCrawler", url, MAX);
        assert_eq!(
            check("https://example.com/private/page"),
            Verdict::Disallowed {
                rule: "Disallow: /private (line 3)".into()
            }
        );
        assert!(matches!(
            check("https://example.com/private/open/doc"),
            Verdict::Allowed { .. }
        ));
        assert_eq!(
            check("https://example.com/files/a.pdf"),
            Verdict::Disallowed {
                rule: "Disallow: /*.pdf$ (line 4)".into()
            }
        );
        assert!(matches!(
            check("https://example.com/files/a.pdf?x=1"),
            Verdict::Allowed { .. }
        ));
        assert_eq!(
            check("https://example.com/"),
            Verdict::Allowed {
                crawl_delay: Some(Duration::from_secs(2))
            }
        );
    }

    #[test]
    fn a_crawl_delay_over_the_cap_skips_the_host() {
        let policy = rules("User-agent: *\nCrawl-delay: 120\n");
        assert_eq!(
            verdict(&policy, "RipTide", "https://example.com/", MAX),
            Verdict::DelayTooLong {
                crawl_delay: Duration::from_secs(120)
            }
        );
    }

    #[test]
    fn missing_and_failing_robots_files() {
        assert_eq!(
            verdict(&Policy::AllowAll, "RipTide", "https://e.com/x", MAX),
            Verdict::Allowed { crawl_delay: None }
        );
        assert!(matches!(
            verdict(
                &Policy::Unavailable {
                    reason: "HTTP 503".into()
                },
                "RipTide",
                "https://e.com/x",
                MAX
            ),
            Verdict::Unavailable { .. }
        ));
        assert_eq!(
            verdict(
                &rules("garbage\n\0\u{FFFD}"),
                "RipTide",
                "https://e.com/x",
                MAX
            ),
            Verdict::Allowed { crawl_delay: None }
        );
    }

    #[test]
    fn sitemaps_and_product_tokens() {
        assert_eq!(
            sitemaps(&rules(ROBOTS)),
            ["https://example.com/sitemap.xml"]
        );
        assert_eq!(product_token("RipTide/0.1.0 (+https://x)"), "RipTide");
    }
}
