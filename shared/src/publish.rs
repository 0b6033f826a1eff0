//! The one way RipTide publishes a message, used by the worker (retries, dead letters) and
//! the dispatcher (enqueue, dead-letter replay) alike.
//!
//! A publisher confirm alone only says the broker took the message, not that a queue did:
//! a message to a queue that does not exist is confirmed and dropped. So every publish is
//! `mandatory`, and a message the broker returns as unroutable is a failure, like a nack.
//! The caller settles what it is replacing (acks the original delivery) only after
//! [`Publisher::publish`] returned Ok.

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection};

/// AMQP delivery mode 2: the broker writes the message to disk.
pub const PERSISTENT: u8 = 2;

/// Why a message did not reach its queue.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The channel or connection failed before the broker confirmed.
    #[error("publishing to {queue}: {source}")]
    Broker {
        queue: String,
        #[source]
        source: lapin::Error,
    },
    /// The broker refused the message (a nack: it could not store it).
    #[error("the broker refused the message for {queue}")]
    Refused { queue: String },
    /// No queue took the message (it does not exist, or was deleted).
    #[error("the broker returned the message for {queue} as unroutable: {reply}")]
    Unroutable { queue: String, reply: String },
}

/// Headers the broker keeps on a message itself: republished, they would be wrong on the
/// new copy (and RabbitMQ 3.10 fails the channel on a quorum queue publish carrying one).
const BROKER_HEADERS: [&str; 2] = ["x-delivery-count", "x-acquired-count"];

/// The properties to publish a consumed message again with: its own, without the counters
/// the broker added on delivery.
pub fn republished(properties: &BasicProperties) -> BasicProperties {
    let mut properties = properties.clone();
    if let Some(headers) = properties.headers().clone() {
        let mut kept = headers.inner().clone();
        kept.retain(|name, _| !BROKER_HEADERS.contains(&name.as_str()));
        properties = properties.with_headers(FieldTable::from(kept));
    }
    properties
}

/// A channel in confirm mode.
#[derive(Clone)]
pub struct Publisher {
    channel: Channel,
}

impl Publisher {
    /// Opens a channel on `connection` and puts it in confirm mode.
    pub async fn open(connection: &Connection) -> lapin::Result<Self> {
        let channel = connection.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        Ok(Self { channel })
    }

    /// The underlying channel (to declare the topology, or close it).
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// Whether the channel is still usable.
    pub fn is_connected(&self) -> bool {
        self.channel.status().connected()
    }

    /// Publishes `body` to `queue` through the default exchange, persistent, and waits for
    /// the broker's confirm. Ok means a queue holds the message.
    pub async fn publish(
        &self,
        queue: &str,
        body: &[u8],
        properties: BasicProperties,
    ) -> Result<(), PublishError> {
        let broker = |source| PublishError::Broker {
            queue: queue.to_string(),
            source,
        };
        let confirmation = self
            .channel
            .basic_publish(
                "".into(),
                queue.into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..Default::default()
                },
                body,
                properties.with_delivery_mode(PERSISTENT),
            )
            .await
            .map_err(broker)?
            .await
            .map_err(broker)?;
        let refused = confirmation.is_nack();
        if let Some(returned) = confirmation.take_message() {
            return Err(PublishError::Unroutable {
                queue: queue.to_string(),
                reply: format!("{} {}", returned.reply_code, returned.reply_text),
            });
        }
        if refused {
            return Err(PublishError::Refused {
                queue: queue.to_string(),
            });
        }
        Ok(())
    }
}
