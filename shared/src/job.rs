//! The job: what a producer publishes and a worker consumes, and the result a worker
//! stores. Jobs travel as MessagePack maps with named fields (`rmp_serde::to_vec_named`),
//! so a producer in any language builds one from a plain dictionary; see the README's
//! "Message and storage contract".

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use riptide_extractor::{ExtractedDoc, ExtractionMode};
use serde::de::Visitor;
use serde::{Deserialize, Deserializer, Serialize};

/// The wire format version this build writes and reads.
pub const SCHEMA_VERSION: u16 = 1;

/// One crawl job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Wire format version; a worker dead-letters versions it does not know.
    pub version: u16,
    /// Unique id chosen by the producer (a UUID by default); results are keyed by it.
    pub id: String,
    pub kind: JobKind,
    /// The page URL: fetched for `url` jobs, used to resolve links for `html` jobs.
    pub url: String,
    /// The page, for `html` jobs: a string, or binary in the page's own encoding (decoded
    /// by [`crate::charset`] as a fetched page would be).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "html_text"
    )]
    pub html: Option<String>,
    /// `article`, `full`, `metadata` or `custom`.
    #[serde(default = "default_mode")]
    pub mode: String,
    /// CSS selectors for `custom` mode.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub selectors: Vec<String>,
    /// Deliveries that ended in a transient failure so far.
    #[serde(default)]
    pub attempts: u32,
    /// 0-9, higher first where the queue supports priorities.
    #[serde(default)]
    pub priority: u8,
    /// Milliseconds since the Unix epoch.
    pub created_at_ms: u64,
    /// Opaque metadata returned with the result (callback URL, tenant, trace id...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// The crawl this page belongs to, if any: its links are followed within the crawl.
    /// Optional, so version-1 jobs without it keep their meaning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crawl: Option<CrawlRef>,
    /// Who the job is for: its cost is summed per tenant (`riptide-dispatcher usage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The producer's key for this submission: submitting the same key again within
    /// `redis.idempotency_window_secs` returns the first job (the dispatcher honours it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// Not to be fetched before this time (Unix milliseconds): the job waits in Redis
    /// until then, whoever published it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_at_ms: Option<u64>,
    /// The batch the job belongs to: counted in it when it ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
    /// Where the job's end is POSTed (signed; see the README's "Webhooks").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
}

/// How far in the past a `run_at_ms` may be (clock skew, a slow producer) and still run
/// at once; older is refused as a mistake.
pub const RUN_AT_TOLERANCE_MS: u64 = 60_000;
/// How far ahead a job may be scheduled.
pub const RUN_AT_HORIZON_MS: u64 = 366 * 24 * 3600 * 1000;

/// Longest tenant name; tenants are letters, digits, `.`, `_` and `-`.
pub const MAX_TENANT_LEN: usize = 64;

/// Whether `tenant` is a name the usage keys and metric labels can carry.
pub fn valid_tenant(tenant: &str) -> bool {
    !tenant.is_empty()
        && tenant.len() <= MAX_TENANT_LEN
        && tenant
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// What a job cost, on every stored result and summed per tenant in Redis. Times are wall
/// time per stage except `extraction_cpu_us` (the extraction thread's CPU time).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Receipt {
    /// `wasm`, `native-fallback`, `native`, or `sitemap` (read, not extracted).
    pub engine: String,
    /// BLAKE3 of the extractor component that ran the page (empty when none did).
    pub component_digest: String,
    /// Sandbox fuel (WebAssembly instructions, roughly) the extraction consumed.
    pub fuel_consumed: u64,
    pub extraction_cpu_us: u64,
    /// Largest linear memory the guest reached.
    pub peak_memory_bytes: u64,
    /// Body bytes of the page as fetched (0 for inline HTML).
    pub bytes_fetched: u64,
    /// From the job's creation (or its scheduled time) to the worker picking it up for
    /// the attempt that succeeded.
    pub queue_wait_us: u64,
    /// robots.txt check, politeness lease and the fetch.
    pub fetch_us: u64,
    pub extract_us: u64,
    /// Redis work before the result is written: the claim and a crawl page's links (the
    /// write that stores this receipt cannot time itself).
    pub store_us: u64,
}

