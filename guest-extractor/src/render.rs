//! Turns a DOM subtree into Markdown and plain text in one walk, collecting the absolute
//! URLs of its links and media on the way.
//!
//! Hand-written rather than a converter crate because it works on the tree we already
//! parsed (no second parse), resolves URLs against the page's base, and must never recurse
//! without bound: the walk keeps its own stack.

use std::borrow::Cow;
use std::collections::HashSet;

use dom_query::{Attr, NodeRef};
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};
use url::Url;

use crate::element::{is_hidden, with_element};

/// The result of rendering one or more subtrees.
#[derive(Debug, Default)]
pub struct Rendered {
    pub markdown: String,
    pub text: String,
    pub links: Vec<String>,
    pub media: Vec<String>,
}

impl Rendered {
    /// Puts a paragraph of plain text before everything else.
    pub fn prepend_paragraph(&mut self, text: &str) {
        for out in [&mut self.text, &mut self.markdown] {
            *out = if out.is_empty() {
                text.to_string()
            } else {
                format!("{text}\n\n{out}")
            };
        }
    }
}

/// Elements whose content is never visible text. `rt` and `rp` are ruby annotations: the
/// reading aid printed above the text (furigana), not part of the sentence.
const SKIPPED: &[&str] = &[
    "script", "style", "noscript", "template", "head", "title", "meta", "link", "svg", "canvas",
    "select", "option", "button", "input", "textarea", "object", "embed", "map", "rt", "rp",
];

/// Elements that start a new block of text.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "body",
    "center",
    "dd",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "header",
    "hgroup",
    "html",
    "main",
    "menu",
    "nav",
    "section",
    "summary",
    "caption",
];

/// Renders a sequence of subtrees, in order, into one document.
pub fn render<'a>(roots: impl IntoIterator<Item = NodeRef<'a>>, base: Option<&Url>) -> Rendered {
    let mut writer = Writer::new(base);
    for root in roots {
        writer.block_break();
        writer.walk(root);
    }
    writer.finish()
}

/// One step of the walk: enter a node, or leave an element entered earlier.
enum Step<'a> {
    Enter(NodeRef<'a>),
    Leave(Leave),
}

/// What to write when an element is left.
enum Leave {
    Block,
    ListItem,
    List,
    Quote,
    Pre,
    Emphasis(&'static str),
    Code,
    Link {
        href: Option<String>,
        md_start: usize,
    },
    TableCell,
    TableRow {
        header: bool,
    },
}

struct ListState {
    ordered: bool,
    next_number: u32,
}

struct Writer<'u> {
    base: Option<&'u Url>,
    out: Rendered,
    /// Line breaks owed before the next text: 1 = new line, 2 = blank line.
    pending_break: u8,
    /// Prefixes of the current line: "> " for quotes, indentation for nested lists.
    prefixes: Vec<&'static str>,
    lists: Vec<ListState>,
    /// Inside `<pre>`, whitespace is kept as it is.
    pre_depth: usize,
    /// The text written so far ends in whitespace (or nothing), so a space is not needed.
    at_space: bool,
    /// Links and media already listed: a page with thousands of links stays linear.
    seen_links: HashSet<String>,
    seen_media: HashSet<String>,
}

impl<'u> Writer<'u> {
    fn new(base: Option<&'u Url>) -> Self {
        Self {
            base,
            out: Rendered::default(),
            pending_break: 0,
            prefixes: Vec::new(),
            lists: Vec::new(),
            pre_depth: 0,
            at_space: true,
            seen_links: HashSet::new(),
            seen_media: HashSet::new(),
        }
    }

    fn finish(mut self) -> Rendered {
        self.out.markdown = normalize_text(self.out.markdown.trim_end());
        self.out.text = normalize_text(self.out.text.trim_end());
        self.out
    }

