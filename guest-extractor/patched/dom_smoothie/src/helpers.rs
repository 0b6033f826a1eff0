use std::collections::HashSet;

use foldhash::HashMap;
use unicode_segmentation::UnicodeSegmentation;

use dom_query::{Document, LocalName, Matcher, NodeData, NodeId, NodeRef, local_name};

use tendril::StrTendril;

use crate::glob::{MINI_ARIA_HIDDEN, MINI_FALLBACK_IMG, PHRASING_ELEMS};
use crate::matching::is_invisible_style;

/// Patched for `RipTide` (see PATCHED.md): what `doc.select_matcher(matcher)` finds, where
/// only elements named `name` can match: one walk that compares names, asking the matcher
/// of those elements only rather than of every element.
pub(crate) fn select_named<'a>(
    doc: &'a Document,
    name: &LocalName,
    matcher: &Matcher,
) -> Vec<NodeRef<'a>> {
    doc.root()
        .descendants_it()
        .filter(|node| {
            node.query_or(false, |n| {
                n.as_element().is_some_and(|el| el.name.local == *name)
            })
        })
        .filter(|node| node.is_match(matcher))
        .collect()
}

pub(crate) fn text_similarity(text_a: &str, text_b: &str) -> f64 {
    if text_a.is_empty() || text_b.is_empty() {
        return 0.0;
    }

    let a = text_a.to_lowercase();
    let b = text_b.to_lowercase();

    if a.contains(&b) {
        return 1.0;
    }

    let tokens_a: HashSet<&str> = a.unicode_words().collect();
    let tokens_b: Vec<&str> = b.unicode_words().collect();

    let b_chars_total: usize = tokens_b.iter().map(|s| s.chars().count()).sum();
    if b_chars_total == 0 {
        return 0.0;
    }
    let b_chars_unique: usize = tokens_b
        .iter()
        .filter(|&&s| !tokens_a.contains(s))
        .map(|s| s.chars().count())
        .sum();

    let distance_b = b_chars_unique as f64 / b_chars_total as f64;
    1.0 - distance_b
}

pub(crate) fn is_phrasing_content(node: &NodeRef) -> bool {
    if node.is_text() {
        return true;
    }

    // only elements has a node name
    let Some(qual_name) = node.qual_name_ref() else {
        return false;
    };
    if PHRASING_ELEMS.contains(&qual_name.local) {
        return true;
    }

    if matches!(qual_name.local.as_ref(), "a" | "del" | "ins") {
        // There is no big sense to consider link content as phrasing content if they doesn't have children element.
        let children = node.children();
        return !children.is_empty() && children.into_iter().all(|n| is_phrasing_content(&n));
    }
    false
}

pub(crate) fn is_whitespace(node: &NodeRef) -> bool {
    if node.is_text() && !node.is_nonempty_text() {
        return true;
    }
    // only an element node has a node_name
    node.has_name("br")
}

pub(crate) fn has_ancestor<F>(node: &NodeRef, max_depth: Option<usize>, filter_fn: F) -> bool
where
    F: Fn(&NodeRef) -> bool,
{
    let max_depth = max_depth.map(|max_depth| if max_depth == 0 { 3 } else { max_depth });
    node.ancestors_it(max_depth).any(|a| filter_fn(&a))
}

pub(crate) fn normalize_spaces(text: &str) -> String {
    let mut result = String::with_capacity(text.len());
    let mut iter = text.split_whitespace();

    if let Some(first) = iter.next() {
        result.push_str(first);
        for word in iter {
            result.push(' ');
            result.push_str(word);
        }
    }
    result
}

/// The characters of the node's text with each run of whitespace counted as one, as
/// [`NodeRef::normalized_char_count`] counts them, eight bytes at a time while the text is
/// ASCII. Readability asks this of every candidate and of each link in it, on every page.
pub(crate) fn normalized_char_count(node: &NodeRef) -> usize {
    std::iter::once(*node)
        .chain(node.descendants_it())
        .filter_map(|n| TextRun::of_text_node(&n))
        .fold(TextRun::default(), TextRun::then)
        .normalized_char_count()
}

