//! Sitemaps (sitemaps.org protocol) for crawls started with `--sitemaps`: a `<urlset>`
//! lists pages, a `<sitemapindex>` lists further sitemaps; either may be gzip-compressed.
//! The protocol's own limits bound the work: 50,000 URLs and 50 MiB uncompressed per file,
//! which also defuses a decompression bomb.

use std::io::Read;

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;
use quick_xml::Reader;
use url::Url;

/// URLs one sitemap file may list (sitemaps.org).
pub const MAX_URLS: usize = 50_000;
/// Uncompressed bytes of one sitemap file, at most (sitemaps.org).
pub const MAX_BYTES: u64 = 50 * 1024 * 1024;

/// What one sitemap file lists, as absolute http(s) URLs.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Listing {
    /// Pages (`<urlset><url><loc>`).
    pub pages: Vec<String>,
    /// Further sitemaps (`<sitemapindex><sitemap><loc>`).
    pub sitemaps: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SitemapError {
    #[error("sitemap is not valid gzip: {0}")]
    Gzip(std::io::Error),
    #[error("sitemap is larger than {MAX_BYTES} bytes uncompressed")]
    TooLarge,
    #[error("sitemap is not well-formed XML: {0}")]
    Xml(String),
    #[error("not a sitemap: the root element is <{0}>, not <urlset> or <sitemapindex>")]
    NotASitemap(String),
}

/// Reads a sitemap file (gzip recognised by its magic bytes); `base` is where it was
/// fetched from, against which relative `<loc>`s, which the protocol forbids but sites
/// write, are resolved. Listed URLs past [`MAX_URLS`] are ignored, as the protocol says.
pub fn parse(body: &[u8], base: &Url) -> Result<Listing, SitemapError> {
    let xml = if body.starts_with(&[0x1f, 0x8b]) {
        let mut xml = Vec::new();
        flate2::read::GzDecoder::new(body)
            .take(MAX_BYTES + 1)
            .read_to_end(&mut xml)
            .map_err(SitemapError::Gzip)?;
        xml
    } else {
        body.to_vec()
    };
    if xml.len() as u64 > MAX_BYTES {
        return Err(SitemapError::TooLarge);
    }
    read_locs(&xml, base)
}

fn read_locs(xml: &[u8], base: &Url) -> Result<Listing, SitemapError> {
    let mut reader = Reader::from_reader(xml);
    reader.config_mut().trim_text(true);
    let mut listing = Listing::default();
    let mut root: Option<String> = None;
    let mut in_loc = false;
    let mut loc = String::new();
    let mut buf = Vec::new();
    let mut listed = 0;
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| SitemapError::Xml(format!("at byte {}: {e}", reader.error_position())))?;
        match event {
            Event::Start(tag) => {
                let name = tag.local_name().as_ref().to_ascii_lowercase();
                match &root {
                    None if name == "urlset" || name == "sitemapindex" => root = Some(name),
                    None => return Err(SitemapError::NotASitemap(name)),
                    Some(_) if name == "loc" => {
                        in_loc = true;
                        loc.clear();
                    }
                    Some(_) => {}
                }
            }
            Event::Text(text) if in_loc => loc.push_str(&text.xml10_content()),
            Event::CData(data) if in_loc => loc.push_str(&data.xml10_content()),
            Event::GeneralRef(entity) if in_loc => {
                if let Ok(Some(c)) = entity.resolve_char_ref() {
                    loc.push(c);
                } else if let Some(s) = resolve_predefined_entity(&entity.xml10_content()) {
                    loc.push_str(s);
                }
            }
            Event::End(tag) if tag.local_name().as_ref().eq_ignore_ascii_case("loc") => {
                in_loc = false;
                listed += 1;
                if listed > MAX_URLS {
                    break;
                }
                let Some(url) = base
                    .join(loc.trim())
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                else {
                    continue;
                };
                if root.as_deref() == Some("sitemapindex") {
                    listing.sitemaps.push(url.into());
                } else {
                    listing.pages.push(url.into());
                }
            }
            Event::Empty(tag) if root.is_none() => {
                let name = tag.local_name().as_ref().to_ascii_lowercase();
                if name == "urlset" || name == "sitemapindex" {
                    return Ok(listing);
                }
                return Err(SitemapError::NotASitemap(name));
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    match root {
        Some(_) => Ok(listing),
        None => Err(SitemapError::NotASitemap(String::new())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn base() -> Url {
        Url::parse("https://example.com/sitemap.xml").unwrap()
    }

    #[test]
    fn reads_a_urlset_with_entities_and_cdata() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://example.com/a?x=1&amp;y=2</loc><lastmod>2026-01-01</lastmod></url>
  <url><loc><![CDATA[https://example.com/b]]></loc></url>
  <url><loc>/relative</loc></url>
  <url><loc>ftp://example.com/no</loc></url>
</urlset>"#;
        let listing = parse(xml, &base()).unwrap();
        assert_eq!(
            listing.pages,
            [
                "https://example.com/a?x=1&y=2",
                "https://example.com/b",
                "https://example.com/relative"
            ]
        );
        assert!(listing.sitemaps.is_empty());
    }

    #[test]
    fn reads_a_gzipped_index() {
        let xml = br#"<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://example.com/s1.xml</loc></sitemap>
<sitemap><loc>https://example.com/s2.xml.gz</loc></sitemap></sitemapindex>"#;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(xml).unwrap();
        let listing = parse(&gz.finish().unwrap(), &base()).unwrap();
        assert_eq!(
            listing.sitemaps,
            [
                "https://example.com/s1.xml",
                "https://example.com/s2.xml.gz"
            ]
        );
        assert!(listing.pages.is_empty());
    }

    #[test]
    fn refuses_what_is_not_a_sitemap() {
        assert!(matches!(
            parse(b"<html><body>hi</body></html>", &base()),
            Err(SitemapError::NotASitemap(name)) if name == "html"
        ));
        assert!(matches!(
            parse(b"<urlset><url><loc>x</url>", &base()),
            Err(SitemapError::Xml(_))
        ));
        assert!(matches!(
            parse(&[0x1f, 0x8b, 0, 1, 2], &base()),
            Err(SitemapError::Gzip(_))
        ));
    }

    #[test]
    fn a_decompression_bomb_is_refused() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![b' '; 1024 * 1024];
        for _ in 0..51 {
            gz.write_all(&zeros).unwrap();
        }
        let bomb = gz.finish().unwrap();
        assert!(bomb.len() < 200 * 1024);
        assert!(matches!(parse(&bomb, &base()), Err(SitemapError::TooLarge)));
    }

    #[test]
    fn lists_at_most_the_protocol_limit() {
        let mut xml = String::from("<urlset>");
        for n in 0..MAX_URLS + 10 {
            xml.push_str(&format!("<url><loc>https://example.com/{n}</loc></url>"));
        }
        xml.push_str("</urlset>");
        assert_eq!(
            parse(xml.as_bytes(), &base()).unwrap().pages.len(),
            MAX_URLS
        );
    }
}
