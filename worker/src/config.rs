//! Worker configuration: defaults < optional file < `RIPTIDE_` environment variables with
//! `__` as the nesting separator (e.g. `RIPTIDE_WASM__TIMEOUT_MS=5000`), via the `config` crate.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::breaker::BreakerConfig;
use crate::sandbox::SandboxConfig;

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct WorkerConfig {
    /// The sandbox (`[wasm]`, `RIPTIDE_WASM__*`).
    pub wasm: SandboxConfig,
    /// The circuit breaker (`[breaker]`, `RIPTIDE_BREAKER__*`).
    pub breaker: BreakerConfig,
    /// The native fallback (`[native]`, `RIPTIDE_NATIVE__*`).
    pub native: NativeConfig,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct NativeConfig {
    /// Largest page the native extractor takes, in bytes: it runs without fuel or deadline.
    pub max_input_bytes: usize,
    /// Native extractions at once (a bounded blocking pool).
    pub max_concurrent: usize,
}

impl Default for NativeConfig {
    fn default() -> Self {
        Self {
            max_input_bytes: 4 * 1024 * 1024,
            max_concurrent: 2,
        }
    }
}

impl WorkerConfig {
    /// Loads defaults, then `file` if given, then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, config::ConfigError> {
        let mut builder = config::Config::builder()
            .add_source(config::Config::try_from(&WorkerConfig::default())?);
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
