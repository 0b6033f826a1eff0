//! Consumes jobs from RabbitMQ and carries each one to a stored result.
//!
//! Manual acks, prefetch equal to the sandbox's instance count, and an ack only after Redis
//! holds the outcome: a worker killed at any point loses nothing, because the broker
//! redelivers every unacked job and results are keyed by job id (a redelivered job whose
//! result is already stored is acked without running again).
//!
//! Transient failures (fetch timeouts, 5xx) go to a delayed-retry queue with the attempt
//! count raised; permanent ones (4xx, refused addresses, pages the extractor rejects,
//! messages that do not decode) and jobs out of attempts go to the dead-letter queue with
//! headers saying why. A lost broker connection is re-established with backoff; Redis
//! writes are retried with backoff until Redis is back.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use futures_lite::StreamExt;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions,
    BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use rand::Rng;
use riptide_shared::job::{now_ms, Job, JobKind, JobResult, Status};
use riptide_shared::metrics::JobOutcome;
use riptide_shared::settings::BrokerSettings;
use riptide_shared::topology::{self, header};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::extraction::Extractor;
use crate::fetch::{FetchError, Fetcher};
use crate::health::Readiness;
use crate::metrics::Metrics;
use crate::store::Store;

/// How long Redis writes are retried before the job is handed back to the broker.
const STORE_RETRY_TIMES: usize = 200;
const STORE_RETRY_MAX_DELAY: Duration = Duration::from_secs(3);
/// AMQP persistent delivery mode.
const PERSISTENT: u8 = 2;

/// Everything a job needs on its way through the worker.
pub struct Pipeline {
    pub worker_id: String,
    pub broker: BrokerSettings,
    pub extractor: Arc<Extractor>,
    pub fetcher: Fetcher,
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub readiness: Arc<Readiness>,
    /// Extraction slots: the sandbox's instance count (the native fallback shares them).
    pub slots: Arc<Semaphore>,
    /// Jobs between delivery and ack.
    pub in_flight: AtomicUsize,
    /// How long a shutdown waits for in-flight jobs.
    pub drain_timeout: Duration,
}

/// Why a job did not produce a result.
struct Failure {
    transient: bool,
    reason: &'static str,
    message: String,
}

impl Pipeline {
    fn prefetch(&self) -> u16 {
        u16::try_from(self.slots.available_permits())
            .unwrap_or(u16::MAX)
            .max(1)
    }

