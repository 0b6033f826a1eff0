//! Word counts, reading time and the quality score that tells articles apart from index,
//! listing and error pages.

use crate::render::Rendered;

/// Reading speed behind `reading-time`.
const WORDS_PER_MINUTE: u32 = 200;

/// Words in the text; in scripts written without spaces (CJK), each character counts.
pub fn word_count(text: &str) -> u32 {
    text.split_whitespace()
        .fold(0, |count, token| count.saturating_add(token_words(token)))
}

/// The words of one whitespace-separated token: its ideographs, or one word if it has none.
fn token_words(token: &str) -> u32 {
    let ideographs = token.chars().filter(|c| is_ideographic(*c)).count();
    match u32::try_from(ideographs).unwrap_or(u32::MAX) {
        0 => 1,
        ideographs => ideographs,
    }
}

/// Whole minutes, rounded up; zero only for no words.
pub fn reading_time(words: u32) -> u32 {
    words.div_ceil(WORDS_PER_MINUTE)
}

fn is_ideographic(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF)
}

/// What the score is computed from.
pub struct QualitySignals<'a> {
    pub content: &'a Rendered,
    /// The counts of `content.text`.
    pub prose: Prose,
    pub title: Option<&'a str>,
    pub has_byline_or_date: bool,
    pub declares_article: bool,
    /// The readability pass found a main content block (not a whole-page fallback).
    pub found_article: bool,
}

/// 0-100. Substantial prose in paragraphs, few links and article metadata score high;
/// link lists, short pages and error pages score low.
pub fn score(signals: &QualitySignals<'_>) -> u8 {
    let prose = signals.prose;
    let link_density = link_text_share(&signals.content.markdown, prose.tokens);

    let mut score = 0.0_f64;
    score += 40.0 * (f64::from(prose.words) / 500.0).min(1.0);
    score += 20.0 * (prose.paragraphs as f64 / 5.0).min(1.0);
    score += 20.0 * (1.0 - 2.5 * link_density).clamp(0.0, 1.0);
    if signals.title.is_some() {
        score += 5.0;
    }
    if signals.has_byline_or_date {
        score += 5.0;
    }
    if signals.declares_article {
        score += 10.0;
    }
    if !signals.found_article {
        score = score.min(30.0);
    }
    if signals.title.is_some_and(looks_like_error_title) || prose.words < 30 {
        score = score.min(10.0);
    }
    score.round().clamp(0.0, 100.0) as u8
}

/// What the text holds, from one walk over it: words, tokens and paragraphs of prose.
#[derive(Debug, Clone, Copy)]
pub struct Prose {
    /// As [`word_count`] counts them.
    pub words: u32,
    /// Whitespace-separated tokens in the whole text.
    tokens: usize,
    /// Paragraphs (separated by a blank line) of at least [`PARAGRAPH_TOKENS`] tokens.
    paragraphs: usize,
}

/// Tokens that make a paragraph count as prose.
const PARAGRAPH_TOKENS: usize = 25;

impl Prose {
    /// Counts `text`'s words, tokens and paragraphs of prose in one walk. A blank line is
    /// whitespace, so no token spans two paragraphs and their tokens add up to the text's.
    /// The blank lines are found with memchr's `memmem`: `str::split` with a two-byte
    /// pattern sets up a two-way searcher, which in the guest (no x86 SIMD fast path)
    /// reads the text a byte at a time.
    pub fn of(text: &str) -> Self {
        let mut prose = Self {
            words: 0,
            tokens: 0,
            paragraphs: 0,
        };
        let mut start = 0;
        for end in memchr::memmem::find_iter(text.as_bytes(), b"\n\n").chain([text.len()]) {
            let mut tokens = 0;
            for token in text[start..end].split_whitespace() {
                tokens += 1;
                prose.words = prose.words.saturating_add(token_words(token));
            }
            prose.tokens += tokens;
            if tokens >= PARAGRAPH_TOKENS {
                prose.paragraphs += 1;
            }
            start = end + 2;
        }
        prose
    }
}

/// Share of the text's `tokens` that sit inside links, from the Markdown link syntax.
fn link_text_share(markdown: &str, tokens: usize) -> f64 {
    if tokens == 0 {
        return 1.0;
    }
    let link_end = memchr::memmem::Finder::new("](");
    let mut linked = 0;
    let mut rest = markdown;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        match link_end.find(after.as_bytes()) {
            Some(close) if !after[..close].contains('[') => {
                linked += after[..close].split_whitespace().count();
                rest = &after[close..];
            }
            _ => rest = after,
        }
    }
    linked as f64 / tokens as f64
}

fn looks_like_error_title(title: &str) -> bool {
    let t = title.to_lowercase();
    [
        "404",
        "not found",
        "page not found",
        "error",
        "access denied",
        "forbidden",
        "unavailable",
    ]
    .iter()
    .any(|w| t.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_words_and_ideographs() {
        assert_eq!(word_count("one two  three\nfour"), 4);
        assert_eq!(word_count("日本語 text"), 4);
        assert_eq!(reading_time(0), 0);
        assert_eq!(reading_time(1), 1);
        assert_eq!(reading_time(401), 3);
    }

    #[test]
    fn prose_counts_as_splitting_at_blank_lines_does() {
        let long = "word ".repeat(PARAGRAPH_TOKENS);
        for text in [
            String::new(),
            "\n\n".into(),
            "\n\n\n".into(),
            "one\n\n\n\ntwo  three\n".into(),
            format!("{long}\n\n\n{long}\n\nshort\n\n{}", long.trim()),
            format!("{}\n{long}", long.trim()),
            "日本語 text\n\n中文".into(),
        ] {
            let prose = Prose::of(&text);
            let by_split = text
                .split("\n\n")
                .filter(|p| p.split_whitespace().count() >= PARAGRAPH_TOKENS)
                .count();
            assert_eq!(prose.paragraphs, by_split, "{text:?}");
            assert_eq!(prose.tokens, text.split_whitespace().count(), "{text:?}");
            assert_eq!(prose.words, word_count(&text), "{text:?}");
        }
    }

    #[test]
    fn link_lists_score_below_prose() {
        let prose_paragraph = "word ".repeat(60);
        let prose = Rendered {
            text: [prose_paragraph.trim(); 8].join("\n\n"),
            markdown: [prose_paragraph.trim(); 8].join("\n\n"),
            ..Rendered::default()
        };
        let links = Rendered {
            text: "Home News Sport Weather More links here".into(),
            markdown: "[Home](/) [News](/n) [Sport](/s) [Weather](/w) [More links here](/m)".into(),
            ..Rendered::default()
        };
        let signals = |content, found_article| QualitySignals {
            content,
            prose: Prose::of(&content.text),
            title: Some("A story"),
            has_byline_or_date: true,
            declares_article: false,
            found_article,
        };
        let article = score(&signals(&prose, true));
        let index = score(&signals(&links, false));
        assert!(article >= 80, "article scored {article}");
        assert!(index <= 10, "index scored {index}");
    }
}