    fn walk(&mut self, root: NodeRef<'_>) {
        let mut stack = vec![Step::Enter(root)];
        while let Some(step) = stack.pop() {
            match step {
                Step::Leave(leave) => self.leave(leave),
                Step::Enter(node) => {
                    if node.is_text() {
                        self.text(&node.text());
                        continue;
                    }
                    if !(node.is_element() || node.is_document() || node.is_fragment()) {
                        continue;
                    }
                    let leave = match node.node_name() {
                        Some(name) => match self.enter(&node, &name) {
                            Entered::Skip => continue,
                            Entered::Children(leave) => leave,
                        },
                        None => None,
                    };
                    if let Some(leave) = leave {
                        stack.push(Step::Leave(leave));
                    }
                    for child in node.children_it(true) {
                        stack.push(Step::Enter(child));
                    }
                }
            }
        }
    }

    fn enter(&mut self, node: &NodeRef<'_>, name: &str) -> Entered {
        if !is_rendered(node, name) {
            return Entered::Skip;
        }
        let leave = match name {
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                let level = usize::from(name.as_bytes()[1] - b'0');
                self.block_break();
                self.write("#".repeat(level).as_str(), "");
                self.write(" ", "");
                self.at_space = true;
                Leave::Block
            }
            "p" => {
                self.block_break();
                Leave::Block
            }
            "br" => {
                self.line_break();
                return Entered::Skip;
            }
            "hr" => {
                self.block_break();
                self.write("---", "");
                self.block_break();
                return Entered::Skip;
            }
            "ul" | "ol" => {
                let start = node
                    .attr("start")
                    .and_then(|s| s.trim().parse().ok())
                    .unwrap_or(1);
                self.lists.push(ListState {
                    ordered: name == "ol",
                    next_number: start,
                });
                if self.lists.len() == 1 {
                    self.block_break();
                } else {
                    self.line_break();
                }
                Leave::List
            }
            "li" => {
                self.line_break();
                let marker = match self.lists.last_mut() {
                    Some(list) if list.ordered => {
                        let marker = format!("{}. ", list.next_number);
                        list.next_number += 1;
                        marker
                    }
                    _ => "- ".to_string(),
                };
                self.write(&marker, "");
                self.at_space = true;
                self.prefixes.push("   ");
                Leave::ListItem
            }
            "blockquote" => {
                self.block_break();
                self.prefixes.push("> ");
                Leave::Quote
            }
            "pre" => {
                self.block_break();
                let language = code_language(node);
                self.write(&format!("```{language}"), "");
                self.line_break();
                self.pre_depth += 1;
                Leave::Pre
            }
            "code" | "kbd" | "samp" | "tt" if self.pre_depth == 0 => {
                self.write_separator();
                self.write("`", "");
                Leave::Code
            }
            "strong" | "b" => {
                self.write_separator();
                self.write("**", "");
                Leave::Emphasis("**")
            }
            "em" | "i" => {
                self.write_separator();
                self.write("*", "");
                Leave::Emphasis("*")
            }
            "a" => {
                let href = node.attr("href").and_then(|h| self.resolve(&h));
                if let Some(href) = &href {
                    if href.starts_with("http") {
                        push_unique(&mut self.out.links, &mut self.seen_links, href.clone());
                    }
                }
                self.write_separator();
                let md_start = self.out.markdown.len();
                self.write("[", "");
                Leave::Link { href, md_start }
            }
            "img" => {
                if let Some(src) = media_source(node).and_then(|s| self.resolve(&s)) {
                    let alt = node
                        .attr("alt")
                        .map(|a| collapse_whitespace(&a))
                        .unwrap_or_default();
                    self.write_separator();
                    self.write(&format!("![{}]({})", escape_markdown(&alt), src), "");
                    push_unique(&mut self.out.media, &mut self.seen_media, src);
                }
                return Entered::Skip;
            }
            "video" | "audio" | "source" | "iframe" => {
                if let Some(src) = media_source(node).and_then(|s| self.resolve(&s)) {
                    if src.starts_with("http") {
                        push_unique(&mut self.out.media, &mut self.seen_media, src);
                    }
                }
                if name == "iframe" {
                    return Entered::Skip;
                }
                Leave::Block
            }
            "tr" => {
                self.line_break();
                let header = node
                    .children_it(false)
                    .all(|c| !c.is_element() || c.node_name().is_some_and(|n| n.as_ref() == "th"))
                    && node.children_it(false).any(|c| c.is_element());
                self.write("|", "");
                Leave::TableRow { header }
            }
            "td" | "th" => {
                self.write(" ", "");
                self.at_space = true;
                Leave::TableCell
            }
            "table" => {
                self.block_break();
                Leave::Block
            }
            _ if BLOCKS.contains(&name) => {
                self.block_break();
                Leave::Block
            }
            _ => return Entered::Children(None),
        };
        Entered::Children(Some(leave))
    }

    fn leave(&mut self, leave: Leave) {
        match leave {
            Leave::Block => self.block_break(),
            Leave::ListItem => {
                self.prefixes.pop();
                self.line_break();
            }
            Leave::List => {
                self.lists.pop();
                if self.lists.is_empty() {
                    self.block_break();
                } else {
                    self.line_break();
                }
            }
            Leave::Quote => {
                self.prefixes.pop();
                self.block_break();
            }
            Leave::Pre => {
                self.pre_depth -= 1;
                self.line_break();
                self.write("```", "");
                self.block_break();
            }
            Leave::Code => self.write("`", ""),
            Leave::Emphasis(mark) => self.write(mark, ""),
            Leave::Link { href, md_start } => {
                let label_empty = self.out.markdown.len() <= md_start + 1;
                match href {
                    Some(href) if !label_empty => self.write(&format!("]({href})"), ""),
                    // No target or no label: keep the label text, drop the brackets.
                    _ => {
                        self.out.markdown.remove(md_start);
                    }
                }
            }
            Leave::TableCell => self.write(" |", ""),
            Leave::TableRow { header } => {
                if header {
                    let columns = self.current_line().matches(" |").count().max(1);
                    self.line_break();
                    self.write(&"|---".repeat(columns), "");
                    self.write("|", "");
                }
                self.line_break();
            }
        }
    }

    fn current_line(&self) -> &str {
        let md = &self.out.markdown;
        md.rfind('\n').map_or(md.as_str(), |i| &md[i + 1..])
    }

    /// Writes a text node: whitespace collapsed outside `<pre>`, Markdown escaped.
    fn text(&mut self, raw: &str) {
        if self.pre_depth > 0 {
            self.flush_break();
            for (i, line) in raw.split('\n').enumerate() {
                if i > 0 {
                    self.out.markdown.push('\n');
                    self.out.text.push('\n');
                    self.push_prefixes();
                }
                self.out.markdown.push_str(line);
                self.out.text.push_str(line);
            }
            self.at_space = raw.ends_with(char::is_whitespace);
            return;
        }
        if raw.starts_with(char::is_whitespace) {
            self.write_separator();
        }
        let mut words = raw.split_whitespace();
        let Some(first) = words.next() else {
            return;
        };
        self.write(&escape_markdown(first), first);
        for word in words {
            self.write(" ", " ");
            self.write(&escape_markdown(word), word);
        }
        if raw.ends_with(char::is_whitespace) {
            self.write_separator();
        }
    }

    /// A space between inline pieces, unless one is already there or a line just began.
    fn write_separator(&mut self) {
        if !self.at_space && self.pending_break == 0 {
            self.out.markdown.push(' ');
            self.out.text.push(' ');
            self.at_space = true;
        }
    }

    fn write(&mut self, md: &str, text: &str) {
        if md.is_empty() && text.is_empty() {
            return;
        }
        self.flush_break();
        self.out.markdown.push_str(md);
        self.out.text.push_str(text);
        self.at_space = md.ends_with(' ');
    }

    fn flush_break(&mut self) {
        if self.pending_break == 0 {
            return;
        }
        if !self.out.markdown.is_empty() {
            for _ in 0..self.pending_break {
                self.out.markdown.push('\n');
            }
            self.push_prefixes();
        }
        if !self.out.text.is_empty() {
            for _ in 0..self.pending_break {
                self.out.text.push('\n');
            }
        }
        self.pending_break = 0;
        self.at_space = true;
    }

    fn push_prefixes(&mut self) {
        for prefix in &self.prefixes {
            self.out.markdown.push_str(prefix);
        }
    }

    fn block_break(&mut self) {
        self.pending_break = self.pending_break.max(2);
    }

    fn line_break(&mut self) {
        self.pending_break = self.pending_break.max(1);
    }

    fn resolve(&self, reference: &str) -> Option<String> {
        resolve_url(self.base, reference)
    }
}

