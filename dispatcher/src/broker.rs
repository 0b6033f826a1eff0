//! The dispatcher's RabbitMQ side: a publisher with confirms that reconnects by itself,
//! queue depths, and the dead-letter queue.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use lapin::options::{
    BasicAckOptions, BasicGetOptions, BasicNackOptions, BasicPublishOptions, ConfirmSelectOptions,
    QueueDeclareOptions, QueueDeleteOptions, QueuePurgeOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use riptide_shared::job::Job;
use riptide_shared::settings::BrokerSettings;
use riptide_shared::topology::{header, Topology};
use serde::Serialize;
use tokio::sync::Mutex;

/// AMQP persistent delivery mode.
const PERSISTENT: u8 = 2;
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
    channel: Channel,
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

    /// The current channel, connecting (and declaring the topology) when there is none.
    async fn channel(&self) -> lapin::Result<Channel> {
        let mut session = self.session.lock().await;
        if let Some(s) = session.as_ref() {
            if s.connection.status().connected() && s.channel.status().connected() {
                return Ok(s.channel.clone());
            }
        }
        let connection = Connection::connect(&self.url, ConnectionProperties::default()).await?;
        let channel = connection.create_channel().await?;
        self.topology.declare(&channel).await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        *session = Some(Session {
            connection,
            channel: channel.clone(),
        });
        Ok(channel)
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
            let channel = self.channel().await?;
            let properties = BasicProperties::default()
                .with_delivery_mode(PERSISTENT)
                .with_priority(job.priority)
                .with_message_id(job.id.as_str().into());
            let confirm = async {
                channel
                    .basic_publish(
                        "".into(),
                        queue.into(),
                        BasicPublishOptions::default(),
                        &body,
                        properties,
                    )
                    .await?
                    .await
            };
            match confirm.await {
                Ok(confirmation) if !confirmation.is_nack() => Ok(()),
                Ok(_) => {
                    self.reset().await;
                    Err(anyhow::anyhow!("the broker refused job {}", job.id))
                }
                Err(e) => {
                    self.reset().await;
                    Err(anyhow::Error::from(e))
                }
            }
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
            let declared = channel
                .queue_declare(
                    queue.as_str().into(),
                    QueueDeclareOptions {
                        passive: true,
                        ..Default::default()
                    },
                    FieldTable::default(),
                )
                .await;
            match declared {
                Ok(q) => depths.push((queue, q.message_count())),
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
        // A channel of its own: closing it returns every browsed message to the queue.
        let connection = Connection::connect(&self.url, ConnectionProperties::default()).await?;
        let channel = connection.create_channel().await?;
        self.topology.declare(&channel).await?;
        let mut letters = Vec::new();
        while letters.len() < limit {
            let Some(message) = channel
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
    /// with their attempt count reset. Returns the ids replayed.
    pub async fn replay(&self, only: &[String]) -> anyhow::Result<Vec<String>> {
        let connection = Connection::connect(&self.url, ConnectionProperties::default()).await?;
        let channel = connection.create_channel().await?;
        self.topology.declare(&channel).await?;
        let mut replayed = Vec::new();
        let mut skipped = Vec::new();
        while let Some(message) = channel
            .basic_get(
                self.topology.dead().as_str().into(),
                BasicGetOptions::default(),
            )
            .await?
        {
            let delivery = message.delivery;
            let job = Job::decode(&delivery.data).ok();
            let wanted = only.is_empty() || job.as_ref().is_some_and(|j| only.contains(&j.id));
            match job {
                Some(mut job) if wanted => {
                    job.attempts = 0;
                    self.publish(&job).await?;
                    channel
                        .basic_ack(delivery.delivery_tag, BasicAckOptions::default())
                        .await?;
                    replayed.push(job.id);
                }
                // Undecodable or not asked for: stays dead.
                _ => skipped.push(delivery.delivery_tag),
            }
        }
        for tag in skipped {
            channel
                .basic_nack(
                    tag,
                    BasicNackOptions {
                        requeue: true,
                        ..Default::default()
                    },
                )
                .await?;
        }
        connection.close(200, "replayed".into()).await?;
        Ok(replayed)
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
        reason: text(header::REASON).or_else(|| get("x-death").map(|_| "delivery-limit".into())),
        attempts: number(header::ATTEMPTS),
        last_error: text(header::LAST_ERROR),
        worker: text(header::WORKER),
        dead_at_ms: number(header::DEAD_AT_MS),
    }
}
