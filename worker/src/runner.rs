//! The job runner: one job from its page (fetched, or inline) through extraction to a
//! result, or to a typed [`Failure`]. It settles nothing: that is the handler's part.
//!
//! Extraction runs on tokio's blocking pool and holds one of the extraction slots (the
//! sandbox's instance count) for as long as the extractor runs: the permit moves into the
//! blocking task, so a job task aborted mid-extraction (a lost connection, a shutdown)
//! cannot hand its slot to another page while its guest is still running.

use std::sync::Arc;
use std::time::{Duration, Instant};

use riptide_extractor::{ExtractedDoc, PageLinks};
use riptide_shared::frontier;
use riptide_shared::job::{micros, now_ms, Job, JobKind, JobResult, Receipt};
use riptide_shared::outcome::DeadReason;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::extraction::Extractor;
use crate::fetch::{FetchError, Fetcher};
use crate::politeness::{Answered, Gate, Lease, Politeness, NEAR_MISS};
use crate::robots::{Robots, RobotsError, Verdict};
use crate::settle::{Failure, Stop, Throttle};
use crate::sitemap;

/// A page extracted (or a crawl's sitemap read).
#[derive(Debug)]
pub struct Ran {
    pub result: JobResult,
    /// The links it offers, for a crawl's page (for a sitemap: the pages it lists).
    pub links: Option<PageLinks>,
    /// Sitemaps to read for the crawl: those robots.txt lists, for a crawl's seed; those a
    /// sitemap index lists, for a sitemap.
    pub sitemaps: Vec<String>,
}

pub struct Runner {
    pub worker_id: String,
    pub extractor: Arc<Extractor>,
    pub fetcher: Fetcher,
    /// robots.txt checks before each fetch (`None` when `fetch.respect_robots` is off).
    pub robots: Option<Robots>,
    /// The fleet's pace per host.
    pub politeness: Politeness,
    /// Extraction slots: the sandbox's instance count (the native fallback shares them).
    pub slots: Arc<Semaphore>,
}

impl Runner {
    /// Fetches (for `url` jobs, when robots.txt and the host's pace allow) and extracts the
    /// job's page; for a crawl's page, also the links it offers.
    /// Cancelling `cancel` stops a running guest (the caller drops this future to stop
    /// the rest).
    pub async fn run(&self, job: &Job, cancel: &CancellationToken) -> Result<Ran, Stop> {
        if job.crawl.as_ref().is_some_and(|crawl| crawl.sitemap) {
            return self.read_sitemap(job, cancel).await;
        }
        let mode = job
            .extraction_mode()
            .map_err(|e| Failure::permanent(DeadReason::InvalidJob, e.to_string()))?;
        let (url, html, nofollow, bytes_fetched, fetch_us) = match job.kind {
            JobKind::Html => (
                job.url.clone(),
                job.html.clone().unwrap_or_default(),
                false,
                0,
                0,
            ),
            JobKind::Url => {
                let fetch_started = Instant::now();
                let url = self.admit(job).await?;
                let fetched = self
                    .unless_cancelled(cancel, self.fetcher.fetch(url.target.as_str()))
                    .await;
                self.release(&url.lease, answered(&fetched)).await;
                if cancel.is_cancelled() {
                    return Err(Stop::Cancelled);
                }
                let page = fetched.map_err(fetch_failure)?;
                (
                    page.url,
                    page.html,
                    page.nofollow,
                    page.bytes,
                    micros(fetch_started.elapsed()),
                )
            }
        };
        let sitemaps = self.listed_sitemaps(job).await;
        let slot = self.slots.clone().acquire_owned().await.map_err(|_| {
            Failure::transient(DeadReason::InternalError, "extraction slots closed")
        })?;
        let extractor = self.extractor.clone();
        let with_links = job.crawl.is_some();
        let extract_started = Instant::now();
        let guest_cancel = cancel.clone();
        let (extraction, url) = tokio::task::spawn_blocking(move || {
            let extraction = extractor.extract_page(&html, &url, &mode, with_links, &guest_cancel);
            drop(slot);
            (extraction, url)
        })
        .await
        .map_err(|e| {
            Failure::transient(
                DeadReason::InternalError,
                format!("extraction task failed: {e}"),
            )
        })?;
        let links = extraction.links.map(|mut links| {
            if nofollow {
                links.follow.clear();
                links.nofollow = true;
            }
            links
        });
        let stats = extraction.stats;
        let receipt = Receipt {
            engine: stats.engine.as_str().to_string(),
            component_digest: self
                .extractor
                .component_digest(stats.engine)
                .unwrap_or_default()
                .to_string(),
            fuel_consumed: stats.fuel_consumed,
            extraction_cpu_us: stats.cpu_us,
            peak_memory_bytes: stats.peak_memory_bytes,
            bytes_fetched,
            fetch_us,
            extract_us: micros(extract_started.elapsed()),
            ..Receipt::default()
        };
        if cancel.is_cancelled() {
            return Err(Stop::Cancelled);
        }
        match extraction.result {
            Ok(content) => Ok(Ran {
                links,
                sitemaps,
                result: JobResult {
                    receipt,
                    id: job.id.clone(),
                    url,
                    extractor: extraction.stats.engine.as_str().to_string(),
                    content,
                    processing_time_us: extraction.stats.processing_time_us,
                    fuel_consumed: extraction.stats.fuel_consumed,
                    attempts: job.attempts + 1,
                    worker: self.worker_id.clone(),
                    finished_at_ms: now_ms(),
                    metadata: job.metadata.clone(),
                },
            }),
            Err(e) => {
                let reason = DeadReason::of_extraction(&e);
                let message = e.message().to_string();
                Err(Stop::Failed(if extraction.retry_later {
                    Failure::transient(reason, message)
                } else {
                    Failure::permanent(reason, message)
                }))
            }
        }
    }
}

