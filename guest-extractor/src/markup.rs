//! Prepares markup for the parser in one linear scan: caps element nesting, and leaves out
//! the bodies of scripts and style sheets, the shapes inside SVG images, the `data-*`
//! attributes that nothing reads, the text of comments, and the indentation between tags.
//!
//! Nesting: the HTML tree builder checks element scopes by walking its stack of open
//! elements, so a page of 100,000 nested `<div>`s costs O(depth²) to parse (minutes) and
//! deep trees overflow recursive walks later. The scan drops the start and end tags of
//! elements nested deeper than the limit; their text and children stay, attached to the
//! deepest kept ancestor. Elements whose end tag is optional (`p`, `li`, `td`, ...) are not
//! counted: unclosed ones would make ordinary pages look deep.
//!
//! Scripts and styles: half of a typical news page's bytes are JavaScript and CSS (dev
//! pages: 30% of all bytes in the head, 23% in the body), which the parser would tokenize
//! character by character into text nodes that nothing reads and readability deletes. Their
//! bodies are left out (the elements stay, empty); a script whose `type` says it carries
//! data (JSON-LD, an HTML template, an import map) keeps its body, and so does whatever the
//! scan cannot be sure is raw text (inside SVG or MathML, after a frameset). Leaving bytes
//! out must not change how the parser reads anything else, so the scan follows the HTML
//! tokenizer wherever it decides where a tag, a comment or a raw-text body ends (quoted
//! attribute values, `--!>`, the escapes of script data, CDATA in SVG). The content
//! heuristics read text without what scripts and styles hold ([`crate::text`]), so they
//! see the same page either way.
//!
//! SVG images: icons and logos drawn inline are a tenth of what the parser reads on a page
//! once scripts and styles are gone (dev pages 8%, snippets 10%), mostly path data in
//! attributes, and nothing reads them: readability skips `<svg>` subtrees and rendering
//! leaves them out. When an `<svg>` holds nothing but drawing elements ([`draws_only`]) and
//! whitespace, its content is left out and the `<svg>` element stays, with the same text
//! (that whitespace), so its parent's children, text and layout heuristics are the same.
//! Anything else inside (text, a link, a title, a comment, a tag the scan cannot follow)
//! keeps the whole image.
//!
//! `data-*` attributes: a tenth of what the parser reads on a page once scripts and styles
//! are gone (dev pages 11%), state for the page's own scripts, and the tokenizer reads
//! attribute names a character at a time. Extraction reads them only on images, media and
//! embedded content (lazy-loading sources, video addresses: [`reads_data_attributes`]), so
//! elsewhere they are left out, unless the caller's CSS selectors may match them
//! ([`Attributes::All`]). An attribute goes from its name to the end of its value, and the
//! whitespace before it stays, so the tag reads as before without it.
//!
//! Indentation: whitespace between tags is a tenth of what the parser reads (dev pages 11%),
//! and every walk over the text reads it again. Outside preformatted text a reader sees a
//! run of it as one space, so a run of two or more characters between two pieces of markup
//! becomes one: a line feed when the run breaks a line, else its first character. The text
//! node stays, so the tree keeps its shape. `<pre>` and `<listing>` keep theirs, as does SVG.
//!
//! Comments: the tokenizer reads a comment a character at a time, and nothing reads what it
//! says (readability removes comments before it scores). Each becomes `<!---->`, a comment
//! node still, so the text on either side stays in two nodes as before.

use std::borrow::Cow;
use std::ops::Range;

use memchr::{memchr, memchr2, memmem};

use crate::text::{byte_bits, eight_bytes_at, range_bits, HIGH};

/// What the scan saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NestingStats {
    /// Start tags seen (elements, approximately: the parser may add or merge some).
    pub elements: u32,
    /// Deepest nesting of counted elements.
    pub max_depth: u32,
    /// Start tags dropped because they were nested deeper than the limit.
    pub flattened: u32,
    /// Elements inside SVG images left out: counted in `elements`, not in the parse.
    pub left_out: u32,
}

/// Which attributes the parse must keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attributes {
    /// Every one: CSS selectors chosen by the caller may match any attribute.
    All,
    /// Those extraction reads: `data-*` attributes are left out of HTML elements other than
    /// images, media and embedded content.
    Read,
}

/// How the scan treats an element, by its lowercased name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Nested and closed: counted in the depth.
    Counted,
    /// Void (no content, never pushed on the stack), an element whose end tag may be left
    /// out, or the document skeleton: not counted.
    Uncounted,
    /// Raw text: markup inside it is not markup.
    RawText,
}

impl Kind {
    /// One `match`, which the compiler turns into a length switch and a few compares, in
    /// place of scanning three lists for every tag.
    fn of(name: &[u8]) -> Self {
        match name {
            // Void elements.
            b"area" | b"base" | b"br" | b"col" | b"embed" | b"hr" | b"img" | b"input" | b"link"
            | b"meta" | b"param" | b"source" | b"track" | b"wbr" | b"keygen" | b"frame"
            | b"basefont" | b"bgsound" | b"image"
            // Optional end tags, and the skeleton.
            | b"p" | b"li" | b"dt" | b"dd" | b"option" | b"optgroup" | b"tr" | b"td" | b"th"
            | b"thead" | b"tbody" | b"tfoot" | b"colgroup" | b"caption" | b"rb" | b"rt" | b"rp"
            | b"rtc" | b"html" | b"head" | b"body" => Self::Uncounted,
            b"script" | b"style" | b"textarea" | b"title" | b"xmp" | b"iframe" | b"noembed"
            | b"noframes" | b"plaintext" => Self::RawText,
            _ => Self::Counted,
        }
    }
}

/// Where the parser is, as far as leaving a script's or a style's body out is concerned.
///
/// In HTML a `<script>` or `<style>` is raw text wherever it appears (in the head, the body,
/// a table, a template), except in SVG and MathML, where it is an element like any other
/// and its content is markup, and in a frameset, which ignores it. SVG is common (icons),
/// so the scan follows it as far as it can be sure how the tree builder reads it; past
/// anything it cannot follow exactly (MathML, a frameset, HTML inside SVG) it leaves
/// nothing more out.
#[derive(Debug, Default)]
struct Context {
    /// `<svg>` elements open: the tree builder's current node is an SVG element.
    svg_depth: u32,
    /// The scan can no longer be sure where the parser is.
    unsure: bool,
}

impl Context {
    fn in_svg(&self) -> bool {
        self.svg_depth > 0
    }

    /// A start tag; `after` is the input just past it.
    fn saw_start(&mut self, name: &[u8], self_closing: bool, after: &[u8]) {
        if self.unsure {
            return;
        }
        if !self.in_svg() {
            match name {
                b"svg" if !self_closing => self.svg_depth = 1,
                b"math" | b"frameset" => self.unsure = true,
                _ => {}
            }
            return;
        }
        if ends_svg(name) {
            self.unsure = true;
        } else if name == b"svg" {
            self.svg_depth += u32::from(!self_closing);
        } else if self_closing {
            // A self-closing SVG element is closed at once: nothing of it stays open.
        } else if matches!(name, b"title" | b"desc") || Kind::of(name) == Kind::RawText {
            // HTML integration points (`title`, `desc`), and elements that would be raw
            // text in HTML: the scan reads them as the parser does only while they hold
            // nothing but text.
            if !holds_only_text(after, name) {
                self.unsure = true;
            }
        } else if name == b"foreignobject" {
            self.unsure = true;
        }
    }

