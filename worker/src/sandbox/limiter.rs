//! Per-store memory accounting: growth beyond the limit is denied (the guest sees
//! `memory.grow` fail, never a host panic), and denials and the peak size are counted.

use wasmtime::ResourceLimiter;

/// Table elements allowed per table; the extractor's tables are small and fixed.
const MAX_TABLE_ELEMENTS: usize = 100_000;

pub struct MemoryLimiter {
    max_bytes: usize,
    peak_bytes: usize,
    denied: u32,
}

impl MemoryLimiter {
    pub fn new(max_bytes: usize) -> Self {
        Self {
            max_bytes,
            peak_bytes: 0,
            denied: 0,
        }
    }

    pub fn peak_bytes(&self) -> u64 {
        u64::try_from(self.peak_bytes).unwrap_or(u64::MAX)
    }

    /// Growth requests denied so far.
    pub fn denied(&self) -> u32 {
        self.denied
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_bytes || maximum.is_some_and(|max| desired > max) {
            self.denied = self.denied.saturating_add(1);
            return Ok(false);
        }
        self.peak_bytes = self.peak_bytes.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS && maximum.is_none_or(|max| desired <= max))
    }
}
