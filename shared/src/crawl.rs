//! Crawls: what a producer asks for (seeds, scope, depth and page budgets, allow and deny
//! patterns), the URL canonical form a crawl deduplicates on, and the scope test every
//! discovered link passes through. Shared by the dispatcher, which starts crawls, and the
//! workers, which follow their links.

use regex::Regex;
use serde::{Deserialize, Serialize};
use url::Url;

/// How far from its seeds a crawl may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// The seeds' hosts exactly.
    #[default]
    Host,
    /// The seeds' registrable domains (public suffix list): `blog.example.co.uk` and
    /// `www.example.co.uk` are one site.
    Domain,
    /// URLs starting with a seed (after canonicalization).
    Prefix,
}

impl Scope {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "host" => Some(Self::Host),
            "domain" => Some(Self::Domain),
            "prefix" => Some(Self::Prefix),
            _ => None,
        }
    }
}

/// Query parameters that only track where a visitor came from: dropped, so that one page
/// reached through several campaigns is crawled once.
const TRACKING_PARAMS: [&str; 12] = [
    "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid", "_ga", "_hsenc",
    "_hsmi", "ref_src",
];

/// The canonical form of a URL: http(s) only, scheme and host lower-cased, default port
/// and fragment dropped, an empty path made `/`, query parameters sorted with `utm_*` and
/// other tracking parameters removed. `None` for what a crawl does not fetch.
pub fn canonicalize(raw: &str) -> Option<Url> {
    let mut url = Url::parse(raw.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    // The url crate already lower-cases scheme and host, drops the default port and
    // gives an empty path as `/`.
    url.set_fragment(None);
    if url.query().is_some() {
        let mut pairs: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(name, _)| {
                let name = name.to_ascii_lowercase();
                !name.starts_with("utm_") && !TRACKING_PARAMS.contains(&name.as_str())
            })
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        pairs.sort();
        if pairs.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
    }
    Some(url)
}

/// A crawl as its producer asked for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrawlSpec {
    pub id: String,
    pub seeds: Vec<String>,
    /// Links followed from a seed, at most (a seed is depth 0).
    pub max_depth: u32,
    /// Pages fetched, at most.
    pub max_pages: u64,
    pub scope: Scope,
    /// When given, a URL must match one of these (regular expressions).
    #[serde(default)]
    pub allow: Vec<String>,
    /// A URL matching one of these is out of scope.
    #[serde(default)]
    pub deny: Vec<String>,
    /// `article`, `full`, `metadata` or `custom`.
    pub mode: String,
    #[serde(default)]
    pub selectors: Vec<String>,
    /// Also follow the sitemaps robots.txt lists for the seeds' sites.
    #[serde(default)]
    pub sitemaps: bool,
    /// Where the crawl's completion is POSTed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    pub created_at_ms: u64,
}

/// Default link depth of a crawl.
pub const DEFAULT_MAX_DEPTH: u32 = 2;
/// Default page budget of a crawl.
pub const DEFAULT_MAX_PAGES: u64 = 1_000;

/// [`DEFAULT_MAX_DEPTH`], for `#[serde(default = ...)]` wherever a crawl is described.
pub fn default_max_depth() -> u32 {
    DEFAULT_MAX_DEPTH
}

/// [`DEFAULT_MAX_PAGES`], for `#[serde(default = ...)]` wherever a crawl is described.
pub fn default_max_pages() -> u64 {
    DEFAULT_MAX_PAGES
}

/// Why a crawl cannot start.
#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    #[error("`{0}` is not an http(s) URL a crawl can start from")]
    BadSeed(String),
    #[error("`{0}` is not a valid regular expression: {1}")]
    BadPattern(String, regex::Error),
    #[error("a crawl needs at least one seed")]
    NoSeeds,
}

/// A crawl's scope, compiled once.
pub struct ScopeRules {
    scope: Scope,
    /// Hosts, registrable domains or URL prefixes of the seeds, by `scope`.
    bounds: Vec<String>,
    allow: Vec<Regex>,
    deny: Vec<Regex>,
}

impl ScopeRules {
    pub fn new(spec: &CrawlSpec) -> Result<Self, CrawlError> {
        if spec.seeds.is_empty() {
            return Err(CrawlError::NoSeeds);
        }
        let mut bounds = Vec::new();
        for seed in &spec.seeds {
            let url = canonicalize(seed).ok_or_else(|| CrawlError::BadSeed(seed.clone()))?;
            let bound = match spec.scope {
                Scope::Host => host(&url),
                Scope::Domain => registrable_domain(&host(&url)),
                Scope::Prefix => url.to_string(),
            };
            bounds.push(bound);
        }
        let compile = |patterns: &[String]| {
            patterns
                .iter()
                .map(|p| Regex::new(p).map_err(|e| CrawlError::BadPattern(p.clone(), e)))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Self {
            scope: spec.scope,
            bounds,
            allow: compile(&spec.allow)?,
            deny: compile(&spec.deny)?,
        })
    }

