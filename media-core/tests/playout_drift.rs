//! The receive playout follows a sender whose clock runs faster or slower than ours (±1 %,
//! far beyond real crystals) by time-stretching decoded speech by pitch periods: no frame is
//! dropped or inserted, the buffer never runs dry, and the delay stays near the target.
//! Two MediaTransportAdapters back to back in memory, on virtual time. The receiver's calls
//! (datagrams in, playout with stretching) allocate nothing in steady state.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use media_core::codec::{CodecParams, CodecRegistry};
use media_core::integration::rtp_core::{AdapterConfig, MediaTransportAdapter, DATAGRAM_LEN};
use media_core::signal::speech_like;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    if COUNTING.with(Cell::get) {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
    }
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

fn adapter(
    reg: &CodecRegistry,
    codec: &str,
    local: u16,
    remote: u16,
    t0: Instant,
) -> MediaTransportAdapter {
    let entry = reg.find(codec).expect("codec");
    let d = entry.descriptor;
    let params = CodecParams::defaults(d);
    let pt = d.payload_type.unwrap_or(111);
    let _ = local;
    MediaTransportAdapter::new(
        AdapterConfig {
            cname: format!("drift{local}"),
            remote_rtp: Some(SocketAddr::from(([127, 0, 0, 1], remote))),
            remote_rtcp: None,
            rtcp_mux: true,
            codec: d,
            params,
            payload_type: pt,
            receive_payload_type: pt,
            dtmf: None,
            other_payload_types: Vec::new(),
            srtp: None,
            jitter_min_ms: 40,
            jitter_max_ms: 300,
            seed: u64::from(local),
            adaptation: false,
            rtcp_min_interval: Duration::from_secs(5),
            max_ptime_ms: None,
        },
        reg,
        t0,
    )
    .expect("adapter")
}

/// Sends `seconds` of speech-like audio with the sender's clock `ppm` parts per million fast
/// (negative: slow); returns the receiver's counters, jitter stats and the last delays seen.
fn run(
    codec: &str,
    ppm: i64,
    seconds: u64,
) -> (
    media_core::integration::rtp_core::AdapterCounters,
    rtp_core::JitterStats,
    f64,
) {
    let reg = CodecRegistry::with_builtin();
    let t0 = Instant::now();
    let mut tx = adapter(&reg, codec, 4000, 5000, t0);
    let mut rx = adapter(&reg, codec, 5000, 4000, t0);
    let rate = tx.audio_format().sample_rate.0;
    let n = tx.frame_samples();
    let src = speech_like(seconds as f64 + 1.0, rate);
    let from = SocketAddr::from(([127, 0, 0, 1], 4000));
    let mut buf = vec![0u8; DATAGRAM_LEN];
    let mut out = vec![0i16; n];
    let mut sent = 0u64;
    let mut worst_excess = 0.0f64;
    for k in 0..seconds * 100 {
        let now = t0 + Duration::from_millis(10 * k);
        // The sender's clock: frame j is captured at j * 10 ms * (1 - ppm / 1e6) of ours.
        while (sent as i128) * 10_000 * (1_000_000 - ppm as i128)
            <= (k as i128) * 10_000 * 1_000_000
        {
            let at = sent as usize * n;
            tx.push_capture_frame(now, &src[at..at + n], true);
            sent += 1;
            while let Some((_, len)) = tx.poll_transmit(now, &mut buf) {
                COUNTING.with(|c| c.set(k > 300));
                rx.handle_datagram(now, from, &buf[..len], true);
                COUNTING.with(|c| c.set(false));
            }
        }
        COUNTING.with(|c| c.set(k > 300));
        rx.pull_playout_frame(now, &mut out, true);
        COUNTING.with(|c| c.set(false));
        let js = rx.jitter_stats();
        if k > 300 {
            worst_excess = worst_excess.max((js.current_delay_ms - js.target_delay_ms).abs());
        }
    }
    (rx.counters(), rx.jitter_stats(), worst_excess)
}

#[test]
fn fast_and_slow_senders_are_followed_by_stretching() {
    for codec in ["PCMU", "G722", "opus"] {
        for ppm in [10_000i64, -10_000] {
            let (c, js, excess) = run(codec, ppm, 20);
            println!(
                "{codec} {ppm:+} ppm: accelerated {}, preemptive expanded {}, discarded {}, \
                 expanded {}, underflow {}, lost {}, worst |delay - target| {excess:.1} ms",
                c.accelerated,
                c.preemptive_expanded,
                js.discarded,
                c.expanded,
                c.concealed_underflow,
                c.concealed_lost
            );
            if ppm > 0 {
                assert!(c.accelerated > 0, "{codec} {ppm}: {c:?}");
            } else {
                assert!(c.preemptive_expanded > 0, "{codec} {ppm}: {c:?}");
            }
            // Nothing dropped, inserted or concealed while the speech flows.
            assert_eq!(js.discarded, 0, "{codec} {ppm}: {js:?}");
            assert_eq!(
                (c.concealed_lost, c.concealed_underflow),
                (0, 0),
                "{codec} {ppm}: {c:?}"
            );
            assert!(excess < 60.0, "{codec} {ppm}: {excess} ms off target");
            assert_eq!(
                ALLOCATIONS.with(Cell::get),
                0,
                "{codec} {ppm}: receiver allocated"
            );
        }
    }
}