/// Characters of `text` with each run of whitespace counted as one, as if the text before
/// it did not end in whitespace ([`TextRun`] joins runs). ASCII is read eight bytes at a
/// time where eight are left, a byte at a time otherwise; anything else a character at a
/// time.
fn collapsed_char_count(text: &str) -> usize {
    const LANES: usize = 8;
    let bytes = text.as_bytes();
    let mut count = 0;
    let mut prev_was_whitespace = false;
    let mut i = 0;
    while i < bytes.len() {
        let ascii_word = bytes
            .get(i..i + LANES)
            .map(|lanes| u64::from_le_bytes(lanes.try_into().unwrap_or_default()))
            .filter(|word| word & ASCII_HIGH_BITS == 0);
        if let Some(word) = ascii_word {
            let whitespace = ascii_whitespace(word);
            let after = (whitespace << 8) | (u64::from(prev_was_whitespace) << 7);
            count += (!whitespace & ASCII_HIGH_BITS).count_ones() as usize
                + (whitespace & !after).count_ones() as usize;
            prev_was_whitespace = whitespace >> 63 != 0;
            i += LANES;
            continue;
        }
        let is_whitespace = if bytes[i].is_ascii() {
            i += 1;
            matches!(bytes[i - 1], b' ' | b'\t'..=b'\r')
        } else {
            let Some(c) = text[i..].chars().next() else {
                break;
            };
            i += c.len_utf8();
            c.is_whitespace()
        };
        if !(prev_was_whitespace && is_whitespace) {
            count += 1;
        }
        prev_was_whitespace = is_whitespace;
    }
    count
}

const ASCII_HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// Bit 7 of each byte of `word` (eight ASCII bytes) set where the byte is ' ' or
/// '\t'..='\r', the ASCII whitespace of `char::is_whitespace`. No byte has bit 7 set, so
/// no sum carries into the next byte.
fn ascii_whitespace(word: u64) -> u64 {
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const fn splat(byte: u8) -> u64 {
        u64::from_ne_bytes([byte; 8])
    }
    let spaces = word ^ splat(b' ');
    let is_space = !(((spaces & LOW) + LOW) | spaces | LOW);
    let is_control_space = (word + splat(0x80 - b'\t')) & !(word + splat(0x80 - b'\r' - 1));
    (is_space | is_control_space) & ASCII_HIGH_BITS
}

pub(crate) fn link_density_fn<F>(node: &NodeRef, char_count: Option<usize>, mut count_fn: F) -> f32
where
    F: FnMut(&NodeRef) -> usize,
{
    let mut link_length = 0f32;

    for a in node.find_descendants("a") {
        let href = a.attr_or("href", "");
        let coeff = if is_fragment_link(&href) { 0.3 } else { 1.0 };
        link_length += count_fn(&a) as f32 * coeff;
    }

    if link_length == 0.0 {
        return 0.0;
    }

    let text_length = char_count.unwrap_or_else(|| count_fn(node)) as f32;
    if text_length == 0.0 {
        return 0.0;
    }

    link_length / text_length
}

/// Whether a link's `href` only points into the page, which weighs its text 0.3 in link
/// density.
fn is_fragment_link(href: &str) -> bool {
    href.len() > 1 && href.starts_with('#')
}

pub(crate) fn link_density(node: &NodeRef, char_count: Option<usize>) -> f32 {
    link_density_fn(node, char_count, normalized_char_count)
}

/// Returns the child element if the node contains exactly one element child with the given tag
/// and no non-empty text nodes.
pub(crate) fn single_child_element<'a>(node: &NodeRef<'a>, tag: &str) -> Option<NodeRef<'a>> {
    // There should be exactly 1 element child with given tag
    let children = node.element_children();
    if children.len() != 1 {
        return None;
    }

    let first = children.first()?;

    if !first.has_name(tag) {
        return None;
    }
    if node.children_it(false).any(|n| n.is_nonempty_text()) {
        return None;
    }
    Some(*first)
}

