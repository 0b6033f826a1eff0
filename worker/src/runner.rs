//! The job runner: one job from its page (fetched, or inline) through extraction to a
//! result, or to a typed [`Failure`]. It settles nothing: that is the handler's part.
//!
//! Extraction runs on tokio's blocking pool and holds one of the extraction slots (the
//! sandbox's instance count) for as long as the extractor runs: the permit moves into the
//! blocking task, so a job task aborted mid-extraction (a lost connection, a shutdown)
//! cannot hand its slot to another page while its guest is still running.

use std::sync::Arc;

use riptide_shared::job::{now_ms, Job, JobKind, JobResult};
use riptide_shared::outcome::DeadReason;
use tokio::sync::Semaphore;
use url::Url;

use crate::extraction::Extractor;
use crate::fetch::{FetchError, Fetcher};
use crate::robots::{Robots, RobotsError, Verdict};
use crate::settle::Failure;

pub struct Runner {
    pub worker_id: String,
    pub extractor: Arc<Extractor>,
    pub fetcher: Fetcher,
    /// robots.txt checks before each fetch (`None` when `fetch.respect_robots` is off).
    pub robots: Option<Robots>,
    /// Extraction slots: the sandbox's instance count (the native fallback shares them).
    pub slots: Arc<Semaphore>,
}

impl Runner {
    /// Fetches (for `url` jobs) and extracts the job's page.
    pub async fn run(&self, job: &Job) -> Result<JobResult, Failure> {
        let mode = job
            .extraction_mode()
            .map_err(|e| Failure::permanent(DeadReason::InvalidJob, e.to_string()))?;
        let (url, html) = match job.kind {
            JobKind::Html => (job.url.clone(), job.html.clone().unwrap_or_default()),
            JobKind::Url => {
                self.obey_robots(&job.url).await?;
                let page = self.fetcher.fetch(&job.url).await.map_err(fetch_failure)?;
                (page.url, page.html)
            }
        };
        let slot = self.slots.clone().acquire_owned().await.map_err(|_| {
            Failure::transient(DeadReason::InternalError, "extraction slots closed")
        })?;
        let extractor = self.extractor.clone();
        let (extraction, url) = tokio::task::spawn_blocking(move || {
            let extraction = extractor.extract(&html, &url, &mode);
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
        match extraction.result {
            Ok(content) => Ok(JobResult {
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
            }),
            Err(e) => {
                let reason = DeadReason::of_extraction(&e);
                let message = e.message().to_string();
                Err(if extraction.retry_later {
                    Failure::transient(reason, message)
                } else {
                    Failure::permanent(reason, message)
                })
            }
        }
    }
}

impl Runner {
    /// Fails the job if robots.txt refuses the URL (or cannot be read for now).
    async fn obey_robots(&self, raw_url: &str) -> Result<(), Failure> {
        let Some(robots) = &self.robots else {
            return Ok(());
        };
        let url = Url::parse(raw_url).map_err(|e| {
            Failure::permanent(DeadReason::Fetch, format!("invalid URL `{raw_url}`: {e}"))
        })?;
        let verdict = robots
            .check(&self.fetcher, &url)
            .await
            .map_err(|e| match e {
                RobotsError::Fetch(fetch) => fetch_failure(fetch),
                redis => Failure::transient(DeadReason::Fetch, redis.to_string()),
            })?;
        match verdict {
            Verdict::Allowed { .. } => Ok(()),
            Verdict::Disallowed { rule } => Err(Failure::permanent(
                DeadReason::RobotsDisallowed,
                format!("robots.txt disallows {raw_url}: {rule}"),
            )),
            Verdict::DelayTooLong { crawl_delay } => Err(Failure::permanent(
                DeadReason::CrawlDelayTooLong,
                format!(
                    "robots.txt asks for a Crawl-delay of {} s, over politeness.max_crawl_delay_secs",
                    crawl_delay.as_secs_f64()
                ),
            )),
            Verdict::Unavailable { reason } => Err(Failure::transient(
                DeadReason::Fetch,
                format!("robots.txt unavailable, so nothing is fetched from this site for now: {reason}"),
            )),
        }
    }
}

fn fetch_failure(error: FetchError) -> Failure {
    match error {
        FetchError::Transient(m) => Failure::transient(DeadReason::Fetch, m),
        FetchError::Permanent(m) => Failure::permanent(DeadReason::Fetch, m),
    }
}
