//! Routes each page to the sandbox or, while the circuit breaker is open, to the native
//! extractor, and records what happened in the metrics.
//!
//! Failure routing: a page that exhausts its own fuel, time or memory gets `resource-limit`
//! and is not retried natively (it would run unbounded there); the sandbox worked, so the
//! breaker counts it as healthy. A page that makes the guest trap is not re-run natively
//! either (the trap may be the page's doing, and natively nothing would stop it): it gets
//! `internal-error` with the trap's message, and the trap feeds the breaker. A failure to
//! run the guest at all (instantiation, loading) feeds the breaker and the page is
//! extracted natively, within the native fallback's size cap; a page over that cap is
//! marked [`Extraction::retry_later`], to wait for the sandbox rather than be lost.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use riptide_extractor::{ExtractError, ExtractedDoc, ExtractionMode, Limits, PageLinks};
use serde::Serialize;

use crate::breaker::{Breaker, Route};
use crate::config::NativeConfig;
use crate::metrics::Metrics;
use crate::sandbox::{Sandbox, SandboxError};

/// Which extractor produced a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Engine {
    /// The component in the sandbox.
    Wasm,
    /// The native extractor, because the sandbox was failing.
    NativeFallback,
    /// The native extractor, by choice (`--engine native`).
    Native,
}

impl Engine {
    pub const ALL: [Engine; 3] = [Self::Wasm, Self::NativeFallback, Self::Native];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wasm => "wasm",
            Self::NativeFallback => "native-fallback",
            Self::Native => "native",
        }
    }
}

/// What one extraction cost.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Stats {
    pub processing_time_us: u64,
    /// CPU time of the extracting thread.
    pub cpu_us: u64,
    pub fuel_consumed: u64,
    pub peak_memory_bytes: u64,
    pub engine: Engine,
}

/// One page to extract.
#[derive(Clone, Copy)]
struct Page<'a> {
    html: &'a str,
    url: &'a str,
    mode: &'a ExtractionMode,
    /// Also list the links a crawler may follow.
    with_links: bool,
    /// Stops the guest when the job is cancelled.
    cancel: &'a CancellationToken,
}

/// The document and, when asked for, the page's links.
type Extracted = Result<(ExtractedDoc, Option<PageLinks>), ExtractError>;

fn split(extracted: Extracted) -> (Result<ExtractedDoc, ExtractError>, Option<PageLinks>) {
    match extracted {
        Ok((doc, links)) => (Ok(doc), links),
        Err(e) => (Err(e), None),
    }
}

/// The result of one page.
#[derive(Debug)]
pub struct Extraction {
    pub result: Result<ExtractedDoc, ExtractError>,
    /// The links a crawler may follow, when asked for and extracted.
    pub links: Option<PageLinks>,
    pub stats: Stats,
    /// The page could not be extracted now but can be later: the sandbox is unavailable
    /// and the page is over the native fallback's size cap.
    pub retry_later: bool,
}

pub struct Extractor {
    sandbox: Option<Sandbox>,
    breaker: Breaker,
    native: NativeConfig,
    metrics: Arc<Metrics>,
}

impl Extractor {
    /// An extractor that uses the sandbox, with the native fallback behind the breaker.
    pub fn sandboxed(
        sandbox: Sandbox,
        breaker: Breaker,
        native: NativeConfig,
        metrics: Arc<Metrics>,
    ) -> Self {
        metrics
            .instances_max
            .set(i64::from(sandbox.config().max_instances));
        let load = sandbox.load_report();
        metrics
            .cold_start_seconds
            .set(load.component_load_ms / 1000.0);
        metrics
            .aot_cache
            .with_label_values(&[load.aot_cache.as_str()])
            .inc();
        Self {
            sandbox: Some(sandbox),
            breaker,
            native,
            metrics,
        }
    }

    /// An extractor that runs natively only.
    pub fn native(native: NativeConfig, metrics: Arc<Metrics>) -> Self {
        Self {
            sandbox: None,
            breaker: Breaker::new(Default::default()),
            native,
            metrics,
        }
    }

    /// BLAKE3 of the component pages go through when `engine` ran them (none natively).
    pub fn component_digest(&self, engine: Engine) -> Option<&str> {
        match (engine, &self.sandbox) {
            (Engine::Wasm, Some(sandbox)) => Some(sandbox.component_digest()),
            _ => None,
        }
    }

