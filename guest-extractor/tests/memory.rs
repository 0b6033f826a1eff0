//! A 20 MB page is extracted within bounded memory: a counting allocator measures the peak.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use riptide_extractor::{extract_with_stats, ExtractionMode, Limits};

struct PeakCounting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for PeakCounting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: PeakCounting = PeakCounting;

#[test]
fn a_20_mb_page_stays_within_bounded_memory() {
    let paragraph = "<p>Lorem ipsum dolor sit amet, <a href=\"/l\">consectetur</a> adipiscing elit, sed do eiusmod tempor incididunt ut labore.</p>\n";
    let mut html = String::from("<html><head><title>Big</title></head><body><article>");
    while html.len() < 20 * 1024 * 1024 {
        html.push_str(paragraph);
    }
    html.push_str("</article></body></html>");
    let input = html.len();

    let before = CURRENT.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let (doc, stats) = extract_with_stats(
        &html,
        "https://example.com/",
        &ExtractionMode::Article,
        &Limits::default(),
    )
    .unwrap();
    let peak = PEAK.load(Ordering::Relaxed) - before;

    assert_eq!(stats.input_bytes as usize, input);
    assert!(doc.word_count > 1_000_000, "{}", doc.word_count);
    eprintln!(
        "input {input} bytes, peak extra heap {peak} bytes ({:.1}x input)",
        peak as f64 / input as f64
    );
    assert!(
        peak < 40 * input,
        "peak heap {peak} bytes for a {input}-byte page"
    );
}