/// A URL robots.txt allows and its host's pace lets us fetch now.
struct Admitted {
    target: Url,
    lease: Lease,
}

impl Runner {
    /// Reads a crawl's sitemap: the pages it lists become the crawl's links, the sitemaps
    /// an index lists are read in turn.
    async fn read_sitemap(&self, job: &Job, cancel: &CancellationToken) -> Result<Ran, Stop> {
        let fetch_started = Instant::now();
        let url = self.admit(job).await?;
        let fetched = self
            .unless_cancelled(cancel, self.fetcher.fetch_sitemap(url.target.as_str()))
            .await;
        self.release(&url.lease, answered(&fetched)).await;
        if cancel.is_cancelled() {
            return Err(Stop::Cancelled);
        }
        let response = fetched.map_err(fetch_failure)?;
        let fetch_us = micros(fetch_started.elapsed());
        let started = Instant::now();
        let base = Url::parse(&response.url).unwrap_or(url.target);
        let listing = sitemap::parse(&response.body, &base)
            .map_err(|e| Failure::permanent(DeadReason::ParseError, e.to_string()))?;
        let content = ExtractedDoc {
            url: response.url.clone(),
            links: listing.pages.clone(),
            ..ExtractedDoc::default()
        };
        Ok(Ran {
            links: Some(PageLinks {
                follow: listing.pages,
                ..PageLinks::default()
            }),
            sitemaps: listing.sitemaps,
            result: JobResult {
                id: job.id.clone(),
                url: response.url,
                extractor: SITEMAP_READER.to_string(),
                content,
                processing_time_us: micros(started.elapsed()),
                receipt: Receipt {
                    engine: SITEMAP_READER.to_string(),
                    bytes_fetched: response.body.len() as u64,
                    fetch_us,
                    extract_us: micros(started.elapsed()),
                    ..Receipt::default()
                },
                fuel_consumed: 0,
                attempts: job.attempts + 1,
                worker: self.worker_id.clone(),
                finished_at_ms: now_ms(),
                metadata: job.metadata.clone(),
            },
        })
    }

    /// `fetch`, dropped when `cancel` fires first (the caller then releases the lease and
    /// stops with [`Stop::Cancelled`]).
    async fn unless_cancelled<T>(
        &self,
        cancel: &CancellationToken,
        fetch: impl std::future::Future<Output = Result<T, FetchError>>,
    ) -> Result<T, FetchError> {
        tokio::select! {
            fetched = fetch => fetched,
            _ = cancel.cancelled() => Err(FetchError::Transient("cancelled".into())),
        }
    }

    /// The sitemaps robots.txt lists for a crawl seed's site (robots.txt was just read for
    /// the fetch, so it is in the fleet's cache); none for other pages.
    async fn listed_sitemaps(&self, job: &Job) -> Vec<String> {
        let (Some(crawl), Some(robots)) = (&job.crawl, &self.robots) else {
            return Vec::new();
        };
        if crawl.depth > 0 || job.kind != JobKind::Url {
            return Vec::new();
        }
        let Ok(url) = Url::parse(&job.url) else {
            return Vec::new();
        };
        match robots.cached(&url).await {
            Ok(Some(policy)) => crate::robots::sitemaps(&policy),
            _ => Vec::new(),
        }
    }

