//! The worker's Prometheus metrics, registered once in their own registry. Names come from
//! `riptide_shared::metrics`, the one list dashboards and alerts are checked against.

use prometheus::{
    exponential_buckets, CounterVec, Encoder, Gauge, Histogram, HistogramOpts, HistogramVec,
    IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};
use std::collections::HashSet;

use riptide_shared::frontier::LINK_REASONS;
use riptide_shared::job::Receipt;
use riptide_shared::keys;
use riptide_shared::metrics::{self as names, JobOutcome};
use std::time::Duration;

use crate::extraction::Engine;
use crate::robots::{Source, Verdict};
use crate::sandbox::{CacheOutcome, SandboxError};

pub struct Metrics {
    registry: Registry,
    pub jobs: IntCounterVec,
    pub job_duration_seconds: HistogramVec,
    pub job_queue_wait_seconds: Histogram,
    pub dead_letters: IntCounterVec,
    pub extraction_seconds: HistogramVec,
    pub extraction_cpu_seconds: CounterVec,
    pub fuel_consumed: Histogram,
    pub peak_memory_bytes: Histogram,
    pub instances_in_use: IntGauge,
    pub instances_max: IntGauge,
    pub memory_growth_denied: IntCounter,
    pub sandbox_failures: IntCounterVec,
    pub breaker_state: IntGauge,
    pub breaker_trips: IntCounter,
    pub fallback: IntCounter,
    pub cold_start_seconds: Gauge,
    pub aot_cache: IntCounterVec,
    pub robots_checks: IntCounterVec,
    pub robots_lookups: IntCounterVec,
    pub politeness_wait_seconds: Histogram,
    pub crawl_links: IntCounterVec,
    pub crawl_pages: IntCounterVec,
    pub tenant_jobs: IntCounterVec,
    pub tenant_fuel: IntCounterVec,
    pub tenant_cpu_seconds: CounterVec,
    pub tenant_bytes_fetched: IntCounterVec,
    /// Tenants with a label of their own; the others count as `other`.
    tenant_labels: HashSet<String>,
}

/// The tenant label of tenants not configured for a label of their own.
pub const OTHER_TENANT: &str = "other";

impl Metrics {
    pub fn new() -> prometheus::Result<Self> {
        Self::with_tenants(&[])
    }

