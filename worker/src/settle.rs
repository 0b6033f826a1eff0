//! The settlement policy: what becomes of a delivery once its job ran. Pure, so that the
//! rules the README states (what is retried, what is dead-lettered, what is terminal) are
//! tested without a broker.
//!
//! - A result is stored and the job is `done`.
//! - A transient failure (fetch timeouts, 5xx, 429, a page waiting for the sandbox) is
//!   retried through the delayed-retry tier of its attempt count, until `max_attempts`
//!   deliveries failed; then it is dead-lettered with reason `max-attempts`.
//! - A permanent failure (4xx, refused address, invalid job, the extractor refusing the
//!   page, a page over its fuel, time or memory, a guest trap) is dead-lettered at once
//!   with its own reason.
//!
//! A message that is not a job at all is dead-lettered as `undecodable` by the handler.

use std::time::Duration;

use riptide_shared::job::{Job, JobResult};
use riptide_shared::outcome::DeadReason;
use riptide_shared::topology;

/// Why a job did not produce a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Worth trying again later.
    pub transient: bool,
    /// The reason it is dead-lettered with when it is not retried.
    pub reason: DeadReason,
    pub message: String,
}

impl Failure {
    pub fn transient(reason: DeadReason, message: impl Into<String>) -> Self {
        Self {
            transient: true,
            reason,
            message: message.into(),
        }
    }

    pub fn permanent(reason: DeadReason, message: impl Into<String>) -> Self {
        Self {
            transient: false,
            reason,
            message: message.into(),
        }
    }

    /// `reason: message`, as stored in the job's `error` field and the dead letter's header.
    pub fn describe(&self) -> String {
        format!("{}: {}", self.reason, self.message)
    }
}

/// Why a run stopped short of a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    Failed(Failure),
    /// The job's host is not free yet: the job waits, without counting an attempt.
    Throttled(Throttle),
    /// The job was cancelled while it ran: its fetch dropped or its guest stopped.
    Cancelled,
}

impl From<Failure> for Stop {
    fn from(failure: Failure) -> Self {
        Self::Failed(failure)
    }
}

/// A host that is not free yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttle {
    pub host: String,
    /// Until the host is free, at the least.
    pub wait: Duration,
    /// The host's delay between fetch starts (spaces out jobs deferred together).
    pub delay: Duration,
}

/// What to do with a delivery.
#[derive(Debug, Clone, PartialEq)]
pub enum Settlement {
    /// Store the result; the job is done.
    Complete(Box<JobResult>),
    /// Publish `successor` (the job with its attempts counted) to the retry tier of `delay`.
    Retry {
        successor: Job,
        delay: Duration,
        failure: Failure,
    },
    /// Publish `job` (its attempts counted) to the dead-letter queue; the job is dead.
    DeadLetter {
        job: Job,
        reason: DeadReason,
        failure: Failure,
    },
    /// Put `job` (attempts unchanged) aside until its host is free.
    Defer { job: Job, throttle: Throttle },
    /// The job ends `cancelled`: a producer cancelled it while it ran.
    Cancel,
    /// A crawl's page not fetched on purpose (its site's robots.txt refuses it): counted in
    /// the crawl under `reason`, not dead-lettered.
    Skip {
        job: Job,
        reason: DeadReason,
        failure: Failure,
    },
}