impl Receipt {
    /// The counters a tenant's totals sum (`riptide:usage:<tenant>`).
    pub fn counters(&self) -> [(&'static str, u64); 9] {
        [
            ("jobs", 1),
            ("fuel_consumed", self.fuel_consumed),
            ("extraction_cpu_us", self.extraction_cpu_us),
            ("peak_memory_bytes", self.peak_memory_bytes),
            ("bytes_fetched", self.bytes_fetched),
            ("queue_wait_us", self.queue_wait_us),
            ("fetch_us", self.fetch_us),
            ("extract_us", self.extract_us),
            ("store_us", self.store_us),
        ]
    }
}

/// A page's place in a crawl.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrawlRef {
    /// The crawl's id.
    pub id: String,
    /// Links followed from a seed to reach this page (a seed is 0).
    pub depth: u32,
    /// The URL is a sitemap listing the crawl's pages (crawls with `sitemaps`), not a page.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sitemap: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// The worker fetches `url`.
    Url,
    /// The page is inline in `html`.
    Html,
}

fn default_mode() -> String {
    "article".into()
}

/// Reads `html` as a string, or as bytes to decode (MessagePack binary, or a MessagePack
/// string that is not UTF-8, which rmp-serde hands over as bytes).
fn html_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    struct Html;
    impl<'de> Visitor<'de> for Html {
        type Value = Option<String>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an HTML page as a string or binary")
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_str<E: serde::de::Error>(self, page: &str) -> Result<Self::Value, E> {
            Ok(Some(page.to_owned()))
        }
        fn visit_string<E: serde::de::Error>(self, page: String) -> Result<Self::Value, E> {
            Ok(Some(page))
        }
        fn visit_bytes<E: serde::de::Error>(self, page: &[u8]) -> Result<Self::Value, E> {
            Ok(Some(crate::charset::decode_html(page, None)))
        }
    }
    deserializer.deserialize_option(Html)
}

/// Why a message is not a job the worker can run.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("not a MessagePack job: {0}")]
    Undecodable(String),
    #[error("unsupported job schema version {0} (this worker reads {SCHEMA_VERSION})")]
    UnsupportedVersion(u16),
    #[error("invalid job: {0}")]
    Invalid(String),
}

impl Job {
    /// A new job with a fresh id.
    pub fn new(
        kind: JobKind,
        url: impl Into<String>,
        html: Option<String>,
        mode: &ExtractionMode,
    ) -> Self {
        let (mode, selectors) = match mode {
            ExtractionMode::Custom(selectors) => ("custom".to_string(), selectors.clone()),
            other => (other.name().to_string(), Vec::new()),
        };
        Self {
            version: SCHEMA_VERSION,
            id: uuid::Uuid::new_v4().to_string(),
            kind,
            url: url.into(),
            html,
            mode,
            selectors,
            attempts: 0,
            priority: 0,
            created_at_ms: now_ms(),
            metadata: BTreeMap::new(),
            crawl: None,
            tenant: None,
            idempotency_key: None,
            run_at_ms: None,
            batch: None,
            callback_url: None,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        // Serializing plain owned data into a Vec cannot fail.
        rmp_serde::to_vec_named(self).unwrap_or_default()
    }

    /// Decodes and validates a message body.
    pub fn decode(bytes: &[u8]) -> Result<Self, JobError> {
        let job: Job =
            rmp_serde::from_slice(bytes).map_err(|e| JobError::Undecodable(e.to_string()))?;
        if job.version != SCHEMA_VERSION {
            return Err(JobError::UnsupportedVersion(job.version));
        }
        if job.id.trim().is_empty() {
            return Err(JobError::Invalid("empty id".into()));
        }
        if job.kind == JobKind::Html && job.html.is_none() {
            return Err(JobError::Invalid(
                "an html job needs the `html` field".into(),
            ));
        }
        if let Some(tenant) = &job.tenant {
            if !valid_tenant(tenant) {
                return Err(JobError::Invalid(format!(
                    "tenant `{tenant}`: at most {MAX_TENANT_LEN} letters, digits, `.`, `_` or `-`"
                )));
            }
        }
        job.extraction_mode()?;
        Ok(job)
    }

    /// Refuses a `run_at_ms` too far in the past or the future, as of `now_ms`.
    pub fn check_run_at(&self, now_ms: u64) -> Result<(), JobError> {
        match self.run_at_ms {
            Some(at) if at + RUN_AT_TOLERANCE_MS < now_ms => Err(JobError::Invalid(format!(
                "run_at_ms {at} is {} s in the past (more than {} s)",
                (now_ms - at) / 1000,
                RUN_AT_TOLERANCE_MS / 1000
            ))),
            Some(at) if at > now_ms + RUN_AT_HORIZON_MS => Err(JobError::Invalid(format!(
                "run_at_ms {at} is more than a year ahead"
            ))),
            _ => Ok(()),
        }
    }

    /// When the job may run: its schedule, or as soon as it exists.
    pub fn ready_at_ms(&self) -> u64 {
        self.run_at_ms.unwrap_or(0).max(self.created_at_ms)
    }

    pub fn extraction_mode(&self) -> Result<ExtractionMode, JobError> {
        ExtractionMode::parse(&self.mode, self.selectors.clone())
            .map_err(|e| JobError::Invalid(e.message().to_string()))
    }

    /// What makes two submissions "the same job" for deduplication.
    pub fn fingerprint(&self) -> String {
        let mut hasher = blake3::Hasher::new();
        for part in [
            match self.kind {
                JobKind::Url => "url",
                JobKind::Html => "html",
            },
            &self.url,
            self.html.as_deref().unwrap_or(""),
            &self.mode,
            &self.selectors.join("\u{1f}"),
        ] {
            hasher.update(part.as_bytes());
            hasher.update(&[0]);
        }
        hasher.finalize().to_hex()[..32].to_string()
    }
}

/// Where a job is in its life; stored in Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Queued,
    Processing,
    /// Extracted; the result is stored.
    Done,
    /// Failed for now; will be retried.
    Failed,
    /// Failed for good; the message is in the dead-letter queue.
    Dead,
    /// A crawl's page that was not fetched on purpose (robots.txt refused it, or its site
    /// asks for too long a Crawl-delay); `error` says why.
    Skipped,
    /// Cancelled before it was fetched.
    Cancelled,
}

