//! Page metadata: title, byline, dates, description, site name, categories and declared
//! language, from meta tags, JSON-LD, microdata and `<time>` elements.
//!
//! dom_smoothie's readability metadata is the first source (it follows Readability.js);
//! what it leaves empty is filled from the sources it does not read.

use dom_query::{local_name, Document, LocalName};
use serde_json::Value;

use crate::element::{attr, find_element, has_token, with_element};
use crate::render::collapse_whitespace;
use crate::text::text_outside_code;

/// Metadata of one page.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PageMetadata {
    pub title: Option<String>,
    pub byline: Option<String>,
    pub published_iso: Option<String>,
    pub description: Option<String>,
    pub site_name: Option<String>,
    pub categories: Vec<String>,
    /// The language the page declares (`<html lang>`, `content-language`), as written.
    pub declared_language: Option<String>,
    /// The page says it is an article (`og:type`, JSON-LD `@type`).
    pub declares_article: bool,
    /// The longest JSON-LD `articleBody`, as written (line breaks kept).
    pub article_body: Option<String>,
}

/// Reads what dom_smoothie does not: categories, `<time>`, microdata, JSON-LD sections.
pub fn read(doc: &Document, readability: dom_smoothie::Metadata) -> PageMetadata {
    let tags = PageTags::of(doc);
    let json_ld = json_ld_objects(&tags.json_ld);
    let ld_str = |keys: &[&str]| {
        json_ld
            .iter()
            .find_map(|obj| keys.iter().find_map(|k| string_of(obj.get(*k)?)))
    };

    let title = non_empty(readability.title)
        .or_else(|| meta(&tags, &["og:title", "twitter:title"]))
        .or_else(|| ld_str(&["headline", "name"]));
    let byline = readability
        .byline
        .and_then(non_empty)
        .or_else(|| {
            meta(
                &tags,
                &["author", "article:author", "dc.creator", "parsely-author"],
            )
        })
        .or_else(|| {
            json_ld
                .iter()
                .find_map(|obj| obj.get("author").and_then(author_name))
        })
        .or_else(|| byline_element(doc))
        .filter(|b| !b.starts_with("http"));
    let published_iso = readability
        .published_time
        .and_then(|t| normalize_date(&t))
        .or_else(|| {
            meta(
                &tags,
                &[
                    "article:published_time",
                    "datepublished",
                    "date",
                    "dc.date",
                    "dc.date.issued",
                    "pubdate",
                    "publish-date",
                    "sailthru.date",
                ],
            )
            .and_then(|t| normalize_date(&t))
        })
        .or_else(|| ld_str(&["datePublished", "dateCreated"]).and_then(|t| normalize_date(&t)))
        .or_else(|| {
            doc.root().descendants_it().find_map(|n| {
                with_element(&n, |name, attrs| {
                    let dated = attr(attrs, &local_name!("itemprop")) == Some("datePublished")
                        || (name == "time"
                            && (attr(attrs, &local_name!("datetime")).is_some()
                                || attr(attrs, &LocalName::from("pubdate")).is_some()));
                    if !dated {
                        return None;
                    }
                    attr(attrs, &local_name!("datetime"))
                        .or_else(|| attr(attrs, &local_name!("content")))
                        .and_then(normalize_date)
                })
                .flatten()
            })
        });
    let description = readability.excerpt.and_then(non_empty).or_else(|| {
        meta(
            &tags,
            &["description", "og:description", "twitter:description"],
        )
    });
    let site_name = readability
        .site_name
        .and_then(non_empty)
        .or_else(|| meta(&tags, &["og:site_name", "application-name", "twitter:site"]))
        .or_else(|| {
            json_ld
                .iter()
                .find_map(|obj| obj.get("publisher").and_then(author_name))
        });

    let mut categories = Vec::new();
    for value in metas(
        &tags,
        &[
            "article:section",
            "article:tag",
            "keywords",
            "news_keywords",
            "parsely-section",
        ],
    ) {
        for part in value.split([',', ';']) {
            push_category(&mut categories, part);
        }
    }
    for obj in &json_ld {
        for key in ["articleSection", "keywords"] {
            match obj.get(key) {
                Some(Value::String(s)) => {
                    s.split(',').for_each(|p| push_category(&mut categories, p))
                }
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .for_each(|p| push_category(&mut categories, p)),
                _ => {}
            }
        }
    }
    for text in &tags.tag_links {
        push_category(&mut categories, text);
    }

    let declared_language = doc
        .root()
        .first_element_child()
        .and_then(|html| html.attr("lang"))
        .map(|l| l.to_string())
        .and_then(non_empty)
        .or_else(|| readability.lang.and_then(non_empty))
        .or_else(|| {
            find_element(doc, |name, attrs| {
                name == "meta"
                    && attr(attrs, &local_name!("http-equiv"))
                        .is_some_and(|h| h.eq_ignore_ascii_case("content-language"))
            })
            .and_then(|n| n.attr("content").map(|c| c.to_string()))
        })
        .or_else(|| meta(&tags, &["og:locale", "language"]));

    let declares_article = meta(&tags, &["og:type"])
        .is_some_and(|t| t.eq_ignore_ascii_case("article"))
        || json_ld.iter().any(|obj| {
            let types: Vec<&str> = match obj.get("@type") {
                Some(Value::String(s)) => vec![s.as_str()],
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
                _ => vec![],
            };
            types
                .iter()
                .any(|t| t.ends_with("Article") || *t == "BlogPosting" || *t == "Report")
        });

    let article_body = json_ld
        .iter()
        .filter_map(|obj| obj.get("articleBody")?.as_str())
        .max_by_key(|body| body.len())
        .filter(|body| !body.trim().is_empty())
        .map(str::to_string);

    PageMetadata {
        article_body,
        title,
        byline,
        published_iso,
        description,
        site_name,
        categories,
        declared_language,
        declares_article,
    }
}

