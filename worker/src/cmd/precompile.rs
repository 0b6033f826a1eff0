//! `riptide-worker precompile`: fills the AOT cache ahead of time (for container images),
//! so the first job of a new worker does not wait for compilation.

use anyhow::Context;
use riptide_worker::config::WorkerConfig;
use riptide_worker::sandbox::Sandbox;

pub fn run(config: WorkerConfig) -> anyhow::Result<()> {
    anyhow::ensure!(
        !config.wasm.cache_dir.as_os_str().is_empty(),
        "the AOT cache is disabled (empty wasm.cache_dir); set RIPTIDE_WASM__CACHE_DIR"
    );
    let sandbox = Sandbox::new(config.wasm.clone()).context("loading the component")?;
    anyhow::ensure!(
        sandbox.health_check()?,
        "the component loaded but its health check failed"
    );
    let load = sandbox.load_report();
    println!(
        "{}",
        serde_json::json!({
            "component": config.wasm.component_path,
            "cache_dir": config.wasm.cache_dir,
            "aot_cache": load.aot_cache.as_str(),
            "component_load_ms": load.component_load_ms,
        })
    );
    Ok(())
}