pub(crate) fn is_element_without_content(node: &NodeRef) -> bool {
    // since this function calls only for elements check `node.is_element()` is redundant
    let has_text = node.descendants_it().any(|n| n.is_nonempty_text());
    if has_text {
        return false;
    }

    let el_children_count = node.children_it(false).filter(|n| n.is_element()).count();
    if el_children_count == 0 {
        return true;
    }

    let line_breaks = node.find_descendants("br").len() + node.find_descendants("hr").len();
    el_children_count == line_breaks
}

pub(crate) fn get_dir_attr(node: &NodeRef) -> Option<String> {
    if let Some(first_child) = node.first_child() {
        if let Some(dir_attr) = first_child.attr("dir") {
            return Some(dir_attr.to_string());
        }

        let dir_attr = first_child.ancestors_it(None).find_map(|a| a.attr("dir"));
        if let Some(dir_attr) = dir_attr {
            return Some(dir_attr.to_string());
        }
    }
    None
}

pub(crate) fn node_name_in(node: &NodeRef, names: &[LocalName]) -> bool {
    node.qual_name_ref()
        .is_some_and(|name| names.contains(&name.local))
}

pub(crate) fn is_probably_visible(node: &NodeRef) -> bool {
    if node.has_attr("hidden") {
        return false;
    }
    if is_invisible_style(node) {
        return false;
    }
    !MINI_ARIA_HIDDEN.match_node(node) || MINI_FALLBACK_IMG.match_node(node)
}

pub(crate) fn get_node_matching_string(node: &NodeRef) -> StrTendril {
    let mut buf = StrTendril::new();
    let Some(el) = node.element_ref() else {
        return buf;
    };

    for attr in &el.attrs {
        if !matches!(attr.name.local.as_ref(), "class" | "id") {
            continue;
        }
        buf.push_tendril(&attr.value);
        buf.push_char(' ');
    }

    buf.make_ascii_lowercase();
    buf
}

pub(crate) fn next_child_or_sibling<'a>(
    node: &NodeRef<'a>,
    ignore_child: bool,
) -> Option<NodeRef<'a>> {
    if !ignore_child {
        if let Some(first_child) = node.first_element_child() {
            return Some(first_child);
        }
    }

    if let Some(sibling) = node.next_element_sibling() {
        return Some(sibling);
    }
    let mut parent = node.parent();
    while let Some(parent_node) = parent {
        if let Some(next_sibling) = parent_node.next_element_sibling() {
            return Some(next_sibling);
        }
        parent = parent_node.parent();
    }
    None
}

#[cfg(not(feature = "aho-corasick"))]
/// A lightweight byte-level pre-checker used to quickly skip patterns
/// that cannot occur in the haystack.
pub(crate) struct BytePatternCheck<'a> {
    haystack: &'a str,
    char_map: [u8; 256],
}

#[cfg(not(feature = "aho-corasick"))]
impl<'a> BytePatternCheck<'a> {
    pub(crate) fn new(haystack: &'a str) -> Self {
        let mut char_map = [0u8; 256];

        for &b in haystack.as_bytes() {
            char_map[b as usize] = 1;
        }
        Self { haystack, char_map }
    }
    #[inline]
    fn pre_check(&self, pat: &str) -> bool {
        for &b in pat.as_bytes() {
            if self.char_map[b as usize] == 0 {
                return false;
            }
        }
        true
    }
    /// Checks if the haystack contains any of the given patterns.
    /// Performs a cheap bitmap pre-check before `str::contains`.
    pub(crate) fn contains_any(&self, pats: &[&str]) -> bool {
        pats.iter()
            .any(|pat| self.pre_check(pat) && self.haystack.contains(pat))
    }
}

/// The [`normalized_char_count`] of every node of a tree, from one walk over the tree on
/// the first question. Scoring asks it of each paragraph, of up to five ancestors of each,
/// and of every link in them: counted node by node, each text was read once per ancestor.
/// The same walk sums the links' counts under each node for [`Self::link_density`].
/// The tree must not change while the cache is in use.
#[derive(Default)]
pub(crate) struct CharCounterCache {
    /// The runs of every node but text nodes, and the links under each.
    runs: HashMap<NodeId, (TextRun, LinkText)>,
    walked: bool,
}

