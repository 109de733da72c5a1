//! Peak-heap measurement for the benchmarks: a counting global allocator (exact, and
//! including everything the measured code allocates, reading included).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size > layout.size() {
                let now = CURRENT.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size - layout.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

pub fn reset_peak() {
    PEAK.store(CURRENT.load(Ordering::Relaxed), Ordering::Relaxed);
}

pub fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

/// Best of `runs` timings of `f` (the machine has 2 cores and other load; the minimum is the
/// least noisy), with the peak heap of the first run above what was allocated before it (so a
/// history built before the call is not counted; one read inside it is).
pub fn measure<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, usize, T) {
    reset_peak();
    let base = heap_now();
    let start = Instant::now();
    let out = f();
    let mut best = start.elapsed();
    let peak = PEAK.load(Ordering::Relaxed) - base;
    for _ in 1..runs {
        let start = Instant::now();
        let _ = f();
        best = best.min(start.elapsed());
    }
    (best, peak, out)
}

pub fn heap_now() -> usize {
    CURRENT.load(Ordering::Relaxed)
}
