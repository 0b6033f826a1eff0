//! The links a crawler may follow from a page: every http(s) `<a href>` and `<area href>`
//! of the whole page (not only the extracted content's), resolved against the page's base, each
//! once in document order, without `rel=nofollow` links; none at all when the page's robots
//! meta says `nofollow`. Also the page's `<link rel=canonical>` and its `noindex`.
//! Read from the document as parsed, before readability cleans it.

use std::collections::HashSet;

use dom_query::Document;
use url::Url;

use crate::render::resolve_url;

/// What a page offers a crawler.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PageLinks {
    /// Absolute URLs a crawler may follow.
    pub follow: Vec<String>,
    /// The page's canonical URL, absolute.
    pub canonical: Option<String>,
    /// The page asks crawlers not to follow its links.
    pub nofollow: bool,
    /// The page asks not to be indexed.
    pub noindex: bool,
}

/// The links of `doc`, resolved against `base`.
pub fn discover(doc: &Document, base: Option<&Url>) -> PageLinks {
    let (mut nofollow, mut noindex) = (false, false);
    for meta in doc.select("meta[name]").nodes() {
        let name = meta.attr("name").unwrap_or_default().to_ascii_lowercase();
        if name != "robots" {
            continue;
        }
        let content = meta
            .attr("content")
            .unwrap_or_default()
            .to_ascii_lowercase();
        for directive in content.split(',').map(str::trim) {
            match directive {
                "nofollow" => nofollow = true,
                "noindex" => noindex = true,
                "none" => (nofollow, noindex) = (true, true),
                _ => {}
            }
        }
    }
    let canonical = doc
        .select("link[rel][href]")
        .nodes()
        .iter()
        .find(|link| has_token(&link.attr("rel").unwrap_or_default(), "canonical"))
        .and_then(|link| resolve_url(base, &link.attr("href").unwrap_or_default()));
    let mut follow = Vec::new();
    if !nofollow {
        let mut seen = HashSet::new();
        for link in doc.select("a[href], area[href]").nodes() {
            if has_token(&link.attr("rel").unwrap_or_default(), "nofollow") {
                continue;
            }
            let Some(url) = resolve_url(base, &link.attr("href").unwrap_or_default())
                .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
            else {
                continue;
            };
            if seen.insert(url.clone()) {
                follow.push(url);
            }
        }
    }
    PageLinks {
        follow,
        canonical,
        nofollow,
        noindex,
    }
}

fn has_token(list: &str, token: &str) -> bool {
    list.split_ascii_whitespace()
        .any(|t| t.eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(html: &str) -> PageLinks {
        let base = Url::parse("https://example.com/dir/page.html").unwrap();
        discover(&Document::from(html), Some(&base))
    }

    #[test]
    fn every_followable_link_of_the_page_once() {
        let found = links(
            r#"<html><head><link rel="canonical" href="/canonical"></head><body>
            <nav><a href="/home">Home</a></nav>
            <article><a href="b.html">B</a><a href="b.html#part">B again</a>
            <a rel="nofollow sponsored" href="/ad">Ad</a><a href="mailto:x@example.com">Mail</a>
            <a href="javascript:go()">JS</a><map><area href="/area"></map></article>
            <footer><a href="https://other.org/x">Other</a></footer></body></html>"#,
        );
        assert_eq!(
            found.follow,
            [
                "https://example.com/home",
                "https://example.com/dir/b.html",
                "https://example.com/dir/b.html#part",
                "https://example.com/area",
                "https://other.org/x",
            ]
        );
        assert_eq!(
            found.canonical.as_deref(),
            Some("https://example.com/canonical")
        );
        assert!(!found.nofollow && !found.noindex);
    }

    #[test]
    fn a_nofollow_page_offers_no_links() {
        let found = links(
            r#"<html><head><meta name="ROBOTS" content="noindex, nofollow"></head>
            <body><a href="/x">X</a></body></html>"#,
        );
        assert!(found.follow.is_empty());
        assert!(found.nofollow && found.noindex);
    }
}