    /// Consumes until `shutdown`, reconnecting after broker loss.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(200))
            .with_max_delay(Duration::from_secs(10))
            .with_jitter()
            .without_max_times();
        loop {
            let connect = (|| async {
                Connection::connect(&self.broker.url, ConnectionProperties::default()).await
            })
            .retry(backoff)
            .notify(
                |e, delay| tracing::warn!(error = %e, ?delay, "RabbitMQ unreachable; retrying"),
            );
            let connection = tokio::select! {
                _ = shutdown.cancelled() => return,
                connection = connect => match connection {
                    Ok(connection) => connection,
                    Err(e) => { tracing::error!(error = %e, "giving up connecting"); return; }
                },
            };
            match self.clone().session(&connection, &shutdown).await {
                Ok(()) => {
                    let _ = connection.close(200, "worker shutting down".into()).await;
                    return;
                }
                Err(e) => {
                    self.readiness.broker.store(false, Ordering::Relaxed);
                    tracing::warn!(error = %e, "lost RabbitMQ; reconnecting");
                }
            }
        }
    }

    /// One connection's life: declare, consume, hand each delivery to a task. Returns Ok
    /// after a drained shutdown, Err when the connection is lost.
    async fn session(
        self: Arc<Self>,
        connection: &Connection,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<()> {
        let consume = connection.create_channel().await?;
        let topology = self.broker.topology();
        topology.declare(&consume).await?;
        consume
            .basic_qos(self.prefetch(), BasicQosOptions::default())
            .await?;
        let publish = connection.create_channel().await?;
        publish
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        let tag = format!("riptide-worker-{}", self.worker_id);
        let mut consumer = consume
            .basic_consume(
                topology.jobs().as_str().into(),
                tag.as_str().into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        self.readiness.broker.store(true, Ordering::Relaxed);
        tracing::info!(prefetch = self.prefetch(), "consuming {}", topology.jobs());

        let mut tasks = JoinSet::new();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => {
                    let _ = consume.basic_cancel(tag.as_str().into(), BasicCancelOptions::default()).await;
                    tracing::info!(in_flight = tasks.len(), "stopped consuming; finishing in-flight jobs");
                    let drained = tokio::time::timeout(self.drain_timeout, async {
                        while tasks.join_next().await.is_some() {}
                    }).await;
                    if drained.is_err() {
                        tracing::warn!("drain timeout: unfinished jobs go back to the queue");
                    }
                    // Closed one by one and awaited, so closing the connection finds no
                    // channel half-closed.
                    for channel in [&consume, &publish] {
                        let _ = channel.close(200, "worker shutting down".into()).await;
                    }
                    return Ok(());
                }
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                next = consumer.next() => match next {
                    Some(Ok(delivery)) => {
                        let pipeline = self.clone();
                        let publish = publish.clone();
                        tasks.spawn(async move { pipeline.handle(delivery, &publish).await });
                    }
                    Some(Err(e)) => return Err(e.into()),
                    None => anyhow::bail!("the consumer was cancelled by the broker"),
                },
            }
        }
    }

    async fn handle(&self, delivery: Delivery, publish: &Channel) {
        let _in_flight = InFlight::enter(&self.in_flight);
        let started = Instant::now();
        let (outcome, acked) = match self.process(&delivery, publish).await {
            Ok(outcome) => (outcome, delivery.ack(BasicAckOptions::default()).await),
            Err(e) => {
                tracing::warn!(error = %e, "could not settle the job; returning it to the queue");
                let nacked = delivery
                    .nack(BasicNackOptions {
                        requeue: true,
                        ..Default::default()
                    })
                    .await;
                (JobOutcome::Requeued, nacked)
            }
        };
        self.metrics.record_job(outcome, started.elapsed());
        if let Err(e) = acked {
            // The channel is gone; the broker redelivers the job to someone.
            tracing::warn!(error = %e, "ack failed; the job will be redelivered");
        }
    }

    /// Runs a job to a settled outcome (result stored, retry scheduled, or dead-lettered).
    /// An error means nothing was settled and the job must go back to the queue.
    async fn process(&self, delivery: &Delivery, publish: &Channel) -> anyhow::Result<JobOutcome> {
        let job = match Job::decode(&delivery.data) {
            Ok(job) => job,
            Err(e) => {
                tracing::warn!(error = %e, "undecodable message; dead-lettering it");
                self.dead_letter(
                    publish,
                    &delivery.data,
                    "undecodable",
                    &e.to_string(),
                    0,
                    None,
                )
                .await?;
                return Ok(JobOutcome::Dead);
            }
        };
        if job.attempts == 0 {
            // Retried jobs waited in a retry queue on purpose; only first deliveries show
            // how long the backlog makes new work wait.
            let waited_ms = now_ms().saturating_sub(job.created_at_ms);
            self.metrics
                .job_queue_wait_seconds
                .observe(waited_ms as f64 / 1000.0);
        }
        if self.with_redis(|| self.store.status(&job.id)).await? == Some(Status::Done) {
            return Ok(JobOutcome::Duplicate);
        }
        self.with_redis(|| {
            self.store
                .mark_processing(&job.id, job.attempts, &self.worker_id)
        })
        .await?;

        let outcome = match self.execute(&job).await {
            Ok(result) => {
                self.with_redis(|| self.store.complete(&result)).await?;
                JobOutcome::Done
            }
            Err(failure) => {
                let attempts = job.attempts + 1;
                let message = format!("{}: {}", failure.reason, failure.message);
                if failure.transient && attempts < self.broker.max_attempts {
                    let mut next = job.clone();
                    next.attempts = attempts;
                    self.schedule_retry(publish, &next).await?;
                    self.with_redis(|| {
                        self.store.finish_failed(
                            &job.id,
                            Status::Failed,
                            attempts,
                            &message,
                            &self.worker_id,
                        )
                    })
                    .await?;
                    JobOutcome::Retried
                } else {
                    let reason = if failure.transient {
                        "max-attempts"
                    } else {
                        failure.reason
                    };
                    let mut dead = job.clone();
                    dead.attempts = attempts;
                    self.dead_letter(
                        publish,
                        &dead.encode(),
                        reason,
                        &message,
                        attempts,
                        Some(job.priority),
                    )
                    .await?;
                    self.with_redis(|| {
                        self.store.finish_failed(
                            &job.id,
                            Status::Dead,
                            attempts,
                            &message,
                            &self.worker_id,
                        )
                    })
                    .await?;
                    JobOutcome::Dead
                }
            }
        };
        Ok(outcome)
    }

    async fn execute(&self, job: &Job) -> Result<JobResult, Failure> {
        let mode = job.extraction_mode().map_err(|e| Failure {
            transient: false,
            reason: "invalid-job",
            message: e.to_string(),
        })?;
        let (url, html) = match job.kind {
            JobKind::Html => (job.url.clone(), job.html.clone().unwrap_or_default()),
            JobKind::Url => {
                let page = self.fetcher.fetch(&job.url).await.map_err(|e| match e {
                    FetchError::Transient(m) => Failure {
                        transient: true,
                        reason: "fetch",
                        message: m,
                    },
                    FetchError::Permanent(m) => Failure {
                        transient: false,
                        reason: "fetch",
                        message: m,
                    },
                })?;
                (page.url, page.html)
            }
        };
        let _slot = self.slots.acquire().await.map_err(|_| Failure {
            transient: true,
            reason: "shutdown",
            message: "extraction slots closed".into(),
        })?;
        let extractor = self.extractor.clone();
        let (extraction, url) = tokio::task::spawn_blocking(move || {
            let extraction = extractor.extract(&html, &url, &mode);
            (extraction, url)
        })
        .await
        .map_err(|e| Failure {
            transient: true,
            reason: "internal-error",
            message: format!("extraction task failed: {e}"),
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
            Err(e) => Err(Failure {
                transient: false,
                reason: e.kind(),
                message: e.message().to_string(),
            }),
        }
    }

    /// Publishes the job to the retry tier for its attempt count, with jitter, and waits
    /// for the broker's confirm.
    async fn schedule_retry(&self, publish: &Channel, job: &Job) -> anyhow::Result<()> {
        let delay = topology::retry_delay(job.attempts);
        let jitter = rand::rng().random_range(0.8..=1.0);
        let expiration = ((delay.as_millis() as f64) * jitter) as u64;
        let properties = BasicProperties::default()
            .with_delivery_mode(PERSISTENT)
            .with_priority(job.priority)
            .with_expiration(expiration.to_string().into());
        confirm(
            publish,
            &self.broker.topology().retry(delay),
            &job.encode(),
            properties,
        )
        .await
    }

    /// Publishes a message to the dead-letter queue with the reason in its headers.
    async fn dead_letter(
        &self,
        publish: &Channel,
        body: &[u8],
        reason: &str,
        last_error: &str,
        attempts: u32,
        priority: Option<u8>,
    ) -> anyhow::Result<()> {
        let mut headers = FieldTable::default();
        headers.insert(ShortString::from(header::REASON), long_str(reason));
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
        let properties = BasicProperties::default()
            .with_delivery_mode(PERSISTENT)
            .with_priority(priority.unwrap_or(0))
            .with_headers(headers);
        confirm(publish, &self.broker.topology().dead(), body, properties).await?;
        self.metrics.dead_letters.with_label_values(&[reason]).inc();
        Ok(())
    }

    /// Runs a Redis operation, retrying with backoff while Redis is unreachable.
    async fn with_redis<T, F, Fut>(&self, operation: F) -> anyhow::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(100))
            .with_max_delay(STORE_RETRY_MAX_DELAY)
            .with_max_times(STORE_RETRY_TIMES);
        let result = operation
            .retry(backoff)
            .notify(|e, delay| {
                self.readiness.redis.store(false, Ordering::Relaxed);
                tracing::warn!(error = %e, ?delay, "Redis unavailable; retrying");
            })
            .await;
        if result.is_ok() {
            self.readiness.redis.store(true, Ordering::Relaxed);
        }
        Ok(result?)
    }
}

/// Publishes to a queue through the default exchange and waits for the broker's ack.
async fn confirm(
    publish: &Channel,
    queue: &str,
    body: &[u8],
    properties: BasicProperties,
) -> anyhow::Result<()> {
    let confirmation = publish
        .basic_publish(
            "".into(),
            queue.into(),
            BasicPublishOptions::default(),
            body,
            properties,
        )
        .await?
        .await?;
    anyhow::ensure!(
        !confirmation.is_nack(),
        "the broker refused the message for {queue}"
    );
    Ok(())
}

/// Counts a job in flight for as long as it lives, also when its task is aborted with a
/// lost connection.
struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    fn enter(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Self(counter)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn long_str(s: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(s))
}
