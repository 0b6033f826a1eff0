//! Helpers shared by the worker's integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use riptide_worker::sandbox::{Checks, Sandbox, SandboxConfig};

/// Builds the real extractor component with the project's script (seconds when nothing
/// changed) and returns its path.
pub fn component_path() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let output = std::process::Command::new(root.join("ops/build-guest.sh"))
            .output()
            .expect("running ops/build-guest.sh");
        assert!(
            output.status.success(),
            "ops/build-guest.sh failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        PathBuf::from(String::from_utf8(output.stdout).unwrap().trim())
    })
    .clone()
}

/// A sandbox configuration for tests: a small pool and the given cache directory.
pub fn config(cache_dir: PathBuf) -> SandboxConfig {
    SandboxConfig {
        component_path: component_path(),
        cache_dir,
        max_instances: 2,
        ..SandboxConfig::default()
    }
}

/// A fresh empty directory under the system temp dir.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("riptide-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The sandbox with each layer of compute limits, named as the benchmarks report them:
/// none, fuel only, and production (fuel with the deadline and cancellation checks).
pub fn limit_layers(base: &SandboxConfig) -> Vec<(&'static str, Sandbox)> {
    [
        ("wasm_no_limits", Checks::Unlimited),
        ("wasm_fuel", Checks::FuelOnly),
        ("wasm_fuel_deadline", Checks::FuelAndDeadline),
    ]
    .into_iter()
    .map(|(name, checks)| {
        let config = SandboxConfig {
            checks,
            ..base.clone()
        };
        (name, Sandbox::new(config).expect("sandbox"))
    })
    .collect()
}

/// A component to measure beside the current one (`RIPTIDE_BENCH_BASELINE=path.wasm`), so a
/// guest change is compared side by side in one run: build the baseline, copy it aside,
/// then build the change.
pub fn baseline(base: &SandboxConfig) -> Option<Sandbox> {
    let path = std::env::var_os("RIPTIDE_BENCH_BASELINE")?;
    let config = SandboxConfig {
        component_path: PathBuf::from(path),
        ..base.clone()
    };
    Some(Sandbox::new(config).expect("baseline sandbox"))
}
