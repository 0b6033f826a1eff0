//! Prometheus metric names. Dashboards and alert rules in `ops/` use exactly these; a test
//! scrapes the running binaries and checks them against what `ops/` refers to.

/// Jobs (or local extractions) finished, by `outcome` (`done`, `failed`, `resource-limit`, ...).
pub const JOBS_TOTAL: &str = "riptide_jobs_total";
/// Seconds a job waited between its creation and a worker picking it up: the age of the
/// backlog as the jobs leaving it saw it.
pub const JOB_QUEUE_WAIT_SECONDS: &str = "riptide_job_queue_wait_seconds";
/// Seconds a worker spent on one job, fetch, extraction and storage included, by `outcome`.
pub const JOB_DURATION_SECONDS: &str = "riptide_job_duration_seconds";
/// Seconds from handing a page to the extractor until its result, by `engine`.
pub const EXTRACTION_SECONDS: &str = "riptide_extraction_seconds";
/// CPU seconds the extraction threads spent extracting (thread CPU time, not wall time), by `engine`.
pub const EXTRACTION_CPU_SECONDS_TOTAL: &str = "riptide_extraction_cpu_seconds_total";
/// Fuel units one sandboxed extraction consumed.
pub const FUEL_CONSUMED: &str = "riptide_sandbox_fuel_consumed";
/// Largest linear memory one sandboxed extraction reached, in bytes.
pub const PEAK_MEMORY_BYTES: &str = "riptide_sandbox_peak_memory_bytes";
/// Sandbox instances running right now.
pub const INSTANCES_IN_USE: &str = "riptide_sandbox_instances_in_use";
/// Configured upper bound of concurrent sandbox instances.
pub const INSTANCES_MAX: &str = "riptide_sandbox_instances_max";
/// Memory growth requests the sandbox denied.
pub const MEMORY_GROWTH_DENIED_TOTAL: &str = "riptide_sandbox_memory_growth_denied_total";
/// Jobs dead-lettered, by `reason` (the `x-riptide-reason` header: `fetch`, `undecodable`,
/// `max-attempts`, `invalid-html`, `resource-limit`, ...).
pub const DEAD_LETTERS_TOTAL: &str = "riptide_dead_letters_total";
/// Sandbox failures, by `reason` (`fuel`, `deadline`, `memory`, `trap`, `instantiate`, ...).
pub const SANDBOX_FAILURES_TOTAL: &str = "riptide_sandbox_failures_total";
/// Circuit breaker state: 0 closed, 1 open, 2 half-open.
pub const BREAKER_STATE: &str = "riptide_breaker_state";
/// Times the breaker opened.
pub const BREAKER_TRIPS_TOTAL: &str = "riptide_breaker_trips_total";
/// Pages extracted natively because the breaker was open.
pub const FALLBACK_TOTAL: &str = "riptide_native_fallback_total";
/// Seconds from process start until the sandbox was ready to extract.
pub const COLD_START_SECONDS: &str = "riptide_sandbox_cold_start_seconds";
/// AOT cache lookups, by `result` (`hit`, `miss`).
pub const AOT_CACHE_TOTAL: &str = "riptide_aot_cache_total";
/// robots.txt verdicts, by `result` (`allowed`, `disallowed`, `delay-too-long`, `unavailable`).
pub const ROBOTS_CHECKS_TOTAL: &str = "riptide_robots_checks_total";
/// robots.txt policies looked up, by `source` (`cache`: the fleet's Redis cache, `fetched`:
/// this worker fetched robots.txt for the fleet).
pub const ROBOTS_LOOKUPS_TOTAL: &str = "riptide_robots_lookups_total";
/// Seconds a job was put aside because its host was not free (politeness), per deferral.
pub const POLITENESS_WAIT_SECONDS: &str = "riptide_politeness_wait_seconds";
/// Links crawl pages offered, by `reason`: `admitted`, or the terminal reason of a link
/// not fetched (`out-of-scope`, `too-deep`, `duplicate`, `over-budget`, `cancelled`).
pub const CRAWL_LINKS_TOTAL: &str = "riptide_crawl_links_total";
/// Crawl pages settled for good, by `reason` (`done`, `dead:<reason>`, `robots-disallowed`,
/// `crawl-delay-too-long`, `cancelled`).
pub const CRAWL_PAGES_TOTAL: &str = "riptide_crawl_pages_total";
/// Crawls known to Redis, by `state` (`running`, `completed`, `cancelled`; exported by the
/// dispatcher).
pub const CRAWLS: &str = "riptide_crawls";
/// Jobs done, by `tenant` (configured tenants, `default` for jobs without one, the rest
/// `other`).
pub const TENANT_JOBS_TOTAL: &str = "riptide_tenant_jobs_total";
/// Sandbox fuel consumed by done jobs, by `tenant`.
pub const TENANT_FUEL_TOTAL: &str = "riptide_tenant_fuel_total";
/// Extraction CPU seconds of done jobs, by `tenant`.
pub const TENANT_EXTRACTION_CPU_SECONDS_TOTAL: &str = "riptide_tenant_extraction_cpu_seconds_total";
/// Page bytes fetched for done jobs, by `tenant`.
pub const TENANT_BYTES_FETCHED_TOTAL: &str = "riptide_tenant_bytes_fetched_total";
/// Messages waiting in each queue, by `queue` (exported by the dispatcher).
pub const QUEUE_DEPTH: &str = "riptide_queue_depth";
/// Jobs submitted through the dispatcher, by `result` (`queued`, `duplicate`, `error`).
pub const JOBS_SUBMITTED_TOTAL: &str = "riptide_jobs_submitted_total";
/// 1 when the dispatcher reached the `dependency` (`broker`, `redis`) at the last scrape, else 0.
pub const DEPENDENCY_UP: &str = "riptide_dependency_up";
/// Jobs by status as counted in Redis, by `status` (exported by the dispatcher).
pub const JOBS_BY_STATUS: &str = "riptide_jobs_by_status";

/// How a delivery of a job ended: the `outcome` label of [`JOBS_TOTAL`] and
/// [`JOB_DURATION_SECONDS`], which dashboards and alert rules select on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutcome {
    /// The result is stored.
    Done,
    /// A transient failure; the job waits in a retry queue.
    Retried,
    /// Dead-lettered: a permanent failure, out of attempts, or an undecodable message.
    Dead,
    /// Already done (a redelivery); acked without running again.
    Duplicate,
    /// Its host was not free: put aside until it is (politeness), without an attempt.
    Deferred,
    /// A crawl's page not fetched: robots.txt refused it.
    Skipped,
    /// Cancelled by a producer (or with its crawl): not run, or stopped while running.
    Cancelled,
    /// Nothing could be settled (e.g. Redis away too long); handed back to the broker.
    Requeued,
}

impl JobOutcome {
    pub const ALL: [JobOutcome; 8] = [
        Self::Done,
        Self::Retried,
        Self::Dead,
        Self::Duplicate,
        Self::Deferred,
        Self::Skipped,
        Self::Cancelled,
        Self::Requeued,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Retried => "retried",
            Self::Dead => "dead",
            Self::Duplicate => "duplicate",
            Self::Deferred => "deferred",
            Self::Skipped => "skipped",
            Self::Cancelled => "cancelled",
            Self::Requeued => "requeued",
        }
    }
}
