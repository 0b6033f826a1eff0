//! The Wasmtime sandbox that runs the extractor component.
//!
//! One [`wasmtime::Engine`] tuned for fast instantiation (pooling allocator, copy-on-write
//! memory images), one `InstancePre` of the component, and a fresh `Store` per page with its
//! own fuel budget, wall-clock deadline and memory limiter, so nothing leaks between pages.
//!
//! One instrumentation serves both compute limits: fuel. The guest yields every
//! [`FUEL_PER_CHECK`] units of it, and at each yield the host checks the page's wall-clock
//! deadline and its job's cancellation, stopping the guest by dropping its call. Epoch
//! interruption would have been a second check at every loop header (measured: fuel alone
//! costs 26% over no limits on the median dev page, epoch alone 17%, both 35%). The fuel
//! check's rare call into the host preserves every register (RipTide's patched Wasmtime
//! translator, `worker/patched/`), so loops spill nothing around it.
//!
//! "Recycling" an instance after N uses or failures, as a long-lived-instance design would,
//! means something else here: every page gets a brand-new instance, and the pooling
//! allocator resets its memory slot to the copy-on-write image when the store drops. There
//! is no instance state to go stale; sandbox-level failures feed the circuit breaker instead.
//!
//! The guest runs on a fiber (Wasmtime's async calls) driven to completion on the calling
//! thread: the worker calls from tokio's blocking pool behind a semaphore sized to the pool,
//! so a page never blocks a runtime worker thread.

mod cache;
mod convert;
mod engine;
mod exports;
mod limiter;

use std::future::Future;
use std::path::PathBuf;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use riptide_extractor::{ExtractError, ExtractedDoc, ExtractionMode, ExtractionStats, PageLinks};
use tokio_util::sync::CancellationToken;
use wasmtime::component::{
    Component, ComponentNamedList, Instance, InstancePre, Lift, Linker, TypedFunc,
};
use wasmtime::{Engine, Store, Trap};

pub use cache::CacheOutcome;
use exports::Exports;
use limiter::MemoryLimiter;

/// The host bindings of `wit/extractor.wit`; only `convert` and `exports` touch their types.
mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "extractor",
    });
}

/// Limits and tuning of the sandbox; every field has a documented default in the README.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct SandboxConfig {
    /// The extractor component (built by `ops/build-guest.sh`).
    pub component_path: PathBuf,
    /// Where precompiled components are cached; empty disables the cache. It must belong to
    /// the worker's user and not be writable by group or others, else it is refused.
    pub cache_dir: PathBuf,
    /// Linear memory limit per instance, in MiB.
    pub max_memory_mb: u64,
    /// Fuel every page gets regardless of size.
    pub fuel_base: u64,
    /// Fuel per KiB of HTML.
    pub fuel_per_kib: u64,
    /// Wall-clock limit per page, in milliseconds (checked every [`FUEL_PER_CHECK`]).
    pub timeout_ms: u64,
    /// Concurrent instances (pool size and semaphore permits).
    pub max_instances: u32,
    /// Use the pooling allocator (falls back to on-demand when the address space is too small).
    pub pooling: bool,
    /// How compiled guest code is made visible to a native profiler.
    pub profiler: Profiler,
    /// Which limits are checked. Not configurable: only the benchmarks lower it, to show
    /// what each limit costs.
    #[serde(skip)]
    pub checks: Checks,
}

/// Whether compiled guest code is described to a native profiler.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Profiler {
    /// Nothing is written.
    #[default]
    None,
    /// `/tmp/perf-<pid>.map`, which `perf report` reads to name the guest's functions (the
    /// component keeps its name section for this).
    PerfMap,
}

impl Profiler {
    fn strategy(self) -> wasmtime::ProfilingStrategy {
        match self {
            Self::None => wasmtime::ProfilingStrategy::None,
            Self::PerfMap => wasmtime::ProfilingStrategy::PerfMap,
        }
    }
}

