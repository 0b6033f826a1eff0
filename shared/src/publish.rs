//! The one way RipTide publishes a message, used by the worker (retries, dead letters) and
//! the dispatcher (enqueue, dead-letter replay) alike.
//!
//! A publisher confirm alone only says the broker took the message, not that a queue did:
//! a message to a queue that does not exist is confirmed and dropped. So every publish is
//! `mandatory`, and a message the broker returns as unroutable is a failure, like a nack.
//! The caller settles what it is replacing (acks the original delivery) only after
//! [`Publisher::publish`] returned Ok.
//!
//! Every wait on the broker here is bounded. lapin has left futures pending when the broker
//! closed a connection cleanly, as `rabbitmqctl stop_app` and a rolling restart do
//! (amqp-rs/lapin#409, open), and when it refused a connection mid-handshake (#470): unbounded,
//! a publish or a connect in flight at that moment would wait forever instead of failing and
//! reconnecting, holding its delivery (worker) or its caller (dispatcher) with it.

use std::time::Duration;

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};

use crate::topology::Topology;

/// How long connecting, opening a confirming channel and declaring the topology may take;
/// also the bound on each step of a clean disconnect (cancelling a consumer, closing).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// How long a publish may wait for the broker's confirm (quorum queues confirm once a
/// majority wrote the message: milliseconds normally, seconds under load).
pub const CONFIRM_TIMEOUT: Duration = Duration::from_secs(30);

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
    /// No confirm came within [`CONFIRM_TIMEOUT`]: the connection is presumed lost.
    #[error("no confirm from the broker for {queue} within {CONFIRM_TIMEOUT:?}")]
    Unconfirmed { queue: String },
}

/// Why no connection to the broker could be set up.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("connecting to RabbitMQ: {0}")]
    Broker(#[from] lapin::Error),
    #[error("connecting to RabbitMQ took longer than {CONNECT_TIMEOUT:?}")]
    TimedOut,
}

/// Runs one step of setting up a connection within [`CONNECT_TIMEOUT`].
pub async fn within_connect_timeout<T>(
    step: impl std::future::Future<Output = lapin::Result<T>>,
) -> Result<T, ConnectError> {
    Ok(tokio::time::timeout(CONNECT_TIMEOUT, step)
        .await
        .map_err(|_| ConnectError::TimedOut)??)
}

/// A new connection to `url`.
pub async fn open_connection(url: &str) -> Result<Connection, ConnectError> {
    within_connect_timeout(Connection::connect(url, ConnectionProperties::default())).await
}

/// A new connection to `url` with a confirming publisher on it and `topology` declared.
pub async fn connect(
    url: &str,
    topology: &Topology,
) -> Result<(Connection, Publisher), ConnectError> {
    let connection = open_connection(url).await?;
    let publisher = within_connect_timeout(async {
        let publisher = Publisher::open(&connection).await?;
        topology.declare(publisher.channel()).await?;
        Ok(publisher)
    })
    .await?;
    Ok((connection, publisher))
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
        let confirmed = async {
            self.channel
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
                .await?
                .await
        };
        let confirmation = tokio::time::timeout(CONFIRM_TIMEOUT, confirmed)
            .await
            .map_err(|_| PublishError::Unconfirmed {
                queue: queue.to_string(),
            })?
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A broker that accepts the TCP connection and never says a word: connecting must fail
    /// with a timeout, not wait forever (time is paused, so the test does not wait either).
    #[tokio::test(start_paused = true)]
    async fn a_broker_that_never_answers_fails_the_connect_in_time() {
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("amqp://guest:guest@{}/%2f", silent.local_addr().unwrap());
        let accepted = tokio::spawn(async move { silent.accept().await.map(|(socket, _)| socket) });
        let started = tokio::time::Instant::now();
        let outcome = open_connection(&url).await;
        assert!(
            matches!(outcome, Err(ConnectError::TimedOut)),
            "{:?}",
            outcome.err()
        );
        assert_eq!(started.elapsed(), CONNECT_TIMEOUT);
        drop(accepted);
    }
}
