//! Fetches pages for `url` jobs, politely and safely: timeouts, a body size cap, a
//! redirect cap, a content-type check, charset decoding, a per-host concurrency limit, and
//! an SSRF guard that refuses every address that is not on the public internet (checked on
//! every DNS answer and every redirect) unless `allow_private_networks` is set.
//!
//! Proxies from the environment (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`) are ignored: a
//! proxy would resolve names itself, past the guard. A proxy configured explicitly
//! (`fetch.proxy`) is used, and every destination is then resolved and checked here first,
//! redirects included (they are followed one by one by this module, not by the client).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{CONTENT_TYPE, LOCATION};
use riptide_shared::charset;
use riptide_shared::guard::{check_url, is_public, REFUSED};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use url::Url;

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct FetchConfig {
    /// Whole-request timeout, in milliseconds.
    pub timeout_ms: u64,
    /// TCP connect timeout, in milliseconds.
    pub connect_timeout_ms: u64,
    /// Largest body read, in bytes; a larger page fails permanently.
    pub max_bytes: usize,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
    /// Requests in flight to one host at once.
    pub per_host_concurrency: usize,
    /// Allow private, loopback and link-local addresses (tests, intranet crawls).
    pub allow_private_networks: bool,
    /// Obey robots.txt (RFC 9309) for every fetch.
    pub respect_robots: bool,
    /// Proxy URL for every fetch (`http://proxy:3128`); empty for none. Proxies in the
    /// environment are never used.
    pub proxy: String,
    pub user_agent: String,
}

impl Default for FetchConfig {
    fn default() -> Self {
        Self {
            timeout_ms: 15_000,
            connect_timeout_ms: 5_000,
            max_bytes: 10 * 1024 * 1024,
            max_redirects: 5,
            per_host_concurrency: 2,
            allow_private_networks: false,
            respect_robots: true,
            proxy: String::new(),
            user_agent: concat!(
                "RipTide/",
                env!("CARGO_PKG_VERSION"),
                " (+https://github.com/riptide)"
            )
            .into(),
        }
    }
}

/// Why a fetch failed: worth retrying later, or not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// Timeouts, connection failures, 5xx, 408 and 429.
    #[error("transient fetch failure: {0}")]
    Transient(String),
    /// 4xx, refused addresses, bad URLs, wrong content type, oversized bodies.
    #[error("permanent fetch failure: {0}")]
    Permanent(String),
    /// 429 or 503: the site asks us to slow down (transient), for `retry_after` if it says.
    #[error("throttled: {message}")]
    Throttled {
        message: String,
        retry_after: Option<Duration>,
    },
}

/// A fetched page, decoded to text.
#[derive(Debug)]
pub struct Page {
    /// The URL after redirects: links resolve against it.
    pub url: String,
    pub html: String,
    /// Body bytes as received.
    pub bytes: u64,
    /// The answer's `X-Robots-Tag` says `nofollow` (or `none`): its links are not followed.
    pub nofollow: bool,
}

