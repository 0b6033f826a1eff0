//! Dispatcher configuration: defaults < optional TOML file < `RIPTIDE_*` environment.

use std::path::Path;

use riptide_shared::settings::{BrokerSettings, RedisSettings};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct DispatcherConfig {
    pub broker: BrokerSettings,
    pub redis: RedisSettings,
    /// Address of the HTTP API (`riptide-dispatcher serve`).
    pub listen: String,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        Self {
            broker: BrokerSettings::default(),
            redis: RedisSettings::default(),
            listen: "127.0.0.1:8080".into(),
        }
    }
}

impl DispatcherConfig {
    pub fn load(file: Option<&Path>) -> Result<Self, config::ConfigError> {
        riptide_shared::settings::load(file)
    }
}
