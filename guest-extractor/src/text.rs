//! Word counts of every subtree, computed in one pass over the tree.
//!
//! The cleaning passes ask "how many words are in this node, and how many of them are link
//! text" of many nested nodes; asking the DOM each time re-reads every subtree once per
//! ancestor (nodes x depth). Counts summed bottom-up cost one walk.

use std::collections::HashMap;

use dom_query::{NodeData, NodeId, NodeRef};

use crate::render::is_rendered;

#[derive(Debug, Clone, Copy, Default)]
struct Count {
    words: usize,
    linked: usize,
}

/// Words and link words of each node under a root, as the tree was when counted: the words
/// the renderer would write (nothing inside forms, scripts, hidden elements).
pub struct TextCounts {
    counts: HashMap<NodeId, Count>,
}

impl TextCounts {
    pub fn of(root: &NodeRef<'_>) -> Self {
        let nodes: Vec<NodeRef<'_>> = std::iter::once(*root)
            .chain(root.descendants_it())
            .collect();
        let mut counts: HashMap<NodeId, Count> = HashMap::with_capacity(nodes.len());
        // Descendants come after their ancestors in document order, so walking it backwards
        // meets every child before its parent.
        for node in nodes.iter().rev() {
            let count = if let Some(words) = with_text(node, words_in) {
                Count { words, linked: 0 }
            } else {
                let name = node.node_name();
                let name = name.as_deref().unwrap_or("");
                if node.is_element() && !is_rendered(node, name) {
                    Count::default()
                } else {
                    let mut sum = Count::default();
                    for child in node.children_it(false) {
                        let c = counts.get(&child.id).copied().unwrap_or_default();
                        sum.words += c.words;
                        sum.linked += c.linked;
                    }
                    if name == "a" {
                        sum.linked = sum.words;
                    }
                    sum
                }
            };
            counts.insert(node.id, count);
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

/// Runs `f` on a text node's text where it lies, without a copy; `None` for other nodes.
pub fn with_text<B>(node: &NodeRef<'_>, f: impl FnOnce(&str) -> B) -> Option<B> {
    node.query(|n| match &n.data {
        NodeData::Text { contents } => Some(f(contents)),
        _ => None,
    })
    .flatten()
}

/// Whitespace-separated words.
pub fn words_in(text: &str) -> usize {
    text.split_whitespace().count()
}