    /// Whether a canonical URL belongs to the crawl.
    pub fn contains(&self, url: &Url) -> bool {
        let within = match self.scope {
            Scope::Host => self.bounds.contains(&host(url)),
            Scope::Domain => self.bounds.contains(&registrable_domain(&host(url))),
            Scope::Prefix => self.bounds.iter().any(|p| url.as_str().starts_with(p)),
        };
        let text = url.as_str();
        within
            && (self.allow.is_empty() || self.allow.iter().any(|r| r.is_match(text)))
            && !self.deny.iter().any(|r| r.is_match(text))
    }
}

/// `host[:port]`, the port only when it is not the scheme's default.
fn host(url: &Url) -> String {
    match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    }
}

/// The registrable domain of a host (`www.example.co.uk` → `example.co.uk`); an IP
/// address, or a name the public suffix list does not know, is its own domain.
fn registrable_domain(host: &str) -> String {
    let (name, port) = host.rsplit_once(':').map_or((host, ""), |(n, p)| (n, p));
    let domain = psl::domain_str(name).unwrap_or(name);
    if port.is_empty() {
        domain.to_string()
    } else {
        format!("{domain}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(raw: &str) -> String {
        canonicalize(raw).map(|u| u.to_string()).unwrap_or_default()
    }

    #[test]
    fn canonical_urls_drop_what_does_not_name_a_different_page() {
        assert_eq!(
            canonical("HTTP://Example.COM:80/a/b?z=1&utm_source=x&a=2#section"),
            "http://example.com/a/b?a=2&z=1"
        );
        assert_eq!(canonical("https://example.com:443"), "https://example.com/");
        assert_eq!(
            canonical("https://example.com:8443/x"),
            "https://example.com:8443/x"
        );
        assert_eq!(
            canonical("https://example.com/?fbclid=1&gclid=2&UTM_Medium=3"),
            "https://example.com/"
        );
        assert_eq!(canonical("mailto:a@example.com"), "");
        assert_eq!(canonical("javascript:void(0)"), "");
        assert_eq!(canonical("not a url"), "");
    }

    fn spec(seeds: &[&str], scope: Scope) -> CrawlSpec {
        CrawlSpec {
            id: "c".into(),
            seeds: seeds.iter().map(|s| s.to_string()).collect(),
            max_depth: DEFAULT_MAX_DEPTH,
            max_pages: DEFAULT_MAX_PAGES,
            scope,
            allow: Vec::new(),
            deny: Vec::new(),
            mode: "article".into(),
            selectors: Vec::new(),
            sitemaps: false,
            callback_url: None,
            created_at_ms: 0,
        }
    }

    #[test]
    fn scopes_host_domain_and_prefix() {
        let in_scope = |rules: &ScopeRules, url: &str| rules.contains(&canonicalize(url).unwrap());
        let host =
            ScopeRules::new(&spec(&["https://www.example.co.uk/news/"], Scope::Host)).unwrap();
        assert!(in_scope(&host, "https://www.example.co.uk/other"));
        assert!(!in_scope(&host, "https://blog.example.co.uk/"));
        let domain =
            ScopeRules::new(&spec(&["https://www.example.co.uk/news/"], Scope::Domain)).unwrap();
        assert!(in_scope(&domain, "https://blog.example.co.uk/"));
        assert!(!in_scope(&domain, "https://other.co.uk/"));
        let prefix =
            ScopeRules::new(&spec(&["https://www.example.co.uk/news/"], Scope::Prefix)).unwrap();
        assert!(in_scope(&prefix, "https://www.example.co.uk/news/today"));
        assert!(!in_scope(&prefix, "https://www.example.co.uk/sport/"));
        let local = ScopeRules::new(&spec(&["http://127.0.0.2:8080/"], Scope::Domain)).unwrap();
        assert!(in_scope(&local, "http://127.0.0.2:8080/a"));
        assert!(!in_scope(&local, "http://127.0.0.3:8080/a"));
    }

    #[test]
    fn allow_and_deny_patterns() {
        let mut patterned = spec(&["https://example.com/"], Scope::Host);
        patterned.allow = vec!["/blog/".into()];
        patterned.deny = vec!["/blog/drafts/".into()];
        let rules = ScopeRules::new(&patterned).unwrap();
        let in_scope = |url: &str| rules.contains(&canonicalize(url).unwrap());
        assert!(in_scope("https://example.com/blog/post"));
        assert!(!in_scope("https://example.com/about"));
        assert!(!in_scope("https://example.com/blog/drafts/x"));
        patterned.deny = vec!["(".into()];
        assert!(matches!(
            ScopeRules::new(&patterned),
            Err(CrawlError::BadPattern(..))
        ));
    }
}