    fn saw_end(&mut self, name: &[u8]) {
        if self.unsure || !self.in_svg() {
            return;
        }
        match name {
            b"svg" => self.svg_depth -= 1,
            // The two end tags that leave foreign content for HTML.
            b"p" | b"br" => self.unsure = true,
            _ => {}
        }
    }

    /// Whether a `<![CDATA[` here is a CDATA section (in SVG) rather than a bogus comment.
    fn reads_cdata(&self) -> bool {
        self.in_svg() && !self.unsure
    }

    /// Whether the body of a `name` element starting here may be left out: any style's
    /// (its `type` aside), a script's when it is code, outside SVG.
    fn may_leave_out(&self, name: &[u8], script_type: ScriptType) -> bool {
        !self.unsure
            && !self.in_svg()
            && match name {
                b"script" => script_type == ScriptType::Code,
                b"style" => true,
                _ => false,
            }
    }
}

/// Start tags that end foreign content: the tree builder closes the SVG and reads them as
/// HTML. `font` does with some attributes, which the scan does not tell apart.
fn ends_svg(name: &[u8]) -> bool {
    matches!(
        name,
        b"b" | b"big"
            | b"blockquote"
            | b"body"
            | b"br"
            | b"center"
            | b"code"
            | b"dd"
            | b"div"
            | b"dl"
            | b"dt"
            | b"em"
            | b"embed"
            | b"h1"
            | b"h2"
            | b"h3"
            | b"h4"
            | b"h5"
            | b"h6"
            | b"head"
            | b"hr"
            | b"i"
            | b"img"
            | b"li"
            | b"listing"
            | b"menu"
            | b"meta"
            | b"nobr"
            | b"ol"
            | b"p"
            | b"pre"
            | b"ruby"
            | b"s"
            | b"small"
            | b"span"
            | b"strong"
            | b"strike"
            | b"sub"
            | b"sup"
            | b"table"
            | b"tt"
            | b"u"
            | b"ul"
            | b"var"
            | b"font"
            | b"math"
    )
}

/// Whether the SVG element `name` whose content starts at `after` holds only text (CDATA
/// sections are text there): its own end tag is the next markup.
fn holds_only_text(after: &[u8], name: &[u8]) -> bool {
    let mut pos = 0;
    while let Some(at) = memchr(b'<', &after[pos..]).map(|at| pos + at) {
        if !after[at..].starts_with(b"<![CDATA[") {
            return after[at + 1..].starts_with(b"/") && is_tag_named(after, at + 2, name);
        }
        match cdata_section_end(after, at) {
            Some(end) => pos = end,
            None => return false,
        }
    }
    false
}

/// Returns the HTML with elements deeper than `max_depth` flattened, the bodies of scripts
/// and styles, the shapes of SVG images, the text of comments and, as `attributes` says,
/// unread attributes left out, indentation between tags read as one character, and what
/// the scan saw. Borrows the input when nothing had to change.
pub fn prepare(
    html: &str,
    max_depth: usize,
    attributes: Attributes,
) -> (Cow<'_, str>, NestingStats) {
    let bytes = html.as_bytes();
    let mut stats = NestingStats::default();
    let mut context = Context::default();
    let mut depth: usize = 0;
    // Start tags dropped and not yet closed: their end tags must be dropped too.
    let mut dropped_open: usize = 0;
    let mut edit = Edit::new(html);
    // The outermost `<svg>` open, while everything in it may still be left out.
    let mut image: Option<SvgImage<'_>> = None;
    // The `data-*` attributes of the tag being read, and whether they may still be left out:
    // not from an `<object>` on, since readability reads an object's markup as a whole.
    let mut data_attributes: Vec<Range<usize>> = Vec::new();
    let mut leaves_out_attributes = attributes == Attributes::Read;
    // `<pre>` and `<listing>` start tags not yet closed: their whitespace is the text.
    let mut preformatted: usize = 0;
    // Whether the text at `pos` starts just past a tag, a comment or a declaration (not
    // past a `<` that is text).
    let mut follows_markup = false;
    let mut pos = 0;

    while let Some(offset) = memchr(b'<', &bytes[pos..]) {
        let start = pos + offset;
        if let Some(open) = &mut image {
            if !open.take_text(&bytes[pos..start]) {
                image = None;
            }
        } else if follows_markup && preformatted == 0 && !context.in_svg() && !context.unsure {
            if let Some(space) = collapsed_whitespace(&bytes[pos..start]) {
                edit.replace(pos, start, space);
            }
        }
        follows_markup = true;
        let closing = match bytes.get(start + 1) {
            Some(b'/') if bytes.get(start + 2).is_some_and(u8::is_ascii_alphabetic) => true,
            Some(b) if b.is_ascii_alphabetic() => false,
            // Comments, CDATA, processing instructions, stray `<`: not drawing.
            next => {
                image = None;
                pos = match next {
                    Some(b'!') => {
                        let end = declaration_end(bytes, start, context.reads_cdata());
                        if bytes[start + 2..].starts_with(b"--")
                            && end - start > EMPTY_COMMENT.len()
                            && !context.unsure
                        {
                            edit.replace(start, end, EMPTY_COMMENT);
                        }
                        end
                    }
                    Some(b'?') => bogus_comment_end(bytes, start + 2),
                    Some(b'/') => match bytes.get(start + 2) {
                        Some(b'>') => start + 3,
                        Some(_) => bogus_comment_end(bytes, start + 2),
                        None => break,
                    },
                    // A `<` before anything else is text.
                    Some(_) => {
                        follows_markup = false;
                        start + 1
                    }
                    None => break,
                };
                continue;
            }
        };
        let name_start = start + 1 + usize::from(closing);
        let name_end = name_start + tag_name_len(&bytes[name_start..]);
        let raw_name = &bytes[name_start..name_end];
        let lowered = TagName::new(&bytes[name_start..], raw_name.len());
        let name = lowered.as_bytes();
        // The first of repeated attributes is the one the parser keeps.
        let mut script_type = None;
        let mut has_itemprop = false;
        data_attributes.clear();
        let tag = scan_tag(bytes, name_end, |attribute| {
            if script_type.is_none() && attribute.name.eq_ignore_ascii_case(b"type") {
                script_type = Some(ScriptType::of(attribute.value));
            }
            has_itemprop |= attribute.name.eq_ignore_ascii_case(b"itemprop");
            if leaves_out_attributes && is_data_attribute(attribute.name) {
                data_attributes.push(attribute.span);
            }
        });
        let Some(tag_end) = tag.end else {
            // A tag cut off by the end of input is not a tag: nothing after it is either.
            break;
        };
        pos = tag_end;

        let kind = Kind::of(name);
        let starts_preformatted = matches!(name, b"pre" | b"listing");
        if closing {
            if starts_preformatted {
                preformatted = preformatted.saturating_sub(1);
            }
            context.saw_end(name);
            if let Some(open) = &mut image {
                match open.close(raw_name) {
                    Closed::Inner if !context.unsure => {}
                    Closed::Image if !context.unsure => {
                        edit.replace(open.content_start, start, &open.whitespace);
                        stats.left_out = stats
                            .left_out
                            .saturating_add(stats.elements - open.elements_before);
                        image = None;
                    }
                    _ => image = None,
                }
            }
            if kind != Kind::Uncounted {
                if dropped_open > 0 {
                    dropped_open -= 1;
                    edit.replace(start, tag_end, " ");
                } else {
                    depth = depth.saturating_sub(1);
                }
            }
            continue;
        }

        stats.elements = stats.elements.saturating_add(1);
        // Even self-closing: HTML ignores the slash on a `<pre/>`.
        preformatted += usize::from(starts_preformatted);
        let was_in_svg = context.in_svg();
        context.saw_start(name, tag.self_closing, &bytes[tag_end..]);
        if let Some(open) = &mut image {
            if context.unsure || has_itemprop || !draws_only(name) {
                image = None;
            } else if !tag.self_closing {
                open.elements.push(raw_name);
            }
        }
        leaves_out_attributes &= name != b"object";
        let flattened = kind == Kind::Counted && !tag.self_closing && depth >= max_depth;
        // Only in HTML the scan is sure of, and not in a tag that goes whole.
        if leaves_out_attributes
            && !was_in_svg
            && !context.in_svg()
            && !context.unsure
            && !flattened
            && !reads_data_attributes(name)
        {
            for attribute in &data_attributes {
                edit.replace(attribute.start, attribute.end, "");
            }
        }
        // In SVG, a self-closing element has no content, raw text or not.
        if kind == Kind::RawText && !(context.in_svg() && tag.self_closing) {
            let body_end = raw_text_end(bytes, tag_end, name);
            if context.may_leave_out(name, script_type.unwrap_or(ScriptType::Code)) {
                edit.replace(tag_end, body_end, "");
            }
            pos = body_end;
            continue;
        }
        if kind == Kind::Uncounted || tag.self_closing {
            continue;
        }
        if flattened {
            dropped_open += 1;
            stats.flattened = stats.flattened.saturating_add(1);
            // A space keeps words on either side of the dropped tag apart.
            edit.replace(start, tag_end, " ");
            stats.max_depth = stats.max_depth.max(clamp_u32(depth + dropped_open));
            // The edits stay in order: nothing before this tag is left out any more.
            image = None;
        } else {
            depth += 1;
            stats.max_depth = stats.max_depth.max(clamp_u32(depth));
            if !was_in_svg && context.in_svg() {
                image = Some(SvgImage::new(tag_end, stats.elements));
            }
        }
    }

    (edit.finish(), stats)
}

