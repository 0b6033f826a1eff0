//! Starting, watching and cancelling crawls: the crawl's spec and counters go to Redis
//! (`riptide_shared::frontier`), and its seeds enter its frontier like any discovered link,
//! from where the workers' promoters publish them.

use std::collections::BTreeMap;

use redis::aio::ConnectionManager;
use riptide_extractor::ExtractionMode;
use riptide_shared::crawl::{
    canonicalize, CrawlError, CrawlSpec, Scope, ScopeRules, DEFAULT_MAX_DEPTH, DEFAULT_MAX_PAGES,
};
use riptide_shared::frontier::{self, CrawlStatus, Discovered};
use riptide_shared::job::{now_ms, CrawlRef, Job, JobKind};
use riptide_shared::settings::RedisSettings;

/// What a producer asks for; the rest of [`CrawlSpec`] is filled in on start.
pub struct CrawlRequest {
    pub seeds: Vec<String>,
    pub max_depth: u32,
    pub max_pages: u64,
    pub scope: Scope,
    pub allow: Vec<String>,
    pub deny: Vec<String>,
    /// Also read the sitemaps the seeds' robots.txt lists.
    pub sitemaps: bool,
    /// Where the crawl's completion is POSTed (checked by the caller).
    pub callback_url: Option<String>,
    pub mode: ExtractionMode,
}

impl CrawlRequest {
    /// A crawl of `seeds` with the defaults: depth 2, 1,000 pages, the seeds' hosts, no
    /// allow or deny patterns, no sitemaps, no callback, article extraction.
    pub fn new(seeds: Vec<String>) -> Self {
        Self {
            seeds,
            max_depth: DEFAULT_MAX_DEPTH,
            max_pages: DEFAULT_MAX_PAGES,
            scope: Scope::default(),
            allow: Vec::new(),
            deny: Vec::new(),
            sitemaps: false,
            callback_url: None,
            mode: ExtractionMode::Article,
        }
    }
}

pub struct Crawls {
    redis: ConnectionManager,
    /// The queue namespace the crawl's pages are published to.
    namespace: String,
}

impl Crawls {
    pub async fn connect(settings: &RedisSettings, namespace: &str) -> redis::RedisResult<Self> {
        Ok(Self {
            redis: settings.connect().await?,
            namespace: namespace.to_string(),
        })
    }

    /// Starts a crawl; returns its spec (with its id).
    pub async fn start(&self, request: CrawlRequest) -> anyhow::Result<CrawlSpec> {
        let (mode, selectors) = match &request.mode {
            ExtractionMode::Custom(selectors) => ("custom".to_string(), selectors.clone()),
            other => (other.name().to_string(), Vec::new()),
        };
        let spec = CrawlSpec {
            id: uuid::Uuid::new_v4().to_string(),
            seeds: request.seeds,
            max_depth: request.max_depth,
            max_pages: request.max_pages,
            scope: request.scope,
            allow: request.allow,
            deny: request.deny,
            mode,
            selectors,
            sitemaps: request.sitemaps,
            callback_url: request.callback_url,
            created_at_ms: now_ms(),
        };
        ScopeRules::new(&spec)?;
        let mut seeds = Vec::new();
        for seed in &spec.seeds {
            let url = canonicalize(seed).ok_or_else(|| CrawlError::BadSeed(seed.clone()))?;
            let mut job = Job::new(JobKind::Url, url.as_str(), None, &request.mode);
            job.crawl = Some(CrawlRef {
                id: spec.id.clone(),
                depth: 0,
                sitemap: false,
            });
            seeds.push(Discovered::Candidate {
                url,
                job: job.encode(),
            });
        }
        frontier::create(&self.redis, &spec).await?;
        frontier::discover(&self.redis, &spec, &self.namespace, None, seeds).await?;
        Ok(spec)
    }

    pub async fn status(&self, id: &str) -> redis::RedisResult<Option<CrawlStatus>> {
        frontier::status(&self.redis, id).await
    }

    /// Cancels a running crawl; false when it was not running.
    pub async fn cancel(&self, id: &str) -> redis::RedisResult<bool> {
        frontier::cancel(&self.redis, &self.namespace, id).await
    }

    /// How many crawls are in each state.
    pub async fn count_by_state(&self) -> redis::RedisResult<BTreeMap<String, u64>> {
        frontier::count_by_state(&self.redis).await
    }

    pub async fn list(&self) -> redis::RedisResult<Vec<CrawlStatus>> {
        let mut crawls = Vec::new();
        for id in frontier::list(&self.redis).await? {
            if let Some(status) = frontier::status(&self.redis, &id).await? {
                crawls.push(status);
            }
        }
        Ok(crawls)
    }

    /// Ids of the crawl's done pages, `limit` from `offset`.
    pub async fn pages(
        &self,
        id: &str,
        offset: usize,
        limit: usize,
    ) -> redis::RedisResult<Vec<String>> {
        let offset = isize::try_from(offset).unwrap_or(isize::MAX);
        let limit = isize::try_from(limit).unwrap_or(isize::MAX);
        frontier::pages(&self.redis, id, offset, limit).await
    }
}