impl CharCounterCache {
    pub(crate) fn char_count(&mut self, node: &NodeRef) -> usize {
        self.walk_once(node);
        match self.runs.get(&node.id) {
            Some((run, _)) => run.normalized_char_count(),
            None => normalized_char_count(node),
        }
    }

    /// [`link_density_fn`] of `node` with this cache's counts, from the walk's sum of its
    /// links' counts, where that sum is the one `link_density_fn` adds up link by link:
    /// `None` where a fragment link weighs its count 0.3 (the products round, so the order
    /// of adding counts) or the sum is past what an `f32` holds exactly.
    pub(crate) fn link_density(&mut self, node: &NodeRef) -> Option<f32> {
        self.walk_once(node);
        let (run, links) = self.runs.get(&node.id)?;
        if links.has_fragment_link || links.chars >= 1 << f32::MANTISSA_DIGITS {
            return None;
        }
        if links.chars == 0 {
            return Some(0.0);
        }
        let text_length = run.normalized_char_count() as f32;
        if text_length == 0.0 {
            return Some(0.0);
        }
        Some(links.chars as f32 / text_length)
    }

    fn walk_once(&mut self, node: &NodeRef) {
        if !self.walked {
            self.walked = true;
            self.walk(node.tree.root());
        }
    }

    /// Records the text run of every node under `root`, each built from its children's, and
    /// the links under it, from its children's and theirs.
    fn walk(&mut self, root: NodeRef) {
        // Each open node, its run and links so far, and what it is as a link.
        let mut path: Vec<(NodeRef, TextRun, LinkText, Option<bool>)> = Vec::new();
        let mut next = Some(root);
        loop {
            let Some(node) = next else {
                let Some((done, run, links, fragment_link)) = path.pop() else {
                    break;
                };
                self.runs.insert(done.id, (run, links));
                let Some((_, parent_run, parent_links, _)) = path.last_mut() else {
                    break;
                };
                *parent_run = parent_run.then(run);
                *parent_links = parent_links.then(links);
                if let Some(has_fragment_link) = fragment_link {
                    *parent_links = parent_links.then(LinkText {
                        chars: run.normalized_char_count(),
                        has_fragment_link,
                    });
                }
                next = done.next_sibling();
                continue;
            };
            if let Some(run) = TextRun::of_text_node(&node) {
                if let Some((_, parent, _, _)) = path.last_mut() {
                    *parent = parent.then(run);
                }
                next = node.next_sibling();
            } else {
                let fragment_link = node.query_or(None, |n| {
                    n.as_element()
                        .filter(|el| el.name.local == local_name!("a"))
                        .map(|el| el.attr("href").is_some_and(|href| is_fragment_link(&href)))
                });
                path.push((node, TextRun::default(), LinkText::default(), fragment_link));
                next = node.first_child();
            }
        }
    }
}

/// The links (`a` elements) under a node, as [`link_density_fn`] finds them: each link's
/// character count, a link inside another counted in both.
#[derive(Debug, Clone, Copy, Default)]
struct LinkText {
    chars: usize,
    /// Whether a link's `href` only points into the page ([`is_fragment_link`]).
    has_fragment_link: bool,
}

impl LinkText {
    fn then(self, more: Self) -> Self {
        Self {
            chars: self.chars + more.chars,
            has_fragment_link: self.has_fragment_link || more.has_fragment_link,
        }
    }
}

/// What the count of a node's text needs to know of the text under it, such that two runs
/// side by side make the run of their concatenation ([`TextRun::then`]).
#[derive(Debug, Clone, Copy, Default)]
struct TextRun {
    /// Characters with each run of whitespace counted as one, as if what came before the
    /// run did not end in whitespace.
    count: usize,
    starts_with_whitespace: bool,
    ends_with_whitespace: bool,
    /// Whether the run holds a text node at all. An empty text node holds no whitespace,
    /// so, as in [`normalized_char_count`], whitespace after it counts again.
    has_text: bool,
}