    /// Metrics whose per-tenant series name these tenants (and `default`, for jobs without
    /// one); any other tenant counts as `other`, so the label set stays bounded.
    pub fn with_tenants(tenants: &[String]) -> prometheus::Result<Self> {
        let registry = Registry::new();
        let metrics = Self {
            jobs: IntCounterVec::new(
                Opts::new(names::JOBS_TOTAL, "Jobs finished, by outcome"),
                &["outcome"],
            )?,
            job_duration_seconds: HistogramVec::new(
                HistogramOpts::new(
                    names::JOB_DURATION_SECONDS,
                    "Time a worker spent on a job, by outcome",
                )
                .buckets(exponential_buckets(0.001, 2.0, 17)?),
                &["outcome"],
            )?,
            job_queue_wait_seconds: Histogram::with_opts(
                HistogramOpts::new(
                    names::JOB_QUEUE_WAIT_SECONDS,
                    "Time from a job's creation to its first pickup",
                )
                .buckets(exponential_buckets(0.01, 2.0, 20)?),
            )?,
            dead_letters: IntCounterVec::new(
                Opts::new(names::DEAD_LETTERS_TOTAL, "Jobs dead-lettered, by reason"),
                &["reason"],
            )?,
            extraction_seconds: HistogramVec::new(
                HistogramOpts::new(names::EXTRACTION_SECONDS, "Extraction latency, by engine")
                    .buckets(exponential_buckets(0.0005, 2.0, 16)?),
                &["engine"],
            )?,
            extraction_cpu_seconds: CounterVec::new(
                Opts::new(
                    names::EXTRACTION_CPU_SECONDS_TOTAL,
                    "Thread CPU time spent extracting, by engine",
                ),
                &["engine"],
            )?,
            fuel_consumed: Histogram::with_opts(
                HistogramOpts::new(
                    names::FUEL_CONSUMED,
                    "Fuel consumed per sandboxed extraction",
                )
                .buckets(exponential_buckets(1e6, 2.0, 14)?),
            )?,
            peak_memory_bytes: Histogram::with_opts(
                HistogramOpts::new(
                    names::PEAK_MEMORY_BYTES,
                    "Peak linear memory per sandboxed extraction",
                )
                .buckets(exponential_buckets(1_048_576.0, 2.0, 8)?),
            )?,
            instances_in_use: IntGauge::new(names::INSTANCES_IN_USE, "Sandbox instances running")?,
            instances_max: IntGauge::new(
                names::INSTANCES_MAX,
                "Configured sandbox instance limit",
            )?,
            memory_growth_denied: IntCounter::new(
                names::MEMORY_GROWTH_DENIED_TOTAL,
                "Denied memory growth requests",
            )?,
            sandbox_failures: IntCounterVec::new(
                Opts::new(names::SANDBOX_FAILURES_TOTAL, "Sandbox failures, by reason"),
                &["reason"],
            )?,
            breaker_state: IntGauge::new(
                names::BREAKER_STATE,
                "Circuit breaker: 0 closed, 1 open, 2 half-open",
            )?,
            breaker_trips: IntCounter::new(names::BREAKER_TRIPS_TOTAL, "Times the breaker opened")?,
            fallback: IntCounter::new(
                names::FALLBACK_TOTAL,
                "Pages extracted natively while the breaker was open",
            )?,
            cold_start_seconds: Gauge::new(
                names::COLD_START_SECONDS,
                "Time until the sandbox was ready",
            )?,
            aot_cache: IntCounterVec::new(
                Opts::new(names::AOT_CACHE_TOTAL, "AOT cache lookups, by result"),
                &["result"],
            )?,
            robots_checks: IntCounterVec::new(
                Opts::new(names::ROBOTS_CHECKS_TOTAL, "robots.txt verdicts, by result"),
                &["result"],
            )?,
            robots_lookups: IntCounterVec::new(
                Opts::new(
                    names::ROBOTS_LOOKUPS_TOTAL,
                    "robots.txt policies looked up, by source",
                ),
                &["source"],
            )?,
            politeness_wait_seconds: Histogram::with_opts(
                HistogramOpts::new(
                    names::POLITENESS_WAIT_SECONDS,
                    "How long a job was put aside for its host to be free",
                )
                .buckets(exponential_buckets(0.01, 2.0, 16)?),
            )?,
            crawl_links: IntCounterVec::new(
                Opts::new(
                    names::CRAWL_LINKS_TOTAL,
                    "Links crawl pages offered, by what became of them",
                ),
                &["reason"],
            )?,
            crawl_pages: IntCounterVec::new(
                Opts::new(
                    names::CRAWL_PAGES_TOTAL,
                    "Crawl pages settled for good, by terminal reason",
                ),
                &["reason"],
            )?,
            tenant_jobs: IntCounterVec::new(
                Opts::new(names::TENANT_JOBS_TOTAL, "Jobs done, by tenant"),
                &["tenant"],
            )?,
            tenant_fuel: IntCounterVec::new(
                Opts::new(names::TENANT_FUEL_TOTAL, "Sandbox fuel consumed, by tenant"),
                &["tenant"],
            )?,
            tenant_cpu_seconds: CounterVec::new(
                Opts::new(
                    names::TENANT_EXTRACTION_CPU_SECONDS_TOTAL,
                    "Extraction CPU time, by tenant",
                ),
                &["tenant"],
            )?,
            tenant_bytes_fetched: IntCounterVec::new(
                Opts::new(
                    names::TENANT_BYTES_FETCHED_TOTAL,
                    "Page bytes fetched, by tenant",
                ),
                &["tenant"],
            )?,
            tenant_labels: tenants
                .iter()
                .cloned()
                .chain([keys::DEFAULT_TENANT.to_string()])
                .collect(),
            registry,
        };
        let r = &metrics.registry;
        r.register(Box::new(metrics.jobs.clone()))?;
        r.register(Box::new(metrics.job_duration_seconds.clone()))?;
        r.register(Box::new(metrics.job_queue_wait_seconds.clone()))?;
        r.register(Box::new(metrics.dead_letters.clone()))?;
        r.register(Box::new(metrics.extraction_seconds.clone()))?;
        r.register(Box::new(metrics.extraction_cpu_seconds.clone()))?;
        r.register(Box::new(metrics.fuel_consumed.clone()))?;
        r.register(Box::new(metrics.peak_memory_bytes.clone()))?;
        r.register(Box::new(metrics.instances_in_use.clone()))?;
        r.register(Box::new(metrics.instances_max.clone()))?;
        r.register(Box::new(metrics.memory_growth_denied.clone()))?;
        r.register(Box::new(metrics.sandbox_failures.clone()))?;
        r.register(Box::new(metrics.breaker_state.clone()))?;
        r.register(Box::new(metrics.breaker_trips.clone()))?;
        r.register(Box::new(metrics.fallback.clone()))?;
        r.register(Box::new(metrics.cold_start_seconds.clone()))?;
        r.register(Box::new(metrics.aot_cache.clone()))?;
        r.register(Box::new(metrics.robots_checks.clone()))?;
        r.register(Box::new(metrics.robots_lookups.clone()))?;
        r.register(Box::new(metrics.politeness_wait_seconds.clone()))?;
        r.register(Box::new(metrics.crawl_links.clone()))?;
        r.register(Box::new(metrics.crawl_pages.clone()))?;
        r.register(Box::new(metrics.tenant_jobs.clone()))?;
        r.register(Box::new(metrics.tenant_fuel.clone()))?;
        r.register(Box::new(metrics.tenant_cpu_seconds.clone()))?;
        r.register(Box::new(metrics.tenant_bytes_fetched.clone()))?;
        metrics.start_labels_at_zero();
        Ok(metrics)
    }

