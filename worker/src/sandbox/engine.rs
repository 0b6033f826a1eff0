//! The Wasmtime engine configuration.

use wasmtime::{
    Config, Enabled, Engine, Inlining, InstanceAllocationStrategy, OptLevel,
    PoolingAllocationConfig,
};

use super::{Checks, SandboxConfig};

/// Core instances, memories and tables one extractor instance may use. The component that
/// `wasm-component-ld` emits has one main core module plus small shim modules.
const CORE_INSTANCES_PER_COMPONENT: u32 = 8;
const MEMORIES_PER_COMPONENT: u32 = 2;
const TABLES_PER_COMPONENT: u32 = 4;
/// Bytes of each memory and table kept resident between jobs, reset in place.
const KEEP_RESIDENT_BYTES: usize = 8 << 20;
/// Pool slots beyond `max_instances`, for health checks running beside a full pool.
const SPARE_SLOTS: u32 = 2;

/// Builds the engine: fuel, copy-on-write memory images and, when the address space allows
/// it, the pooling allocator. Returns whether pooling is in use.
pub fn build(config: &SandboxConfig) -> wasmtime::Result<(Engine, bool)> {
    if config.pooling {
        match Engine::new(&wasmtime_config(config, true)) {
            Ok(engine) => return Ok((engine, true)),
            // Like Spin: a machine that cannot reserve the pool's address space (a small
            // ulimit -v, 32-bit) still runs, with the on-demand allocator.
            Err(e) => {
                tracing::warn!(error = %e, "pooling allocator unavailable, using on-demand allocation")
            }
        }
    }
    Ok((Engine::new(&wasmtime_config(config, false))?, false))
}

/// The `wasmtime::Config` for these settings. A precompiled artifact only loads into an
/// engine with the same configuration, so the AOT cache key is derived from it.
pub fn wasmtime_config(config: &SandboxConfig, pooling: bool) -> Config {
    let mut wasmtime = Config::new();
    wasmtime
        .consume_fuel(config.checks != Checks::Unlimited)
        // The guest is built with `simd128`; relaxed SIMD, whose results may differ between
        // machines, is refused so the same page always extracts the same way.
        .wasm_simd(true)
        .wasm_relaxed_simd(false)
        .memory_init_cow(true)
        .cranelift_opt_level(OptLevel::Speed)
        // Cranelift inlines the guest's small functions into their callers: each call it
        // saves is also a save and reload of the fuel counter. 3% fewer instructions in
        // the sandbox over the dev pages, the same output, the same compile time.
        .compiler_inlining(Inlining::Yes)
        .parallel_compilation(true)
        .profiler(config.profiler.strategy());
    if pooling {
        let slots = config.max_instances.saturating_add(SPARE_SLOTS);
        let mut pool = PoolingAllocationConfig::default();
        // Each memory slot reserves `memory_reservation` (4 GiB by default) of virtual
        // address space plus guard pages, so 10 slots take about 40 GiB of address space
        // (not memory): that reservation is what lets compiled code skip bounds checks.
        pool.total_component_instances(slots)
            .total_core_instances(slots.saturating_mul(CORE_INSTANCES_PER_COMPONENT))
            .total_memories(slots.saturating_mul(MEMORIES_PER_COMPONENT))
            .total_tables(slots.saturating_mul(TABLES_PER_COMPONENT))
            .max_memory_size(
                usize::try_from(config.max_memory_mb.saturating_mul(1024 * 1024))
                    .unwrap_or(usize::MAX),
            )
            // Keep a few slots' pages warm, so reuse does not fault every page in again.
            .max_unused_warm_slots(config.max_instances);
        // Where the kernel has PAGEMAP_SCAN (Linux 6.7+), slots stay resident and only the
        // pages a job dirtied are reset in place: no madvise, no page faults on reuse
        // (per-job overhead 25 -> 19 us here). Without it, keeping memory resident would
        // mean memset-ing all of it, so the default madvise reset stays.
        if PoolingAllocationConfig::is_pagemap_scan_available() {
            pool.pagemap_scan(Enabled::Yes)
                .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
                .table_keep_resident(KEEP_RESIDENT_BYTES);
        }
        wasmtime.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    wasmtime
}