    /// The job's URL once robots.txt allows it and its host is free now, with the lease to
    /// release after the fetch; a host that is not free stops the run as
    /// [`Stop::Throttled`] (the job is deferred, not failed).
    async fn admit(&self, job: &Job) -> Result<Admitted, Stop> {
        let url = Url::parse(&job.url).map_err(|e| {
            Failure::permanent(DeadReason::Fetch, format!("invalid URL `{}`: {e}", job.url))
        })?;
        if !url.has_host() {
            return Err(Failure::permanent(DeadReason::Fetch, "URL has no host").into());
        }
        let host = frontier::host_key(&url);
        let crawl_delay = self.obey_robots(job, &url, &host).await?;
        let delay = self.politeness.delay(crawl_delay);
        let lease = self.lease(job, &host, delay).await?;
        Ok(Admitted { target: url, lease })
    }

    /// A lease to fetch from `host` now (after a near miss's short wait), or the throttle
    /// that stops the run.
    async fn lease(&self, job: &Job, host: &str, delay: Duration) -> Result<Lease, Stop> {
        let lease_id = format!("{}-{:016x}", job.id, rand::random::<u64>());
        let mut waited = false;
        loop {
            let gate = self
                .politeness
                .acquire(host, &lease_id, delay)
                .await
                .map_err(|e| Failure::transient(DeadReason::Fetch, format!("politeness: {e}")))?;
            match gate {
                Gate::Granted(lease) => return Ok(lease),
                Gate::Wait(wait) if !waited && wait <= NEAR_MISS => {
                    waited = true;
                    tokio::time::sleep(wait).await;
                }
                Gate::Wait(wait) => {
                    return Err(Stop::Throttled(Throttle {
                        host: host.to_string(),
                        wait,
                        delay,
                    }))
                }
            }
        }
    }

    async fn release(&self, lease: &Lease, answered: Answered) {
        // A lease that cannot be released expires by itself.
        if let Err(e) = self.politeness.release(lease, answered).await {
            tracing::warn!(error = %e, "could not release a fetch lease; it expires by itself");
        }
    }

    /// The site's Crawl-delay if robots.txt allows the URL; a stop if it refuses it, cannot
    /// be read, or must first be fetched while the host is busy.
    async fn obey_robots(
        &self,
        job: &Job,
        url: &Url,
        host: &str,
    ) -> Result<Option<Duration>, Stop> {
        let Some(robots) = &self.robots else {
            return Ok(None);
        };
        let redis = |e: RobotsError| Failure::transient(DeadReason::Fetch, e.to_string());
        let policy = match robots.cached(url).await.map_err(redis)? {
            Some(policy) => policy,
            None => {
                // Fetching robots.txt is a request to the host like any other.
                let delay = self.politeness.delay(None);
                let lease = self.lease(job, host, delay).await?;
                let fetched = robots.fetch(&self.fetcher, url).await;
                self.release(&lease, Answered::Normally).await;
                fetched.map_err(|e| match e {
                    RobotsError::Fetch(fetch) => fetch_failure(fetch),
                    other => redis(other),
                })?
            }
        };
        let refused = match robots.judge(&policy, url) {
            Verdict::Allowed { crawl_delay } => return Ok(crawl_delay),
            Verdict::Disallowed { rule } => Failure::permanent(
                DeadReason::RobotsDisallowed,
                format!("robots.txt disallows {url}: {rule}"),
            ),
            Verdict::DelayTooLong { crawl_delay } => Failure::permanent(
                DeadReason::CrawlDelayTooLong,
                format!(
                    "robots.txt asks for a Crawl-delay of {} s, over politeness.max_crawl_delay_secs",
                    crawl_delay.as_secs_f64()
                ),
            ),
            Verdict::Unavailable { reason } => Failure::transient(
                DeadReason::Fetch,
                format!("robots.txt unavailable, so nothing is fetched from this site for now: {reason}"),
            ),
        };
        Err(refused.into())
    }
}

/// The `extractor` of a sitemap's result: it was read, not extracted.
pub const SITEMAP_READER: &str = "sitemap";

/// How a fetch went, for the host's pace.
fn answered<T>(fetched: &Result<T, FetchError>) -> Answered {
    match fetched {
        Err(FetchError::Throttled { retry_after, .. }) => Answered::Throttled {
            retry_after: *retry_after,
        },
        _ => Answered::Normally,
    }
}

fn fetch_failure(error: FetchError) -> Failure {
    match error {
        FetchError::Transient(m) => Failure::transient(DeadReason::Fetch, m),
        FetchError::Throttled { message, .. } => Failure::transient(DeadReason::Fetch, message),
        FetchError::Permanent(m) => Failure::permanent(DeadReason::Fetch, m),
    }
}