/// The compute limits a sandbox enforces (memory is always limited).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Checks {
    /// None: the guest runs unmetered, with no deadline. Benchmarks only.
    Unlimited,
    /// Fuel, without the wall-clock deadline or cancellation. Benchmarks only.
    FuelOnly,
    /// Fuel, and the deadline and cancellation checked every [`FUEL_PER_CHECK`].
    #[default]
    FuelAndDeadline,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            component_path: PathBuf::from("target/guest/riptide_extractor.wasm"),
            // No shared temporary directory as a fallback: without a user cache directory,
            // the cache is off.
            cache_dir: dirs::cache_dir()
                .map(|dir| dir.join("riptide").join("aot"))
                .unwrap_or_default(),
            max_memory_mb: 64,
            fuel_base: DEFAULT_FUEL_BASE,
            fuel_per_kib: DEFAULT_FUEL_PER_KIB,
            timeout_ms: 30_000,
            max_instances: 8,
            pooling: true,
            profiler: Profiler::default(),
            checks: Checks::default(),
        }
    }
}

/// Fuel every page gets: with the per-KiB budget, ten times what the costliest dev-corpus
/// page needed (calibrated over ../shared/corpus/dev; see the README).
pub const DEFAULT_FUEL_BASE: u64 = 800_000_000;
/// Fuel per KiB of HTML (the dev pages need 71 k to 1.6 M per KiB, median 456 k).
pub const DEFAULT_FUEL_PER_KIB: u64 = 5_000_000;

impl SandboxConfig {
    /// The fuel budget of one page of `html_bytes` bytes.
    pub fn fuel_for(&self, html_bytes: usize) -> u64 {
        let kib = u64::try_from(html_bytes.div_ceil(1024)).unwrap_or(u64::MAX);
        self.fuel_base
            .saturating_add(self.fuel_per_kib.saturating_mul(kib))
    }

    fn max_memory_bytes(&self) -> usize {
        usize::try_from(self.max_memory_mb.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX)
    }
}

/// Why the sandbox, rather than the extractor inside it, failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SandboxError {
    /// The page used up its fuel budget.
    #[error("fuel exhausted after {fuel} units: the page needs more work than its budget allows")]
    FuelExhausted { fuel: u64 },
    /// The page ran past its wall-clock deadline.
    #[error("deadline of {timeout_ms} ms exceeded")]
    DeadlineExceeded { timeout_ms: u64 },
    /// The page needed more linear memory than the limit.
    #[error("memory limit of {limit_mb} MiB reached ({denied} growth requests denied)")]
    MemoryLimit { limit_mb: u64, denied: u32 },
    /// The guest trapped for another reason (a bug in the guest, or a broken component).
    #[error("guest trapped: {0}")]
    Trap(String),
    /// No instance could be created (pool exhausted, broken component).
    #[error("instantiation failed: {0}")]
    Instantiate(String),
    /// The component could not be loaded or compiled.
    #[error("component unavailable: {0}")]
    Load(String),
    /// The job was cancelled while the guest ran: stopped at the next check.
    #[error("stopped: the job was cancelled")]
    Cancelled,
}

impl SandboxError {
    /// Every [`SandboxError::reason`], so the failure counters start at zero.
    pub const REASONS: [&'static str; 7] = [
        "fuel",
        "deadline",
        "memory",
        "trap",
        "instantiate",
        "load",
        "cancelled",
    ];

    /// Short reason, for metrics and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::FuelExhausted { .. } => "fuel",
            Self::DeadlineExceeded { .. } => "deadline",
            Self::MemoryLimit { .. } => "memory",
            Self::Trap(_) => "trap",
            Self::Instantiate(_) => "instantiate",
            Self::Load(_) => "load",
            Self::Cancelled => "cancelled",
        }
    }

    /// True when the page itself exhausted its budget: a property of the page, not of the
    /// sandbox. Such pages are not retried natively (they would run unbounded there).
    pub fn is_page_resource_limit(&self) -> bool {
        matches!(
            self,
            Self::FuelExhausted { .. } | Self::DeadlineExceeded { .. } | Self::MemoryLimit { .. }
        )
    }
}

/// What one sandboxed run cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RunStats {
    pub processing_time_us: u64,
    pub fuel_consumed: u64,
    pub peak_memory_bytes: u64,
}

/// A finished sandboxed call: the export's return value, and its cost.
#[derive(Debug)]
pub struct Run<R> {
    pub result: R,
    pub stats: RunStats,
}

