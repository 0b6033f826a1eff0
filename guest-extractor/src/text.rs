//! Word counts of every subtree, computed in one pass over the tree.
//!
//! The cleaning passes ask "how many words are in this node, and how many of them are link
//! text" of many nested nodes; asking the DOM each time re-reads every subtree once per
//! ancestor (nodes x depth). Counts summed bottom-up cost one walk.

use dom_query::{Attr, NodeData, NodeId, NodeRef};
use rustc_hash::FxHashMap;

use crate::render::is_rendered_element;

/// Words a subtree renders, and how many of them are link text.
#[derive(Debug, Clone, Copy, Default)]
pub struct Count {
    pub words: usize,
    pub linked: usize,
}

/// What a counting walk ([`tally`]) reports, and of which nodes.
pub trait Tally<'a> {
    /// Handed back with a node's count when the walk leaves it.
    type Mark;
    /// Called on entering each node that is not text (`element`: its tag and attributes,
    /// `None` for the document); a mark asks for the node's count.
    fn enter(&mut self, node: &NodeRef<'a>, element: Option<(&str, &[Attr])>)
        -> Option<Self::Mark>;
    /// The count of a node `enter` marked, when the walk leaves it.
    fn leave(&mut self, mark: Self::Mark, count: Count);
}

/// Counts the words each node under `root` renders in one walk in document order that
/// keeps the path from the root: a node's count is added to its parent's when the walk
/// leaves it. Text counts from `counted` down (the root itself, or the body of a page
/// whose other elements matter too) and not inside elements that render nothing (scripts,
/// styles, hidden blocks): those are walked, so `tally` sees every element, but their text
/// is not even read.
pub fn tally<'a, T: Tally<'a>>(root: NodeRef<'a>, counted: NodeId, tally: &mut T) {
    struct Open<'a, M> {
        node: NodeRef<'a>,
        count: Count,
        counting: bool,
        link: bool,
        mark: Option<M>,
    }
    let mut path: Vec<Open<'a, T::Mark>> = Vec::new();
    let mut next = Some(root);
    loop {
        let Some(node) = next else {
            let Some(mut open) = path.pop() else { break };
            if open.link {
                open.count.linked = open.count.words;
            }
            if let Some(parent) = path.last_mut() {
                parent.count.words += open.count.words;
                parent.count.linked += open.count.linked;
            }
            if let Some(mark) = open.mark {
                tally.leave(mark, open.count);
            }
            next = open.node.next_sibling();
            continue;
        };
        let parent_counting = path.last().is_some_and(|parent| parent.counting);
        let counting = parent_counting || node.id == counted;
        // The node is read once: a text is counted where it lies, an element or the
        // document goes on the path.
        let entered = node.query(|n| match &n.data {
            NodeData::Text { contents } => {
                if let Some(parent) = path.last_mut().filter(|_| parent_counting) {
                    parent.count.words += words_in(contents);
                }
                false
            }
            data => {
                let (counting, link, mark) = match data {
                    NodeData::Element(element) => {
                        let name: &str = &element.name.local;
                        (
                            counting && is_rendered_element(name, &element.attrs),
                            name == "a",
                            tally.enter(&node, Some((name, &element.attrs))),
                        )
                    }
                    _ => (counting, false, tally.enter(&node, None)),
                };
                path.push(Open {
                    node,
                    count: Count::default(),
                    counting,
                    link,
                    mark,
                });
                true
            }
        });
        next = if entered == Some(true) {
            node.first_child()
        } else {
            node.next_sibling()
        };
    }
}

/// Words and link words of each node under a root, as the tree was when counted: the words
/// the renderer would write (nothing inside forms, scripts, hidden elements).
pub struct TextCounts {
    counts: FxHashMap<NodeId, Count>,
}

impl Tally<'_> for TextCounts {
    type Mark = NodeId;

    fn enter(&mut self, node: &NodeRef<'_>, _: Option<(&str, &[Attr])>) -> Option<NodeId> {
        Some(node.id)
    }

    fn leave(&mut self, node: NodeId, count: Count) {
        self.counts.insert(node, count);
    }
}

impl TextCounts {
    pub fn of(root: &NodeRef<'_>) -> Self {
        let mut counts = Self {
            counts: FxHashMap::default(),
        };
        tally(*root, root.id, &mut counts);
        counts
    }