impl Status {
    /// Every status, in the order a job passes through them.
    pub const ALL: [Status; 7] = [
        Self::Queued,
        Self::Processing,
        Self::Done,
        Self::Failed,
        Self::Dead,
        Self::Skipped,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Processing => "processing",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Dead => "dead",
            Self::Skipped => "skipped",
            Self::Cancelled => "cancelled",
        }
    }

    /// `done`, `dead`, `skipped` and `cancelled` are final: no later copy of the job
    /// changes them (a dead job becomes live again only through `dlq replay`).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Done | Self::Dead | Self::Skipped | Self::Cancelled
        )
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => Self::Queued,
            "processing" => Self::Processing,
            "done" => Self::Done,
            "failed" => Self::Failed,
            "dead" => Self::Dead,
            "skipped" => Self::Skipped,
            "cancelled" => Self::Cancelled,
            _ => return None,
        })
    }
}

/// The stored result of a finished job (JSON in Redis).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobResult {
    pub id: String,
    pub url: String,
    /// `wasm`, `native-fallback` or `native`.
    pub extractor: String,
    pub content: ExtractedDoc,
    pub processing_time_us: u64,
    pub fuel_consumed: u64,
    pub attempts: u32,
    pub worker: String,
    pub finished_at_ms: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// What the job cost.
    #[serde(default)]
    pub receipt: Receipt,
}

