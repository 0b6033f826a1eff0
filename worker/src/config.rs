//! Worker configuration: defaults < optional file < `RIPTIDE_` environment variables with
//! `__` as the nesting separator (e.g. `RIPTIDE_WASM__TIMEOUT_MS=5000`), via the `config`
//! crate (the loader is shared with the dispatcher).

use std::path::Path;

use serde::{Deserialize, Serialize};

use riptide_shared::settings::{BrokerSettings, RedisSettings};

use crate::breaker::BreakerConfig;
use crate::callback::CallbackConfig;
use crate::fetch::FetchConfig;
use crate::politeness::PolitenessConfig;
use crate::sandbox::SandboxConfig;

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct WorkerConfig {
    /// RabbitMQ (`[broker]`, `RIPTIDE_BROKER__*`).
    pub broker: BrokerSettings,
    /// Redis (`[redis]`, `RIPTIDE_REDIS__*`).
    pub redis: RedisSettings,
    /// Page fetching (`[fetch]`, `RIPTIDE_FETCH__*`).
    pub fetch: FetchConfig,
    /// The worker process (`[worker]`, `RIPTIDE_WORKER__*`).
    pub worker: ProcessConfig,
    /// The sandbox (`[wasm]`, `RIPTIDE_WASM__*`).
    pub wasm: SandboxConfig,
    /// The circuit breaker (`[breaker]`, `RIPTIDE_BREAKER__*`).
    pub breaker: BreakerConfig,
    /// The native fallback (`[native]`, `RIPTIDE_NATIVE__*`).
    pub native: NativeConfig,
    /// Politeness towards the sites fetched (`[politeness]`, `RIPTIDE_POLITENESS__*`).
    pub politeness: PolitenessConfig,
    /// Webhook deliveries (`[callbacks]`, `RIPTIDE_CALLBACKS__SECRET`).
    pub callbacks: CallbackConfig,
}

/// The native fallback runs in the same bounded extraction slots as the sandbox.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct NativeConfig {
    /// Largest page the native extractor takes, in bytes: it runs without fuel or deadline.
    pub max_input_bytes: usize,
}

impl Default for NativeConfig {
    fn default() -> Self {
        Self {
            max_input_bytes: 4 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct ProcessConfig {
    /// Identifies this worker in results, dead letters and stats (default: host name + pid).
    pub id: String,
    /// Address of `/metrics`, `/healthz` and `/readyz`.
    pub listen: String,
    /// How long SIGTERM waits for in-flight jobs, in seconds.
    pub drain_timeout_secs: u64,
    /// Unacked jobs the broker sends this worker at once (default: `wasm.max_instances`,
    /// one waiting job per extraction slot).
    pub prefetch: Option<u16>,
    /// Tenants whose usage metrics get a label of their own; the others count as `other`
    /// (Prometheus label sets must stay bounded). Redis keeps every tenant's totals.
    pub tenant_labels: Vec<String>,
}

impl Default for ProcessConfig {
    fn default() -> Self {
        Self {
            id: String::new(),
            listen: "127.0.0.1:9100".into(),
            drain_timeout_secs: 60,
            prefetch: None,
            tenant_labels: Vec::new(),
        }
    }
}

impl WorkerConfig {
    /// Loads defaults, then `file` if given, then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, config::ConfigError> {
        riptide_shared::settings::load(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_file_overrides_defaults() {
        let dir = std::env::temp_dir().join(format!("riptide-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("worker.toml");
        std::fs::write(
            &file,
            "[wasm]\ntimeout_ms = 1234\nmax_instances = 3\n[breaker]\nwindow = 20\n",
        )
        .unwrap();
        // SAFETY: this is the only test in this binary that touches the environment.
        unsafe { std::env::set_var("RIPTIDE_WASM__MAX_INSTANCES", "5") };
        let config = WorkerConfig::load(Some(&file)).unwrap();
        unsafe { std::env::remove_var("RIPTIDE_WASM__MAX_INSTANCES") };
        assert_eq!(config.wasm.timeout_ms, 1234);
        assert_eq!(config.wasm.max_instances, 5);
        assert_eq!(config.breaker.window, 20);
        assert_eq!(config.wasm.max_memory_mb, 64);
        assert_eq!(config.native, NativeConfig::default());
    }
}
