//! The Redis key layout. Every value is readable from any language: hashes of strings,
//! JSON for results, a stream for completions.

/// Hash per job: `status`, `attempts`, `error`, `worker`, `updated_at_ms`, and `result`
/// (a JSON [`crate::job::JobResult`]) once done. Expires after the result TTL.
pub fn job(id: &str) -> String {
    format!("riptide:job:{id}")
}

/// Stream of finished jobs: entries with fields `id` and `status` (`done` or `dead`).
pub const COMPLETIONS: &str = "riptide:completions";

/// Approximate length the completion stream is trimmed to.
pub const COMPLETIONS_MAX_LEN: usize = 100_000;

/// `SET NX EX window` per idempotency key, holding the id of the first submission.
pub fn idempotency(key: &str) -> String {
    format!("riptide:idempotency:{key}")
}

/// `SET NX EX window` per job fingerprint, holding the id of the first submission.
pub fn dedup(fingerprint: &str) -> String {
    format!("riptide:dedup:{fingerprint}")
}

/// An origin's robots.txt policy, cached for the fleet (JSON; see the worker's `robots`).
pub fn robots(origin: &str) -> String {
    format!("riptide:robots:{origin}")
}

/// Held (SET NX PX) by the one worker fetching an origin's robots.txt for the fleet.
pub fn robots_lock(origin: &str) -> String {
    format!("riptide:robots-lock:{origin}")
}

/// Hash per host (`host:port`), the fleet's pace on it (Redis time, ms): `last_start_ms`,
/// `delay_ms` (the delay then in force), `blocked_until_ms` (after 429/503), `reserved_ms`
/// (the last slot given to a deferred job), `backoff` (429/503 answers in a row) and
/// `reason` (why it is slowed down).
pub fn host(host: &str) -> String {
    format!("riptide:host:{host}")
}

/// Sorted set per host of fetch leases in flight, scored by when they expire.
pub fn host_leases(host: &str) -> String {
    format!("riptide:host:{host}:leases")
}

/// Sorted set of jobs put aside until their host is free, scored by when they may run
/// (Redis time, ms); per queue namespace, since they go back to its jobs queue.
pub fn deferred(namespace: &str) -> String {
    format!("riptide:deferred:{namespace}")
}

/// Deferred jobs a promoter claimed and is publishing, scored by when the claim expires.
pub fn deferred_claims(namespace: &str) -> String {
    format!("riptide:deferred:{namespace}:claims")
}

/// Hash per crawl: `spec` (JSON `CrawlSpec`), `state` (`running`, `completed`,
/// `cancelled`), `started_at_ms`, `finished_at_ms`, and counters: `discovered` (links met,
/// seeds included), `admitted`, `pending`, and one per terminal reason (`done`, `dead` and
/// `dead:<reason>`, `robots-disallowed`, `crawl-delay-too-long`, `out-of-scope`,
/// `too-deep`, `over-budget`, `duplicate`, `cancelled`). The `{id}` hash tag keeps a crawl's
/// keys in one Redis Cluster slot.
pub fn crawl(id: &str) -> String {
    format!("riptide:crawl:{{{id}}}")
}

/// Set of the canonical URLs a crawl has admitted or met in scope, as 13-byte BLAKE3
/// digests (`frontier::digest`).
pub fn crawl_seen(id: &str) -> String {
    format!("riptide:crawl:{{{id}}}:seen")
}

/// Set of the digests of the crawl's pages whose links were admitted: a page run again
/// (its worker died before acking) does not discover its links twice.
pub fn crawl_followed(id: &str) -> String {
    format!("riptide:crawl:{{{id}}}:followed")
}

/// Set of the hosts of the crawl's admitted pages, for `crawl status` to show which of
/// them are throttled.
pub fn crawl_hosts(id: &str) -> String {
    format!("riptide:crawl:{{{id}}}:hosts")
}