impl<R> Run<R> {
    /// The same run with its return value transformed.
    pub fn map<S>(self, f: impl FnOnce(R) -> S) -> Run<S> {
        Run {
            result: f(self.result),
            stats: self.stats,
        }
    }
}

/// The extractor's own answer for one page.
pub type PageResult = Result<(ExtractedDoc, ExtractionStats), ExtractError>;

/// The extractor's answer for one page, with the links to follow when asked for.
pub type LinkedPageResult =
    Result<(ExtractedDoc, ExtractionStats, Option<PageLinks>), ExtractError>;

/// Fuel between two checks of the deadline and of cancellation: about a millisecond of
/// guest work on the machines measured, so a deadline or a cancel stops a page within
/// milliseconds, while a median page (about 6 M fuel) pays a handful of yields.
pub const FUEL_PER_CHECK: u64 = 2_000_000;

/// A loaded, ready-to-run extractor component.
pub struct Sandbox {
    engine: Engine,
    pre: InstancePre<StoreState>,
    exports: Exports,
    config: SandboxConfig,
    load: LoadReport,
    component_digest: String,
}

/// How the component was loaded.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct LoadReport {
    pub aot_cache: CacheOutcome,
    /// Engine creation, component load (or compile) and pre-instantiation.
    pub component_load_ms: f64,
    /// Whether the pooling allocator is in use.
    pub pooling: bool,
}

/// Per-store data: the memory limiter.
pub struct StoreState {
    limiter: MemoryLimiter,
}

impl Sandbox {
    /// Builds the engine and loads the component from `config.component_path` through the
    /// AOT cache.
    pub fn new(config: SandboxConfig) -> Result<Self, SandboxError> {
        let started = Instant::now();
        let wasm = std::fs::read(&config.component_path).map_err(|e| {
            SandboxError::Load(format!(
                "cannot read {}: {e}; build it with ops/build-guest.sh or set RIPTIDE_WASM__COMPONENT_PATH",
                config.component_path.display()
            ))
        })?;
        Self::from_bytes(config, &wasm, started)
    }

    /// Builds the engine and loads a component given as bytes (binary or, for tests, text).
    pub fn from_bytes(
        config: SandboxConfig,
        wasm: &[u8],
        started: Instant,
    ) -> Result<Self, SandboxError> {
        let (engine, pooling) =
            engine::build(&config).map_err(|e| SandboxError::Load(format!("{e:#}")))?;
        let (component, aot_cache) = cache::load(&engine, wasm, &config.cache_dir)
            .map_err(|e| SandboxError::Load(format!("{e:#}")))?;
        let pre = Self::pre_instantiate(&engine, &component)?;
        let exports = Self::check_exports(&config, &engine, &pre)?;
        let load = LoadReport {
            aot_cache,
            component_load_ms: started.elapsed().as_secs_f64() * 1000.0,
            pooling,
        };
        Ok(Self {
            engine,
            pre,
            exports,
            config,
            load,
            component_digest: blake3::hash(wasm).to_hex().to_string(),
        })
    }

    fn pre_instantiate(
        engine: &Engine,
        component: &Component,
    ) -> Result<InstancePre<StoreState>, SandboxError> {
        // The component imports nothing, so the linker stays empty: a component that
        // wanted WASI or anything else fails here, before any page reaches it.
        Linker::<StoreState>::new(engine)
            .instantiate_pre(component)
            .map_err(|e| {
                SandboxError::Load(format!(
                    "the component's imports cannot be satisfied: {e:#}"
                ))
            })
    }

    /// Type-checks the exports once, in one instance, so that pages need not.
    fn check_exports(
        config: &SandboxConfig,
        engine: &Engine,
        pre: &InstancePre<StoreState>,
    ) -> Result<Exports, SandboxError> {
        let mut store = new_store(config, engine, config.fuel_base)?;
        let instance = pre.instantiate(&mut store).map_err(|e| {
            SandboxError::Load(format!("the component cannot be instantiated: {e:#}"))
        })?;
        Exports::check(pre, &mut store, &instance).map_err(|e| {
            SandboxError::Load(format!(
                "the component does not export the riptide:extractor world: {e:#}"
            ))
        })
    }