enum Entered {
    Skip,
    Children(Option<Leave>),
}

/// Resolves a reference against the base URL; absolute references stand on their own.
/// `javascript:` and fragment-only references are not links to anything.
pub fn resolve_url(base: Option<&Url>, reference: &str) -> Option<String> {
    let reference = reference.trim();
    if reference.is_empty()
        || reference.starts_with('#')
        || reference.to_ascii_lowercase().starts_with("javascript:")
        || reference.starts_with("data:")
    {
        return None;
    }
    let parsed = match base {
        Some(base) => base.join(reference),
        None => Url::parse(reference),
    };
    parsed.ok().map(String::from)
}

/// The URL an image or media element shows, including the lazy-loading attributes.
fn media_source(node: &NodeRef<'_>) -> Option<String> {
    const ATTRIBUTES: &[&str] = &[
        "src",
        "data-src",
        "data-original",
        "data-lazy-src",
        "poster",
    ];
    ATTRIBUTES
        .iter()
        .filter_map(|a| node.attr(a))
        .map(|v| v.to_string())
        .find(|v| !v.trim().is_empty() && !v.starts_with("data:"))
        .or_else(|| {
            let srcset = node.attr("srcset").or_else(|| node.attr("data-srcset"))?;
            srcset
                .split(',')
                .next()?
                .split_whitespace()
                .next()
                .map(str::to_string)
        })
}

