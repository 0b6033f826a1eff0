//! Word counts of every subtree, computed in one pass over the tree.
//!
//! The cleaning passes ask "how many words are in this node, and how many of them are link
//! text" of many nested nodes; asking the DOM each time re-reads every subtree once per
//! ancestor (nodes x depth). Counts summed bottom-up cost one walk.

use dom_query::{NodeData, NodeId, NodeRef};
use rustc_hash::FxHashMap;

use crate::render::is_rendered_element;

#[derive(Debug, Clone, Copy, Default)]
struct Count {
    words: usize,
    linked: usize,
}

/// Words and link words of each node under a root, as the tree was when counted: the words
/// the renderer would write (nothing inside forms, scripts, hidden elements).
pub struct TextCounts {
    counts: FxHashMap<NodeId, Count>,
}

impl TextCounts {
    pub fn of(root: &NodeRef<'_>) -> Self {
        let mut counts: FxHashMap<NodeId, Count> = FxHashMap::default();
        // A walk in document order that keeps the path from the root: a node's count is
        // added to its parent's when the walk leaves it. Elements that render nothing
        // (scripts, styles, hidden blocks) count zero and are not entered.
        let mut path: Vec<(NodeRef<'_>, Count, bool)> = Vec::new();
        let mut next = Some(*root);
        loop {
            let finished = match next {
                Some(node) => match visit(&node) {
                    Visit::Leaf(count) => Some((node, count)),
                    Visit::Enter { link } => {
                        path.push((node, Count::default(), link));
                        next = node.first_child();
                        continue;
                    }
                },
                None => path.pop().map(|(node, mut count, link)| {
                    if link {
                        count.linked = count.words;
                    }
                    (node, count)
                }),
            };
            let Some((node, count)) = finished else { break };
            counts.insert(node.id, count);
            let Some((_, parent, _)) = path.last_mut() else {
                break;
            };
            parent.words += count.words;
            parent.linked += count.linked;
            next = node.next_sibling();
        }
        Self { counts }
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

/// What the counting walk does with a node.
enum Visit {
    /// A text node, or an element that renders nothing: counted without entering it.
    Leaf(Count),
    /// An element that renders (or the document): its count is its children's.
    Enter { link: bool },
}

fn visit(node: &NodeRef<'_>) -> Visit {
    node.query(|n| match &n.data {
        NodeData::Text { contents } => Visit::Leaf(Count {
            words: words_in(contents),
            linked: 0,
        }),
        NodeData::Element(element) => {
            let name: &str = &element.name.local;
            if is_rendered_element(name, &element.attrs) {
                Visit::Enter { link: name == "a" }
            } else {
                Visit::Leaf(Count::default())
            }
        }
        _ => Visit::Enter { link: false },
    })
    .unwrap_or(Visit::Leaf(Count::default()))
}

/// Runs `f` on a text node's text where it lies, without a copy; `None` for other nodes.
pub fn with_text<B>(node: &NodeRef<'_>, f: impl FnOnce(&str) -> B) -> Option<B> {
    node.query(|n| match &n.data {
        NodeData::Text { contents } => Some(f(contents)),
        _ => None,
    })
    .flatten()
}

/// Bit `b` set for each ASCII byte `b` that `char::is_whitespace` counts as a space: tab,
/// line feed, vertical tab, form feed, carriage return and space.
const ASCII_SPACES: u64 = 1 << b'\t' | 1 << b'\n' | 1 << 0x0b | 1 << 0x0c | 1 << b'\r' | 1 << b' ';

/// Whitespace-separated words.
pub fn words_in(text: &str) -> usize {
    if !text.is_ascii() {
        return text.split_whitespace().count();
    }
    // Most text is ASCII: count the starts of runs of non-space bytes, without a branch per
    // byte (the counting walks read every text node of the page).
    let mut words = 0;
    let mut in_word = false;
    for byte in text.bytes() {
        let space = (byte <= b' ') & ((ASCII_SPACES >> (byte & 63)) & 1 == 1);
        words += usize::from(!space & !in_word);
        in_word = !space;
    }
    words
}
