//! Following a crawl's links: each link a crawl page offers is canonicalized, judged
//! against the crawl's scope and depth, and handed to the crawl's frontier in Redis, which
//! admits it (exactly once, within the page budget) and queues its job. A seed's page also
//! offers the sitemaps its site's robots.txt lists, read when the crawl asked for them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use redis::aio::ConnectionManager;
use riptide_extractor::{ExtractionMode, PageLinks};
use riptide_shared::crawl::{canonicalize, CrawlSpec, ScopeRules};
use riptide_shared::frontier::{self, Admission, Discovered};
use riptide_shared::job::{CrawlRef, Job, JobKind};

/// Crawl specs compiled once per worker; a crawl's spec never changes.
const SPECS_KEPT: usize = 1024;

pub struct Crawls {
    redis: ConnectionManager,
    specs: Mutex<HashMap<String, Arc<Compiled>>>,
}

struct Compiled {
    spec: CrawlSpec,
    scope: ScopeRules,
}

/// What became of a page's links.
#[derive(Debug, Clone, Copy, Default)]
pub struct Followed {
    pub out_of_scope: u64,
    pub too_deep: u64,
    /// What the crawl's frontier made of the rest.
    pub admission: Admission,
}

impl Followed {
    /// The counts by reason, for `riptide_crawl_links_total`.
    pub fn by_reason(&self) -> impl Iterator<Item = (&'static str, u64)> {
        [
            ("out-of-scope", self.out_of_scope),
            ("too-deep", self.too_deep),
        ]
        .into_iter()
        .chain(self.admission.by_reason())
    }
}

/// Why a crawl page's links could not be followed.
#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    #[error("Redis is unavailable for the crawl: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("crawl {0} does not exist (expired, or never started)")]
    Unknown(String),
    #[error("crawl {0}'s spec is invalid: {1}")]
    Spec(String, riptide_shared::crawl::CrawlError),
}

impl Crawls {
    pub fn new(redis: ConnectionManager) -> Self {
        Self {
            redis,
            specs: Mutex::new(HashMap::new()),
        }
    }

    /// Whether the crawl was cancelled (its pages are then not fetched).
    pub async fn cancelled(&self, crawl: &CrawlRef) -> redis::RedisResult<bool> {
        let state = frontier::state(&self.redis, &crawl.id).await?;
        Ok(state.as_deref() == Some(frontier::state::CANCELLED))
    }

    /// Admits the links of `page` (a page of `crawl` fetched at its depth) into the crawl,
    /// and, for a crawl that reads sitemaps, the `sitemaps` it points at (at the page's own
    /// depth: a sitemap is no link a visitor follows). Returns what became of them.
    pub async fn follow(
        &self,
        page: &Job,
        crawl: &CrawlRef,
        links: &PageLinks,
        sitemaps: &[String],
        namespace: &str,
    ) -> Result<Followed, CrawlError> {
        let compiled = self.compiled(&crawl.id).await?;
        let depth = crawl.depth.saturating_add(1);
        let mut followed = Followed::default();
        let pages = links.follow.iter().map(|link| (link, depth, false));
        let sitemaps = sitemaps
            .iter()
            .filter(|_| compiled.spec.sitemaps)
            .map(|link| (link, crawl.depth, true));
        let discovered: Vec<Discovered> = pages
            .chain(sitemaps)
            .filter_map(|(link, depth, sitemap)| Some((canonicalize(link)?, depth, sitemap)))
            .map(|(url, depth, sitemap)| {
                if !compiled.scope.contains(&url) {
                    followed.out_of_scope += 1;
                    Discovered::OutOfScope
                } else if depth > compiled.spec.max_depth {
                    followed.too_deep += 1;
                    Discovered::TooDeep
                } else {
                    let mut job =
                        Job::new(JobKind::Url, url.as_str(), None, &ExtractionMode::Article);
                    job.mode = page.mode.clone();
                    job.selectors = page.selectors.clone();
                    job.priority = page.priority;
                    job.metadata = page.metadata.clone();
                    job.crawl = Some(CrawlRef {
                        id: crawl.id.clone(),
                        depth,
                        sitemap,
                    });
                    Discovered::Candidate {
                        url,
                        job: job.encode(),
                    }
                }
            })
            .collect();
        let page_url = canonicalize(&page.url);
        followed.admission = frontier::discover(
            &self.redis,
            &compiled.spec,
            namespace,
            page_url.as_ref(),
            discovered,
        )
        .await?;
        if followed.admission.repeated {
            return Ok(Followed::default());
        }
        Ok(followed)
    }

    async fn compiled(&self, id: &str) -> Result<Arc<Compiled>, CrawlError> {
        if let Some(compiled) = self.lock().get(id) {
            return Ok(compiled.clone());
        }
        let spec = frontier::spec(&self.redis, id)
            .await?
            .ok_or_else(|| CrawlError::Unknown(id.to_string()))?;
        let scope = ScopeRules::new(&spec).map_err(|e| CrawlError::Spec(id.to_string(), e))?;
        let compiled = Arc::new(Compiled { spec, scope });
        let mut specs = self.lock();
        if specs.len() >= SPECS_KEPT {
            specs.clear();
        }
        specs.insert(id.to_string(), compiled.clone());
        Ok(compiled)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Compiled>>> {
        self.specs.lock().unwrap_or_else(|p| p.into_inner())
    }
}