/// List of the ids of a crawl's done pages, in the order they finished.
pub fn crawl_pages(id: &str) -> String {
    format!("riptide:crawl:{{{id}}}:pages")
}

/// Hash per tenant: the sums of its done jobs' receipts (`jobs`, `fuel_consumed`,
/// `extraction_cpu_us`, `peak_memory_bytes`, `bytes_fetched`, `queue_wait_us`, `fetch_us`,
/// `extract_us`, `store_us`). Jobs without a tenant count under [`DEFAULT_TENANT`].
pub fn usage(tenant: &str) -> String {
    format!("riptide:usage:{tenant}")
}

/// Set of the tenants with usage.
pub const TENANTS: &str = "riptide:tenants";

/// The tenant of jobs that name none.
pub const DEFAULT_TENANT: &str = "default";

/// Hash per batch: `state` (`running`, `completed`), `total`, `pending`, `created_at_ms`,
/// `finished_at_ms`, `callback_url`, and one count per terminal status (`done`, `dead`,
/// `cancelled`, `skipped`), plus `not-queued` for jobs a failed submission never queued.
pub fn batch(id: &str) -> String {
    format!("riptide:batch:{{{id}}}")
}

/// Sorted set of a queue namespace's webhook deliveries (JSON `{url, body, delivery_id,
/// attempt}`) scored by when to try them next; a sender of that namespace's workers (and
/// so its `callbacks.secret`) claims one by moving its score ahead.
pub fn callbacks(namespace: &str) -> String {
    format!("riptide:callbacks:{namespace}")
}

/// Hash of a queue namespace's periodic schedules: id → JSON
/// (`riptide_dispatcher::schedules::Schedule`).
pub fn schedules(namespace: &str) -> String {
    format!("riptide:schedules:{namespace}")
}

/// Sorted set of a namespace's schedule ids scored by their next tick (Unix ms).
pub fn schedules_due(namespace: &str) -> String {
    format!("riptide:schedules:{namespace}:due")
}

/// Set of every crawl's id.
pub const CRAWLS: &str = "riptide:crawls";

/// Hash per worker, refreshed every few seconds with a short TTL: `breaker_state`
/// (0 closed, 1 open, 2 half-open), `in_flight`, `done`, `updated_at_ms`.
pub fn worker(id: &str) -> String {
    format!("{WORKER_PREFIX}{id}")
}

const WORKER_PREFIX: &str = "riptide:worker:";

/// Pattern matching every worker's hash.
pub const WORKERS_PATTERN: &str = "riptide:worker:*";

/// The worker id in a key matched by [`WORKERS_PATTERN`].
pub fn worker_id(key: &str) -> &str {
    key.strip_prefix(WORKER_PREFIX).unwrap_or(key)
}

/// Hash of counters: how many jobs reached each status (`queued`, `done`, `failed`, `dead`).
pub const STATUS_COUNTS: &str = "riptide:stats:status";

/// Field names of the job and worker hashes.
pub mod field {
    pub const STATUS: &str = "status";
    pub const ATTEMPTS: &str = "attempts";
    pub const ERROR: &str = "error";
    pub const WORKER: &str = "worker";
    pub const UPDATED_AT_MS: &str = "updated_at_ms";
    pub const RESULT: &str = "result";
    /// "1" once a producer asked to cancel the job.
    pub const CANCEL_REQUESTED: &str = "cancel_requested";
    /// Where the job's end is POSTed (a producer's webhook).
    pub const CALLBACK_URL: &str = "callback_url";
    /// When a scheduled job may run (Unix ms).
    pub const RUN_AT_MS: &str = "run_at_ms";
    /// The crawl a page belongs to (set when a worker claims it).
    pub const CRAWL_ID: &str = "crawl_id";
    /// Heartbeat: the worker's breaker state (a `BreakerState` discriminant).
    pub const BREAKER_STATE: &str = "breaker_state";
    /// Heartbeat: deliveries the worker holds unsettled.
    pub const IN_FLIGHT: &str = "in_flight";
}