    pub fn sandbox(&self) -> Option<&Sandbox> {
        self.sandbox.as_ref()
    }

    pub fn breaker(&self) -> &Breaker {
        &self.breaker
    }

    /// Extracts one page (blocking: call from a blocking thread in async code).
    pub fn extract(&self, html: &str, url: &str, mode: &ExtractionMode) -> Extraction {
        self.extract_page(html, url, mode, false, &CancellationToken::new())
    }

    /// Extracts one page and, `with_links`, lists the links a crawler may follow from it;
    /// cancelling `cancel` stops a sandboxed extraction within the sandbox's check interval.
    pub fn extract_page(
        &self,
        html: &str,
        url: &str,
        mode: &ExtractionMode,
        with_links: bool,
        cancel: &CancellationToken,
    ) -> Extraction {
        let cpu_before = thread_cpu_seconds();
        let page = Page {
            html,
            url,
            mode,
            with_links,
            cancel,
        };
        let mut extraction = match &self.sandbox {
            None => self.extract_natively(&page, Engine::Native),
            Some(sandbox) => match self.breaker.route() {
                Route::Fallback => self.extract_natively(&page, Engine::NativeFallback),
                Route::Sandbox => self.extract_sandboxed(sandbox, &page),
            },
        };
        self.update_breaker_metrics();
        let cpu_seconds = (thread_cpu_seconds() - cpu_before).max(0.0);
        extraction.stats.cpu_us = (cpu_seconds * 1e6) as u64;
        let stats = &extraction.stats;
        self.metrics
            .extraction_cpu_seconds
            .with_label_values(&[stats.engine.as_str()])
            .inc_by(cpu_seconds);
        self.metrics
            .extraction_seconds
            .with_label_values(&[stats.engine.as_str()])
            .observe(stats.processing_time_us as f64 / 1e6);
        extraction
    }

    fn extract_sandboxed(&self, sandbox: &Sandbox, page: &Page<'_>) -> Extraction {
        let Page {
            html,
            url,
            mode,
            with_links,
            ..
        } = *page;
        self.metrics.instances_in_use.inc();
        let started = Instant::now();
        let outcome = sandbox
            .extract_page(html, url, mode, with_links, page.cancel)
            .map(|run| run.map(|r| r.map(|(doc, _, links)| (doc, links))));
        let elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.metrics.instances_in_use.dec();
        match outcome {
            Ok(run) => {
                self.breaker.record(false);
                self.metrics
                    .fuel_consumed
                    .observe(run.stats.fuel_consumed as f64);
                self.metrics
                    .peak_memory_bytes
                    .observe(run.stats.peak_memory_bytes as f64);
                let (result, links) = split(run.result);
                Extraction {
                    result,
                    links,
                    stats: Stats {
                        processing_time_us: run.stats.processing_time_us,
                        cpu_us: 0,
                        fuel_consumed: run.stats.fuel_consumed,
                        peak_memory_bytes: run.stats.peak_memory_bytes,
                        engine: Engine::Wasm,
                    },
                    retry_later: false,
                }
            }
            // Not the sandbox's fault, and nothing to fall back to: the job is gone.
            Err(SandboxError::Cancelled) => unextracted(
                ExtractError::InternalError(SandboxError::Cancelled.to_string()),
                elapsed_us,
                0,
                0,
            ),
            Err(error) => {
                self.metrics
                    .sandbox_failures
                    .with_label_values(&[error.reason()])
                    .inc();
                if let SandboxError::MemoryLimit { denied, .. } = &error {
                    self.metrics.memory_growth_denied.inc_by(u64::from(*denied));
                }
                if error.is_page_resource_limit() {
                    self.breaker.record(false);
                    // What the page cost up to the limit it hit.
                    let (fuel_consumed, peak_memory_bytes) = match &error {
                        SandboxError::FuelExhausted { fuel } => (*fuel, 0),
                        SandboxError::MemoryLimit { limit_mb, .. } => {
                            (0, limit_mb.saturating_mul(1024 * 1024))
                        }
                        _ => (0, 0),
                    };
                    return unextracted(
                        ExtractError::ResourceLimit(error.to_string()),
                        elapsed_us,
                        fuel_consumed,
                        peak_memory_bytes,
                    );
                }
                self.breaker.record(true);
                if let SandboxError::Trap(message) = &error {
                    tracing::warn!(error = %error, url, "the guest trapped on this page");
                    return unextracted(
                        ExtractError::InternalError(format!(
                            "the guest trapped on this page: {message}"
                        )),
                        elapsed_us,
                        0,
                        0,
                    );
                }
                tracing::warn!(error = %error, url, "sandbox failure; extracting this page natively");
                self.extract_natively(page, Engine::NativeFallback)
            }
        }
    }

