//! The job runner: one job from its page (fetched, or inline) through extraction to a
//! result, or to a typed [`Failure`]. It settles nothing: that is the handler's part.
//!
//! Extraction runs on tokio's blocking pool and holds one of the extraction slots (the
//! sandbox's instance count) for as long as the extractor runs: the permit moves into the
//! blocking task, so a job task aborted mid-extraction (a lost connection, a shutdown)
//! cannot hand its slot to another page while its guest is still running.

use std::sync::Arc;
use std::time::Duration;

use riptide_extractor::PageLinks;
use riptide_shared::job::{now_ms, Job, JobKind, JobResult};
use riptide_shared::outcome::DeadReason;
use tokio::sync::Semaphore;
use url::Url;

use crate::extraction::Extractor;
use crate::fetch::{FetchError, Fetcher, Page};
use crate::politeness::{Answered, Gate, Lease, Politeness};
use crate::robots::{Robots, RobotsError, Verdict};
use crate::settle::{Failure, Stop, Throttle};

/// A page extracted.
#[derive(Debug)]
pub struct Ran {
    pub result: JobResult,
    /// The links it offers, for a crawl's page.
    pub links: Option<PageLinks>,
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
    pub async fn run(&self, job: &Job) -> Result<Ran, Stop> {
        let mode = job
            .extraction_mode()
            .map_err(|e| Failure::permanent(DeadReason::InvalidJob, e.to_string()))?;
        let (url, html, nofollow) = match job.kind {
            JobKind::Html => (job.url.clone(), job.html.clone().unwrap_or_default(), false),
            JobKind::Url => {
                let page = self.fetch_politely(job).await?;
                (page.url, page.html, page.nofollow)
            }
        };
        let slot = self.slots.clone().acquire_owned().await.map_err(|_| {
            Failure::transient(DeadReason::InternalError, "extraction slots closed")
        })?;
        let extractor = self.extractor.clone();
        let with_links = job.crawl.is_some();
        let (extraction, url) = tokio::task::spawn_blocking(move || {
            let extraction = extractor.extract_page(&html, &url, &mode, with_links);
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
        match extraction.result {
            Ok(content) => Ok(Ran {
                links,
                result: JobResult {
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

impl Runner {
    /// Fetches the job's page if robots.txt allows it and its host is free now; a host that
    /// is not free stops the run as [`Stop::Throttled`] (the job is deferred, not failed).
    async fn fetch_politely(&self, job: &Job) -> Result<Page, Stop> {
        let url = Url::parse(&job.url).map_err(|e| {
            Failure::permanent(DeadReason::Fetch, format!("invalid URL `{}`: {e}", job.url))
        })?;
        let host = match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{}:{port}", host.to_ascii_lowercase()),
            (Some(host), None) => host.to_ascii_lowercase(),
            (None, _) => {
                return Err(Failure::permanent(DeadReason::Fetch, "URL has no host").into())
            }
        };
        let crawl_delay = self.obey_robots(job, &url, &host).await?;
        let delay = self.politeness.delay(crawl_delay);
        let lease = self.lease(job, &host, delay).await?;
        let fetched = self.fetcher.fetch(url.as_str()).await;
        let answered = match &fetched {
            Err(FetchError::Throttled { retry_after, .. }) => Answered::Throttled {
                retry_after: *retry_after,
            },
            _ => Answered::Normally,
        };
        self.release(&lease, answered).await;
        Ok(fetched.map_err(fetch_failure)?)
    }

    /// A lease to fetch from `host` now, or the throttle that stops the run.
    async fn lease(&self, job: &Job, host: &str, delay: Duration) -> Result<Lease, Stop> {
        let lease_id = format!("{}-{:016x}", job.id, rand::random::<u64>());
        let gate = self
            .politeness
            .acquire(host, &lease_id, delay)
            .await
            .map_err(|e| Failure::transient(DeadReason::Fetch, format!("politeness: {e}")))?;
        match gate {
            Gate::Granted(lease) => Ok(lease),
            Gate::Wait(wait) => Err(Stop::Throttled(Throttle {
                host: host.to_string(),
                wait,
                delay,
            })),
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

fn fetch_failure(error: FetchError) -> Failure {
    match error {
        FetchError::Transient(m) => Failure::transient(DeadReason::Fetch, m),
        FetchError::Throttled { message, .. } => Failure::transient(DeadReason::Fetch, message),
        FetchError::Permanent(m) => Failure::permanent(DeadReason::Fetch, m),
    }
}
