//! The RabbitMQ topology, declared idempotently by every binary at connect time.
//!
//! Everything is published through the default exchange with the queue name as routing
//! key, so producers need no bindings. Queue names start with a namespace (`riptide` by
//! default), so several fleets (or test runs) can share a broker:
//! - `<ns>.jobs`: quorum queue of jobs. A message redelivered more than
//!   [`DELIVERY_LIMIT`] times (a page that keeps killing workers) is dead-lettered by the
//!   broker into `<ns>.dead`.
//! - `<ns>.retry.<delay>`: quorum queues with a message TTL that dead-letter expired
//!   messages back into `<ns>.jobs`: delayed retries without a plugin.
//! - `<ns>.dead`: quorum queue of jobs that failed for good, each with headers saying why.
//!
//! Every queue is a quorum queue (replicated on a cluster), and every broker-side
//! dead-lettering (delivery limit, retry TTL) is `at-least-once`: the broker keeps the
//! message until the target queue confirmed it, which quorum queues allow only with the
//! `reject-publish` overflow policy. That policy also means a queue given a length limit
//! (by an operator's policy) refuses new messages, which publishers see as a failure,
//! rather than silently dropping its oldest ones. The dead-letter queue's delivery limit is
//! explicit ([`DEAD_DELIVERY_LIMIT`]): RabbitMQ 4 otherwise applies 20, after which browsed
//! or replayed dead letters would be dropped.
//!
//! Works on RabbitMQ 3.10+ (quorum queues with message TTL and at-least-once
//! dead-lettering) and on 3.13/4.x. Deployments whose queues were declared with other
//! arguments by an older release are migrated with `riptide-dispatcher migrate-queues`.

use std::time::Duration;

use lapin::options::QueueDeclareOptions;
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::Channel;

/// The default namespace of queue names.
pub const DEFAULT_NAMESPACE: &str = "riptide";

/// Redeliveries (crashes mid-job) after which the broker dead-letters a job.
pub const DELIVERY_LIMIT: i64 = 20;

/// Redeliveries of a dead letter (each `dlq list` returns what it browsed) before the
/// broker would drop it: high enough never to be reached by operators.
pub const DEAD_DELIVERY_LIMIT: i64 = 1_000_000;

/// Delays of the retry tiers: attempt n waits about `RETRY_DELAYS[min(n-1, last)]`.
pub const RETRY_DELAYS: [Duration; 4] = [
    Duration::from_secs(1),
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(120),
];

/// Headers on dead-lettered messages.
pub mod header {
    pub const REASON: &str = "x-riptide-reason";
    pub const ATTEMPTS: &str = "x-riptide-attempts";
    pub const LAST_ERROR: &str = "x-riptide-last-error";
    pub const WORKER: &str = "x-riptide-worker";
    pub const DEAD_AT_MS: &str = "x-riptide-dead-at-ms";
}

/// The retry tier for a job that has failed `attempts` times (1 = first failure).
pub fn retry_delay(attempts: u32) -> Duration {
    let tier = usize::try_from(attempts.saturating_sub(1)).unwrap_or(usize::MAX);
    RETRY_DELAYS[tier.min(RETRY_DELAYS.len() - 1)]
}

/// The queue names of one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    namespace: String,
}

impl Topology {
    /// The namespace the queue names start with.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    pub fn new(namespace: &str) -> Self {
        Self {
            namespace: namespace.to_string(),
        }
    }

    /// The jobs queue producers publish to.
    pub fn jobs(&self) -> String {
        format!("{}.jobs", self.namespace)
    }

    /// The dead-letter queue.
    pub fn dead(&self) -> String {
        format!("{}.dead", self.namespace)
    }

    /// The retry queue for a delay.
    pub fn retry(&self, delay: Duration) -> String {
        format!("{}.retry.{}s", self.namespace, delay.as_secs())
    }

    /// Every queue: jobs, the retry tiers, dead letters.
    pub fn all(&self) -> Vec<String> {
        let mut queues = vec![self.jobs()];
        queues.extend(RETRY_DELAYS.iter().map(|d| self.retry(*d)));
        queues.push(self.dead());
        queues
    }

    /// Declares every queue; declaring an existing queue with the same arguments is a no-op.
    /// A queue that exists with other arguments fails with PRECONDITION_FAILED (see
    /// [`Topology::arguments`] and `riptide-dispatcher migrate-queues`).
    pub async fn declare(&self, channel: &Channel) -> lapin::Result<()> {
        for queue in self.all() {
            channel
                .queue_declare(
                    queue.as_str().into(),
                    QueueDeclareOptions::durable(),
                    self.arguments(&queue),
                )
                .await?;
        }
        Ok(())
    }

    /// The declaration arguments of one of [`Topology::all`]'s queues.
    pub fn arguments(&self, queue: &str) -> FieldTable {
        let mut args = FieldTable::default();
        args.insert(short("x-queue-type"), long_str("quorum"));
        args.insert(short("x-overflow"), long_str("reject-publish"));
        let retry_delay = RETRY_DELAYS.iter().find(|d| self.retry(**d) == queue);
        let (delivery_limit, dead_letter_to) = if queue == self.jobs() {
            (Some(DELIVERY_LIMIT), Some(self.dead()))
        } else if queue == self.dead() {
            (Some(DEAD_DELIVERY_LIMIT), None)
        } else {
            (None, retry_delay.map(|_| self.jobs()))
        };
        if let Some(limit) = delivery_limit {
            args.insert(short("x-delivery-limit"), AMQPValue::LongLongInt(limit));
        }
        if let Some(target) = dead_letter_to {
            args.insert(short("x-dead-letter-exchange"), long_str(""));
            args.insert(short("x-dead-letter-routing-key"), long_str(&target));
            args.insert(short("x-dead-letter-strategy"), long_str("at-least-once"));
        }
        if let Some(delay) = retry_delay {
            let ttl = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
            args.insert(short("x-message-ttl"), AMQPValue::LongLongInt(ttl));
        }
        args
    }
}

fn short(s: &str) -> ShortString {
    s.into()
}

fn long_str(s: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_tiers_grow_and_cap() {
        assert_eq!(retry_delay(1), Duration::from_secs(1));
        assert_eq!(retry_delay(2), Duration::from_secs(5));
        assert_eq!(retry_delay(40), Duration::from_secs(120));
        let topology = Topology::new(DEFAULT_NAMESPACE);
        assert_eq!(topology.all().len(), 6);
        assert_eq!(topology.jobs(), "riptide.jobs");
        assert_eq!(topology.retry(Duration::from_secs(30)), "riptide.retry.30s");
    }
}