    pub fn config(&self) -> &SandboxConfig {
        &self.config
    }

    pub fn load_report(&self) -> LoadReport {
        self.load
    }

    /// BLAKE3 of the component's bytes, as loaded.
    pub fn component_digest(&self) -> &str {
        &self.component_digest
    }

    /// Extracts one page in a fresh instance.
    pub fn extract(
        &self,
        html: &str,
        url: &str,
        mode: &ExtractionMode,
    ) -> Result<Run<PageResult>, SandboxError> {
        let run = self.extract_page(html, url, mode, false, &CancellationToken::new())?;
        Ok(run.map(|result| result.map(|(doc, stats, _)| (doc, stats))))
    }

    /// Extracts one page in a fresh instance and, `with_links`, lists the links a crawler
    /// may follow from it. Cancelling `cancel` stops the guest at its next check
    /// ([`FUEL_PER_CHECK`]) with [`SandboxError::Cancelled`].
    pub fn extract_page(
        &self,
        html: &str,
        url: &str,
        mode: &ExtractionMode,
        with_links: bool,
        cancel: &CancellationToken,
    ) -> Result<Run<LinkedPageResult>, SandboxError> {
        let fuel = self.config.fuel_for(html.len());
        let wit_mode = convert::mode_to_wit(mode);
        self.run(fuel, cancel, async |exports, store, instance| {
            if with_links {
                let (result,) = exports
                    .extract_for_crawl(store, instance)?
                    .call_async(&mut *store, (html, url, &wit_mode))
                    .await?;
                Ok(result
                    .map(|(content, stats, links)| {
                        (
                            convert::content_from_wit(content),
                            convert::stats_from_wit(stats),
                            Some(convert::links_from_wit(links)),
                        )
                    })
                    .map_err(convert::error_from_wit))
            } else {
                let (result,) = exports
                    .extract_with_stats(store, instance)?
                    .call_async(&mut *store, (html, url, &wit_mode))
                    .await?;
                Ok(result
                    .map(|(content, stats)| {
                        (
                            convert::content_from_wit(content),
                            convert::stats_from_wit(stats),
                            None,
                        )
                    })
                    .map_err(convert::error_from_wit))
            }
        })
    }

    /// Calls the component's `health-check` in a fresh instance.
    pub fn health_check(&self) -> Result<bool, SandboxError> {
        self.call_without_arguments(Exports::health_check)
    }

    /// The component's mode names: the cheapest export, used to measure per-call overhead.
    pub fn modes(&self) -> Result<Vec<String>, SandboxError> {
        self.call_without_arguments(Exports::get_modes)
    }

    /// The component's self-description.
    pub fn info(&self) -> Result<(String, String, Vec<String>), SandboxError> {
        self.call_without_arguments(Exports::get_info)
            .map(|info| (info.name, info.version, info.modes))
    }

    /// Calls an export that takes no arguments, in a fresh instance with the base fuel.
    fn call_without_arguments<R>(
        &self,
        export: impl FnOnce(
            &Exports,
            &mut Store<StoreState>,
            &Instance,
        ) -> wasmtime::Result<TypedFunc<(), (R,)>>,
    ) -> Result<R, SandboxError>
    where
        R: Send + 'static,
        (R,): ComponentNamedList + Lift,
    {
        self.run(
            self.config.fuel_base,
            &CancellationToken::new(),
            async |exports, store, instance| {
                let (result,) = export(exports, store, instance)?
                    .call_async(&mut *store, ())
                    .await?;
                Ok(result)
            },
        )
        .map(|run| run.result)
    }

