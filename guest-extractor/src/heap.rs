//! The component's allocator: talc, handing out the free tail of the initial linear memory
//! before it grows the memory.
//!
//! Rust's default WebAssembly allocator (dlmalloc) takes every heap it needs from
//! `memory.grow`, even the first few KiB of a trivial call, and each grown page costs the
//! host twice: an `mprotect` to expose it, and one more, with a TLB shootdown across the
//! worker's threads, to hide it again when the pooled slot is reused for the next page.
//! The component is linked with an initial memory that leaves room for a typical page's
//! heap (`ops/build-guest.sh`), reset in place like the rest of the slot; this allocator
//! uses that room first and grows the memory only beyond it, extending the same heap so
//! nothing is fragmented.
//!
//! It reaches into that room a step at a time. Talc marks the end of its heap in memory,
//! and pre-initialization (`ops/preinit`) snapshots memory with the mark in it: a heap that
//! took the whole room at once put the mark in the initial memory's last bytes, so the
//! slot's copy-on-write image spanned the room, and Wasmtime reset every heap page a job
//! had dirtied by copying it back from the image. Now the image ends just past what
//! pre-initialization allocated, and the heap pages beyond it are reset by zeroing.

use core::alloc::Layout;
use core::arch::wasm32::{memory_grow, memory_size};
use core::ptr::NonNull;

use talc::base::binning::Binning;
use talc::base::Talc;
use talc::cell::TalcSyncCell;
use talc::wasm::WasmBinning;

const PAGE_BYTES: usize = 64 * 1024;
/// The least the heap reaches further into the initial memory by.
const CLAIM_STEP: usize = 64 * 1024;
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

/// Where talc gets memory: the initial memory's free tail, a step at a time, then `memory.grow`.
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
        let step = (layout.size() + layout.align() + CHUNK_OVERHEAD).max(CLAIM_STEP);
        match talc.source.end {
            None => {
                let base = (&raw const __heap_base).cast_mut();
                let first = step + talc::min_first_heap_size::<B>();
                let size = within_initial_memory(base.addr(), first, memory_end);
                // SAFETY: from `__heap_base` to the end of memory is unused by the program,
                // and its start is handed to talc alone, once.
                talc.source.end = unsafe { talc.claim(base, size) };
                if talc.source.end.is_some() {
                    return Ok(());
                }
            }
            Some(end) if end.as_ptr().addr() < memory_end => {
                let size = within_initial_memory(end.as_ptr().addr(), step, memory_end);
                // SAFETY: the memory past the heap's end is the allocator's alone.
                let extended = unsafe { talc.extend(end, end.as_ptr().wrapping_add(size)) };
                talc.source.end = Some(extended);
                if extended > end {
                    return Ok(());
                }
            }
            Some(_) => {}
        }
        grow(talc, layout, memory_end)
    }
}

/// How far the heap reaches from `from` into the initial memory, wanting `step` bytes: the
/// rest of it when less than two steps would remain, so no sliver is left behind.
fn within_initial_memory(from: usize, step: usize, memory_end: usize) -> usize {
    let rest = memory_end.saturating_sub(from);
    if rest < step.saturating_mul(2) {
        rest
    } else {
        step
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
