//! ITU-T G.711 Appendix I: `f2.le` concealed with the 10 % pattern `fe10.g192` must give the STL
//! `g711iplc` output `f2_10.raw`.
//!
//! The reference tool feeds 10 ms frames, removes the algorithm's delay by dropping the first
//! `delay` samples of the first frame, and at the end feeds one frame of zeros and keeps its first
//! `delay` samples, so its output is as long as its input and time-aligned with it.

mod common;

use media_core::processing::audio::plc::G711Plc;

const GOOD: i16 = 0x6B21;
const ERASED: i16 = 0x6B20;

/// Runs the reference tool's loop with frames of `frame` samples (losses still per 10 ms).
fn conceal_file(input: &[i16], pattern: &[i16], frame: usize) -> Vec<i16> {
    let mut plc = G711Plc::new(8000);
    assert_eq!(plc.delay_samples(), 30);
    let mut out = Vec::with_capacity(input.len() + 80);
    let mut buf = vec![0i16; frame];
    for (k, ten_ms) in input.chunks_exact(80).enumerate() {
        let erased = match pattern[k % pattern.len()] {
            GOOD => false,
            ERASED => true,
            w => panic!("bad G.192 word {w:#x}"),
        };
        for part in ten_ms.chunks(frame) {
            let b = &mut buf[..part.len()];
            if erased {
                plc.conceal(b);
            } else {
                b.copy_from_slice(part);
                plc.good_frame(b);
            }
            out.extend_from_slice(b);
        }
    }
    let mut tail = [0i16; 30];
    assert_eq!(plc.flush(&mut tail), 30);
    out.extend_from_slice(&tail);
    out.drain(..plc.delay_samples());
    out
}

fn report(got: &[i16], want: &[i16]) -> (usize, i32, f64) {
    assert_eq!(got.len(), want.len());
    let mut diffs = 0;
    let mut max = 0;
    let (mut sig, mut err) = (0f64, 0f64);
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let d = (i32::from(g) - i32::from(w)).abs();
        if d != 0 {
            if diffs < 10 {
                eprintln!("sample {i} (frame {}): got {g}, want {w}", i / 80);
            }
            diffs += 1;
        }
        max = max.max(d);
        sig += f64::from(w).powi(2);
        err += f64::from(d).powi(2);
    }
    let snr = if err == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (sig / err).log10()
    };
    (diffs, max, snr)
}

#[test]
fn f2_with_10_percent_loss_is_bit_exact() {
    let input = common::read_le16("g711-plc/f2.le");
    let pattern = common::read_le16("g711-plc/fe10.g192");
    let want = common::read_le16("g711-plc/f2_10.raw");
    assert_eq!(input.len() % 80, 0);
    let got = conceal_file(&input, &pattern, 80);
    let (diffs, max, snr) = report(&got, &want);
    assert_eq!(
        diffs, 0,
        "{diffs} samples differ, max {max}, SNR {snr:.1} dB"
    );
}

#[test]
fn any_split_of_the_10ms_frames_gives_the_same_output() {
    let input = common::read_le16("g711-plc/f2.le");
    let pattern = common::read_le16("g711-plc/fe10.g192");
    let want = common::read_le16("g711-plc/f2_10.raw");
    for frame in [1, 7, 33, 80] {
        let got = conceal_file(&input, &pattern, frame);
        let (diffs, max, _) = report(&got, &want);
        assert_eq!(diffs, 0, "frame {frame}: {diffs} samples differ, max {max}");
    }
}

mod alloc_count {
    //! A counting allocator for this test binary: the per-frame calls must not allocate.
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        static COUNT: Cell<usize> = const { Cell::new(0) };
    }

    pub struct Counting;

    // SAFETY: forwards to the system allocator; only counts.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            COUNT.with(|c| c.set(c.get() + 1));
            // SAFETY: same contract as ours.
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: same contract as ours.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    /// Allocations made by this thread so far.
    pub fn count() -> usize {
        COUNT.with(Cell::get)
    }
}

#[global_allocator]
static ALLOC: alloc_count::Counting = alloc_count::Counting;

#[test]
fn per_frame_calls_do_not_allocate() {
    // The counter counts.
    let start = alloc_count::count();
    drop(std::hint::black_box(vec![0u8; 16]));
    assert!(alloc_count::count() > start);
    for rate in [8000, 16000, 44100, 48000] {
        let mut plc = G711Plc::new(rate);
        let mut buf = vec![0i16; 2000];
        let before = alloc_count::count();
        for k in 0..200usize {
            let len = (k * 37) % buf.len();
            let frame = &mut buf[..len];
            for (i, s) in frame.iter_mut().enumerate() {
                *s = ((i * 7919 + k * 104_729) % 20_000) as i16 - 10_000;
            }
            if k % 5 < 2 {
                plc.conceal(frame);
            } else {
                plc.good_frame(frame);
            }
        }
        plc.flush(&mut buf);
        plc.reset();
        assert_eq!(alloc_count::count(), before, "{rate} Hz");
    }
}

#[test]
fn decoders_report_the_concealment_delay() {
    use media_core::{CodecParams, CodecRegistry};
    let reg = CodecRegistry::with_builtin();
    for (name, rate, channels, delay) in [
        ("PCMU", 8000, 1, 30),
        ("PCMA", 8000, 1, 30),
        ("L16", 8000, 1, 30),
        ("L16", 16000, 1, 60),
        ("L16", 44100, 1, 165),
        ("L16", 48000, 1, 180),
        ("L16", 48000, 2, 0),
    ] {
        let d = reg.find(name).unwrap().descriptor;
        let params = CodecParams {
            sample_rate: rate,
            channels,
            ..CodecParams::defaults(d)
        };
        let mut dec = reg.decoder(name, &params).unwrap();
        assert_eq!(dec.delay_samples(), delay, "{name} {rate} {channels}");
        // The delay is real: a first payload comes out shifted by it.
        let n = 400 * usize::from(channels);
        let payload: Vec<u8> = if name == "L16" {
            (0..n as i16)
                .flat_map(|s| (s * 20 + 1).to_be_bytes())
                .collect()
        } else {
            (0..n).map(|i| (i % 100) as u8).collect()
        };
        let mut out = vec![0i16; 2 * n];
        let written = dec.decode(&payload, &mut out).unwrap();
        assert!(written > delay);
        assert!(out[..delay].iter().all(|&s| s == 0), "{name}");
        assert_ne!(out[delay], 0, "{name}");
    }
}