    fn extract_natively(&self, page: &Page<'_>, engine: Engine) -> Extraction {
        let Page {
            html,
            url,
            mode,
            with_links,
            ..
        } = *page;
        let started = Instant::now();
        if engine == Engine::NativeFallback {
            if html.len() > self.native.max_input_bytes {
                return Extraction {
                    result: Err(ExtractError::ResourceLimit(format!(
                        "the sandbox is unavailable and the page ({} bytes) is over the native \
                         fallback's {}-byte cap; it waits for the sandbox",
                        html.len(),
                        self.native.max_input_bytes
                    ))),
                    stats: Stats {
                        processing_time_us: 0,
                        cpu_us: 0,
                        fuel_consumed: 0,
                        peak_memory_bytes: 0,
                        engine,
                    },
                    retry_later: true,
                    links: None,
                };
            }
            self.metrics.fallback.inc();
        }
        let limits = Limits {
            max_input_bytes: self.native.max_input_bytes,
            ..Limits::default()
        };
        // The extractor returns errors rather than panicking; this guards the worker against
        // a bug all the same, as the sandbox would.
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
            if with_links {
                riptide_extractor::extract_for_crawl(html, url, mode, &limits)
                    .map(|(doc, _, links)| (doc, Some(links)))
            } else {
                riptide_extractor::extract_with_stats(html, url, mode, &limits)
                    .map(|(doc, _)| (doc, None))
            }
        }))
        .unwrap_or_else(|_| {
            Err(ExtractError::InternalError(
                "the native extractor panicked on this page".into(),
            ))
        });
        let (result, links) = split(result);
        Extraction {
            result,
            links,
            stats: Stats {
                processing_time_us: u64::try_from(started.elapsed().as_micros())
                    .unwrap_or(u64::MAX),
                cpu_us: 0,
                fuel_consumed: 0,
                peak_memory_bytes: 0,
                engine,
            },
            retry_later: false,
        }
    }

    fn update_breaker_metrics(&self) {
        self.metrics.breaker_state.set(self.breaker.state() as i64);
        let trips = self.breaker.trips();
        let counted = self.metrics.breaker_trips.get();
        if trips > counted {
            self.metrics.breaker_trips.inc_by(trips - counted);
        }
    }
}

/// CPU time of the calling thread, in seconds: what an extraction cost in CPU, unlike its
/// wall time, which grows when more extractions than cores run at once.
/// A page the sandbox stopped short of a result, with what it cost up to there.
fn unextracted(
    error: ExtractError,
    processing_time_us: u64,
    fuel_consumed: u64,
    peak_memory_bytes: u64,
) -> Extraction {
    Extraction {
        result: Err(error),
        links: None,
        stats: Stats {
            processing_time_us,
            cpu_us: 0,
            fuel_consumed,
            peak_memory_bytes,
            engine: Engine::Wasm,
        },
        retry_later: false,
    }
}

/// CPU time of the calling thread, in seconds.
fn thread_cpu_seconds() -> f64 {
    cpu_seconds(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// CPU time of the whole process, every thread included (the sandbox's epoch ticker too),
/// in seconds.
pub fn process_cpu_seconds() -> f64 {
    cpu_seconds(libc::CLOCK_PROCESS_CPUTIME_ID)
}

fn cpu_seconds(clock: libc::clockid_t) -> f64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own; both CPU-time clocks are
    // supported on every Linux this runs on. On failure the timespec stays zero.
    unsafe { libc::clock_gettime(clock, &mut now) };
    now.tv_sec as f64 + now.tv_nsec as f64 / 1e9
}
