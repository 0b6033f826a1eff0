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
    /// Accept webhook callback URLs on private addresses (`RIPTIDE_ALLOW_PRIVATE_CALLBACKS`;
    /// off: callbacks go through the same SSRF guard as fetches).
    pub allow_private_callbacks: bool,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        Self {
            broker: BrokerSettings::default(),
            redis: RedisSettings::default(),
            listen: "127.0.0.1:8080".into(),
            allow_private_callbacks: false,
        }
    }
}

impl DispatcherConfig {
    pub fn load(file: Option<&Path>) -> Result<Self, config::ConfigError> {
        riptide_shared::settings::load(file)
    }
}
