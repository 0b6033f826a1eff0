//! An element's tag and attributes read where they lie in the tree.
//!
//! The cleaning passes look at the tag, role, class and id of every element of every page;
//! `NodeRef::node_name` and `NodeRef::attr` copy a string and scan the attributes once per
//! call. Borrowing the element once costs neither.

use dom_query::{Attr, Document, NodeData, NodeRef};

/// Runs `f` on an element's tag name and attributes, without copies; `None` for a node that
/// is not an element.
pub fn with_element<B>(node: &NodeRef<'_>, f: impl FnOnce(&str, &[Attr]) -> B) -> Option<B> {
    node.query(|n| match &n.data {
        NodeData::Element(element) => Some(f(&element.name.local, &element.attrs)),
        _ => None,
    })
    .flatten()
}

/// The value of the attribute called `name`.
pub fn attr<'a>(attrs: &'a [Attr], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|a| &*a.name.local == name)
        .map(|a| &*a.value)
}

/// Whether the element is hidden from readers: `hidden`, `aria-hidden="true"`, or a style
/// that hides it.
pub fn is_hidden(attrs: &[Attr]) -> bool {
    attr(attrs, "hidden").is_some()
        || attr(attrs, "aria-hidden") == Some("true")
        || attr(attrs, "style").is_some_and(|s| {
            // Most styles say neither word: only those are copied and normalized.
            let lower = |word: &[u8]| {
                s.as_bytes()
                    .windows(word.len())
                    .any(|w| w.eq_ignore_ascii_case(word))
            };
            (lower(b"none") || lower(b"hidden")) && {
                let s = s.to_ascii_lowercase().replace(' ', "");
                s.contains("display:none") || s.contains("visibility:hidden")
            }
        })
}

/// The page's `<body>`: the parser always puts it under `<html>`, so it is found without a
/// search of the whole tree.
pub fn body<'a>(doc: &'a Document) -> Option<NodeRef<'a>> {
    let html = doc
        .root()
        .children_it(false)
        .find(|n| with_element(n, |name, _| name == "html").unwrap_or(false))?;
    html.children_it(false)
        .find(|n| with_element(n, |name, _| name == "body").unwrap_or(false))
}

/// The first element in document order for which `f`, given its tag and attributes, is
/// true.
pub fn find_element<'a>(
    doc: &'a Document,
    f: impl Fn(&str, &[Attr]) -> bool,
) -> Option<NodeRef<'a>> {
    doc.root()
        .descendants_it()
        .find(|node| with_element(node, &f).unwrap_or(false))
}

/// Whether a whitespace-separated attribute value (a class list) holds `token`.
pub fn has_token(value: Option<&str>, token: &str) -> bool {
    value.is_some_and(|v| v.split_ascii_whitespace().any(|t| t == token))
}