/// What the metadata is read from, collected in one walk over the page: `<meta>` tags
/// with content, the text of tag and category links, and the JSON-LD scripts.
struct PageTags {
    /// Per `<meta>` tag, in document order: its `name`, `property` and `itemprop`, and
    /// its content.
    metas: Vec<(Vec<String>, String)>,
    tag_links: Vec<String>,
    json_ld: Vec<String>,
}

impl PageTags {
    fn of(doc: &Document) -> Self {
        let mut tags = Self {
            metas: Vec::new(),
            tag_links: Vec::new(),
            json_ld: Vec::new(),
        };
        // One walk, without the CSS matcher: every page is read this way.
        for node in doc.root().descendants_it() {
            let kind = with_element(&node, |name, attrs| match name {
                "meta" => attr(attrs, &local_name!("content"))
                    .map(collapse_whitespace)
                    .and_then(non_empty)
                    .map(|content| {
                        let keys = [
                            local_name!("name"),
                            local_name!("property"),
                            local_name!("itemprop"),
                        ]
                        .iter()
                        .filter_map(|key| attr(attrs, key).map(|v| v.trim().to_string()))
                        .collect();
                        Found::Meta(keys, content)
                    }),
                "a" if attr(attrs, &local_name!("rel")).is_some_and(|rel| {
                    rel.split_ascii_whitespace()
                        // HTML matches `rel` values without regard to case.
                        .any(|token| {
                            token.eq_ignore_ascii_case("tag")
                                || token.eq_ignore_ascii_case("category")
                        })
                }) =>
                {
                    Some(Found::TagLink)
                }
                "script"
                    if attr(attrs, &local_name!("type"))
                        .is_some_and(|t| t.eq_ignore_ascii_case("application/ld+json")) =>
                {
                    Some(Found::JsonLd)
                }
                _ => None,
            })
            .flatten();
            match kind {
                Some(Found::Meta(keys, content)) => tags.metas.push((keys, content)),
                Some(Found::TagLink) => tags.tag_links.push(text_outside_code(&node)),
                Some(Found::JsonLd) => tags.json_ld.push(node.text().to_string()),
                None => {}
            }
        }
        tags
    }
}

/// What [`PageTags::of`] keeps of an element.
enum Found {
    Meta(Vec<String>, String),
    TagLink,
    JsonLd,
}

/// The first non-empty `content` of `<meta name|property|itemprop=...>` among `names`, in order.
fn meta(tags: &PageTags, names: &[&str]) -> Option<String> {
    metas(tags, names).into_iter().next()
}

fn metas(tags: &PageTags, names: &[&str]) -> Vec<String> {
    names
        .iter()
        .flat_map(|name| {
            tags.metas
                .iter()
                .filter(|(keys, _)| keys.iter().any(|k| k.eq_ignore_ascii_case(name)))
                .map(|(_, content)| content.clone())
        })
        .collect()
}

/// The text of the first short element that says it is the author (microdata, `rel`, or
/// a `byline` or `author` class), in document order.
fn byline_element(doc: &Document) -> Option<String> {
    doc.root()
        .descendants_it()
        .filter(|node| {
            with_element(node, |_, attrs| {
                let itemprop = attr(attrs, &local_name!("itemprop"));
                itemprop == Some("author")
                    || attr(attrs, &local_name!("rel"))
                        .is_some_and(|rel| rel.eq_ignore_ascii_case("author"))
                    || has_token(attr(attrs, &local_name!("class")), "byline")
                    || has_token(attr(attrs, &local_name!("class")), "author")
                    || (itemprop == Some("name")
                        && node.ancestors_it(None).any(|a| {
                            with_element(&a, |_, attrs| {
                                attr(attrs, &local_name!("itemprop")) == Some("author")
                            })
                            .unwrap_or(false)
                        }))
            })
            .unwrap_or(false)
        })
        .map(|n| collapse_whitespace(&text_outside_code(&n)))
        .find(|t| !t.is_empty() && t.len() < 100)
}