pub struct Fetcher {
    client: reqwest::Client,
    config: FetchConfig,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// Per-host limiters kept while idle; past this many, idle ones are forgotten.
const IDLE_HOSTS_KEPT: usize = 256;

impl Fetcher {
    pub fn new(config: FetchConfig) -> reqwest::Result<Self> {
        let mut client = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.timeout_ms))
            .connect_timeout(Duration::from_millis(config.connect_timeout_ms))
            .user_agent(config.user_agent.clone())
            .dns_resolver(Arc::new(GuardedResolver {
                allow_private: config.allow_private_networks,
            }))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy();
        if !config.proxy.is_empty() {
            client = client.proxy(reqwest::Proxy::all(&config.proxy)?);
        }
        Ok(Self {
            client: client.build()?,
            config,
            hosts: Mutex::new(HashMap::new()),
        })
    }

    /// Fetches an HTML page: a 2xx answer with an HTML (or plain text) body under the size
    /// cap, decoded to text.
    pub async fn fetch(&self, raw_url: &str) -> Result<Page, FetchError> {
        let response = self.fetch_document(raw_url).await?;
        if let Some(ct) = &response.content_type {
            if !(ct.starts_with("text/html")
                || ct.starts_with("application/xhtml+xml")
                || ct.starts_with("text/plain"))
            {
                return Err(FetchError::Permanent(format!(
                    "unsupported content type `{ct}`: not HTML"
                )));
            }
        }
        let nofollow = response
            .headers
            .get_all("x-robots-tag")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|d| d.trim().to_ascii_lowercase())
            // `botname: nofollow` applies to that bot only: kept when it names nobody.
            .any(|d| d == "nofollow" || d == "none");
        Ok(Page {
            html: charset::decode_html(&response.body, response.content_type.as_deref()),
            bytes: response.body.len() as u64,
            url: response.url,
            nofollow,
        })
    }

    /// Fetches a sitemap: a 2xx answer with an XML, plain text or gzip body under the size
    /// cap, as bytes.
    pub async fn fetch_sitemap(&self, raw_url: &str) -> Result<Response, FetchError> {
        let response = self.fetch_document(raw_url).await?;
        if let Some(ct) = &response.content_type {
            if !(ct.contains("xml") || ct.starts_with("text/plain") || ct.contains("gzip")) {
                return Err(FetchError::Permanent(format!(
                    "unsupported content type `{ct}`: not a sitemap"
                )));
            }
        }
        Ok(response)
    }

    /// POSTs `body` as JSON with `headers` (a webhook delivery) behind the SSRF guard,
    /// without following redirects; returns the answer's status.
    pub async fn post_json(
        &self,
        raw_url: &str,
        body: &str,
        headers: &[(&str, String)],
    ) -> Result<u16, FetchError> {
        let url = Url::parse(raw_url)
            .map_err(|e| FetchError::Permanent(format!("invalid URL `{raw_url}`: {e}")))?;
        self.check_destination(&url).await?;
        let mut request = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.map_err(classify)?;
        Ok(response.status().as_u16())
    }

    /// A 2xx answer under the size cap; 429/503 is [`FetchError::Throttled`].
    async fn fetch_document(&self, raw_url: &str) -> Result<Response, FetchError> {
        let limit = BodyLimit::Refuse(self.config.max_bytes);
        let response = self.get(raw_url, self.config.max_redirects, limit).await?;
        let status = response.status;
        if status == 429 || status == 503 {
            return Err(FetchError::Throttled {
                message: format!("HTTP {status} from {raw_url}"),
                retry_after: retry_after(&response.headers),
            });
        }
        if !(200..300).contains(&status) {
            let message = format!("HTTP {status} from {raw_url}");
            return Err(if status >= 500 || status == 408 {
                FetchError::Transient(message)
            } else {
                FetchError::Permanent(message)
            });
        }
        Ok(response)
    }

    /// One GET, whatever its status, behind the SSRF guard and the per-host limit, following
    /// up to `max_redirects` redirects one by one (each destination checked).
    /// The whole exchange, redirects and body included, ends within `fetch.timeout_ms`:
    /// politeness leases rely on it.
    pub async fn get(
        &self,
        raw_url: &str,
        max_redirects: usize,
        limit: BodyLimit,
    ) -> Result<Response, FetchError> {
        let timeout = Duration::from_millis(self.config.timeout_ms);
        tokio::time::timeout(
            timeout,
            self.follow_redirects(raw_url, max_redirects, limit),
        )
        .await
        .unwrap_or_else(|_| {
            Err(FetchError::Transient(format!(
                "{raw_url} took longer than {} ms",
                self.config.timeout_ms
            )))
        })
    }

    async fn follow_redirects(
        &self,
        raw_url: &str,
        max_redirects: usize,
        limit: BodyLimit,
    ) -> Result<Response, FetchError> {
        let mut url = Url::parse(raw_url)
            .map_err(|e| FetchError::Permanent(format!("invalid URL `{raw_url}`: {e}")))?;
        let mut redirects = 0;
        loop {
            self.check_destination(&url).await?;
            let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
            let permit = self
                .host_limit(&host)
                .acquire_owned()
                .await
                .map_err(|_| FetchError::Transient("fetcher is shutting down".into()))?;
            let response = self
                .client
                .get(url.clone())
                .send()
                .await
                .map_err(classify)?;
            if response.status().is_redirection() {
                drop(permit);
                let location = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| {
                        FetchError::Permanent(format!(
                            "HTTP {} from {url} without a Location",
                            response.status()
                        ))
                    })?;
                let next = url.join(location).map_err(|e| {
                    FetchError::Permanent(format!("bad redirect `{location}` from {url}: {e}"))
                })?;
                redirects += 1;
                if redirects > max_redirects {
                    return Err(FetchError::Permanent(format!(
                        "more than {max_redirects} redirects from {raw_url}"
                    )));
                }
                url = next;
                continue;
            }
            let read = read(response, limit).await;
            drop(permit);
            return read;
        }
    }

    /// The SSRF guard before each request: the scheme and literal addresses always; with a
    /// proxy, which resolves names itself, the name's addresses too.
    async fn check_destination(&self, url: &Url) -> Result<(), FetchError> {
        let allow_private = self.config.allow_private_networks;
        check_url(url, allow_private).map_err(FetchError::Permanent)?;
        if self.config.proxy.is_empty() || allow_private {
            return Ok(());
        }
        if let Some(url::Host::Domain(name)) = url.host() {
            let port = url.port_or_known_default().unwrap_or(80);
            let addrs = tokio::net::lookup_host((name, port))
                .await
                .map_err(|e| FetchError::Transient(format!("resolving {name}: {e}")))?;
            for addr in addrs {
                if !is_public(addr.ip()) {
                    return Err(FetchError::Permanent(format!(
                        "{name} resolves to {}: {REFUSED}",
                        addr.ip()
                    )));
                }
            }
        }
        Ok(())
    }

    /// The host's limiter. Limiters nobody holds are forgotten once more than
    /// [`IDLE_HOSTS_KEPT`] hosts were seen, so a crawl over millions of hosts does not grow
    /// the map without end.
    fn host_limit(&self, host: &str) -> Arc<Semaphore> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        if hosts.len() >= IDLE_HOSTS_KEPT && !hosts.contains_key(host) {
            hosts.retain(|_, limit| Arc::strong_count(limit) > 1);
        }
        hosts
            .entry(host.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.config.per_host_concurrency.max(1))))
            .clone()
    }
}

