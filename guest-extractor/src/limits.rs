//! Input limits the extractor enforces on itself, so that a hostile page costs bounded work
//! whether the extractor runs natively or inside the sandbox.

/// Largest HTML input accepted, in bytes. Real article pages are well under 5 MiB; the
/// sandbox's memory limit usually stops a page before this one does.
pub const DEFAULT_MAX_INPUT_BYTES: usize = 32 * 1024 * 1024;

/// Deepest element nesting kept. Browsers stop nesting at 512; real pages rarely pass 60.
/// Deeper elements are flattened into their ancestor at this depth, keeping their text,
/// because the HTML tree builder's scope checks cost O(depth) per tag.
pub const DEFAULT_MAX_DEPTH: usize = 256;

/// The knobs a caller may tighten (the native fallback uses a smaller input cap).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_input_bytes: usize,
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }
}
