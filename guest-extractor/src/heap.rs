//! The component's allocator: talc, handing out the free tail of the initial linear memory
//! before it grows the memory.
//!
//! Rust's default WebAssembly allocator (dlmalloc) takes every heap it needs from
//! `memory.grow`, even the first few KiB of a trivial call, and each grown page costs the
//! host twice: an `mprotect` to expose it, and one more, with a TLB shootdown across the
//! worker's threads, to hide it again when the pooled slot is reused for the next page.
//! The component is linked with an initial memory that leaves room for a typical page's
//! heap (`ops/build-guest.sh`), which lies in the slot's copy-on-write image and is reset in
//! place like the rest; this allocator uses that room first and grows the memory only
//! beyond it, extending the same heap so nothing is fragmented.

use core::alloc::Layout;
use core::arch::wasm32::{memory_grow, memory_size};
use core::ptr::NonNull;

use talc::base::binning::Binning;
use talc::base::Talc;
use talc::cell::TalcSyncCell;
use talc::wasm::WasmBinning;

const PAGE_BYTES: usize = 64 * 1024;
/// Bytes beyond an allocation's size and alignment that talc may need around its chunk
/// (tag, free-list node, heap end marker): an upper bound, so one growth always suffices.
const CHUNK_OVERHEAD: usize = 64;
/// The least the memory grows by: a page that outgrows the initial memory usually goes on
/// allocating, and each growth costs the host an `mprotect` now and another when the slot
/// is reset, so it grows by 1 MiB at a time rather than by what one allocation asks.
const GROWTH_PAGES: usize = 16;

extern "C" {
    /// The first byte after the stack and static data, defined by the linker.
    static __heap_base: u8;
}

#[global_allocator]
static HEAP: TalcSyncCell<InitialMemoryFirst, WasmBinning> =
    TalcSyncCell::new_wasm(InitialMemoryFirst { end: None });

/// Where talc gets memory: once the initial memory's free tail, then `memory.grow`.
#[derive(Debug)]
struct InitialMemoryFirst {
    /// The end of the heap, once claimed.
    end: Option<NonNull<u8>>,
}

// SAFETY: `acquire` neither allocates nor uses allocated containers, and hands talc only
// memory that nothing else uses: past `__heap_base`, or newly grown.
unsafe impl talc::source::Source for InitialMemoryFirst {
    fn acquire<B: Binning>(talc: &mut Talc<Self, B>, layout: Layout) -> Result<(), ()> {
        let memory_end = memory_size::<0>() * PAGE_BYTES;
        if talc.source.end.is_none() {
            let base = (&raw const __heap_base).cast_mut();
            let free = memory_end.saturating_sub(base.addr());
            // SAFETY: from `__heap_base` to the end of memory is unused by the program, and
            // handed to talc alone, once.
            talc.source.end = unsafe { talc.claim(base, free) };
            if talc.source.end.is_some() {
                return Ok(());
            }
        }
        grow(talc, layout, memory_end)
    }
}

/// Grows the memory by enough pages for `layout` and adds them to the heap.
fn grow<B: Binning>(
    talc: &mut Talc<InitialMemoryFirst, B>,
    layout: Layout,
    memory_end: usize,
) -> Result<(), ()> {
    let needed = (layout.size() + layout.align() + CHUNK_OVERHEAD).div_ceil(PAGE_BYTES);
    let step = needed.max(GROWTH_PAGES);
    // Near the memory limit the full step may be refused where what is needed is not; a
    // request already as large as the step is not made twice.
    let pages = std::iter::once(step)
        .chain((step > needed).then_some(needed))
        .find(|&pages| memory_grow::<0>(pages) != usize::MAX)
        .ok_or(())?;
    let new_end = (memory_end + pages * PAGE_BYTES) as *mut u8;
    talc.source.end = match talc.source.end {
        // SAFETY: the grown pages start where the heap ends; they are the allocator's.
        Some(end) if end.as_ptr().addr() == memory_end => {
            Some(unsafe { talc.extend(end, new_end) })
        }
        // SAFETY: the grown pages are new and unused.
        _ => unsafe { talc.claim(memory_end as *mut u8, pages * PAGE_BYTES) },
    };
    talc.source.end.map(|_| ()).ok_or(())
}
