//! Steady-state Opus encode, decode, FEC, concealment and runtime setters, and the Ogg Opus
//! writer and reader, allocate nothing (DESIGN principle 3).
//!
//! Two counters, per thread: Rust allocations through a counting global allocator, and C
//! allocations (libopus) by replacing glibc's `malloc`, `calloc` and `realloc` for this test
//! process (glibc supports that; the replacements count, then call `__libc_malloc` etc.). A
//! positive control checks the C counter sees libopus allocate when an encoder is created.
#![cfg(feature = "opus")]

use media_core::codec::audio::opus::{OpusDecoder, OpusDecoderConfig, OpusEncoder};
use media_core::codec::{AudioDecoder, AudioEncoder, CodecParams, CodecRegistry};
use media_core::container::{OggOpusReader, OggOpusWriter, OpusHead, OpusTags};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    static RUST_ALLOCS: Cell<u64> = const { Cell::new(0) };
    static C_ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn bump(counter: &'static std::thread::LocalKey<Cell<u64>>) {
    let _ = counter.try_with(|c| c.set(c.get() + 1));
}

struct Counting;

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump(&RUST_ALLOCS);
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump(&RUST_ALLOCS);
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump(&RUST_ALLOCS);
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod c_alloc {
    use std::ffi::c_void;

    extern "C" {
        fn __libc_malloc(size: usize) -> *mut c_void;
        fn __libc_calloc(n: usize, size: usize) -> *mut c_void;
        fn __libc_realloc(ptr: *mut c_void, size: usize) -> *mut c_void;
    }

    #[no_mangle]
    pub unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
        super::bump(&super::C_ALLOCS);
        __libc_malloc(size)
    }

    #[no_mangle]
    pub unsafe extern "C" fn calloc(n: usize, size: usize) -> *mut c_void {
        super::bump(&super::C_ALLOCS);
        __libc_calloc(n, size)
    }

    #[no_mangle]
    pub unsafe extern "C" fn realloc(ptr: *mut c_void, size: usize) -> *mut c_void {
        super::bump(&super::C_ALLOCS);
        __libc_realloc(ptr, size)
    }

    pub const ACTIVE: bool = true;
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod c_alloc {
    pub const ACTIVE: bool = false;
}

/// Runs `f` and returns the (Rust, C) allocations it made on this thread.
fn allocations<T>(f: impl FnOnce() -> T) -> (T, (u64, u64)) {
    RUST_ALLOCS.with(|c| c.set(0));
    C_ALLOCS.with(|c| c.set(0));
    let out = f();
    (out, (RUST_ALLOCS.with(Cell::get), C_ALLOCS.with(Cell::get)))
}

fn speechlike(n: usize, rate: u32) -> Vec<i16> {
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            let env = 0.5 + 0.5 * (2.0 * std::f64::consts::PI * 3.0 * t).sin();
            let x: f64 = (1..8)
                .map(|h| (2.0 * std::f64::consts::PI * 150.0 * h as f64 * t).sin() / h as f64)
                .sum();
            (x * env * 6000.0) as i16
        })
        .collect()
}