/// `Retry-After` as delay-seconds or an HTTP date.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

/// What to do with a body over the size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLimit {
    /// Fail permanently (pages: a truncated page would be extracted wrong).
    Refuse(usize),
    /// Keep the first bytes (robots.txt: RFC 9309 asks to parse at least 500 KiB).
    Truncate(usize),
}

/// An answer of any status, its body read.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// The URL after redirects.
    pub url: String,
    pub content_type: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

async fn read(mut response: reqwest::Response, limit: BodyLimit) -> Result<Response, FetchError> {
    let (max, truncate) = match limit {
        BodyLimit::Refuse(max) => (max, false),
        BodyLimit::Truncate(max) => (max, true),
    };
    let too_big = || FetchError::Permanent(format!("body is over the {max}-byte limit"));
    if !truncate
        && response
            .content_length()
            .is_some_and(|len| len > max as u64)
    {
        return Err(too_big());
    }
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    let status = response.status().as_u16();
    let url = response.url().to_string();
    let headers = response.headers().clone();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(classify)? {
        if body.len() + chunk.len() > max {
            if !truncate {
                return Err(too_big());
            }
            body.extend_from_slice(&chunk[..max - body.len()]);
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Response {
        status,
        url,
        content_type,
        headers,
        body,
    })
}

fn classify(error: reqwest::Error) -> FetchError {
    if error.is_redirect() || error.is_builder() {
        return FetchError::Permanent(error_chain(&error));
    }
    // A refused address surfaces as a connect error from the resolver: not worth retrying.
    let message = error_chain(&error);
    if message.contains(REFUSED) {
        FetchError::Permanent(message)
    } else {
        FetchError::Transient(message)
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        source = inner.source();
    }
    message
}

/// Resolves names and drops private answers, so a public-looking name that points inside
/// the network is refused (DNS rebinding included: the checked address is the one used).
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = addrs
                .iter()
                .copied()
                .filter(|a| allow_private || is_public(a.ip()))
                .collect();
            if allowed.is_empty() {
                let message = format!("{host} resolves only to private addresses: {REFUSED}");
                return Err(Box::<dyn std::error::Error + Send + Sync>::from(message));
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_host_limiters_are_forgotten() {
        let fetcher = Fetcher::new(FetchConfig::default()).unwrap();
        let held = fetcher.host_limit("busy.example");
        for n in 0..10_000 {
            drop(fetcher.host_limit(&format!("host{n}.example")));
        }
        assert!(fetcher.hosts.lock().unwrap().len() <= IDLE_HOSTS_KEPT + 1);
        assert!(
            Arc::ptr_eq(&held, &fetcher.host_limit("busy.example")),
            "a limiter in use is kept"
        );
    }
}