/// Whether the element named `name` shows up in the rendered text (with its subtree).
pub fn is_rendered(node: &NodeRef<'_>, name: &str) -> bool {
    with_element(node, |_, attrs| is_rendered_element(name, attrs)).unwrap_or(true)
}

/// [`is_rendered`] for an element read in place.
pub fn is_rendered_element(name: &str, attrs: &[Attr]) -> bool {
    !(SKIPPED.contains(&name) || is_hidden(attrs))
}

/// The language of a code block, from `class="language-x"` on the `pre` or its `code`.
fn code_language(pre: &NodeRef<'_>) -> String {
    let classes = pre.class().map(|c| c.to_string()).unwrap_or_default()
        + " "
        + &pre
            .first_element_child()
            .and_then(|c| c.class())
            .map(|c| c.to_string())
            .unwrap_or_default();
    classes
        .split_whitespace()
        .find_map(|c| {
            c.strip_prefix("language-")
                .or_else(|| c.strip_prefix("lang-"))
        })
        .filter(|l| {
            l.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-')
        })
        .unwrap_or_default()
        .to_string()
}

/// Appends `item` unless it was listed before, keeping first-seen order.
fn push_unique(list: &mut Vec<String>, seen: &mut HashSet<String>, item: String) {
    if seen.insert(item.clone()) {
        list.push(item);
    }
}