/// An outermost `<svg>` element, open, whose content may yet be left out.
struct SvgImage<'a> {
    /// Just past its start tag.
    content_start: usize,
    /// [`NestingStats::elements`] with the `<svg>` itself counted.
    elements_before: u32,
    /// Elements open inside it (the `<svg>` first), by their names as written: in foreign
    /// content an end tag closes the nearest open element of its name, any case.
    elements: Vec<&'a [u8]>,
    /// Its text, which is only whitespace, as the parser reads it.
    whitespace: String,
}

/// What an end tag does to an [`SvgImage`].
enum Closed {
    /// Closes an element inside it.
    Inner,
    /// Closes the image itself.
    Image,
    /// Closes nothing open inside it: the tree builder takes it to the HTML around.
    Outside,
}

impl<'a> SvgImage<'a> {
    fn new(content_start: usize, elements_before: u32) -> Self {
        Self {
            content_start,
            elements_before,
            elements: vec![b"svg"],
            whitespace: String::new(),
        }
    }

    /// Text between two tags inside the image: whether it is whitespace, which is kept with
    /// line breaks normalized as the tokenizer does (so text split by a tag stays split).
    fn take_text(&mut self, text: &[u8]) -> bool {
        if !text.iter().all(|b| is_space(*b)) {
            return false;
        }
        let mut bytes = text.iter().peekable();
        while let Some(&b) = bytes.next() {
            if b == b'\r' {
                bytes.next_if_eq(&&b'\n');
                self.whitespace.push('\n');
            } else {
                self.whitespace.push(char::from(b));
            }
        }
        true
    }

    fn close(&mut self, name: &[u8]) -> Closed {
        let Some(at) = self
            .elements
            .iter()
            .rposition(|open| open.eq_ignore_ascii_case(name))
        else {
            return Closed::Outside;
        };
        self.elements.truncate(at);
        if at == 0 {
            Closed::Image
        } else {
            Closed::Inner
        }
    }
}

/// SVG elements that only draw: shapes, their grouping and reuse, and their paint
/// (gradients, clips, masks, filters, markers). None holds text, a link or metadata that
/// extraction reads.
fn draws_only(name: &[u8]) -> bool {
    matches!(
        name,
        b"svg"
            | b"g"
            | b"path"
            | b"circle"
            | b"ellipse"
            | b"line"
            | b"polyline"
            | b"polygon"
            | b"rect"
            | b"use"
            | b"symbol"
            | b"defs"
            | b"lineargradient"
            | b"radialgradient"
            | b"stop"
            | b"clippath"
            | b"mask"
            | b"pattern"
            | b"marker"
            | b"filter"
    ) || (name.starts_with(b"fe") && name.len() > 2)
}

/// What a comment becomes: still a comment node, without its text.
const EMPTY_COMMENT: &str = "<!---->";

/// The one character a run of whitespace between two pieces of markup is read as, when the
/// run is longer: a line feed when it breaks a line, else its first character.
fn collapsed_whitespace(text: &[u8]) -> Option<&'static str> {
    if text.len() < 2 {
        return None;
    }
    // Eight bytes at a time: indentation between tags runs long, and in the sandbox a loop
    // of a byte a step pays a fuel check per byte. Past the end, spaces.
    let mut line_breaks = 0;
    for at in (0..text.len()).step_by(8) {
        let eight = eight_bytes_at(text, at);
        // A byte that is not ASCII is not whitespace; the tests below need ASCII bytes.
        if eight & HIGH != 0 || space_bits(eight) != HIGH {
            return None;
        }
        line_breaks |= byte_bits(eight, b'\n') | byte_bits(eight, b'\r');
    }
    Some(run_read_as(text[0], line_breaks != 0))
}

/// What a run of whitespace starting with `first` is read as.
fn run_read_as(first: u8, breaks_line: bool) -> &'static str {
    if breaks_line {
        return "\n";
    }
    match first {
        b'\t' => "\t",
        0x0C => "\x0C",
        _ => " ",
    }
}

/// The high bit of each of eight ASCII bytes set where the byte is HTML whitespace (tab,
/// line feed, form feed, carriage return, space): [`SPACE`] in [`BYTE_CLASSES`].
fn space_bits(eight: u64) -> u64 {
    byte_bits(eight, b' ') | (range_bits(eight, b'\t', b'\r') & !byte_bits(eight, 0x0B))
}

/// Whether an attribute, by its name as written, is a `data-*` one.
fn is_data_attribute(name: &[u8]) -> bool {
    name.get(..5)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case(b"data-"))
}

/// Elements whose `data-*` attributes extraction reads: readability looks through every
/// attribute of images, figures and embeds for lazy-loaded sources and video addresses,
/// rendering reads the lazy-loading sources of images and media.
fn reads_data_attributes(name: &[u8]) -> bool {
    matches!(
        name,
        b"img"
            | b"picture"
            | b"figure"
            | b"source"
            | b"video"
            | b"audio"
            | b"iframe"
            | b"embed"
            | b"object"
    )
}

/// What a script's `type` attribute says it holds: code (left out before parsing) or data
/// that extraction may read (kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScriptType {
    Code,
    Data,
}

