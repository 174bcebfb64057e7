//! The G.722 per-frame calls allocate nothing once the codec is built (DESIGN principle 3):
//! encode, decode and conceal run under a global allocator that counts.

use media_core::{CodecParams, CodecRegistry};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    /// Allocations made by this thread (the test harness's other threads allocate too).
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    ALLOCATIONS.with(|n| n.set(n.get() + 1));
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: forwards to the system allocator, only counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn encode_decode_and_conceal_do_not_allocate() {
    let reg = CodecRegistry::with_builtin();
    let params = CodecParams::defaults(reg.find("g722").unwrap().descriptor);
    let mut enc = reg.encoder("g722", &params).unwrap();
    let mut dec = reg.decoder("g722", &params).unwrap();
    let pcm: Vec<i16> = (0..320)
        .map(|i| ((f64::from(i) * 0.3).sin() * 9000.0) as i16)
        .collect();
    let mut codes = vec![0u8; 160];
    let mut out = vec![0i16; 320];

    // The counter sees this thread's allocations.
    let probe = allocations();
    drop(std::hint::black_box(vec![0u8; 64]));
    assert_eq!(allocations(), probe + 1);

    let before = allocations();
    for frame in 0..50 {
        enc.encode(&pcm, &mut codes).unwrap();
        if frame % 7 == 3 {
            dec.conceal(&mut out).unwrap();
        } else {
            dec.decode(&codes, &mut out).unwrap();
        }
    }
    // Odd-length concealment and long payloads take the same paths.
    dec.conceal(&mut out[..155]).unwrap();
    dec.decode(&codes[..7], &mut out).unwrap();
    let after = allocations();
    assert_eq!(after - before, 0, "allocations in the per-frame path");
}