/// Collapses runs of whitespace to one space and trims.
pub fn collapse_whitespace(s: &str) -> String {
    let mut collapsed = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !collapsed.is_empty() {
            collapsed.push(' ');
        }
        collapsed.push_str(word);
    }
    collapsed
}

/// Text as a reader sees it and searches it: soft hyphens (invisible break hints inside
/// words) dropped, and Unicode in its composed normal form (NFC), so the same words are the
/// same characters whichever way the page encoded them.
pub fn normalize_text(text: &str) -> String {
    // memchr's search, not `str::contains`: for a character outside ASCII, core's search
    // has a SIMD fast path on x86 only, and in the guest is a two-way search set up per call.
    let has_soft_hyphen = memchr::memmem::find(text.as_bytes(), SOFT_HYPHEN.as_bytes()).is_some();
    let text = if has_soft_hyphen {
        text.replace(SOFT_HYPHEN, "")
    } else {
        text.to_string()
    };
    match is_nfc_quick(text.chars()) {
        IsNormalized::Yes => text,
        _ => text.nfc().collect(),
    }
}

const SOFT_HYPHEN: &str = "\u{ad}";

/// Escapes the characters that would otherwise turn text into Markdown syntax.
fn escape_markdown(word: &str) -> Cow<'_, str> {
    // All ASCII, so a byte of the word is one of them only where a character is.
    const SPECIAL: &[u8] = b"\\*_`[]";
    if !word.bytes().any(|b| SPECIAL.contains(&b)) {
        return Cow::Borrowed(word);
    }
    let mut out = String::with_capacity(word.len() + 1);
    for c in word.chars() {
        if u8::try_from(c).is_ok_and(|b| SPECIAL.contains(&b)) {
            out.push('\\');
        }
        out.push(c);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dom_query::Document;

    fn render_html(html: &str, base: Option<&str>) -> Rendered {
        let doc = Document::from(html);
        let base = base.map(|b| Url::parse(b).unwrap());
        let body = doc.select("body");
        render(body.nodes().iter().cloned(), base.as_ref())
    }

    #[test]
    fn headings_lists_links_and_code_become_markdown() {
        let r = render_html(
            "<h2>Title</h2><p>Some <b>bold</b> and <a href='/x'>a link</a>.</p>\
             <ul><li>one</li><li>two<ol><li>inner</li></ol></li></ul>\
             <pre><code class='language-rust'>fn main() {\n    x();\n}</code></pre>\
             <blockquote><p>quoted</p></blockquote>",
            Some("https://example.com/a/b"),
        );
        assert_eq!(
            r.markdown,
            "## Title\n\nSome **bold** and [a link](https://example.com/x).\n\n\
             - one\n- two\n   1. inner\n\n```rust\nfn main() {\n    x();\n}\n```\n\n> quoted"
        );
        assert_eq!(r.links, vec!["https://example.com/x"]);
        assert!(r.text.contains("Some bold and a link."));
        assert!(!r.text.contains('*'));
    }

    #[test]
    fn images_resolve_against_base_and_are_collected() {
        let r = render_html(
            "<p><img src='i.png' alt='pic'><video poster='p.jpg'></video></p>",
            Some("https://cdn.example.org/dir/"),
        );
        assert_eq!(
            r.media,
            vec![
                "https://cdn.example.org/dir/i.png",
                "https://cdn.example.org/dir/p.jpg"
            ]
        );
        assert!(r
            .markdown
            .contains("![pic](https://cdn.example.org/dir/i.png)"));
    }

    #[test]
    fn tables_get_a_header_separator() {
        let r = render_html(
            "<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>",
            None,
        );
        assert_eq!(r.markdown, "| a | b |\n|---|---|\n| 1 | 2 |");
    }

    #[test]
    fn hidden_and_script_content_is_skipped() {
        let r = render_html(
            "<p>shown</p><script>var x</script><div hidden>no</div><p style='display: none'>no</p>",
            None,
        );
        assert_eq!(r.text, "shown");
    }
}