impl TextRun {
    /// The run of a text node; `None` for any other node.
    fn of_text_node(node: &NodeRef) -> Option<Self> {
        node.query(|n| match n.data {
            NodeData::Text { ref contents } => Some(Self::of(contents)),
            _ => None,
        })
        .flatten()
    }

    fn of(text: &str) -> Self {
        Self {
            count: collapsed_char_count(text),
            starts_with_whitespace: text.starts_with(char::is_whitespace),
            ends_with_whitespace: text.ends_with(char::is_whitespace),
            has_text: true,
        }
    }

    fn then(self, next: Self) -> Self {
        if !self.has_text {
            return next;
        }
        if !next.has_text {
            return self;
        }
        Self {
            count: self.count + next.count
                - usize::from(self.ends_with_whitespace && next.starts_with_whitespace),
            starts_with_whitespace: self.starts_with_whitespace,
            ends_with_whitespace: next.ends_with_whitespace,
            has_text: true,
        }
    }

    /// [`normalized_char_count`] of the run: leading and trailing whitespace not counted.
    fn normalized_char_count(self) -> usize {
        let count = self.count - usize::from(self.starts_with_whitespace);
        count - usize::from(self.ends_with_whitespace && count > 0)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use dom_query::Document;

    use crate::glob::{MATCHER_JSONLD, MATCHER_META};

    // Patched for RipTide: the lists of element names, compared as atoms, against the
    // published crate's sets of strings.
    #[test]
    fn name_lists_hold_the_published_names() {
        use crate::glob::{
            ALTER_TO_DIV_EXCEPTIONS, BLOCK_ELEMS, DEFAULT_TAGS_TO_SCORE,
            DEPRECATED_SIZE_ATTRIBUTE_ELEMS, EMBED_ELEMENTS, PHRASING_ELEMS, TAGS_WITH_CONTENT,
        };
        let phrasing = [
            "abbr", "audio", "b", "bdo", "br", "button", "cite", "code", "data", "datalist", "dfn",
            "em", "embed", "i", "img", "input", "kbd", "label", "mark", "math", "meter",
            "noscript", "object", "output", "progress", "q", "ruby", "samp", "script", "select",
            "small", "span", "strong", "sub", "sup", "textarea", "time", "var", "wbr",
        ];
        let published: [(&[LocalName], &[&str]); 7] = [
            (PHRASING_ELEMS, &phrasing),
            (
                ALTER_TO_DIV_EXCEPTIONS,
                &["article", "section", "p", "ol", "ul"],
            ),
            (
                DEFAULT_TAGS_TO_SCORE,
                &["section", "h2", "h3", "h4", "h5", "h6", "p", "td", "pre"],
            ),
            (
                TAGS_WITH_CONTENT,
                &[
                    "div", "section", "header", "h1", "h2", "h3", "h4", "h5", "h6",
                ],
            ),
            (
                BLOCK_ELEMS,
                &[
                    "blockquote",
                    "dl",
                    "div",
                    "img",
                    "ol",
                    "p",
                    "pre",
                    "table",
                    "ul",
                ],
            ),
            (EMBED_ELEMENTS, &["object", "embed", "iframe"]),
            (
                DEPRECATED_SIZE_ATTRIBUTE_ELEMS,
                &["table", "th", "td", "hr", "pre"],
            ),
        ];
        let every_phrasing: String = phrasing.iter().map(|n| format!("<{n}></{n}>")).collect();
        let doc = Document::from(format!(
            "{}<div>{every_phrasing}<a>a</a><del>d</del></div>",
            r#"<article><section><header><h1>a</h1><h2>b</h2><h3>c</h3><h4>d</h4><h5>e</h5>
            <h6>f</h6></header><p>p</p><ol><li>i</li></ol><ul><li>u</li></ul><blockquote>q</blockquote>
            <dl><dt>t</dt></dl><div><img><object></object><embed><iframe></iframe><pre>r</pre><hr>
            <table><tr><th>h</th><td>d</td></tr></table><span>s</span><x-p>x</x-p></div></section>
            </article><svg><foreignObject><div>f</div></foreignObject><p>svg p</p></svg>"#
        ));
        for (list, names) in published {
            let mut found = 0;
            for node in doc.root().descendants_it().filter(|n| n.is_element()) {
                let name = node.node_name().unwrap();
                assert_eq!(
                    node_name_in(&node, list),
                    names.contains(&&*name),
                    "{name} in {names:?}"
                );
                found += usize::from(node_name_in(&node, list));
            }
            assert!(found >= names.len(), "{names:?}");
        }
    }

    // Patched for RipTide: `select_named` against the selector scan it replaces.
    #[test]
    fn select_named_finds_what_the_selector_scan_finds() {
        let html = r#"<html><head><meta content="a" name=x><META CONTENT="b" property=og:title>
            <meta name=no-content><script type="application/ld+json">{"a":1}</script>
            <SCRIPT TYPE="application/ld+json">{"b":2}</SCRIPT><script>code()</script>
            <script type="Application/LD+JSON">{"c":3}</script></head>
            <body><meta content=c><svg><script type="application/ld+json">{}</script></svg>
            <template><meta content=t></template><div><meta content=""></div>
            <script type="application/ld+json ">{}</script></body></html>"#;
        let doc = Document::from(html);
        for (name, matcher) in [("meta", &*MATCHER_META), ("script", &*MATCHER_JSONLD)] {
            let scanned: Vec<_> = doc
                .select_matcher(matcher)
                .nodes()
                .iter()
                .map(|n| n.id)
                .collect();
            let named: Vec<_> = select_named(&doc, &name.into(), matcher)
                .iter()
                .map(|n| n.id)
                .collect();
            assert_eq!(named, scanned, "{name}");
            assert!(!named.is_empty());
        }
    }

    use super::*;

    const FLOAT_TOLERANCE: f64 = 0.00001;

    /// Every kind of character the fast path tells apart: ASCII whitespace and its
    /// neighbours, other ASCII, Unicode whitespace of two and three bytes, other characters
    /// of two, three and four bytes.
    const ALPHABET: &str =
        " \t\n\r\x0b\x0c\x08\x0e\x1f!aZ09~\x7f\u{85}\u{a0}é\u{2028}\u{3000}中\u{1F600}";

    pub(crate) fn xorshift() -> impl FnMut(usize) -> usize {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        move |below: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            usize::try_from(state % below as u64).unwrap_or_default()
        }
    }