#[test]
fn steady_state_codec_calls_allocate_nothing() {
    // Positive control: creating an encoder mallocs in libopus, and the counter sees it.
    let (_, (_, c)) = allocations(|| OpusEncoder::new(Default::default()));
    if c_alloc::ACTIVE {
        assert!(c > 0, "the malloc counter did not see libopus allocate");
    }

    let reg = CodecRegistry::with_builtin();
    let mut params = CodecParams::defaults(reg.find("opus").unwrap().descriptor);
    params.bitrate = Some(24000);
    params.fmtp = Some("useinbandfec=1; stereo=0".into());
    let mut enc: Box<dyn AudioEncoder> = reg.encoder("opus", &params).unwrap();
    let mut dec: Box<dyn AudioDecoder> = reg.decoder("opus", &params).unwrap();
    let fs = enc.frame_samples();
    let input = speechlike(fs * 300, 48000);
    let mut payload = vec![0u8; enc.max_payload_bytes()];
    let mut next = vec![0u8; enc.max_payload_bytes()];
    let mut pcm = vec![0i16; dec.max_frame_samples()];
    // Runtime setters through the concrete type as well.
    let mut direct = OpusEncoder::new(Default::default()).unwrap();
    let mut direct_dec = OpusDecoder::new(OpusDecoderConfig::default()).unwrap();
    let mut frames = input.chunks_exact(fs).cycle();

    let mut run = |rounds: usize| {
        for i in 0..rounds {
            let f = frames.next().unwrap();
            let n = enc.encode(f, &mut payload).unwrap();
            dec.decode(&payload[..n], &mut pcm).unwrap();
            if i % 10 == 3 {
                // A loss recovered by FEC from the next packet, then that packet decoded.
                let m = enc.encode(frames.next().unwrap(), &mut next).unwrap();
                dec.decode_fec(&next[..m], &mut pcm[..fs]).unwrap();
                dec.decode(&next[..m], &mut pcm).unwrap();
            }
            if i % 10 == 7 {
                dec.conceal(&mut pcm[..fs]).unwrap();
                // Longer than one libopus call.
                let mut long = [0i16; 9600];
                dec.conceal(&mut long).unwrap();
            }
            if i % 25 == 0 {
                enc.set_bitrate(16000 + (i as u32 % 4) * 8000).unwrap();
                direct.set_packet_loss_percent((i % 30) as u8).unwrap();
                direct.set_inband_fec(i % 2 == 0).unwrap();
                direct.set_dtx(i % 3 == 0).unwrap();
                let n = direct.encode(f, &mut payload).unwrap();
                direct_dec.decode(&payload[..n], &mut pcm).unwrap();
            }
        }
    };
    run(50);
    let (_, (rust, c)) = allocations(|| run(500));
    assert_eq!(rust, 0, "Rust allocations in the steady state");
    assert_eq!(c, 0, "C allocations in the steady state");
}

#[test]
fn steady_state_ogg_calls_allocate_nothing() {
    let mut enc = OpusEncoder::new(Default::default()).unwrap();
    let input = speechlike(960 * 100, 48000);
    let mut buf = vec![0u8; enc.max_payload_bytes()];
    let packets: Vec<Vec<u8>> = input
        .chunks_exact(960)
        .map(|f| {
            let n = enc.encode(f, &mut buf).unwrap();
            buf[..n].to_vec()
        })
        .collect();

    // The writer, into a sink that does not allocate.
    let head = OpusHead::new(1, 48000, enc.pre_skip());
    let mut w = OggOpusWriter::new(std::io::sink(), &head, &OpusTags::new("t"), 1).unwrap();
    for p in packets.iter().take(60) {
        w.write_packet(p).unwrap();
    }
    let (_, counts) = allocations(|| {
        for _ in 0..5 {
            for p in &packets {
                w.write_packet(p).unwrap();
            }
        }
    });
    assert_eq!(counts, (0, 0), "writer (Rust, C) allocations");

    // The reader, over a file of the same packets.
    let mut w = OggOpusWriter::new(Vec::new(), &head, &OpusTags::new("t"), 1).unwrap();
    for _ in 0..5 {
        for p in &packets {
            w.write_packet(p).unwrap();
        }
    }
    let file = w.finish(None).unwrap();
    let mut r = OggOpusReader::new(&file[..]).unwrap();
    let mut dec = OpusDecoder::new(OpusDecoderConfig::default()).unwrap();
    let mut pcm = vec![0i16; dec.max_frame_samples()];
    for _ in 0..100 {
        let p = r.next_packet().unwrap().unwrap();
        dec.decode(p.data, &mut pcm).unwrap();
    }
    let (n, counts) = allocations(|| {
        let mut n = 0;
        while let Some(p) = r.next_packet().unwrap() {
            dec.decode(p.data, &mut pcm).unwrap();
            n += 1;
        }
        n
    });
    assert_eq!(n, 400);
    assert_eq!(counts, (0, 0), "reader + decoder (Rust, C) allocations");
}