impl ScriptType {
    /// The HTML standard's JavaScript MIME types and `module` are code, as is a missing or
    /// empty type; anything else (`application/ld+json`, `text/template`, `importmap`) is
    /// data. A value with a character reference is not decoded here, so it counts as data.
    fn of(value: &[u8]) -> Self {
        if value.contains(&b'&') {
            return Self::Data;
        }
        let value = value.trim_ascii();
        let essence = value
            .iter()
            .position(|b| *b == b';')
            .map_or(value, |semicolon| value[..semicolon].trim_ascii());
        const CODE: [&[u8]; 17] = [
            b"",
            b"module",
            b"text/javascript",
            b"application/javascript",
            b"application/ecmascript",
            b"application/x-ecmascript",
            b"application/x-javascript",
            b"text/ecmascript",
            b"text/javascript1.0",
            b"text/javascript1.1",
            b"text/javascript1.2",
            b"text/javascript1.3",
            b"text/javascript1.4",
            b"text/javascript1.5",
            b"text/jscript",
            b"text/livescript",
            b"text/x-javascript",
        ];
        if CODE.iter().any(|code| essence.eq_ignore_ascii_case(code)) {
            Self::Code
        } else {
            Self::Data
        }
    }
}

/// The output, copied from the input only once something has to change.
struct Edit<'a> {
    html: &'a str,
    out: Option<String>,
    /// Bytes before `copied` are already in `out` (when it exists).
    copied: usize,
}

impl<'a> Edit<'a> {
    fn new(html: &'a str) -> Self {
        Self {
            html,
            out: None,
            copied: 0,
        }
    }

    /// Puts `with` in place of `start..end`.
    fn replace(&mut self, start: usize, end: usize, with: &str) {
        debug_assert!(start >= self.copied, "edits out of order");
        if start == end && with.is_empty() {
            return;
        }
        let out = self
            .out
            .get_or_insert_with(|| String::with_capacity(self.html.len()));
        out.push_str(&self.html[self.copied..start]);
        out.push_str(with);
        self.copied = end;
    }

    fn finish(self) -> Cow<'a, str> {
        match self.out {
            None => Cow::Borrowed(self.html),
            Some(mut out) => {
                out.push_str(&self.html[self.copied..]);
                Cow::Owned(out)
            }
        }
    }
}

fn clamp_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The tokenizer's whitespace; a carriage return reaches it as a line feed.
const SPACE: u8 = 1;
/// Whitespace, `/` and `>`: what ends a tag name.
const ENDS_TAG_NAME: u8 = 2;
/// Whitespace, `/`, `>` and `=`: what ends an attribute name.
const ENDS_ATTRIBUTE_NAME: u8 = 4;
/// Whitespace and `>`: what ends an unquoted attribute value.
const ENDS_UNQUOTED_VALUE: u8 = 8;

/// Each byte's classes: the scan's loops over names and whitespace test a byte with one
/// load, where a `match` became a jump table, and in the sandbox each of their iterations
/// pays for its instructions in fuel.
static BYTE_CLASSES: [u8; 256] = byte_classes();

const fn byte_classes() -> [u8; 256] {
    let mut classes = [0u8; 256];
    let spaces = [b'\t', b'\n', 0x0C, b'\r', b' '];
    let mut i = 0;
    while i < spaces.len() {
        classes[spaces[i] as usize] =
            SPACE | ENDS_TAG_NAME | ENDS_ATTRIBUTE_NAME | ENDS_UNQUOTED_VALUE;
        i += 1;
    }
    classes[b'/' as usize] = ENDS_TAG_NAME | ENDS_ATTRIBUTE_NAME;
    classes[b'>' as usize] = ENDS_TAG_NAME | ENDS_ATTRIBUTE_NAME | ENDS_UNQUOTED_VALUE;
    classes[b'=' as usize] = ENDS_ATTRIBUTE_NAME;
    classes
}

fn is(byte: u8, class: u8) -> bool {
    BYTE_CLASSES[usize::from(byte)] & class != 0
}

fn is_space(byte: u8) -> bool {
    is(byte, SPACE)
}

/// Where the first byte of `class` is in `bytes`, or their length.
fn position_of(bytes: &[u8], class: u8) -> usize {
    bytes
        .iter()
        .position(|b| is(*b, class))
        .unwrap_or(bytes.len())
}

/// Bytes of a tag name: up to whitespace, `/`, `>` or the end of input.
fn tag_name_len(bytes: &[u8]) -> usize {
    position_of(bytes, ENDS_TAG_NAME)
}

/// Where a tag ends, as the HTML tokenizer's attribute states read it.
struct Tag {
    /// Just past its `>`; `None` when the input ends inside the tag.
    end: Option<usize>,
    self_closing: bool,
}

/// An attribute of a tag, as the tokenizer reads it.
struct Attribute<'a> {
    name: &'a [u8],
    /// Its value as written, without quotes.
    value: &'a [u8],
    /// From its name to the end of its value, a closing quote included.
    span: Range<usize>,
}

