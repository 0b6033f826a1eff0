//! The dispatcher's RabbitMQ side: the shared confirmed publisher, reconnected by itself,
//! queue depths, the dead-letter queue, and the migration of queues declared by older
//! releases.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use lapin::options::{
    BasicAckOptions, BasicGetOptions, QueueDeclareOptions, QueueDeleteOptions, QueuePurgeOptions,
};
use lapin::protocol::{AMQPErrorKind, AMQPSoftError};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Connection};
use riptide_shared::job::Job;
use riptide_shared::outcome::DeadReason;
use riptide_shared::publish::{self, republished, ConnectError, Publisher};
use riptide_shared::settings::BrokerSettings;
use riptide_shared::topology::{header, Topology};
use serde::Serialize;
use tokio::sync::Mutex;

use crate::jobs::Jobs;

/// Attempts at publishing one job across reconnects before giving up.
const PUBLISH_ATTEMPTS: usize = 30;

/// A confirming publisher over one connection, replaced when the broker goes away.
pub struct Broker {
    url: String,
    topology: Topology,
    session: Mutex<Option<Session>>,
}

struct Session {
    connection: Connection,
    publisher: Publisher,
}

/// One message of the dead-letter queue, as `dlq list` shows it.
#[derive(Debug, Serialize)]
pub struct DeadLetter {
    pub id: Option<String>,
    pub url: Option<String>,
    pub reason: Option<String>,
    pub attempts: Option<i64>,
    pub last_error: Option<String>,
    pub worker: Option<String>,
    pub dead_at_ms: Option<i64>,
}

impl Broker {
    pub fn new(settings: &BrokerSettings) -> Self {
        Self {
            url: settings.url.clone(),
            topology: settings.topology(),
            session: Mutex::new(None),
        }
    }

    /// The queue namespace this broker publishes to.
    pub fn namespace(&self) -> &str {
        self.topology.namespace()
    }

    /// The current publisher, connecting (and declaring the topology) when there is none.
    async fn publisher(&self) -> Result<Publisher, ConnectError> {
        let mut session = self.session.lock().await;
        if let Some(s) = session.as_ref() {
            if s.connection.status().connected() && s.publisher.is_connected() {
                return Ok(s.publisher.clone());
            }
        }
        let (connection, publisher) = publish::connect(&self.url, &self.topology).await?;
        *session = Some(Session {
            connection,
            publisher: publisher.clone(),
        });
        Ok(publisher)
    }

    /// The current publisher's channel, for declarations and queue operations.
    async fn channel(&self) -> Result<Channel, ConnectError> {
        Ok(self.publisher().await?.channel().clone())
    }

    /// A connection of its own with the topology declared, for work that holds messages
    /// unacked (browsing, replaying): closing it returns whatever is left to the queue.
    async fn dedicated(&self) -> Result<(Connection, Publisher), ConnectError> {
        publish::connect(&self.url, &self.topology).await
    }

    /// Closes the connection cleanly (the broker logs no error, unconfirmed work is not lost).
    pub async fn close(&self) {
        if let Some(session) = self.session.lock().await.take() {
            let _ = session
                .connection
                .close(200, "dispatcher done".into())
                .await;
        }
    }

    async fn reset(&self) {
        *self.session.lock().await = None;
    }

    /// Publishes a job and waits for the broker's confirm, reconnecting and retrying with
    /// backoff when the broker is away. A returned Ok means the broker has the job.
    pub async fn publish(&self, job: &Job) -> anyhow::Result<()> {
        self.publish_to(&self.topology.jobs(), job).await
    }