/// Every JSON object in the page's JSON-LD scripts, `@graph` members included.
fn json_ld_objects(scripts: &[String]) -> Vec<Value> {
    let mut objects = Vec::new();
    for script in scripts {
        let Ok(value) = serde_json::from_str::<Value>(script.trim()) else {
            continue;
        };
        let mut queue = vec![value];
        while let Some(value) = queue.pop() {
            match value {
                Value::Array(items) => queue.extend(items),
                Value::Object(mut map) => {
                    if let Some(graph) = map.remove("@graph") {
                        queue.push(graph);
                    }
                    objects.push(Value::Object(map));
                }
                _ => {}
            }
        }
    }
    objects
}

fn string_of(value: &Value) -> Option<String> {
    value.as_str().map(collapse_whitespace).and_then(non_empty)
}

/// The name of a JSON-LD person or organization, given as a string, object or list.
fn author_name(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => non_empty(collapse_whitespace(s)),
        Value::Object(map) => map.get("name").and_then(string_of),
        Value::Array(items) => {
            let names: Vec<String> = items.iter().filter_map(author_name).collect();
            non_empty(names.join(", "))
        }
        _ => None,
    }
}

fn push_category(categories: &mut Vec<String>, raw: &str) {
    let category = collapse_whitespace(raw);
    if !category.is_empty()
        && category.chars().count() <= 60
        && !categories.iter().any(|c| c.eq_ignore_ascii_case(&category))
    {
        categories.push(category);
    }
}

fn non_empty(s: String) -> Option<String> {
    let trimmed = s.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

/// Keeps a date only when it is ISO 8601 (a date, optionally with a time); a compact
/// `YYYYMMDD` is rewritten with dashes. Human-written dates are not guessed at.
pub fn normalize_date(raw: &str) -> Option<String> {
    let t = raw.trim();
    let b = t.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    if digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
    {
        let rest = &t[10..];
        if rest.is_empty() || rest.starts_with('T') || rest.starts_with(' ') {
            return Some(t.replacen(' ', "T", 1).trim_end_matches('T').to_string());
        }
    }
    if b.len() == 8 && digits(0..8) {
        return Some(format!("{}-{}-{}", &t[0..4], &t[4..6], &t[6..8]));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_html(html: &str) -> PageMetadata {
        read(&Document::from(html), dom_smoothie::Metadata::default())
    }

    #[test]
    fn reads_json_ld_graph_and_meta_tags() {
        let m = read_html(
            r#"<html lang="de-DE"><head>
            <meta property="article:section" content="Science">
            <meta name="keywords" content="space, rockets">
            <script type="application/ld+json">{"@graph":[{"@type":"NewsArticle","headline":"H",
              "author":[{"name":"Ada"},{"name":"Bob"}],"datePublished":"2024-03-05T10:00:00Z",
              "publisher":{"name":"Daily"}}]}</script></head><body></body></html>"#,
        );
        assert_eq!(m.title.as_deref(), Some("H"));
        assert_eq!(m.byline.as_deref(), Some("Ada, Bob"));
        assert_eq!(m.published_iso.as_deref(), Some("2024-03-05T10:00:00Z"));
        assert_eq!(m.site_name.as_deref(), Some("Daily"));
        assert_eq!(m.categories, vec!["Science", "space", "rockets"]);
        assert_eq!(m.declared_language.as_deref(), Some("de-DE"));
        assert!(m.declares_article);
    }

    #[test]
    fn rel_values_match_without_regard_to_case() {
        let m = read_html(
            r#"<html><body><p><a rel="Tag" href="/t/politics">Politics</a></p>
            <p><a rel="AUTHOR" href="/a/ada">Ada Byron</a></p></body></html>"#,
        );
        assert_eq!(m.categories, vec!["Politics"]);
        assert_eq!(m.byline.as_deref(), Some("Ada Byron"));
    }

    #[test]
    fn time_element_gives_the_date() {
        let m = read_html(r#"<p>Posted <time datetime="2023-01-02">Jan 2</time></p>"#);
        assert_eq!(m.published_iso.as_deref(), Some("2023-01-02"));
    }

    #[test]
    fn dates_are_iso_or_nothing() {
        assert_eq!(
            normalize_date("2020-01-02 10:11"),
            Some("2020-01-02T10:11".into())
        );
        assert_eq!(normalize_date("20200102"), Some("2020-01-02".into()));
        assert_eq!(normalize_date("January 2, 2020"), None);
        assert_eq!(normalize_date("2020-01-0é"), None);
    }
}
