//! Connection settings shared by the worker and the dispatcher (`[broker]`, `[redis]`
//! sections; `RIPTIDE_BROKER__URL`, `RIPTIDE_REDIS__URL`, ...), and the one way both load
//! their configuration.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Loads a configuration: `T::default()` < the TOML `file`, if any < environment variables
/// `RIPTIDE_<SECTION>__<KEY>` (`__` separates nesting levels).
pub fn load<T: Default + Serialize + DeserializeOwned>(
    file: Option<&Path>,
) -> Result<T, config::ConfigError> {
    let mut builder =
        config::Config::builder().add_source(config::Config::try_from(&T::default())?);
    if let Some(file) = file {
        builder = builder.add_source(config::File::from(file));
    }
    builder
        .add_source(
            config::Environment::with_prefix("RIPTIDE")
                .prefix_separator("_")
                .separator("__")
                .try_parsing(true),
        )
        .build()?
        .try_deserialize()
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct BrokerSettings {
    /// AMQP URL of RabbitMQ.
    pub url: String,
    /// Deliveries ending in a transient failure before a job is dead-lettered.
    pub max_attempts: u32,
    /// Prefix of every queue name (see `topology`).
    pub namespace: String,
}

impl BrokerSettings {
    pub fn topology(&self) -> crate::topology::Topology {
        crate::topology::Topology::new(&self.namespace)
    }
}

impl Default for BrokerSettings {
    fn default() -> Self {
        Self {
            url: "amqp://guest:guest@127.0.0.1:5672/%2f".into(),
            max_attempts: 5,
            namespace: crate::topology::DEFAULT_NAMESPACE.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct RedisSettings {
    pub url: String,
    /// How long job status and results are kept, in seconds.
    pub result_ttl_secs: u64,
    /// Identical submissions within this many seconds are processed once.
    pub dedup_window_secs: u64,
    /// A submission repeating an `idempotency_key` within this many seconds gets the
    /// original job back instead of a new one.
    pub idempotency_window_secs: u64,
}

/// Per-command and connect timeout: a stopped Redis must fail fast so callers' retry loops
/// run instead of hanging.
const REDIS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

impl RedisSettings {
    /// A connection that reconnects by itself after Redis restarts.
    pub async fn connect(&self) -> redis::RedisResult<redis::aio::ConnectionManager> {
        let client = redis::Client::open(self.url.as_str())?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(std::time::Duration::from_secs(1));
        redis::aio::ConnectionManager::new_with_config(client, config).await
    }
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self {
            url: "redis://127.0.0.1:6379/".into(),
            result_ttl_secs: 7 * 24 * 3600,
            dedup_window_secs: 600,
            idempotency_window_secs: 24 * 3600,
        }
    }
}