/// Reads a tag's attributes from `from` (just past its name) to its `>`, calling
/// `attribute` with each: a quote opens a quoted value only where a value starts, as in
/// the tokenizer, so `<a href=x"y>` ends at its own `>`.
fn scan_tag(bytes: &[u8], from: usize, mut attribute: impl FnMut(Attribute<'_>)) -> Tag {
    let len = bytes.len();
    let skip_spaces = |mut pos: usize| {
        while pos < len && is_space(bytes[pos]) {
            pos += 1;
        }
        pos
    };
    let ended = |end: Option<usize>, self_closing: bool| Tag { end, self_closing };
    let mut pos = from;
    loop {
        pos = skip_spaces(pos);
        match bytes.get(pos) {
            None => return ended(None, false),
            Some(b'>') => return ended(Some(pos + 1), false),
            Some(b'/') => {
                pos += 1;
                match bytes.get(pos) {
                    Some(b'>') => return ended(Some(pos + 1), true),
                    None => return ended(None, false),
                    Some(_) => continue,
                }
            }
            Some(_) => {}
        }
        // An attribute name; its first character may be `=`.
        let name_start = pos;
        pos += 1 + position_of(&bytes[pos + 1..], ENDS_ATTRIBUTE_NAME);
        let name = &bytes[name_start..pos];
        let name_end = pos;
        pos = skip_spaces(pos);
        if bytes.get(pos) != Some(&b'=') {
            attribute(Attribute {
                name,
                value: b"",
                span: name_start..name_end,
            });
            continue;
        }
        pos = skip_spaces(pos + 1);
        match bytes.get(pos) {
            None => return ended(None, false),
            Some(b'>') => {
                attribute(Attribute {
                    name,
                    value: b"",
                    span: name_start..pos,
                });
                return ended(Some(pos + 1), false);
            }
            Some(&quote @ (b'"' | b'\'')) => {
                let value_start = pos + 1;
                let Some(length) = memchr(quote, &bytes[value_start..]) else {
                    return ended(None, false);
                };
                pos = value_start + length + 1;
                attribute(Attribute {
                    name,
                    value: &bytes[value_start..value_start + length],
                    span: name_start..pos,
                });
            }
            Some(_) => {
                let value_start = pos;
                pos += position_of(&bytes[pos..], ENDS_UNQUOTED_VALUE);
                attribute(Attribute {
                    name,
                    value: &bytes[value_start..pos],
                    span: name_start..pos,
                });
            }
        }
    }
}

/// Just past a markup declaration starting at `start` (`<!`): a comment, a CDATA section
/// where `cdata` says the parser reads one (in SVG), or a doctype or bogus comment (which a
/// CDATA section is in HTML); the end of input if it never ends.
fn declaration_end(bytes: &[u8], start: usize, cdata: bool) -> usize {
    if bytes[start + 2..].starts_with(b"--") {
        return comment_end(bytes, start + 4);
    }
    if cdata && bytes[start + 2..].starts_with(b"[CDATA[") {
        return cdata_section_end(bytes, start).unwrap_or(bytes.len());
    }
    bogus_comment_end(bytes, start + 2)
}

/// Just past the `]]>` of the CDATA section whose `<![CDATA[` starts at `start`; `None` if
/// the input ends inside it.
fn cdata_section_end(bytes: &[u8], start: usize) -> Option<usize> {
    find(bytes, start + b"<![CDATA[".len(), b"]]>").map(|end| end + 3)
}

/// Just past the comment whose text starts at `from`: `-->` or `--!>`, or, right at the
/// start, `>` and `->` (empty comments closed abruptly).
fn comment_end(bytes: &[u8], from: usize) -> usize {
    let rest = &bytes[from.min(bytes.len())..];
    if rest.starts_with(b">") {
        return from + 1;
    }
    if rest.starts_with(b"->") {
        return from + 2;
    }
    let mut pos = from;
    while let Some(dashes) = find(bytes, pos, b"--") {
        match bytes.get(dashes + 2) {
            Some(b'>') => return dashes + 3,
            Some(b'!') if bytes.get(dashes + 3) == Some(&b'>') => return dashes + 4,
            _ => pos = dashes + 1,
        }
    }
    bytes.len()
}

/// Just past the `>` ending a bogus comment (or a doctype) whose text starts at `from`.
fn bogus_comment_end(bytes: &[u8], from: usize) -> usize {
    let from = from.min(bytes.len());
    memchr(b'>', &bytes[from..]).map_or(bytes.len(), |end| from + end + 1)
}

/// Where the body of the raw-text element `name` opened just before `from` ends: at the
/// `<` of its end tag, or the end of input.
fn raw_text_end(bytes: &[u8], from: usize, name: &[u8]) -> usize {
    match name {
        b"plaintext" => bytes.len(),
        b"script" => script_data_end(bytes, from),
        _ => {
            let mut pos = from;
            while let Some(at) = find(bytes, pos, b"</") {
                if is_tag_named(bytes, at + 2, name) {
                    return at;
                }
                pos = at + 2;
            }
            bytes.len()
        }
    }
}

/// Whether `bytes[at..]` starts with the tag name `name` (any case) followed by what ends
/// a tag name; the end of input does not end one.
fn is_tag_named(bytes: &[u8], at: usize, name: &[u8]) -> bool {
    let end = at + name.len();
    bytes
        .get(at..end)
        .is_some_and(|candidate| candidate.eq_ignore_ascii_case(name))
        && bytes.get(end).is_some_and(|b| is(*b, ENDS_TAG_NAME))
}

/// Where a script's body starting at `from` ends, by the tokenizer's script-data states: a
/// `</script` ends it, except after `<!--` and a `<script` inside it (the "double-escaped"
/// state, which only a `</script` or a `-->` leaves); `-->` returns to plain script data.
fn script_data_end(bytes: &[u8], from: usize) -> usize {
    #[derive(PartialEq)]
    enum State {
        Data,
        Escaped,
        DoubleEscaped,
    }
    let mut state = State::Data;
    let mut pos = from;
    loop {
        let found = if state == State::Data {
            memchr(b'<', &bytes[pos..])
        } else {
            memchr2(b'<', b'-', &bytes[pos..])
        };
        let Some(offset) = found else {
            return bytes.len();
        };
        let at = pos + offset;
        pos = at + 1;
        if bytes[at] == b'-' {
            if bytes[at..].starts_with(b"-->") {
                state = State::Data;
                pos = at + 3;
            }
            continue;
        }
        let rest = &bytes[at + 1..];
        if rest.starts_with(b"/") && is_tag_named(bytes, at + 2, b"script") {
            match state {
                State::Data | State::Escaped => return at,
                State::DoubleEscaped => state = State::Escaped,
            }
        } else if state == State::Data && rest.starts_with(b"!--") {
            state = State::Escaped;
            // The dashes of `<!--` count towards a `-->` at once: `<!-->` escapes nothing.
            pos = at + 2;
        } else if state == State::Escaped && is_tag_named(bytes, at + 1, b"script") {
            state = State::DoubleEscaped;
        }
    }
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    memmem::find(bytes.get(from..)?, needle).map(|i| from + i)
}

/// A tag name lowercased on the stack: every name [`Kind::of`] knows is short, so a longer
/// one only needs to be told apart from them, not spelled out.
struct TagName {
    buf: [u8; TagName::MAX],
    len: usize,
}

impl TagName {
    const MAX: usize = 16;

    /// The name of `len` bytes at the start of `from`. Where the input goes on for a
    /// window of [`TagName::MAX`] bytes, the whole window is lowercased at once (a few
    /// vector instructions), not the name a byte at a time; the bytes past the name are
    /// never read.
    fn new(from: &[u8], len: usize) -> Self {
        let mut buf = [0u8; Self::MAX];
        if len > Self::MAX {
            return Self { buf, len: 0 };
        }
        let name = match from.first_chunk::<{ Self::MAX }>() {
            Some(window) => window.as_slice(),
            None => &from[..len],
        };
        for (to, from) in buf.iter_mut().zip(name) {
            *to = from.to_ascii_lowercase();
        }
        Self { buf, len }
    }

    /// The lowercased name, or nothing for a name longer than any listed one.
    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

#[cfg(test)]
#[path = "../tests/corpus/mod.rs"]
mod corpus;

#[cfg(test)]
mod tests {
    use dom_query::{Document, NodeData};

    use super::*;

    const DEEP: usize = 512;

    /// The page as parsed, with the text of every script and style taken out, every SVG
    /// image that only draws emptied down to its whitespace, the `data-*` attributes of
    /// HTML elements that do not read them removed, comments emptied, and runs of
    /// whitespace in text outside `<pre>` and `<listing>` collapsed as the scan collapses
    /// them between tags: what leaving them out before parsing must not change.
    fn parsed_without_left_out(html: &str) -> String {
        let doc = Document::from(html);
        // Template contents hang off their template, outside the tree's children.
        let mut roots = vec![doc.root()];
        let mut code = Vec::new();
        let mut images = Vec::new();
        let mut data_attributes = Vec::new();
        let mut texts = Vec::new();
        let mut comments = Vec::new();
        while let Some(root) = roots.pop() {
            for node in root.descendants_it() {
                node.query(|n| {
                    if let NodeData::Text { contents } = &n.data {
                        texts.push((node, contents.to_string()));
                    }
                    if matches!(n.data, NodeData::Comment { .. }) {
                        comments.push(node);
                    }
                    if let NodeData::Element(element) = &n.data {
                        if &*element.name.ns == "http://www.w3.org/1999/xhtml"
                            && !reads_data_attributes(element.name.local.as_bytes())
                        {
                            for attribute in &element.attrs {
                                if is_data_attribute(attribute.name.local.as_bytes()) {
                                    data_attributes.push((node, attribute.name.local.clone()));
                                }
                            }
                        }
                        if matches!(&*element.name.local, "script" | "style") {
                            code.push(node);
                        }
                        if &*element.name.local == "svg" && drawing_only(&node) {
                            images.push(node);
                        }
                        if let Some(contents) = element.template_contents {
                            roots.extend(doc.tree.get(&contents));
                        }
                    }
                });
            }
        }
        for node in code {
            for child in node.children() {
                child.remove_from_parent();
            }
        }
        for image in images {
            image.set_text(image.text());
        }
        for (node, attribute) in data_attributes {
            node.remove_attr(&attribute);
        }
        for comment in comments {
            comment.update(|n| {
                if let NodeData::Comment { contents } = &mut n.data {
                    *contents = "".into();
                }
            });
        }
        for (node, text) in texts {
            let preformatted = node
                .ancestors_it(None)
                .any(|a| a.has_name("pre") || a.has_name("listing"));
            if !preformatted {
                let collapsed = collapse_runs(&text);
                node.update(|n| {
                    if let NodeData::Text { contents } = &mut n.data {
                        *contents = collapsed.as_str().into();
                    }
                });
            }
        }
        doc.html().to_string()
    }

    /// What [`collapsed_whitespace`] gives, read a byte at a time by the class table.
    fn collapsed_by_bytes(text: &[u8]) -> Option<&'static str> {
        if text.len() < 2 || !text.iter().all(|b| is_space(*b)) {
            return None;
        }
        let breaks_line = text.iter().any(|b| matches!(b, b'\n' | b'\r'));
        Some(run_read_as(text[0], breaks_line))
    }

    #[test]
    fn whitespace_runs_collapse_eight_bytes_at_a_time_as_a_byte_at_a_time() {
        // Runs of every length up to past two words, of each whitespace byte and a mix,
        // with each byte value put at each place in turn.
        for len in 0..=20 {
            for fill in [b' ', b'\t', 0x0C, b'\n', b'\r'] {
                let mut run: Vec<u8> = (0..len)
                    .map(|i| if i % 3 == 2 { b' ' } else { fill })
                    .collect();
                assert_eq!(
                    collapsed_whitespace(&run),
                    collapsed_by_bytes(&run),
                    "{run:?}"
                );
                for at in 0..len {
                    let kept = run[at];
                    for byte in 0..=255u8 {
                        run[at] = byte;
                        assert_eq!(
                            collapsed_whitespace(&run),
                            collapsed_by_bytes(&run),
                            "{run:?}"
                        );
                    }
                    run[at] = kept;
                }
            }
        }
    }

    /// Every run of two or more whitespace characters in `text` as [`collapsed_whitespace`]
    /// reads it.
    fn collapse_runs(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        while at < bytes.len() {
            let run = bytes[at..].iter().take_while(|b| is_space(**b)).count();
            match collapsed_whitespace(&bytes[at..at + run]) {
                Some(space) => {
                    out.push_str(space);
                    at += run;
                }
                None => {
                    let end = at + run.max(1);
                    let end = (end..=bytes.len())
                        .find(|e| text.is_char_boundary(*e))
                        .unwrap();
                    out.push_str(&text[at..end]);
                    at = end;
                }
            }
        }
        out
    }

    /// Whether an `<svg>` not inside another holds only drawing elements and whitespace.
    fn drawing_only(svg: &dom_query::NodeRef<'_>) -> bool {
        let outermost = !svg.ancestors_it(None).any(|a| a.has_name("svg"));
        outermost
            && svg.descendants_it().all(|node| {
                if node.is_text() {
                    node.text().bytes().all(is_space)
                } else {
                    node.node_name().is_some_and(|name| {
                        node.is_element() && draws_only(name.to_ascii_lowercase().as_bytes())
                    }) && !node.has_attr("itemprop")
                }
            })
    }

    /// How many SVG images in the parse of `html` only draw and still hold elements.
    fn drawings_with_content(html: &str) -> usize {
        Document::from(html)
            .select("svg")
            .nodes()
            .iter()
            .filter(|svg| drawing_only(svg) && !svg.element_children().is_empty())
            .count()
    }

    /// `html` prepares to `prepared`, and parses as it would have.
    fn assert_prepares_to(html: &str, prepared: &str, max_depth: usize, attributes: Attributes) {
        let (out, _) = prepare(html, max_depth, attributes);
        assert_eq!(out, prepared, "{html:?}");
        assert_same_parse(html);
    }

    fn assert_same_parse(html: &str) {
        let (prepared, _) = prepare(html, DEEP, Attributes::Read);
        assert_eq!(
            parsed_without_left_out(&prepared),
            parsed_without_left_out(html),
            "leaving bodies out changed the parse of {html:?} (prepared: {prepared:?})"
        );
    }

    #[test]
    fn shallow_pages_are_borrowed_unchanged() {
        let html = "<html><body><div><p>one<p>two</div><img src=x></body></html>";
        let (out, stats) = prepare(html, 4, Attributes::Read);
        assert!(matches!(out, Cow::Borrowed(_)));
        assert_eq!(stats.max_depth, 1);
        assert_eq!(stats.flattened, 0);
    }

    #[test]
    fn deep_nesting_is_flattened_keeping_text() {
        let html = format!("{}deep text{}", "<div>".repeat(10), "</div>".repeat(10));
        let (out, stats) = prepare(&html, 3, Attributes::Read);
        assert_eq!(stats.flattened, 7);
        assert_eq!(stats.max_depth, 10);
        assert_eq!(out.matches("<div>").count(), 3);
        assert_eq!(out.matches("</div>").count(), 3);
        assert!(out.contains("deep text"));
    }

    #[test]
    fn markup_in_comments_scripts_and_attributes_is_not_counted() {
        let html = r#"<!-- <div><div> --><script>"<div><div>"</script><a title="<div>">x</a>"#;
        let (_, stats) = prepare(html, 1, Attributes::Read);
        assert_eq!(stats.max_depth, 1);
        assert_eq!(stats.flattened, 0);
    }

    #[test]
    fn truncated_markup_does_not_panic() {
        for html in [
            "<",
            "<div",
            "<!--",
            "<!-",
            "</",
            "<script>",
            "<script>a<!--",
            "<a href=\"",
            "<é>",
            "<div><",
            "<a b=",
            "<a b",
            "<a /",
            "<style>x</style",
            "<svg><![CDATA[",
        ] {
            let _ = prepare(html, 0, Attributes::Read);
            assert_same_parse(html);
        }
    }

    #[test]
    fn script_and_style_bodies_are_left_out_and_data_scripts_kept() {
        let html = concat!(
            r#"<head><style type="text/css">p { color: red }</style>"#,
            r#"<script>var a = "<p>not markup</p>";</script>"#,
            r#"<script type="application/ld+json">{"@type":"NewsArticle"}</script>"#,
            r#"<script type="text/template"><p>template</p></script>"#,
            r#"<script type=" text/JavaScript; charset=utf-8">code()</script>"#,
            r#"<script type="module">import x from "y";</script>"#,
            r#"<script TYPE="application/ld+json" type="module">{}</script></head>"#,
            r#"<body><p>text</p></body>"#,
        );
        let (out, _) = prepare(html, DEEP, Attributes::Read);
        assert_eq!(
            out,
            concat!(
                r#"<head><style type="text/css"></style><script></script>"#,
                r#"<script type="application/ld+json">{"@type":"NewsArticle"}</script>"#,
                r#"<script type="text/template"><p>template</p></script>"#,
                r#"<script type=" text/JavaScript; charset=utf-8"></script>"#,
                r#"<script type="module"></script>"#,
                r#"<script TYPE="application/ld+json" type="module">{}</script></head>"#,
                r#"<body><p>text</p></body>"#,
            )
        );
        assert_same_parse(html);
    }

    #[test]
    fn where_the_tokenizer_ends_a_tag_a_comment_or_a_body_the_scan_does_too() {
        for html in [
            // A quote inside an unquoted value opens nothing.
            r#"<meta content=x"y><script>s()</script><p>after</p>"#,
            r#"<meta content='q>'><script>s()</script>"#,
            r#"<link =x data-a="1"data-b='2'/x><style>a{}</style><p>t</p>"#,
            // Comments: abrupt, `--!>`, and markup inside them.
            "<!--><script>s()</script><p>after</p>",
            "<!---><script>s()</script><p>after</p>",
            "<!-- a --!><script>s()</script><p>after</p>",
            "<!-- <script>not a script</script> --><p>after</p>",
            "<!-- a -- b --><style>x</style><p>after</p>",
            // End tags that are not: other names, no delimiter, bogus comments.
            "<script>a = '</scripts>'; b = 1 </script ><p>after</p>",
            "<style>a{}</stylex></style/><p>after</p>",
            "</ <script>x</script> ><p>after</p>",
            "<title></title x><script>s()</script></title><p>t</p>",
            "<textarea><script>x</script></textarea><p>after</p>",
            // Script-data escapes.
            "<script><!-- a </script><p>after</p>",
            "<script><!-- <script> a </script> b --></script><p>after</p>",
            "<script><!-- <script> a </script> b <script> c </script> --> d</script><p>after</p>",
            "<script><!--> <script> </script><p>after</p>",
            "<script><!---> <script></script><p>after</p>",
            "<script type=text/template><!-- <script>x</script> <script>y</script> --></script><p>t</p>",
            // Where scripts and styles are not raw text, or not in the head.
            "<svg><script>if (a<b) x()</script><style>a{}</style></svg><script>s()</script>",
            "<svg><![CDATA[ <script>x</script> ]]></svg><p>after</p>",
            "<frameset><script>a<b>c</b></script></frameset>",
            "<plaintext></plaintext><script>x</script>",
            "<noscript><script>x</script><p>n</p></noscript><p>after</p>",
            "<template><script>s()</script><div><style>a{}</style></div></template>",
            "<SCRIPT>a()</SCRIPT><STYLE>b{}</STYLE><p>after</p>",
            "<script/>s()</script><p>after</p>",
            "<script>\r\ns()</script\r><p>after</p>",
        ] {
            assert_same_parse(html);
        }
    }

    #[test]
    fn bodies_are_left_out_wherever_the_scan_is_sure_they_are_raw_text() {
        for (html, prepared) in [
            (
                "<script>a()</script><p>t</p><script>b()</script>",
                "<script></script><p>t</p><script></script>",
            ),
            (
                "<head><style>a{}</style></head><body><table><script>b()</script></table><style>c{}</style>",
                "<head><style></style></head><body><table><script></script></table><style></style>",
            ),
            (
                "<template><script>s()</script></template><noscript><style>n{}</style></noscript>",
                "<template><script></script></template><noscript><style></style></noscript>",
            ),
            // SVG the scan can follow: its own scripts and styles stay, later ones go.
            (
                "<svg><title>t</title><style>.a{}</style><path d=x /></svg><script>a()</script>",
                "<svg><title>t</title><style>.a{}</style><path d=x /></svg><script></script>",
            ),
            (
                "<svg/><script>a()</script><svg><svg></svg><script>b()</script></svg><style>c{}</style>",
                "<svg/><script></script><svg><svg></svg><script>b()</script></svg><style></style>",
            ),
            (
                "<svg><style><![CDATA[ </svg> ]]></style></svg><script>a()</script>",
                "<svg><style><![CDATA[ </svg> ]]></style></svg><script></script>",
            ),
            // What the scan cannot follow exactly: nothing after it is left out.
            ("<svg><title><b>t</b></title></svg><script>a()</script>", ""),
            ("<svg><foreignObject><div></div></foreignObject></svg><script>a()</script>", ""),
            ("<svg><p></svg><script>a()</script>", ""),
            ("<math><mi>x</mi></math><script>a()</script>", ""),
            ("<frameset><script>a()</script></frameset>", ""),
        ] {
            let expected = if prepared.is_empty() { html } else { prepared };
            assert_prepares_to(html, expected, DEEP, Attributes::Read);
        }
    }

    #[test]
    fn svg_and_mathml_parse_the_same_after_the_scan() {
        for html in [
            "<svg><title>x</title><script>a<b</script></svg><script>s()</script><p>t</p>",
            "<svg><foreignObject><div></svg></div></foreignObject><script>a<b>c</b></script></svg><script>x</script>",
            "<svg><desc><b>x</b></desc><script>y<i>z</i></script></svg><script>s()</script>",
            "<svg><style><![CDATA[ a</style>b ]]></style></svg><script>s()</script>",
            "<svg><![CDATA[</svg>]]><script>x<b>y</b></script></svg><script>z()</script>",
            "<math><mi><script>a</script></mi><script>b<i>c</i></script></math><script>z()</script>",
            "<svg></p><script>a<b></script></svg><script>s()</script>",
            "<svg><svg></svg><script>a<b>c</b></script></svg><script>d()</script>",
            "<div><svg></div><script>a<b></script><p>t</p>",
            "<table><svg><script>x<b></script></svg></table><script>y()</script>",
            "<select><style>a<b>c</style><script>d</script></select><p>t</p>",
            "<svg><title/><script/>a<b>c</b></svg><script>x()</script>",
            "<svg><font color=red><script>x<b></script></svg><script>y()</script>",
            "<svg><font><script>x<b></script></font></svg><script>y()</script>",
            "<svg><textarea>a</textarea><script>b<i>c</i></script></svg><script>x()</script>",
            "<head><noscript><style>a</style><script>b()</script></noscript></head><p>t</p>",
            "<svg><a><script>a<b></script></a></svg><script>c()</script>",
            "<svg><g></g></svg></svg><script>a<b>c</b></script>",
        ] {
            assert_same_parse(html);
        }
    }

    #[test]
    fn svg_images_that_only_draw_keep_their_element_and_whitespace() {
        for (html, prepared, left_out) in [
            (
                "<p>a<svg viewBox=\"0 0 1 1\">\n<path d=\"M0 0\"/>\n<g><circle r=1></circle></g></svg>b</p>",
                "<p>a<svg viewBox=\"0 0 1 1\">\n\n</svg>b</p>",
                3,
            ),
            ("<SVG><Path/><USE href=#i></use></SvG><p>t</p>", "<SVG></SvG><p>t</p>", 2),
            ("<svg>\r\n<path/>\r</svg>", "<svg>\n\n</svg>", 1),
            ("<svg><svg><path/></svg><rect/></svg>", "<svg></svg>", 3),
            (
                "<svg><defs><linearGradient id=g><stop/></linearGradient></defs><g><svg></g></svg>",
                "<svg></svg>",
                5,
            ),
            (
                "<svg><filter><feGaussianBlur/></filter></svg><script>a()</script>",
                "<svg></svg><script></script>",
                2,
            ),
        ] {
            let (out, stats) = prepare(html, DEEP, Attributes::Read);
            assert_eq!(out, prepared, "{html}");
            assert_eq!(stats.left_out, left_out, "{html}");
            assert_same_parse(html);
        }
    }

    #[test]
    fn svg_images_with_anything_but_drawing_are_kept_whole() {
        for html in [
            "<svg><text>label</text></svg>",
            "<svg><a href=/x><path/></a></svg>",
            "<svg><title>t</title><path/></svg>",
            "<svg><desc>d</desc></svg>",
            "<svg><!----><path/></svg>",
            "<svg><path/>x</svg>",
            "<svg>&#32;<path/></svg>",
            "<svg><g itemprop=logo><path/></g></svg>",
            "<svg><image href=i.png /></svg>",
            "<svg><style>.a{}</style><path/></svg>",
            "<svg><![CDATA[ ]]><path/></svg>",
            "<svg><foreignObject><div>t</div></foreignObject></svg>",
            "<svg><path/>",
            "<svg><path/></svg",
            "<div><svg><path></div><section></section></svg>",
            "<svg><g><path/><p></g></svg>",
            "<svg><g></svg-x></g></svg>",
        ] {
            let (out, stats) = prepare(html, DEEP, Attributes::Read);
            assert_eq!(out, html);
            assert_eq!(stats.left_out, 0, "{html}");
            assert_same_parse(html);
        }
    }

    #[test]
    fn an_svg_image_flattened_inside_is_kept_whole() {
        let html = "<div><svg><g><g><path/></g></g></svg></div>";
        let (out, stats) = prepare(html, 3, Attributes::Read);
        assert_eq!(stats.flattened, 1);
        assert_eq!(stats.left_out, 0);
        assert_eq!(out, "<div><svg><g> <path/> </g></svg></div>");
    }

    #[test]
    fn data_attributes_are_left_out_where_extraction_does_not_read_them() {
        for (html, prepared) in [
            (
                r#"<div data-a="1" class=x data-b='2'>t</div>"#,
                "<div  class=x >t</div>",
            ),
            // Attributes run together, unquoted, in capitals, without a value, and one
            // whose value is the next word (`data-f`).
            (
                r#"<a href="x"data-b="2"title=t DATA-C=3 data-d data-e= data-f>l</a>"#,
                r#"<a href="x"title=t   >l</a>"#,
            ),
            (r#"<p data-x="a>b"/>t"#, "<p />t"),
            (r#"<p data-x=a/>t"#, "<p >t"),
            // Images, media and embeds keep theirs: lazy-loading sources, video addresses.
            (
                r#"<img data-src=a.jpg><picture data-x=1><video data-poster=p>"#,
                r#"<img data-src=a.jpg><picture data-x=1><video data-poster=p>"#,
            ),
            // Nothing more from an object on: readability reads its markup.
            (
                r#"<p data-a=1><object data=v.swf><param data-v=1></object><p data-b=2>"#,
                r#"<p ><object data=v.swf><param data-v=1></object><p data-b=2>"#,
            ),
            // Foreign content keeps its attributes, and a flattened tag goes whole.
            (
                r#"<svg data-a=1><text data-b=2>t</text></svg><math data-c=3></math><p data-d>"#,
                r#"<svg data-a=1><text data-b=2>t</text></svg><math data-c=3></math><p data-d>"#,
            ),
            (
                r#"<div data-a=1><div data-b=2><div data-c=3>t</div></div></div>"#,
                "<div ><div > t </div></div>",
            ),
        ] {
            assert_prepares_to(html, prepared, 2, Attributes::Read);
            let (all, _) = prepare(html, DEEP, Attributes::All);
            assert!(
                all.matches("data-").count() == html.matches("data-").count(),
                "{html}"
            );
        }
    }

    #[test]
    fn comments_keep_their_node_and_lose_their_text() {
        for (html, prepared) in [
            ("a<!-- x -->b<!--y--!>c", "a<!---->b<!---->c"),
            // Already as short as can be, or abrupt: as they are.
            ("a<!---->b<!-->c<!--->d", "a<!---->b<!-->c<!--->d"),
            // Markup inside is comment text; one cut off by the end of input goes too.
            (
                "<p>a<!-- <p>b</p> --></p><!-- open",
                "<p>a<!----></p><!---->",
            ),
            // Not comments: a doctype, a bogus comment, CDATA in HTML.
            (
                "<!DOCTYPE html><?xml x?><![CDATA[ y ]]><p>z</p>",
                "<!DOCTYPE html><?xml x?><![CDATA[ y ]]><p>z</p>",
            ),
        ] {
            assert_prepares_to(html, prepared, DEEP, Attributes::All);
        }
    }

    #[test]
    fn indentation_between_tags_is_read_as_one_character() {
        for (html, prepared) in [
            (
                "<ul>\n    <li>a</li>\n\t\t<li>b</li>  <li>c</li>\t\t</ul>",
                "<ul>\n<li>a</li>\n<li>b</li> <li>c</li>\t</ul>",
            ),
            // A carriage return breaks the line too; one character stays as it is.
            (
                "<p>a</p>\r\n  <p>b</p> <p>c</p>",
                "<p>a</p>\n<p>b</p> <p>c</p>",
            ),
            // Around comments; not in text with words, nor past a `<` that is text.
            (
                "<p>a  b</p>  <!-- c -->  <p>x <  y</p>",
                "<p>a  b</p> <!----> <p>x <  y</p>",
            ),
            // Preformatted text keeps its whitespace, and so do raw text and SVG.
            (
                "<pre>\n  <b>x</b>\n    <i>y</i></pre>  <listing>  <b>z</b></listing>",
                "<pre>\n  <b>x</b>\n    <i>y</i></pre> <listing>  <b>z</b></listing>",
            ),
            (
                "<div><pre/>  <b>x</b>  </pre>  <b>y</b></div>",
                "<div><pre/>  <b>x</b>  </pre> <b>y</b></div>",
            ),
            (
                "<textarea>  <b>  </b></textarea><svg><text>  <tspan>t</tspan>  </text></svg>",
                "<textarea>  <b>  </b></textarea><svg><text>  <tspan>t</tspan>  </text></svg>",
            ),
        ] {
            assert_prepares_to(html, prepared, DEEP, Attributes::All);
        }
    }

    #[test]
    fn the_dev_pages_parse_the_same_without_what_is_left_out() {
        let pages = corpus::all();
        let mut shortened = 0;
        let (mut drawings, mut drawings_kept) = (0, 0);
        for page in &pages {
            let (prepared, _) = prepare(&page.html, DEEP, Attributes::Read);
            shortened += usize::from(prepared.len() < page.html.len());
            drawings += drawings_with_content(&page.html);
            drawings_kept += drawings_with_content(&prepared);
            assert_eq!(
                parsed_without_left_out(&prepared),
                parsed_without_left_out(&page.html),
                "page {} parses differently",
                page.id
            );
        }
        // A few pages keep nothing but JSON-LD in their head.
        assert!(
            shortened * 10 >= pages.len() * 9,
            "only {shortened} of {} pages had script or style bodies left out",
            pages.len()
        );
        assert!(
            drawings_kept * 20 <= drawings,
            "{drawings_kept} of {drawings} SVG images that only draw were parsed whole"
        );
    }
}