    /// Words in the node's visible text (0 for a node that was not under the root).
    pub fn words(&self, node: &NodeRef<'_>) -> usize {
        self.counts.get(&node.id).map_or(0, |c| c.words)
    }

    /// Words of the node's text that sit inside links.
    pub fn linked_words(&self, node: &NodeRef<'_>) -> usize {
        self.counts.get(&node.id).map_or(0, |c| c.linked)
    }
}

/// Calls `f` with each text under `node` in document order, leaving out what scripts and
/// style sheets hold (the bodies [`crate::markup::prepare`] may leave out before parsing, so
/// a heuristic reading a block's text sees the same whether they were there or not) and the
/// subtrees `skip` picks below `node`.
pub fn for_each_text_outside_code(
    node: &NodeRef<'_>,
    skip: impl Fn(&NodeRef<'_>) -> bool,
    mut f: impl FnMut(&str),
) {
    let mut stack = vec![*node];
    while let Some(next) = stack.pop() {
        let is_code = next.query(|n| match &n.data {
            NodeData::Text { contents } => {
                f(contents);
                None
            }
            NodeData::Element(element) => Some(is_code_element(&element.name.local)),
            _ => Some(false),
        });
        match is_code.flatten() {
            Some(false) if next.id == node.id || !skip(&next) => {
                // Children go on the stack last first, so they come off in document order.
                stack.extend(next.children_it(true));
            }
            _ => {}
        }
    }
}

/// The text under `node`, without what its scripts and style sheets hold.
pub fn text_outside_code(node: &NodeRef<'_>) -> String {
    let mut text = String::new();
    for_each_text_outside_code(node, |_| false, |t| text.push_str(t));
    text
}

/// Whether `node` is the text of a script or a style sheet.
pub fn is_code_text(node: &NodeRef<'_>) -> bool {
    node.is_text()
        && node
            .parent()
            .is_some_and(|parent| parent.node_name().is_some_and(|n| is_code_element(&n)))
}

fn is_code_element(name: &str) -> bool {
    matches!(name, "script" | "style")
}

/// Runs `f` on a text node's text where it lies, without a copy; `None` for other nodes.
pub fn with_text<B>(node: &NodeRef<'_>, f: impl FnOnce(&str) -> B) -> Option<B> {
    node.query(|n| match &n.data {
        NodeData::Text { contents } => Some(f(contents)),
        _ => None,
    })
    .flatten()
}

/// 0x01 in each of the eight bytes of a `u64`.
pub const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
/// The high bit of each of the eight bytes of a `u64`: set in the bytes that are not ASCII.
pub const HIGH: u64 = ONES << 7;
const BLANKS: u64 = ONES * b' ' as u64;

/// The eight bytes of `bytes` from `at` on, as a little-endian word: the first is the low
/// byte. Past the end, spaces.
pub fn eight_bytes_at(bytes: &[u8], at: usize) -> u64 {
    match bytes[at..].first_chunk::<8>() {
        Some(&eight) => u64::from_le_bytes(eight),
        None => {
            bytes[at..]
                .iter()
                .rev()
                .fold(0, |eight, &byte| eight << 8 | u64::from(byte))
                | BLANKS << (8 * (bytes.len() - at))
        }
    }
}

/// The high bit of each of eight ASCII bytes set where the byte is `byte`. Adding to an
/// ASCII byte, below 0x80, carries into its high bit and never into the next byte.
pub fn byte_bits(eight: u64, byte: u8) -> u64 {
    !((eight ^ (ONES * u64::from(byte))) + ONES * 0x7f) & HIGH
}

/// The high bit of each of eight ASCII bytes set where the byte is from `low` to `high`
/// (inclusive): at or above `low`, and not above `high`.
pub fn range_bits(eight: u64, low: u8, high: u8) -> u64 {
    let from_low = eight + ONES * (0x80 - u64::from(low));
    let above_high = eight + ONES * (0x80 - u64::from(high) - 1);
    from_low & !above_high & HIGH
}

/// Whitespace-separated words.
pub fn words_in(text: &str) -> usize {
    // Most text is ASCII: eight bytes at a time (the counting walks read every text node of
    // the page, and in the sandbox a loop of a byte a step pays a fuel check per byte). A
    // word starts at each byte that is not a space where the text starts or a space comes
    // before it; a space is what `char::is_whitespace` says of an ASCII byte: tab, line
    // feed, vertical tab, form feed, carriage return (9 to 13) and space.
    let bytes = text.as_bytes();
    let mut words = 0;
    // Whether the last byte read is not a space: its high bit, moved to the first byte's.
    let mut word_before = 0;
    let mut at = 0;
    while at < bytes.len() {
        let eight = eight_bytes_at(bytes, at);
        if eight & HIGH != 0 {
            // Not ASCII: the rest a character at a time (`at` follows ASCII bytes, so a
            // character starts there).
            return words + words_in_chars(&text[at..], word_before != 0);
        }
        let letters = !(byte_bits(eight, b' ') | range_bits(eight, b'\t', b'\r')) & HIGH;
        let starts = letters & !(letters << 8 | word_before);
        words += starts.count_ones() as usize;
        word_before = letters >> 56;
        at += 8;
    }
    words
}

/// Whitespace-separated words, a character at a time; `in_word` says whether the text
/// continues a word.
fn words_in_chars(text: &str, mut in_word: bool) -> usize {
    let mut words = 0;
    for c in text.chars() {
        let space = c.is_whitespace();
        words += usize::from(!space & !in_word);
        in_word = !space;
    }
    words
}

#[cfg(test)]
mod tests {
    use dom_query::Document;

    use super::*;

    #[test]
    fn text_outside_code_leaves_out_what_scripts_and_styles_hold() {
        let doc = Document::from(concat!(
            "<div id=box><script>var label = 'x';</script>Read more",
            "<style>.a { color: red }</style> <b>here</b>",
            r#"<script type="application/ld+json">{"a": 1}</script></div>"#,
        ));
        let block = doc.select("#box").nodes()[0];
        assert_eq!(text_outside_code(&block), "Read more here");
        let texts: Vec<String> = block
            .descendants_it()
            .filter(|n| n.is_text() && !is_code_text(n))
            .map(|n| n.text().to_string())
            .collect();
        assert_eq!(texts, ["Read more", " ", "here"]);

        let mut skipped = String::new();
        for_each_text_outside_code(
            &block,
            |n| n.node_name().as_deref() == Some("b"),
            |t| skipped.push_str(t),
        );
        assert_eq!(skipped, "Read more ");
    }

    #[test]
    fn eight_byte_tests_answer_for_each_byte_as_a_byte_test_does() {
        // Every ASCII byte in each place among letters, so a carry into a neighbour shows.
        for byte in 0..0x80u8 {
            for at in 0..8 {
                let mut bytes = *b"xxxxxxxx";
                bytes[at] = byte;
                let eight = u64::from_le_bytes(bytes);
                for (place, &b) in bytes.iter().enumerate() {
                    let bit_at = |bits: u64| bits >> (8 * place + 7) & 1 == 1;
                    assert_eq!(bit_at(byte_bits(eight, b' ')), b == b' ', "{bytes:?}");
                    assert_eq!(bit_at(byte_bits(eight, b'x')), b == b'x', "{bytes:?}");
                    let control = (b'\t'..=b'\r').contains(&b);
                    assert_eq!(
                        bit_at(range_bits(eight, b'\t', b'\r')),
                        control,
                        "{bytes:?}"
                    );
                    let lower = b.is_ascii_lowercase();
                    assert_eq!(bit_at(range_bits(eight, b'a', b'z')), lower, "{bytes:?}");
                }
            }
        }
    }

    #[test]
    fn words_in_counts_as_split_whitespace_does() {
        // Every string of up to four pieces: ASCII spaces, other controls, letters and a
        // non-ASCII space and letter (the slow path).
        let pieces = [
            " ", "\t", "\n", "\u{0b}", "\u{0c}", "\r", "\u{1c}", "\u{1f}", "a", "Zz", "\u{a0}", "é",
        ];
        let mut texts = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = texts
                .iter()
                .flat_map(|text| pieces.iter().map(move |piece| format!("{text}{piece}")))
                .collect();
            texts.extend(longer);
        }
        for text in &texts {
            // Nine times over: longer than a step of eight bytes.
            let long = text.repeat(9);
            for text in [text, &long] {
                assert_eq!(words_in(text), text.split_whitespace().count(), "{text:?}");
            }
        }
    }
}
