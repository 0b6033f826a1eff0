//! The job handler: one delivery from its bytes to a settled outcome. It decodes the job,
//! claims it in Redis (a copy of a job that already finished is acked without work), runs
//! it, asks the settlement policy what to do, and carries that out in the one order that
//! loses nothing:
//! - a result is stored in Redis before the delivery is acked;
//! - a retry copy or dead letter is confirmed by the broker (and routed to a queue) before
//!   the delivery is acked; if that publish fails, the delivery is nacked back instead;
//! - once that copy is confirmed the delivery is acked even while Redis is away, and the
//!   status write is retried afterwards, so a Redis blip cannot leave two live copies.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use lapin::message::Delivery;
use lapin::options::BasicAckOptions;
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::BasicProperties;
use rand::Rng;
use riptide_shared::deferred;
use riptide_shared::job::{micros, now_ms, Job, Status};
use riptide_shared::metrics::JobOutcome;
use riptide_shared::outcome::DeadReason;
use riptide_shared::publish::Publisher;
use riptide_shared::settings::BrokerSettings;
use riptide_shared::state::Transition;
use riptide_shared::topology::header;
use tokio_util::sync::CancellationToken;

use crate::cancel::Cancellations;
use crate::consume::Handler;
use crate::crawl::{CrawlError, Crawls, Followed};
use crate::health::Readiness;
use crate::metrics::Metrics;
use crate::runner::Runner;
use crate::settle::{settle, Failure, Settlement};
use crate::store::Store;

/// How long Redis writes are retried before the job is handed back to the broker.
const STORE_RETRY_TIMES: usize = 200;
const STORE_RETRY_MAX_DELAY: Duration = Duration::from_secs(3);

pub struct JobHandler {
    pub worker_id: String,
    /// The running jobs, watched for cancellation.
    pub cancellations: Arc<Cancellations>,
    /// Crawl pages' links and cancellation.
    pub crawls: Crawls,
    pub broker: BrokerSettings,
    pub runner: Runner,
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub readiness: Arc<Readiness>,
}

