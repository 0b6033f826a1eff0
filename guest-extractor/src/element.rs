//! An element's tag and attributes read where they lie in the tree.
//!
//! The cleaning passes look at the tag, role, class and id of every element of every page;
//! `NodeRef::node_name` and `NodeRef::attr` copy a string and scan the attributes once per
//! call. Borrowing the element once costs neither.

use dom_query::{local_name, Attr, Document, LocalName, NodeData, NodeRef};

use crate::text::{eight_bytes_at, range_bits, HIGH, ONES};

/// Runs `f` on an element's tag name and attributes, without copies; `None` for a node that
/// is not an element.
pub fn with_element<B>(node: &NodeRef<'_>, f: impl FnOnce(&str, &[Attr]) -> B) -> Option<B> {
    node.query(|n| match &n.data {
        NodeData::Element(element) => Some(f(&element.name.local, &element.attrs)),
        _ => None,
    })
    .flatten()
}

/// The value of the attribute called `name`, compared as interned names (one integer
/// comparison per attribute; `local_name!("class")` names one without a lookup).
pub fn attr<'a>(attrs: &'a [Attr], name: &LocalName) -> Option<&'a str> {
    attrs
        .iter()
        .find(|a| a.name.local == *name)
        .map(|a| &*a.value)
}

/// Whether the element is hidden from readers: `hidden`, `aria-hidden="true"`, or a style
/// that hides it.
pub fn is_hidden(attrs: &[Attr]) -> bool {
    // One pass over the attributes (the cleaning passes ask this of every element).
    attrs.iter().any(|a| {
        let name = &a.name.local;
        if *name == local_name!("hidden") {
            true
        } else if *name == local_name!("aria-hidden") {
            &*a.value == "true"
        } else if *name == local_name!("style") {
            // Most styles say neither word: only those are copied and normalized.
            let s = &*a.value;
            let lower = |word: &[u8]| {
                s.as_bytes()
                    .windows(word.len())
                    .any(|w| w.eq_ignore_ascii_case(word))
            };
            (lower(b"none") || lower(b"hidden")) && {
                let s = s.to_ascii_lowercase().replace(' ', "");
                s.contains("display:none") || s.contains("visibility:hidden")
            }
        } else {
            false
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

/// Words that mark an element by its class or id names (`sidebar`, `share-bar`...), looked
/// up without regard to ASCII case. The cleaning passes ask it of every element of a page,
/// where comparing each name with each word in turn cost more than the rest of the check.
pub struct NameWords {
    /// Lower-cased and sorted, for a binary search.
    sorted: Vec<String>,
    /// By length, the first bytes of the words of that length: most names on a page are
    /// told apart from every word by these two alone, without a search.
    first_bytes: Vec<u128>,
}

impl NameWords {
    pub fn new(words: &[&str]) -> Self {
        let mut sorted: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
        sorted.sort_unstable();
        let longest = sorted.iter().map(String::len).max().unwrap_or(0);
        let mut first_bytes = vec![0u128; longest + 1];
        for word in &sorted {
            if let Some(&first) = word.as_bytes().first().filter(|b| b.is_ascii()) {
                first_bytes[word.len()] |= 1 << first;
            }
        }
        Self {
            sorted,
            first_bytes,
        }
    }

    /// Whether one of the words of the element's class or id (split at every character that
    /// is not an ASCII letter or digit) is in the set.
    pub fn name(&self, attrs: &[Attr]) -> bool {
        [
            attr(attrs, &local_name!("class")),
            attr(attrs, &local_name!("id")),
        ]
        .into_iter()
        .flatten()
        .any(|value| any_word(value.as_bytes(), |word| self.contains(word)))
    }

    fn contains(&self, word: &[u8]) -> bool {
        let (Some(&first), Some(firsts)) = (word.first(), self.first_bytes.get(word.len())) else {
            return false;
        };
        // Words are split at every byte that is not ASCII alphanumeric, so `first` is ASCII.
        if firsts & (1 << first.to_ascii_lowercase()) == 0 {
            return false;
        }
        let lower = word.iter().map(u8::to_ascii_lowercase);
        self.sorted
            .binary_search_by(|w| w.bytes().cmp(lower.clone()))
            .is_ok()
    }
}

/// Whether `f` holds for one of the words of `value`, split at every byte that is not an
/// ASCII letter or digit (every byte of a non-ASCII character separates words too).
fn any_word<'a>(value: &'a [u8], mut f: impl FnMut(&'a [u8]) -> bool) -> bool {
    if value.len() > 64 {
        return value
            .split(|byte| !byte.is_ascii_alphanumeric())
            .any(|word| !word.is_empty() && f(word));
    }
    // A bit for each byte that is a letter or a digit, found eight bytes at a time; then a
    // step per word, not per byte (the cleaning passes ask this of every element, and in
    // the sandbox each step of a loop pays a fuel check).
    let mut alphanumeric = 0_u64;
    for at in (0..value.len()).step_by(8) {
        alphanumeric |= alphanumeric_bits(eight_bytes_at(value, at)) << at;
    }
    while alphanumeric != 0 {
        let start = alphanumeric.trailing_zeros() as usize;
        let len = (alphanumeric >> start).trailing_ones() as usize;
        if f(&value[start..start + len]) {
            return true;
        }
        alphanumeric &= !(u64::MAX >> (64 - len) << start);
    }
    false
}

/// Bit `i` set where byte `i` of the eight (the low byte first) is an ASCII letter or digit.
fn alphanumeric_bits(eight: u64) -> u64 {
    // Each byte's high bit answers for it; a byte's own high bit (not ASCII) is cleared
    // first and rules it out at the end.
    let ascii = eight & !HIGH;
    let folded = ascii | (ONES * 0x20);
    let letter = range_bits(folded, b'a', b'z');
    let digit = range_bits(ascii, b'0', b'9');
    let high_bits = (letter | digit) & !eight;
    // Gathers the eight high bits into the low byte.
    (high_bits >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

#[cfg(test)]
mod tests {
    use dom_query::Document;

    use super::*;

    fn names(html: &str, words: &NameWords) -> bool {
        let doc = Document::from(html);
        let node = find_element(&doc, |name, _| name == "div").expect("the page has a div");
        with_element(&node, |_, attrs| words.name(attrs)).unwrap_or(false)
    }

    #[test]
    fn name_words_match_whole_words_of_class_and_id_in_any_case() {
        let words = NameWords::new(&["share", "sidebar", "ad"]);
        assert!(names(r#"<div class="post Share-Bar">"#, &words));
        assert!(names(r#"<div id="left_SIDEBAR">"#, &words));
        assert!(names(r#"<div class="x ad">"#, &words));
        // A non-ASCII letter separates words, as any character that is not ASCII
        // alphanumeric does; a word inside a longer one is another word.
        assert!(names(r#"<div class="adé">"#, &words));
        assert!(!names(r#"<div class="shared header">"#, &words));
        assert!(!names(r#"<div class="load" id="heading">"#, &words));
        assert!(!names(r#"<div title="share">"#, &words));
    }

    #[test]
    fn hidden_elements_are_told_by_any_of_their_attributes() {
        let hidden = |attributes: &str| {
            let doc = Document::from(format!("<div {attributes}>x</div>").as_str());
            let node = find_element(&doc, |name, _| name == "div").expect("the page has a div");
            with_element(&node, |_, attrs| is_hidden(attrs)).unwrap_or(false)
        };
        for attributes in [
            "hidden",
            "class=a hidden",
            "aria-hidden=true",
            "id=x aria-hidden=true title=y",
            "style='display:none'",
            "style='color: red; DISPLAY : NONE'",
            "style='visibility: Hidden' class=a",
            "aria-hidden=false style='display: none'",
        ] {
            assert!(hidden(attributes), "{attributes}");
        }
        for attributes in [
            "",
            "class=hidden",
            "aria-hidden=false",
            "aria-hidden=TRUE",
            "style='border: none; overflow: hidden'",
            "title='display:none'",
        ] {
            assert!(!hidden(attributes), "{attributes}");
        }
    }

    #[test]
    fn any_word_splits_as_a_byte_at_a_time_split_does() {
        let pieces: [&[u8]; 12] = [
            b"a",
            b"Z",
            b"0",
            b"9",
            b"-",
            b" ",
            b"@",
            b"[",
            b"`",
            b"{",
            b"\x7f",
            "é".as_bytes(),
        ];
        let mut values = vec![Vec::new()];
        for _ in 0..4 {
            let longer: Vec<Vec<u8>> = values
                .iter()
                .flat_map(|value| pieces.iter().map(move |piece| [value, *piece].concat()))
                .collect();
            values.extend(longer);
        }
        for value in &values {
            // Past one word of bits, and longer than the bits hold.
            for value in [value.clone(), value.repeat(6), value.repeat(20)] {
                let expected: Vec<&[u8]> = value
                    .split(|b| !b.is_ascii_alphanumeric())
                    .filter(|word| !word.is_empty())
                    .collect();
                let mut words = Vec::new();
                assert!(!any_word(&value, |word| {
                    words.push(word);
                    false
                }));
                assert_eq!(words, expected, "{value:?}");
            }
        }
    }
}