    async fn publish_to(&self, queue: &str, job: &Job) -> anyhow::Result<()> {
        let body = job.encode();
        let attempt = || async {
            let publisher = self.publisher().await?;
            let properties = BasicProperties::default()
                .with_priority(job.priority)
                .with_message_id(job.id.as_str().into());
            let published = publisher.publish(queue, &body, properties).await;
            if published.is_err() {
                self.reset().await;
            }
            Ok::<(), anyhow::Error>(published?)
        };
        attempt
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(Duration::from_millis(200))
                    .with_max_delay(Duration::from_secs(5))
                    .with_max_times(PUBLISH_ATTEMPTS),
            )
            .notify(|e, delay| tracing::warn!(error = %e, ?delay, "publish failed; retrying"))
            .await
    }

    /// Messages waiting in each queue of the topology.
    pub async fn queue_depths(&self) -> anyhow::Result<Vec<(String, u32)>> {
        let channel = self.channel().await?;
        let mut depths = Vec::new();
        for queue in self.topology.all() {
            match depth(&channel, &queue).await {
                Ok(held) => depths.push((queue, held)),
                Err(e) => {
                    self.reset().await;
                    return Err(e.into());
                }
            }
        }
        Ok(depths)
    }

    /// Up to `limit` dead letters, left in the queue.
    pub async fn dead_letters(&self, limit: usize) -> anyhow::Result<Vec<DeadLetter>> {
        // Closing the dedicated connection returns every browsed message to the queue.
        let (connection, publisher) = self.dedicated().await?;
        let mut letters = Vec::new();
        while letters.len() < limit {
            let Some(message) = publisher
                .channel()
                .basic_get(
                    self.topology.dead().as_str().into(),
                    BasicGetOptions::default(),
                )
                .await?
            else {
                break;
            };
            letters.push(describe(
                &message.delivery.data,
                message.delivery.properties.headers().as_ref(),
            ));
        }
        connection.close(200, "browsed".into()).await?;
        Ok(letters)
    }

    /// Moves dead letters back to the jobs queue (all of them, or those with the given ids)
    /// with their attempt count reset and their status `queued` again. Returns the ids
    /// replayed.
    ///
    /// Streams: each message is settled before the next is taken, so memory and unacked
    /// messages stay bounded however long the queue. A message not asked for is published
    /// again at the back of the queue (with its headers) before it is acked; only as many
    /// messages as the queue held at the start are looked at.
    pub async fn replay(&self, jobs: &Jobs, only: &[String]) -> anyhow::Result<Vec<String>> {
        let (connection, publisher) = self.dedicated().await?;
        let channel = publisher.channel().clone();
        let dead = self.topology.dead();
        let held = depth(&channel, &dead).await?;
        let mut replayed = Vec::new();
        for _ in 0..held {
            let Some(message) = channel
                .basic_get(dead.as_str().into(), BasicGetOptions::default())
                .await?
            else {
                break;
            };
            let delivery = message.delivery;
            let job = Job::decode(&delivery.data).ok();
            let wanted = only.is_empty() || job.as_ref().is_some_and(|j| only.contains(&j.id));
            match job {
                Some(mut job) if wanted => {
                    job.attempts = 0;
                    // A dead job's status is terminal: without this, workers would take
                    // the replayed copy for a stale one and drop it.
                    jobs.reopen_dead(&job.id).await?;
                    self.publish(&job).await?;
                    replayed.push(job.id);
                }
                // Undecodable or not asked for: stays dead, at the back of the queue.
                _ => {
                    publisher
                        .publish(&dead, &delivery.data, republished(&delivery.properties))
                        .await?
                }
            }
            channel
                .basic_ack(delivery.delivery_tag, BasicAckOptions::default())
                .await?;
        }
        connection.close(200, "replayed".into()).await?;
        Ok(replayed)
    }

    /// Brings the namespace's queues to the current topology: each queue declared by an
    /// older release with other arguments (classic retry tiers, a dead-letter queue without
    /// its delivery limit) is emptied into a holding queue, declared anew, and refilled,
    /// every message moved with a confirmed publish before it is acked. Returns the queues
    /// migrated. Run it with the workers stopped (they reconnect once it is done).
    pub async fn migrate_queues(&self) -> anyhow::Result<Vec<String>> {
        let connection = publish::open_connection(&self.url).await?;
        let mut migrated = Vec::new();
        for queue in self.topology.all() {
            let holding = format!("{queue}.migrating");
            let publisher = Publisher::open(&connection).await?;
            let declared = self.declare_current(publisher.channel(), &queue).await;
            let publisher = match declared {
                // An earlier run that stopped half-way left messages in the holding queue.
                Ok(()) if queue_exists(&connection, &holding).await? => publisher,
                Ok(()) => continue,
                // The broker closed the channel: the queue exists with other arguments.
                Err(e) if is_precondition_failed(&e) => {
                    let publisher = Publisher::open(&connection).await?;
                    let channel = publisher.channel();
                    let mut holding_args = FieldTable::default();
                    holding_args.insert(
                        "x-queue-type".into(),
                        AMQPValue::LongString("quorum".into()),
                    );
                    channel
                        .queue_declare(
                            holding.as_str().into(),
                            QueueDeclareOptions::durable(),
                            holding_args,
                        )
                        .await?;
                    move_messages(&publisher, &queue, &holding).await?;
                    channel
                        .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                        .await?;
                    self.declare_current(channel, &queue).await?;
                    let _ = channel.close(200, "redeclared".into()).await;
                    // A fresh channel: RabbitMQ 3.10 keeps a channel's view of a queue's
                    // type, and a publish on the old channel to the redeclared queue fails.
                    Publisher::open(&connection).await?
                }
                Err(e) => return Err(e.into()),
            };
            let moved = move_messages(&publisher, &holding, &queue).await?;
            publisher
                .channel()
                .queue_delete(holding.as_str().into(), QueueDeleteOptions::default())
                .await?;
            tracing::info!(queue, messages = moved, "migrated");
            migrated.push(queue);
        }
        // The probes the broker refused left channels it closed itself; closing the
        // connection may report them, and the work is done either way.
        let _ = connection.close(200, "migrated".into()).await;
        self.reset().await;
        Ok(migrated)
    }

    async fn declare_current(&self, channel: &Channel, queue: &str) -> lapin::Result<()> {
        channel
            .queue_declare(
                queue.into(),
                QueueDeclareOptions::durable(),
                self.topology.arguments(queue),
            )
            .await
            .map(|_| ())
    }

    /// Deletes every queue of the namespace (tests, decommissioning a namespace).
    pub async fn delete_queues(&self) -> anyhow::Result<()> {
        let channel = self.channel().await?;
        for queue in self.topology.all() {
            channel
                .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                .await?;
        }
        self.reset().await;
        Ok(())
    }

    /// Deletes every dead letter. Returns how many there were.
    pub async fn purge_dead(&self) -> anyhow::Result<u32> {
        let channel = self.channel().await?;
        Ok(channel
            .queue_purge(
                self.topology.dead().as_str().into(),
                QueuePurgeOptions::default(),
            )
            .await?)
    }
}

