//! Per-store memory accounting: growth beyond the limit is denied (the guest sees
//! `memory.grow` fail, never a host panic), and denials and the peak size are counted.

use wasmtime::ResourceLimiter;

/// Table elements allowed per table; the extractor's tables are small and fixed.
const MAX_TABLE_ELEMENTS: usize = 100_000;

pub struct MemoryLimiter {
    max_bytes: usize,
    peak_bytes: usize,
    denied: u32,
    /// Whether the latest growth request was denied: a guest that asked for less after a
    /// refusal (the extractor's allocator falls back to the bare need) and got it is not
    /// out of memory.
    last_denied: bool,
}

impl MemoryLimiter {
    pub fn new(max_bytes: usize) -> Self {
        Self {
            max_bytes,
            peak_bytes: 0,
            denied: 0,
            last_denied: false,
        }
    }

    pub fn peak_bytes(&self) -> u64 {
        u64::try_from(self.peak_bytes).unwrap_or(u64::MAX)
    }

    /// Growth requests denied so far.
    pub fn denied(&self) -> u32 {
        self.denied
    }

    /// Whether the guest's latest growth request was denied and none succeeded since.
    pub fn out_of_memory(&self) -> bool {
        self.last_denied
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
            self.last_denied = true;
            return Ok(false);
        }
        self.last_denied = false;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_smaller_request_granted_after_a_refusal_is_not_out_of_memory() {
        let mut limiter = MemoryLimiter::new(6 << 20);
        assert!(limiter.memory_growing(4 << 20, 5 << 20, None).unwrap());
        assert!(!limiter.memory_growing(5 << 20, 7 << 20, None).unwrap());
        assert!(limiter.out_of_memory());
        assert!(limiter
            .memory_growing(5 << 20, (5 << 20) + 65_536, None)
            .unwrap());
        assert!(!limiter.out_of_memory());
        assert!(!limiter.memory_growing(6 << 20, 7 << 20, None).unwrap());
        assert!(limiter.out_of_memory());
        assert_eq!(limiter.denied(), 2);
        assert_eq!(limiter.peak_bytes(), (5 << 20) + 65_536);
    }
}