    /// Instantiates in a fresh store with the given fuel and the configured deadline, runs
    /// `call`, and classifies any failure.
    fn run<R>(
        &self,
        fuel: u64,
        cancel: &CancellationToken,
        call: impl AsyncFnOnce(&Exports, &mut Store<StoreState>, &Instance) -> wasmtime::Result<R>,
    ) -> Result<Run<R>, SandboxError> {
        let started = Instant::now();
        let mut store = new_store(&self.config, &self.engine, fuel)?;
        // Instantiation runs no guest code (the component has no start function), so it
        // needs no fiber; the call that follows runs on one, yielding for the checks.
        let instance = match self.pre.instantiate(&mut store) {
            Ok(instance) => instance,
            Err(e) => return Err(self.classify_instantiation(&store, e)),
        };
        if self.config.checks == Checks::FuelAndDeadline {
            store
                .fuel_async_yield_interval(Some(FUEL_PER_CHECK))
                .map_err(|e| {
                    SandboxError::Instantiate(format!("setting the yield interval: {e}"))
                })?;
        }
        let guest = call(&self.exports, &mut store, &instance);
        let outcome = match self.config.checks {
            Checks::FuelAndDeadline => {
                let deadline = started + Duration::from_millis(self.config.timeout_ms);
                drive(guest, || {
                    if cancel.is_cancelled() {
                        Some(Stop::Cancelled)
                    } else if Instant::now() >= deadline {
                        Some(Stop::Deadline)
                    } else {
                        None
                    }
                })
            }
            Checks::Unlimited | Checks::FuelOnly => drive(guest, never),
        };
        let outcome = match outcome {
            Ok(called) => called.map_err(|e| self.classify(&store, fuel, e)),
            Err(Stop::Deadline) => Err(SandboxError::DeadlineExceeded {
                timeout_ms: self.config.timeout_ms,
            }),
            Err(Stop::Cancelled) => Err(SandboxError::Cancelled),
        };
        let stats = RunStats {
            processing_time_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            fuel_consumed: store.get_fuel().map_or(0, |left| fuel.saturating_sub(left)),
            peak_memory_bytes: store.data().limiter.peak_bytes(),
        };
        outcome.map(|result| Run { result, stats })
    }

    fn classify(
        &self,
        store: &Store<StoreState>,
        fuel: u64,
        error: wasmtime::Error,
    ) -> SandboxError {
        let limiter = &store.data().limiter;
        match error.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => SandboxError::FuelExhausted { fuel },
            // A denied memory.grow surfaces as the guest allocator aborting: the memory limit.
            _ if limiter.out_of_memory() => SandboxError::MemoryLimit {
                limit_mb: self.config.max_memory_mb,
                denied: limiter.denied(),
            },
            Some(trap) => SandboxError::Trap(trap.to_string()),
            None => SandboxError::Trap(format!("{error:#}")),
        }
    }

    fn classify_instantiation(
        &self,
        store: &Store<StoreState>,
        error: wasmtime::Error,
    ) -> SandboxError {
        let limiter = &store.data().limiter;
        if limiter.out_of_memory() {
            return SandboxError::MemoryLimit {
                limit_mb: self.config.max_memory_mb,
                denied: limiter.denied(),
            };
        }
        SandboxError::Instantiate(format!("{error:#}"))
    }
}

/// Why the host stopped a guest at one of its yields.
enum Stop {
    /// The wall-clock deadline passed.
    Deadline,
    /// The job was cancelled.
    Cancelled,
}

/// A fresh store with its memory limiter and `fuel`.
fn new_store(
    config: &SandboxConfig,
    engine: &Engine,
    fuel: u64,
) -> Result<Store<StoreState>, SandboxError> {
    let mut store = Store::new(
        engine,
        StoreState {
            limiter: MemoryLimiter::new(config.max_memory_bytes()),
        },
    );
    store.limiter(|state| &mut state.limiter);
    if config.checks != Checks::Unlimited {
        store
            .set_fuel(fuel)
            .map_err(|e| SandboxError::Instantiate(format!("setting fuel: {e}")))?;
    }
    Ok(store)
}

/// Runs the guest's future on this thread to its end, asking `stop` each time the guest
/// yields whether to stop it. Stopping drops the future, which stops the guest: Wasmtime
/// unwinds its fiber, and the store is discarded after it.
fn drive<F: Future>(guest: F, mut stop: impl FnMut() -> Option<Stop>) -> Result<F::Output, Stop> {
    let mut guest = pin!(guest);
    // The guest's yields wake nothing: nothing but this loop waits on it.
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = guest.as_mut().poll(&mut context) {
            return Ok(output);
        }
        if let Some(reason) = stop() {
            return Err(reason);
        }
    }
}

/// Never stops the guest (it does not yield without the deadline checked).
fn never() -> Option<Stop> {
    None
}