/// Decides the settlement of one run of `job` (whose `attempts` failed deliveries came
/// before this one).
pub fn settle(job: &Job, run: Result<JobResult, Stop>, max_attempts: u32) -> Settlement {
    let failure = match run {
        Ok(result) => return Settlement::Complete(Box::new(result)),
        Err(Stop::Throttled(throttle)) => {
            return Settlement::Defer {
                job: job.clone(),
                throttle,
            }
        }
        Err(Stop::Cancelled) => return Settlement::Cancel,
        Err(Stop::Failed(failure)) => failure,
    };
    if job.crawl.is_some()
        && matches!(
            failure.reason,
            DeadReason::RobotsDisallowed | DeadReason::CrawlDelayTooLong
        )
    {
        return Settlement::Skip {
            job: job.clone(),
            reason: failure.reason,
            failure,
        };
    }
    let mut counted = job.clone();
    counted.attempts = job.attempts.saturating_add(1);
    if failure.transient && counted.attempts < max_attempts {
        return Settlement::Retry {
            delay: topology::retry_delay(counted.attempts),
            successor: counted,
            failure,
        };
    }
    Settlement::DeadLetter {
        job: counted,
        reason: if failure.transient {
            DeadReason::MaxAttempts
        } else {
            failure.reason
        },
        failure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use riptide_extractor::{ExtractedDoc, ExtractionMode};
    use riptide_shared::job::JobKind;

    fn job(attempts: u32) -> Job {
        let mut job = Job::new(
            JobKind::Url,
            "https://e.com/",
            None,
            &ExtractionMode::Article,
        );
        job.attempts = attempts;
        job
    }

    fn retry_of(settlement: Settlement) -> (u32, Duration) {
        match settlement {
            Settlement::Retry {
                successor, delay, ..
            } => (successor.attempts, delay),
            other => panic!("expected a retry, got {other:?}"),
        }
    }

    fn dead_letter_of(settlement: Settlement) -> (DeadReason, u32) {
        match settlement {
            Settlement::DeadLetter { job, reason, .. } => (reason, job.attempts),
            other => panic!("expected a dead letter, got {other:?}"),
        }
    }

    #[test]
    fn a_result_completes() {
        let result = JobResult {
            id: "j".into(),
            url: "https://e.com/".into(),
            extractor: "wasm".into(),
            content: ExtractedDoc::default(),
            processing_time_us: 1,
            fuel_consumed: 1,
            attempts: 4,
            worker: "w".into(),
            finished_at_ms: 1,
            metadata: Default::default(),
            receipt: Default::default(),
        };
        assert_eq!(
            settle(&job(3), Ok(result.clone()), 5),
            Settlement::Complete(Box::new(result))
        );
    }

    #[test]
    fn transient_failures_retry_with_growing_delays_until_attempts_run_out() {
        let failure = || Err(Failure::transient(DeadReason::Fetch, "HTTP 503").into());
        assert_eq!(
            retry_of(settle(&job(0), failure(), 5)),
            (1, Duration::from_secs(1))
        );
        assert_eq!(
            retry_of(settle(&job(1), failure(), 5)),
            (2, Duration::from_secs(5))
        );
        assert_eq!(
            retry_of(settle(&job(3), failure(), 5)),
            (4, Duration::from_secs(120))
        );
        assert_eq!(
            dead_letter_of(settle(&job(4), failure(), 5)),
            (DeadReason::MaxAttempts, 5)
        );
    }

    #[test]
    fn permanent_failures_are_dead_lettered_at_once_with_their_reason() {
        for reason in [
            DeadReason::Fetch,
            DeadReason::InvalidJob,
            DeadReason::ResourceLimit,
            DeadReason::InternalError,
            DeadReason::InvalidHtml,
        ] {
            let run = Err(Failure::permanent(reason, "no").into());
            assert_eq!(dead_letter_of(settle(&job(0), run, 5)), (reason, 1));
        }
    }

    #[test]
    fn one_attempt_allowed_means_no_retry() {
        let run = Err(Failure::transient(DeadReason::Fetch, "timeout").into());
        assert_eq!(
            dead_letter_of(settle(&job(0), run, 1)),
            (DeadReason::MaxAttempts, 1)
        );
    }

    #[test]
    fn a_throttled_job_is_deferred_without_counting_an_attempt() {
        let throttle = Throttle {
            host: "e.com".into(),
            wait: Duration::from_millis(700),
            delay: Duration::from_secs(1),
        };
        let waiting = job(2);
        let run = Err(Stop::Throttled(throttle.clone()));
        assert_eq!(
            settle(&waiting, run, 5),
            Settlement::Defer {
                job: waiting.clone(),
                throttle
            }
        );
    }

    #[test]
    fn a_run_cancelled_midway_ends_cancelled_without_an_attempt_counted() {
        assert_eq!(settle(&job(2), Err(Stop::Cancelled), 5), Settlement::Cancel);
    }

    #[test]
    fn a_crawl_page_refused_by_robots_is_skipped_not_dead_lettered() {
        let mut page = job(0);
        page.crawl = Some(riptide_shared::job::CrawlRef {
            id: "c".into(),
            depth: 1,
            sitemap: false,
        });
        let refused =
            || Err(Failure::permanent(DeadReason::RobotsDisallowed, "Disallow: /").into());
        assert!(matches!(
            settle(&page, refused(), 5),
            Settlement::Skip {
                reason: DeadReason::RobotsDisallowed,
                ..
            }
        ));
        assert_eq!(
            dead_letter_of(settle(&job(0), refused(), 5)),
            (DeadReason::RobotsDisallowed, 1),
            "a single job refused by robots.txt is dead-lettered"
        );
    }

    #[test]
    fn the_failure_travels_with_the_settlement() {
        let run = Err(Failure::permanent(DeadReason::InvalidHtml, "not HTML").into());
        match settle(&job(0), run, 5) {
            Settlement::DeadLetter { failure, .. } => {
                assert_eq!(failure.describe(), "invalid-html: not HTML")
            }
            other => panic!("{other:?}"),
        }
    }
}