/// A duration in whole milliseconds, saturating (for Redis scores, TTLs and receipts).
pub fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// A duration in whole microseconds, saturating.
pub fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_as_named_messagepack() {
        let mut job = Job::new(
            JobKind::Html,
            "https://e.com/",
            Some("<p>x</p>".into()),
            &ExtractionMode::Full,
        );
        job.metadata.insert("tenant".into(), "t1".into());
        let bytes = job.encode();
        let as_map: rmpv::Value = rmp_serde::from_slice(&bytes).unwrap();
        assert!(as_map
            .as_map()
            .unwrap()
            .iter()
            .any(|(k, _)| k.as_str() == Some("created_at_ms")));
        assert_eq!(Job::decode(&bytes).unwrap(), job);
    }

    #[test]
    fn inline_pages_as_bytes_are_decoded_by_their_charset() {
        let page = "<html><head><meta charset=\"windows-1252\"></head><body><p>Caf\u{e9} cr\u{e8}me br\u{fb}l\u{e9}e</p></body></html>";
        let (latin, _, _) = encoding_rs::WINDOWS_1252.encode(page);
        let placeholder = "x".repeat(latin.len());
        let job = Job::new(
            JobKind::Html,
            "https://e.com/",
            Some(placeholder.clone()),
            &ExtractionMode::Full,
        );
        let encoded = job.encode();
        // The placeholder travels as a str8: marker 0xd9, one length byte, the bytes.
        let at = encoded
            .windows(placeholder.len())
            .position(|w| w == placeholder.as_bytes())
            .unwrap()
            - 2;
        assert_eq!(encoded[at], 0xd9);
        let with_payload = |marker: u8| {
            let mut bytes = encoded[..at].to_vec();
            bytes.extend([marker, u8::try_from(latin.len()).unwrap()]);
            bytes.extend(latin.iter());
            bytes.extend(&encoded[at + 2 + latin.len()..]);
            bytes
        };
        // As MessagePack binary (bin8), and as a string that is not UTF-8.
        for marker in [0xc4, 0xd9] {
            let decoded = Job::decode(&with_payload(marker)).unwrap();
            assert_eq!(decoded.html.as_deref(), Some(page), "marker {marker:#x}");
        }
    }

    #[test]
    fn rejects_what_is_not_a_job() {
        assert!(matches!(
            Job::decode(b"\xc1garbage"),
            Err(JobError::Undecodable(_))
        ));
        let mut job = Job::new(
            JobKind::Url,
            "https://e.com/",
            None,
            &ExtractionMode::Article,
        );
        job.version = 99;
        assert!(matches!(
            Job::decode(&job.encode()),
            Err(JobError::UnsupportedVersion(99))
        ));
        job.version = SCHEMA_VERSION;
        job.mode = "everything".into();
        assert!(matches!(
            Job::decode(&job.encode()),
            Err(JobError::Invalid(_))
        ));
        let html_without_html = Job::new(
            JobKind::Html,
            "https://e.com/",
            None,
            &ExtractionMode::Article,
        );
        assert!(matches!(
            Job::decode(&html_without_html.encode()),
            Err(JobError::Invalid(_))
        ));
    }

    #[test]
    fn fingerprint_ignores_id_and_time() {
        let a = Job::new(
            JobKind::Url,
            "https://e.com/",
            None,
            &ExtractionMode::Article,
        );
        let b = Job::new(
            JobKind::Url,
            "https://e.com/",
            None,
            &ExtractionMode::Article,
        );
        let c = Job::new(JobKind::Url, "https://e.com/", None, &ExtractionMode::Full);
        assert_ne!(a.id, b.id);
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.fingerprint(), c.fingerprint());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn job() -> impl Strategy<Value = Job> {
            (
                ".{0,40}",
                any::<bool>(),
                ".{0,200}",
                prop::option::of(".{0,200}"),
                prop::sample::select(vec!["article", "full", "metadata", "custom", "bogus"]),
                prop::collection::vec(".{0,20}", 0..3),
                any::<u32>(),
                any::<u8>(),
                any::<u64>(),
                prop::collection::btree_map(".{0,10}", ".{0,10}", 0..3),
            )
                .prop_map(
                    |(
                        id,
                        url_kind,
                        url,
                        html,
                        mode,
                        selectors,
                        attempts,
                        priority,
                        at,
                        metadata,
                    )| {
                        Job {
                            version: SCHEMA_VERSION,
                            id,
                            kind: if url_kind {
                                JobKind::Url
                            } else {
                                JobKind::Html
                            },
                            url,
                            html,
                            mode: mode.to_string(),
                            selectors,
                            attempts,
                            priority,
                            created_at_ms: at,
                            metadata,
                            crawl: None,
                            tenant: None,
                            idempotency_key: None,
                            run_at_ms: None,
                            batch: None,
                            callback_url: None,
                        }
                    },
                )
        }

        proptest! {
            #[test]
            fn arbitrary_bytes_decode_to_a_job_or_a_typed_error(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
                let _ = Job::decode(&bytes);
            }

            #[test]
            fn mutated_encodings_never_panic(job in job(), flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8), cut in any::<usize>()) {
                let mut bytes = job.encode();
                for (at, value) in flips {
                    let len = bytes.len();
                    bytes[at % len] = value;
                }
                let cut = cut % (bytes.len() + 1);
                let _ = Job::decode(&bytes[..cut]);
                let _ = Job::decode(&bytes);
            }

            #[test]
            fn a_job_that_decodes_round_trips(job in job()) {
                if let Ok(decoded) = Job::decode(&job.encode()) {
                    prop_assert_eq!(decoded, job);
                }
            }
        }
    }
}
