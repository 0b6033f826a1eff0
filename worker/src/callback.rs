//! Webhook deliveries: a job, batch or crawl with a `callback_url` gets its end POSTed
//! there. The delivery is queued in Redis (`keys::callbacks`) in the same Lua step that
//! ends the job or completes the group, so it is recorded exactly once; every worker runs
//! a [`Sender`] that claims due deliveries (moving their score ahead, so a sender that dies
//! mid-delivery leaves one that comes back), POSTs them through the fetcher's SSRF guard,
//! and retries with exponential back-off until the receiver answers 2xx. Each delivery
//! keeps its `X-RipTide-Delivery` id across retries, so a receiver drops duplicates.
//!
//! Signature (`X-RipTide-Signature: t=<unix seconds>,v1=<hex>`): HMAC-SHA256 with
//! `callbacks.secret` over `<t>.<body>`, as Stripe signs its webhooks; a receiver
//! recomputes it and refuses old timestamps.

use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};
use riptide_shared::job::{millis, now_ms};
use riptide_shared::keys;
use riptide_shared::state::script_on_redis_clock;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tokio_util::sync::CancellationToken;

use crate::fetch::Fetcher;

/// Webhook settings (`[callbacks]`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct CallbackConfig {
    /// The HMAC-SHA256 key deliveries are signed with; empty sends them unsigned (and
    /// logs a warning at start).
    pub secret: String,
}

/// How often a sender looks for due deliveries.
const POLL_EVERY: Duration = Duration::from_millis(200);
/// Deliveries claimed per round, at most.
const BATCH: usize = 20;
/// How long a claim lasts before another sender may try the delivery.
const CLAIM: Duration = Duration::from_secs(60);
/// Attempts before a delivery is given up (with back-off capped at [`MAX_BACKOFF`], about
/// a day of trying).
const MAX_ATTEMPTS: u32 = 160;
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(600);

/// One queued delivery, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub url: String,
    /// The JSON body, exactly as signed and sent.
    pub body: String,
    pub delivery_id: String,
    pub attempt: u32,
}

/// KEYS: callbacks set. ARGV: batch size, claim ms. Returns the due deliveries, claimed.
static CLAIM_DUE: LazyLock<Script> = LazyLock::new(|| {
    script_on_redis_clock(
        r#"
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, delivery in ipairs(due) do
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), delivery)
end
return due
"#,
    )
});

/// The `X-RipTide-Signature` value of `body` sent at `timestamp` (Unix seconds).
pub fn signature(secret: &str, timestamp: u64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any size");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Delivers queued webhooks until shutdown.
pub struct Sender {
    pub redis: ConnectionManager,
    /// Whose deliveries it sends: its queue namespace's.
    pub namespace: String,
    pub fetcher: Fetcher,
    pub config: CallbackConfig,
}

impl Sender {
    pub async fn run(&self, shutdown: CancellationToken) {
        if self.config.secret.is_empty() {
            tracing::warn!("callbacks.secret is empty: webhook deliveries go out unsigned");
        }
        let mut every = tokio::time::interval(POLL_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = every.tick() => {}
            }
            if let Err(e) = self.round().await {
                tracing::debug!(error = %e, "webhook round failed; retrying");
            }
        }
    }

    async fn round(&self) -> redis::RedisResult<()> {
        let mut conn = self.redis.clone();
        let due: Vec<String> = CLAIM_DUE
            .key(keys::callbacks(&self.namespace))
            .arg(BATCH)
            .arg(millis(CLAIM))
            .invoke_async(&mut conn)
            .await?;
        for stored in due {
            let Ok(delivery) = serde_json::from_str::<Delivery>(&stored) else {
                tracing::error!(delivery = %stored, "dropping an unreadable webhook delivery");
                conn.zrem::<_, _, ()>(keys::callbacks(&self.namespace), &stored)
                    .await?;
                continue;
            };
            let answer = self.deliver(&delivery).await;
            let mut settle = redis::pipe();
            settle
                .atomic()
                .zrem(keys::callbacks(&self.namespace), &stored);
            match answer {
                Ok(status) if (200..300).contains(&status) => {
                    tracing::debug!(delivery = %delivery.delivery_id, status, "webhook delivered");
                }
                failed if delivery.attempt + 1 >= MAX_ATTEMPTS => {
                    tracing::error!(delivery = %delivery.delivery_id, url = %delivery.url, ?failed, "webhook given up after {MAX_ATTEMPTS} attempts");
                }
                failed => {
                    let next = Delivery {
                        attempt: delivery.attempt + 1,
                        ..delivery.clone()
                    };
                    let wait = backoff(next.attempt);
                    tracing::info!(delivery = %delivery.delivery_id, ?failed, ?wait, "webhook not accepted; retrying");
                    let at = now_ms().saturating_add(millis(wait));
                    let json = serde_json::to_string(&next).unwrap_or_default();
                    settle.zadd(keys::callbacks(&self.namespace), json, at);
                }
            }
            settle.query_async::<()>(&mut conn).await?;
        }
        Ok(())
    }

    /// POSTs one delivery; the receiver's status, or why there was none.
    async fn deliver(&self, delivery: &Delivery) -> Result<u16, String> {
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut headers = vec![
            ("x-riptide-delivery", delivery.delivery_id.clone()),
            ("x-riptide-attempt", (delivery.attempt + 1).to_string()),
        ];
        if !self.config.secret.is_empty() {
            headers.push((
                "x-riptide-signature",
                signature(&self.config.secret, timestamp, &delivery.body),
            ));
        }
        self.fetcher
            .post_json(&delivery.url, &delivery.body, &headers)
            .await
            .map_err(|e| e.to_string())
    }
}

/// The wait before attempt `attempt` (1 for the first retry): doubling from a second,
/// capped at ten minutes.
fn backoff(attempt: u32) -> Duration {
    FIRST_BACKOFF
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
        .min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_over_timestamp_and_body() {
        // RFC 4231 test case 2 key and data, framed as `<t>.<body>`: checked against
        // Python's `hmac.new(b"Jefe", b"1.what do ya want for nothing?", "sha256")`.
        assert_eq!(
            signature("Jefe", 1, "what do ya want for nothing?"),
            format!(
                "t=1,v1={}",
                "a9049465ce89cfb8e9aac62333abda66f80e3403f51f57f6bae3c3a4485eca38"
            )
        );
    }

    #[test]
    fn back_off_doubles_to_a_cap() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(5), Duration::from_secs(16));
        assert_eq!(backoff(50), MAX_BACKOFF);
    }
}
