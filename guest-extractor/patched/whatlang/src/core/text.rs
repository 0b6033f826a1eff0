use std::cell::{Ref, RefCell};
use std::ops::Deref;

#[derive(Debug)]
pub struct LowercaseText {
    inner: String,
}

impl LowercaseText {
    pub fn new(original_text: &str) -> Self {
        let inner = to_lowercase(original_text);
        Self { inner }
    }
}

/// `str::to_lowercase`, with the ASCII between other characters lowercased a run at a time.
/// The standard library's does so only up to the first character that is not ASCII and
/// pushes each character after it on its own (RipTide patch: a text's first curly quote
/// made the rest of it cost several times as much).
fn to_lowercase(text: &str) -> String {
    // A capital sigma's lowercase depends on the letters around it: left to the standard
    // library, which knows the rule.
    if text.contains('Σ') {
        return text.to_lowercase();
    }
    let mut lower = String::with_capacity(text.len());
    let mut ascii_from = 0;
    for (at, c) in text.char_indices().filter(|(_, c)| !c.is_ascii()) {
        let run = lower.len();
        lower.push_str(&text[ascii_from..at]);
        lower[run..].make_ascii_lowercase();
        lower.extend(c.to_lowercase());
        ascii_from = at + c.len_utf8();
    }
    let run = lower.len();
    lower.push_str(&text[ascii_from..]);
    lower[run..].make_ascii_lowercase();
    lower
}

impl Deref for LowercaseText {
    type Target = str;

    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

#[derive(Debug)]
pub struct Text<'a> {
    original: &'a str,
    lowercase: RefCell<Option<LowercaseText>>,
}

impl<'a> Text<'a> {
    pub fn new(original_text: &'a str) -> Self {
        Self {
            original: original_text,
            lowercase: RefCell::new(None),
        }
    }

    pub fn lowercase(&self) -> Ref<'_, LowercaseText> {
        if self.lowercase.borrow().is_none() {
            let lowercase_text = LowercaseText::new(self.original);
            self.lowercase.replace(Some(lowercase_text));
        }

        let ref_opt_lowercase = self.lowercase.borrow();
        Ref::map(ref_opt_lowercase, |r| r.as_ref().unwrap())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::utils::texts_of;

    #[test]
    fn to_lowercase_is_the_standard_librarys() {
        let pieces = [
            "a", "Z", " ", "!", "é", "É", "İ", "Σ", "σ", "ς", "ẞ", "Ω", "\u{2019}", "中", "ǅ",
        ];
        for text in &texts_of(&pieces) {
            assert_eq!(to_lowercase(text), text.to_lowercase(), "{text:?}");
        }
    }

    #[test]
    fn test_text() {
        let text = Text::new("Hello THERE");
        assert_eq!(text.lowercase().deref().deref(), "hello there");
    }
}