    /// A `div` of up to `parts` runs of random text (up to `text_len` characters from
    /// `ALPHABET`, with no markup), each followed by one of `tags`.
    fn random_document(
        random: &mut impl FnMut(usize) -> usize,
        parts: usize,
        text_len: usize,
        tags: &[&str],
    ) -> String {
        let alphabet: Vec<char> = ALPHABET.chars().collect();
        let mut html = String::from("<div>");
        for _ in 0..random(parts) {
            let text: String = (0..random(text_len))
                .map(|_| alphabet[random(alphabet.len())])
                .collect();
            html.push_str(&text.replace(['<', '&'], " "));
            html.push_str(tags[random(tags.len())]);
        }
        html.push_str("</div>");
        html
    }

    #[test]
    fn collapsed_char_count_counts_as_char_by_char() {
        let by_chars = |text: &str, mut prev_was_whitespace: bool| {
            let mut count = 0;
            for c in text.chars() {
                if !(prev_was_whitespace && c.is_whitespace()) {
                    count += 1;
                }
                prev_was_whitespace = c.is_whitespace();
            }
            count
        };
        let alphabet: Vec<char> = ALPHABET.chars().collect();
        let mut random = xorshift();
        for _ in 0..200_000 {
            let text: String = (0..random(40))
                .map(|_| alphabet[random(alphabet.len())])
                .collect();
            let after_text = collapsed_char_count(&text);
            assert_eq!(after_text, by_chars(&text, false), "{text:?}");
            // After whitespace, as a run after one that ends in it counts the text.
            let after_whitespace = TextRun::of(" ").then(TextRun::of(&text)).count - 1;
            assert_eq!(after_whitespace, by_chars(&text, true), "{text:?}");
        }
    }

