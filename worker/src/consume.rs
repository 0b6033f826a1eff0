//! The AMQP consumer loop, as mini-redis's `Listener`: connect, declare the topology, set
//! QoS, hand each delivery to a [`Handler`] in its own task, drain on shutdown, reconnect
//! with backoff after the broker goes away. It knows nothing about jobs.
//!
//! Every delivery is settled exactly once: by the handler (ack, or nack back to the queue),
//! or, when the handler returns without settling (its task panicked, or shutdown aborted
//! it), by this loop with a nack that requeues it. Deliveries of a lost connection are
//! requeued by the broker itself.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use futures_lite::{FutureExt, StreamExt};
use lapin::message::Delivery;
use lapin::options::{BasicCancelOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions};
use lapin::types::FieldTable;
use lapin::Connection;
use riptide_shared::job::Job;
use riptide_shared::publish::{self, Publisher};
use riptide_shared::settings::BrokerSettings;
use riptide_shared::topology::Topology;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::health::Readiness;

/// How long aborted job tasks get to hand their deliveries back after the drain timeout.
const ABORT_GRACE: Duration = Duration::from_secs(5);

/// How often the connection's state is checked: a connection the broker closed cleanly may
/// end no consumer stream (amqp-rs/lapin#409), and must not leave the worker idle.
const LIVENESS_CHECK: Duration = Duration::from_secs(1);

/// Settles one delivery.
pub trait Handler: Send + Sync + 'static {
    /// Runs the delivery's work and acks or nacks it. `abort` is cancelled when a shutdown's
    /// drain time is over: the handler should then stop and return, leaving the delivery
    /// unsettled (the listener returns it to the queue).
    fn handle(
        &self,
        delivery: &Delivery,
        publisher: &Publisher,
        abort: &CancellationToken,
    ) -> impl Future<Output = ()> + Send;
}

/// The consumer of one queue.
pub struct Listener<H> {
    pub broker: BrokerSettings,
    pub consumer_tag: String,
    /// Unacked deliveries the broker may send at once.
    pub prefetch: u16,
    /// How long a shutdown waits for in-flight deliveries.
    pub drain_timeout: Duration,
    pub readiness: Arc<Readiness>,
    /// Deliveries received and not yet settled.
    pub in_flight: Arc<AtomicUsize>,
    pub handler: Arc<H>,
}

impl<H: Handler> Listener<H> {
    /// Consumes until `shutdown`, reconnecting after broker loss.
    pub async fn run(&self, shutdown: CancellationToken) {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(200))
            .with_max_delay(Duration::from_secs(10))
            .with_jitter()
            .without_max_times();
        let topology = self.broker.topology();
        loop {
            let connect = (|| publish::connect(&self.broker.url, &topology))
                .retry(backoff)
                .notify(
                    |e, delay| tracing::warn!(error = %e, ?delay, "RabbitMQ unreachable; retrying"),
                );
            let (connection, publisher) = tokio::select! {
                _ = shutdown.cancelled() => return,
                connected = connect => match connected {
                    Ok(connected) => connected,
                    Err(e) => { tracing::error!(error = %e, "giving up connecting"); return; }
                },
            };
            match self
                .session(&connection, publisher, &topology, &shutdown)
                .await
            {
                Ok(()) => {
                    let close = connection.close(200, "worker shutting down".into());
                    let _ = tokio::time::timeout(publish::CONNECT_TIMEOUT, close).await;
                    return;
                }
                Err(e) => {
                    self.readiness.broker.store(false, Ordering::Relaxed);
                    tracing::warn!(error = %e, "lost RabbitMQ; reconnecting");
                }
            }
        }
    }

    /// One connection's life (the topology declared by [`publish::connect`]): consume, hand
    /// each delivery to a task. Returns Ok after a drained shutdown, Err when the connection
    /// is lost (its tasks are aborted with the task set; the broker requeues their
    /// deliveries).
    async fn session(
        &self,
        connection: &Connection,
        publisher: Publisher,
        topology: &Topology,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<()> {
        let (consume, mut consumer) = publish::within_connect_timeout(async {
            let consume = connection.create_channel().await?;
            consume
                .basic_qos(self.prefetch.max(1), BasicQosOptions::default())
                .await?;
            let consumer = consume
                .basic_consume(
                    topology.jobs().as_str().into(),
                    self.consumer_tag.as_str().into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await?;
            Ok((consume, consumer))
        })
        .await?;
        self.readiness.broker.store(true, Ordering::Relaxed);
        tracing::info!(prefetch = self.prefetch, "consuming {}", topology.jobs());

        let abort = CancellationToken::new();
        let mut tasks = JoinSet::new();
        let mut liveness = tokio::time::interval(LIVENESS_CHECK);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => {
                    let cancel = consume
                        .basic_cancel(self.consumer_tag.as_str().into(), BasicCancelOptions::default());
                    let _ = tokio::time::timeout(publish::CONNECT_TIMEOUT, cancel).await;
                    tracing::info!(in_flight = tasks.len(), "stopped consuming; finishing in-flight jobs");
                    if !drain(&mut tasks, self.drain_timeout).await {
                        tracing::warn!("drain timeout: unfinished jobs go back to the queue");
                        abort.cancel();
                        drain(&mut tasks, ABORT_GRACE).await;
                    }
                    // Closed one by one and awaited, so closing the connection finds no
                    // channel half-closed.
                    for channel in [&consume, publisher.channel()] {
                        let close = channel.close(200, "worker shutting down".into());
                        let _ = tokio::time::timeout(publish::CONNECT_TIMEOUT, close).await;
                    }
                    return Ok(());
                }
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                _ = liveness.tick() => {
                    if !connection.status().connected() {
                        anyhow::bail!("the connection to RabbitMQ is closed");
                    }
                }
                next = consumer.next() => match next {
                    Some(Ok(delivery)) => {
                        tasks.spawn(settle_once(
                            self.handler.clone(),
                            delivery,
                            publisher.clone(),
                            abort.clone(),
                            InFlight::enter(self.in_flight.clone()),
                        ));
                    }
                    Some(Err(e)) => return Err(e.into()),
                    None => anyhow::bail!("the consumer was cancelled by the broker"),
                },
            }
        }
    }
}

/// Runs the handler and returns the delivery to the queue if the handler left it unsettled,
/// a panic included (logged with the job's id).
async fn settle_once<H: Handler>(
    handler: Arc<H>,
    delivery: Delivery,
    publisher: Publisher,
    abort: CancellationToken,
    _in_flight: InFlight,
) {
    let handled = AssertUnwindSafe(handler.handle(&delivery, &publisher, &abort))
        .catch_unwind()
        .await;
    if handled.is_err() {
        let job = Job::decode(&delivery.data).map_or_else(|_| "<undecodable>".into(), |j| j.id);
        tracing::error!(job = %job, "the job's task panicked; returning its delivery to the queue");
    }
    if delivery.acker.usable() {
        let requeue = BasicNackOptions {
            requeue: true,
            ..Default::default()
        };
        if let Err(e) = delivery.nack(requeue).await {
            tracing::warn!(error = %e, "nack failed; the broker requeues the delivery with the channel");
        }
    }
}

/// Waits for every task, up to `timeout`; true when all finished.
async fn drain(tasks: &mut JoinSet<()>, timeout: Duration) -> bool {
    tokio::time::timeout(timeout, async {
        while tasks.join_next().await.is_some() {}
    })
    .await
    .is_ok()
}

/// Counts a delivery in flight for as long as its task lives, also when the task is aborted
/// with a lost connection.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn enter(counter: Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Self(counter)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
