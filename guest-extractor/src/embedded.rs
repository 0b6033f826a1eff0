//! Content a page ships outside its markup, for its scripts to put in place.
//!
//! Some platforms send the article body as an HTML template that a script copies into the
//! content block when the page loads (Blogger's themes for Google's own blogs do: an empty
//! `itemprop=articleBody` block holding `<script type="text/template">`). A reader sees the
//! article; the markup alone holds nothing. The template is put where the script would put
//! it, and only there: templates elsewhere (cookie banners, widgets) stay out.
//!
//! News sites also give the whole text in their JSON-LD (`articleBody`) while the markup
//! shows a teaser or loads the rest by script. When what the markup gave is short and the
//! JSON-LD body says several times more, the JSON-LD body is the article.

use dom_query::{Document, NodeRef};
use url::Url;

use crate::quality::word_count;
use crate::render::{self, Rendered};

use crate::container::is_named_article_body;
use crate::markup::{self, Attributes};
use crate::text::TextCounts;

/// Replaces each HTML template that is all there is of a named content block with its
/// markup, nesting capped at `max_depth` as for the page itself.
pub fn inline_content_templates(doc: &Document, max_depth: usize, attributes: Attributes) {
    let templates: Vec<NodeRef<'_>> = doc
        .select(r#"script[type="text/template"]"#)
        .nodes()
        .iter()
        .copied()
        .filter(|script| {
            script.parent().is_some_and(|block| {
                is_named_article_body(&block) && TextCounts::of(&block).words(&block) == 0
            })
        })
        .collect();
    for script in templates {
        let template = script.text();
        let (template, _) = markup::prepare(&template, max_depth, attributes);
        script.replace_with_html(template.as_ref());
    }
}

/// A pick shorter than this many words may be a teaser of the JSON-LD body.
const SHORT_ARTICLE_WORDS: u32 = 200;
/// How many times the pick's words the JSON-LD body must hold to replace it.
const ARTICLE_BODY_RATIO: u32 = 3;

/// The JSON-LD `article_body` rendered, when `article` (the markup's pick) is missing or
/// short and the body holds several times its words; otherwise `article`.
pub fn prefer_article_body(
    article: Option<Rendered>,
    article_body: Option<&str>,
    base: Option<&Url>,
    max_depth: usize,
) -> Option<Rendered> {
    let Some(body) = article_body else {
        return article;
    };
    let picked = article.as_ref().map_or(0, |a| word_count(&a.text));
    if picked >= SHORT_ARTICLE_WORDS || word_count(body) <= ARTICLE_BODY_RATIO * picked.max(1) {
        return article;
    }
    // Usually plain text with a line per paragraph; some sites put markup in it.
    let body_markup = if body.contains('<') && body.contains('>') {
        body.to_string()
    } else {
        body.lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(|line| format!("<p>{}</p>", escape_html(line)))
            .collect()
    };
    let (body_markup, _) = markup::prepare(&body_markup, max_depth, Attributes::Read);
    let doc = Document::fragment(body_markup.as_ref());
    let mut rendered = render::render([doc.root()], base);
    if let Some(article) = article {
        rendered.links = article.links;
        rendered.media = article.media;
    }
    Some(rendered).filter(|r| !r.text.is_empty())
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