    #[test]
    fn char_counts_match_dom_query_for_any_text() {
        let mut random = xorshift();
        for _ in 0..3000 {
            let html = random_document(
                &mut random,
                4,
                40,
                &["<b>", "</b>", "<br>", "<p>", "<i>x</i>"],
            );
            let doc = dom_query::Document::from(html.as_str());
            let elements = doc.select("div, b, i, p").nodes().to_vec();
            // An empty text node (the parser makes none; changes to the tree can) ends a
            // run of whitespace.
            if random(2) == 0 {
                elements[random(elements.len())].append_child(&doc.tree.new_text(""));
            }
            let mut cache = CharCounterCache::default();
            for node in &elements {
                let expected = node.normalized_char_count();
                assert_eq!(normalized_char_count(node), expected, "{html:?}");
                assert_eq!(cache.char_count(node), expected, "{html:?}");
            }
        }
    }

    // Patched for RipTide: the walk's link sums against the links found one by one.
    #[test]
    fn link_density_from_the_walk_matches_the_one_by_one_sum() {
        let mut random = xorshift();
        let mut exact = 0;
        for _ in 0..3000 {
            let links = [
                "<a href=/x>",
                "<a href=#top>",
                "<a href=#>",
                "<a>",
                "</a>",
                "<p>",
                "</p>",
                "<b>",
                "</b>",
                "<svg><a>s</a></svg>",
                "<A HREF=/y>",
            ];
            let html = random_document(&mut random, 6, 30, &links);
            let doc = dom_query::Document::from(html.as_str());
            let elements = doc.select("div, a, p, b").nodes().to_vec();
            let mut cache = CharCounterCache::default();
            for node in &elements {
                let expected = link_density_fn(node, None, |n| cache.char_count(n));
                if let Some(density) = cache.link_density(node) {
                    assert_eq!(density.to_bits(), expected.to_bits(), "{html:?}");
                    exact += 1;
                } else {
                    let fragment = |a: &NodeRef| is_fragment_link(&a.attr_or("href", ""));
                    assert!(node.find_descendants("a").iter().any(fragment), "{html:?}");
                }
            }
        }
        assert!(exact > 3000);
    }

    #[test]
    fn test_text_similarity() {
        let text_a = "The quick brown fox";
        let text_b = "The quick fox";
        let similarity = text_similarity(text_a, text_b);
        assert!(similarity > 0.75);
    }

    #[test]
    fn test_text_similarity_contains() {
        let text_a = "the quick brown fox jumps over the lazy dog";
        let text_b = "The Quick Brown Fox";
        let similarity = text_similarity(text_a, text_b);
        assert!(1.0 - similarity < FLOAT_TOLERANCE);
    }

    #[test]
    fn test_text_similarity_similar() {
        let text_a = "DeepMind新电脑已可利用记忆自学 人工智能迈上新台阶_科技_腾讯网";
        let text_b = "DeepMind新电脑已可利用记忆自学 人工智能迈上新台阶";
        let similarity = text_similarity(text_a, text_b);
        assert!(1.0 - similarity < FLOAT_TOLERANCE);
    }

    #[test]
    fn test_text_similarity_no_words() {
        // `text_b` has no unicode words, so the char totals are zero.
        let similarity = text_similarity("Some title", "...");
        assert!(similarity < FLOAT_TOLERANCE);
    }

    #[test]
    fn test_normalize_spaces() {
        let text = "    The quick  brown  fox\n jumps over the lazy dog. ";
        let normalized_text = normalize_spaces(text);
        let expected = "The quick brown fox jumps over the lazy dog.";
        assert_eq!(expected, normalized_text);
    }

    #[test]
    #[cfg(not(feature = "aho-corasick"))]
    fn test_ascii_pattern_check() {
        let class = "article primary main äußerlich konnen";
        let check = BytePatternCheck::new(class);
        assert!(check.contains_any(&["äußerlich"]));
        assert!(check.contains_any(&["article", "post"]));
        assert!(!check.contains_any(&["können"]));
    }
}