fn describe(body: &[u8], headers: Option<&FieldTable>) -> DeadLetter {
    let job = Job::decode(body).ok();
    let get = |name: &str| headers.and_then(|h| h.inner().get(name)).cloned();
    let text = |name: &str| match get(name) {
        Some(AMQPValue::LongString(s)) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        Some(AMQPValue::ShortString(s)) => Some(s.as_str().to_string()),
        _ => None,
    };
    let number = |name: &str| match get(name) {
        Some(AMQPValue::LongLongInt(n)) => Some(n),
        Some(AMQPValue::LongInt(n)) => Some(i64::from(n)),
        _ => None,
    };
    DeadLetter {
        id: job.as_ref().map(|j| j.id.clone()),
        url: job.as_ref().map(|j| j.url.clone()),
        // Jobs the broker dead-lettered itself (delivery limit) carry no reason of ours.
        reason: text(header::REASON)
            .or_else(|| get("x-death").map(|_| DeadReason::DeliveryLimit.as_str().into())),
        attempts: number(header::ATTEMPTS),
        last_error: text(header::LAST_ERROR),
        worker: text(header::WORKER),
        dead_at_ms: number(header::DEAD_AT_MS),
    }
}

/// Moves every message of `from` to `to`, each confirmed before it is acked; returns how many.
async fn move_messages(publisher: &Publisher, from: &str, to: &str) -> anyhow::Result<u64> {
    let mut moved = 0;
    while let Some(message) = publisher
        .channel()
        .basic_get(from.into(), BasicGetOptions::default())
        .await?
    {
        let delivery = message.delivery;
        publisher
            .publish(to, &delivery.data, republished(&delivery.properties))
            .await?;
        publisher
            .channel()
            .basic_ack(delivery.delivery_tag, BasicAckOptions::default())
            .await?;
        moved += 1;
    }
    Ok(moved)
}

/// Messages ready in `queue` (a passive declare: fails, closing the channel, if the queue
/// does not exist).
async fn depth(channel: &Channel, queue: &str) -> lapin::Result<u32> {
    let passive = QueueDeclareOptions {
        passive: true,
        ..Default::default()
    };
    Ok(channel
        .queue_declare(queue.into(), passive, FieldTable::default())
        .await?
        .message_count())
}

/// Whether `queue` exists (a passive declare, on a channel of its own: a missing queue
/// closes the channel).
async fn queue_exists(connection: &Connection, queue: &str) -> lapin::Result<bool> {
    let channel = connection.create_channel().await?;
    let exists = depth(&channel, queue).await.is_ok();
    if exists {
        channel.close(200, "checked".into()).await?;
    }
    Ok(exists)
}

fn is_precondition_failed(error: &lapin::Error) -> bool {
    matches!(
        error.kind(),
        lapin::ErrorKind::ProtocolError(e)
            if *e.kind() == AMQPErrorKind::Soft(AMQPSoftError::PRECONDITIONFAILED)
    )
}