/// Why a delivery went back to the queue unsettled.
#[derive(Debug, thiserror::Error)]
enum Unsettled {
    #[error("Redis is unavailable: {0}")]
    Redis(#[from] redis::RedisError),
    #[error(transparent)]
    Publish(#[from] riptide_shared::publish::PublishError),
    #[error("shutting down")]
    Aborted,
}

impl Handler for JobHandler {
    async fn handle(&self, delivery: &Delivery, publisher: &Publisher, abort: &CancellationToken) {
        let started = Instant::now();
        let outcome = match self.process(delivery, publisher, abort).await {
            Ok(outcome) => outcome,
            Err(Unsettled::Aborted) => return,
            // Left unsettled: the listener returns the delivery to the queue.
            Err(e) => {
                tracing::warn!(error = %e, "could not settle the job; returning it to the queue");
                JobOutcome::Requeued
            }
        };
        self.metrics.record_job(outcome, started.elapsed());
    }
}

impl JobHandler {
    /// Settles the delivery (acked), or says why it could not (not acked).
    async fn process(
        &self,
        delivery: &Delivery,
        publisher: &Publisher,
        abort: &CancellationToken,
    ) -> Result<JobOutcome, Unsettled> {
        let job = match Job::decode(&delivery.data) {
            Ok(job) => job,
            Err(e) => {
                tracing::warn!(error = %e, "undecodable message; dead-lettering it");
                let failure = Failure::permanent(DeadReason::Undecodable, e.to_string());
                self.publish_dead(
                    publisher,
                    &delivery.data,
                    0,
                    DeadReason::Undecodable,
                    &failure,
                    0,
                )
                .await?;
                ack(delivery).await;
                return Ok(JobOutcome::Dead);
            }
        };
        if let Some(at) = job.run_at_ms.filter(|at| *at > now_ms()) {
            // Published before its time (straight to the queue by a producer): it waits in
            // Redis like any scheduled job.
            let redis = self.store.connection();
            let namespace = &self.broker.namespace;
            self.with_redis(abort, || {
                deferred::schedule(&redis, namespace, &delivery.data, at)
            })
            .await?;
            ack(delivery).await;
            return Ok(JobOutcome::Deferred);
        }
        if job.attempts == 0 {
            // Retried jobs waited in a retry queue on purpose; only first deliveries show
            // how long the backlog makes new work wait.
            let waited_ms = now_ms().saturating_sub(job.ready_at_ms());
            self.metrics
                .job_queue_wait_seconds
                .observe(waited_ms as f64 / 1000.0);
        }
        if let Some(crawl) = &job.crawl {
            if self
                .with_redis(abort, || self.crawls.cancelled(crawl))
                .await?
            {
                return self
                    .cancel(delivery, &job, "its crawl was cancelled", abort)
                    .await;
            }
        }
        let queue_wait_us = now_ms().saturating_sub(job.ready_at_ms()) * 1000;
        let claim_started = Instant::now();
        let claimed = self
            .with_redis(abort, || self.store.begin(&job, &self.worker_id))
            .await?;
        let claim_us = micros(claim_started.elapsed());
        match claimed {
            Transition::Applied => {}
            Transition::Refused(status) => {
                tracing::debug!(job = %job.id, ?status, "already finished; acking this copy without work");
                ack(delivery).await;
                return Ok(JobOutcome::Duplicate);
            }
            Transition::CancelRequested => {
                return self
                    .cancel(delivery, &job, "cancelled by request", abort)
                    .await;
            }
        }

        let watched = self
            .cancellations
            .watch(&job.id, job.crawl.as_ref().map(|c| c.id.as_str()));
        // The runner itself stops a cancelled job (its fetch dropped, its guest stopped at
        // the next check), so the host's lease is released on the way out.
        let run = tokio::select! {
            run = self.runner.run(&job, watched.token()) => run,
            _ = abort.cancelled() => return Err(Unsettled::Aborted),
        };
        drop(watched);
        let (run, links, sitemaps) = match run {
            Ok(ran) => (Ok(ran.result), ran.links, ran.sitemaps),
            Err(stop) => (Err(stop), None, Vec::new()),
        };
        let (status, job, failure, outcome, crawl_reason) = match settle(
            &job,
            run,
            self.broker.max_attempts,
        ) {
            Settlement::Defer { job, throttle } => {
                let body = job.encode();
                let politeness = &self.runner.politeness;
                let namespace = &self.broker.namespace;
                self.with_redis(abort, || {
                    politeness.defer(
                        namespace,
                        &throttle.host,
                        &body,
                        throttle.wait,
                        throttle.delay,
                    )
                })
                .await
                .map(|until| {
                    self.metrics
                        .politeness_wait_seconds
                        .observe(until.as_secs_f64())
                })?;
                ack(delivery).await;
                self.record(&job.id, || self.store.requeued(&job.id)).await;
                return Ok(JobOutcome::Deferred);
            }
            Settlement::Cancel => {
                return self
                    .cancel(delivery, &job, "stopped while running", abort)
                    .await;
            }
            Settlement::Complete(mut result) => {
                let follow_started = Instant::now();
                if let (Some(crawl), Some(links)) = (&job.crawl, &links) {
                    // Before the page counts as done: its crawl cannot complete while links
                    // it found are still to be admitted.
                    let namespace = &self.broker.namespace;
                    let followed = self
                            .with_redis(abort, || async {
                                match self
                                    .crawls
                                    .follow(&job, crawl, links, &sitemaps, namespace)
                                    .await
                                {
                                    Err(CrawlError::Redis(e)) => Err(e),
                                    Err(other) => {
                                        tracing::warn!(job = %job.id, error = %other, "links not followed");
                                        Ok(Followed::default())
                                    }
                                    Ok(followed) => Ok(followed),
                                }
                            })
                            .await?;
                    for (reason, count) in followed.by_reason() {
                        self.metrics
                            .crawl_links
                            .with_label_values(&[reason])
                            .inc_by(count);
                    }
                }
                result.receipt.queue_wait_us = queue_wait_us;
                result.receipt.store_us = claim_us + micros(follow_started.elapsed());
                let stored = self
                    .with_redis(abort, || self.store.complete(&job, &result))
                    .await?;
                ack(delivery).await;
                if stored.applied() {
                    if job.crawl.is_some() {
                        self.metrics.record_crawl_page("done");
                    }
                    self.metrics
                        .record_usage(job.tenant.as_deref(), &result.receipt);
                }
                return Ok(if stored.applied() {
                    JobOutcome::Done
                } else {
                    JobOutcome::Duplicate
                });
            }
            Settlement::Retry {
                successor,
                delay,
                failure,
            } => {
                let jitter = rand::rng().random_range(0.8..=1.0);
                let expiration = ((delay.as_millis() as f64) * jitter) as u64;
                let properties = BasicProperties::default()
                    .with_priority(successor.priority)
                    .with_expiration(expiration.to_string().into());
                let queue = self.broker.topology().retry(delay);
                publisher
                    .publish(&queue, &successor.encode(), properties)
                    .await?;
                (
                    Status::Failed,
                    successor,
                    failure,
                    JobOutcome::Retried,
                    String::new(),
                )
            }
            Settlement::DeadLetter {
                job,
                reason,
                failure,
            } => {
                self.publish_dead(
                    publisher,
                    &job.encode(),
                    job.priority,
                    reason,
                    &failure,
                    job.attempts,
                )
                .await?;
                (
                    Status::Dead,
                    job,
                    failure,
                    JobOutcome::Dead,
                    format!("dead:{reason}"),
                )
            }
            Settlement::Skip {
                job,
                reason,
                failure,
            } => (
                Status::Skipped,
                job,
                failure,
                JobOutcome::Skipped,
                reason.as_str().to_string(),
            ),
        };
        let message = failure.describe();
        let finish = || {
            self.store.finish(
                &job,
                status,
                job.attempts,
                &message,
                &self.worker_id,
                &crawl_reason,
            )
        };
        if job.crawl.is_some() && status.is_terminal() {
            // A crawl's page is counted in its crawl before its delivery is acked: a crawl
            // must not wait forever for a page whose tally was lost.
            if self.with_redis(abort, finish).await?.applied() {
                self.metrics.record_crawl_page(&crawl_reason);
            }
            ack(delivery).await;
        } else {
            ack(delivery).await;
            self.record(&job.id, finish).await;
        }
        Ok(outcome)
    }

    /// Ends a job `cancelled` without running it (further): counted in its crawl, if any,
    /// before its delivery is acked.
    async fn cancel(
        &self,
        delivery: &Delivery,
        job: &Job,
        why: &str,
        abort: &CancellationToken,
    ) -> Result<JobOutcome, Unsettled> {
        let message = format!("cancelled: {why}");
        let finished = self
            .with_redis(abort, || {
                self.store.finish(
                    job,
                    Status::Cancelled,
                    job.attempts,
                    &message,
                    &self.worker_id,
                    "cancelled",
                )
            })
            .await?;
        if finished.applied() && job.crawl.is_some() {
            self.metrics.record_crawl_page("cancelled");
        }
        ack(delivery).await;
        Ok(JobOutcome::Cancelled)
    }

    /// Writes a status after the delivery was acked (its successor being safe in the broker
    /// or in Redis): however long Redis takes, it is written once Redis answers, and no
    /// copy of the job depends on it.
    async fn record<F, Fut>(&self, id: &str, write: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<Transition>>,
    {
        if let Err(e) = self.with_redis(&CancellationToken::new(), write).await {
            tracing::error!(job = %id, error = %e, "could not record the job's status");
        }
    }

    /// Publishes a dead letter with headers saying why, confirmed by the broker.
    async fn publish_dead(
        &self,
        publisher: &Publisher,
        body: &[u8],
        priority: u8,
        reason: DeadReason,
        failure: &Failure,
        attempts: u32,
    ) -> Result<(), Unsettled> {
        let properties = BasicProperties::default()
            .with_priority(priority)
            .with_headers(self.dead_letter_headers(reason, &failure.describe(), attempts));
        publisher
            .publish(&self.broker.topology().dead(), body, properties)
            .await?;
        self.metrics
            .dead_letters
            .with_label_values(&[reason.as_str()])
            .inc();
        Ok(())
    }

    fn dead_letter_headers(
        &self,
        reason: DeadReason,
        last_error: &str,
        attempts: u32,
    ) -> FieldTable {
        let mut headers = FieldTable::default();
        headers.insert(ShortString::from(header::REASON), long_str(reason.as_str()));
        headers.insert(ShortString::from(header::LAST_ERROR), long_str(last_error));
        headers.insert(ShortString::from(header::WORKER), long_str(&self.worker_id));
        headers.insert(
            ShortString::from(header::ATTEMPTS),
            AMQPValue::LongLongInt(i64::from(attempts)),
        );
        headers.insert(
            ShortString::from(header::DEAD_AT_MS),
            AMQPValue::LongLongInt(i64::try_from(now_ms()).unwrap_or(i64::MAX)),
        );
        headers
    }

    /// Runs a Redis operation, retrying with backoff while Redis is unreachable, until it
    /// succeeds, the retries run out, or `abort` is cancelled.
    async fn with_redis<T, F, Fut>(
        &self,
        abort: &CancellationToken,
        operation: F,
    ) -> Result<T, Unsettled>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(100))
            .with_max_delay(STORE_RETRY_MAX_DELAY)
            .with_max_times(STORE_RETRY_TIMES);
        let attempt = operation.retry(backoff).notify(|e, delay| {
            self.readiness.redis.store(false, Ordering::Relaxed);
            tracing::warn!(error = %e, ?delay, "Redis unavailable; retrying");
        });
        let result = tokio::select! {
            result = attempt => result,
            _ = abort.cancelled() => return Err(Unsettled::Aborted),
        };
        if result.is_ok() {
            self.readiness.redis.store(true, Ordering::Relaxed);
        }
        Ok(result?)
    }
}

async fn ack(delivery: &Delivery) {
    if let Err(e) = delivery.ack(BasicAckOptions::default()).await {
        // The channel is gone; the broker redelivers the job to someone, whose copy finds
        // the settled status (or the confirmed successor does the work).
        tracing::warn!(error = %e, "ack failed; the job will be redelivered");
    }
}

fn long_str(s: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(s))
}
