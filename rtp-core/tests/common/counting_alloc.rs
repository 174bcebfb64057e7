//! A counting global allocator for the no-allocation tests: only allocations made on a
//! measuring thread while it has counting switched on are counted (in that thread's own
//! counter), so the test harness's threads and other tests running in parallel cannot disturb
//! the count. Include with `#[path = "common/counting_alloc.rs"] mod counting_alloc;`.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    // Const-initialised and without a destructor: usable from inside the allocator.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    if COUNTING.with(Cell::get) {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
    }
}

// SAFETY: defers to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f`, counting this thread's allocations into [`counted_total`] when `on`.
pub fn counted<T>(on: bool, f: impl FnOnce() -> T) -> T {
    let was = COUNTING.with(|c| c.replace(on));
    let r = f();
    COUNTING.with(|c| c.set(was));
    r
}

/// This thread's allocations counted so far.
pub fn counted_total() -> usize {
    ALLOCATIONS.with(Cell::get)
}

/// Allocations made by `f` on this thread.
pub fn allocations(f: impl FnOnce()) -> usize {
    let before = counted_total();
    counted(true, f);
    counted_total() - before
}