    /// Creates every labelled series up front, so that dashboards and `rate()` see a zero
    /// rather than no data before the first event of a kind.
    fn start_labels_at_zero(&self) {
        for outcome in JobOutcome::ALL {
            self.jobs.with_label_values(&[outcome.as_str()]);
            self.job_duration_seconds
                .with_label_values(&[outcome.as_str()]);
        }
        for engine in Engine::ALL {
            self.extraction_seconds
                .with_label_values(&[engine.as_str()]);
            self.extraction_cpu_seconds
                .with_label_values(&[engine.as_str()]);
        }
        for reason in SandboxError::REASONS {
            self.sandbox_failures.with_label_values(&[reason]);
        }
        for result in CacheOutcome::ALL {
            self.aot_cache.with_label_values(&[result.as_str()]);
        }
        for result in Verdict::RESULTS {
            self.robots_checks.with_label_values(&[result]);
        }
        for source in Source::ALL {
            self.robots_lookups.with_label_values(&[source.as_str()]);
        }
        for reason in LINK_REASONS {
            self.crawl_links.with_label_values(&[reason]);
        }
        self.crawl_pages.with_label_values(&["done"]);
        for tenant in self
            .tenant_labels
            .iter()
            .map(String::as_str)
            .chain([OTHER_TENANT])
        {
            self.tenant_jobs.with_label_values(&[tenant]);
            self.tenant_fuel.with_label_values(&[tenant]);
            self.tenant_cpu_seconds.with_label_values(&[tenant]);
            self.tenant_bytes_fetched.with_label_values(&[tenant]);
        }
    }

    /// Adds a done job's receipt to its tenant's series.
    pub fn record_usage(&self, tenant: Option<&str>, receipt: &Receipt) {
        let tenant = tenant.unwrap_or(keys::DEFAULT_TENANT);
        let label = if self.tenant_labels.contains(tenant) {
            tenant
        } else {
            OTHER_TENANT
        };
        self.tenant_jobs.with_label_values(&[label]).inc();
        self.tenant_fuel
            .with_label_values(&[label])
            .inc_by(receipt.fuel_consumed);
        self.tenant_cpu_seconds
            .with_label_values(&[label])
            .inc_by(receipt.extraction_cpu_us as f64 / 1e6);
        self.tenant_bytes_fetched
            .with_label_values(&[label])
            .inc_by(receipt.bytes_fetched);
    }

    /// Counts a crawl page that ended for good, under its crawl's terminal reason.
    pub fn record_crawl_page(&self, reason: &str) {
        self.crawl_pages.with_label_values(&[reason]).inc();
    }

    /// Counts a settled delivery and how long the worker spent on it.
    pub fn record_job(&self, outcome: JobOutcome, spent: Duration) {
        self.jobs.with_label_values(&[outcome.as_str()]).inc();
        self.job_duration_seconds
            .with_label_values(&[outcome.as_str()])
            .observe(spent.as_secs_f64());
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        // Encoding into a Vec cannot fail for well-formed metrics.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    }
}
