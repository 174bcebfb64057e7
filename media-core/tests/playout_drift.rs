//! The receive playout follows a sender whose clock runs faster or slower than ours (±1 %,
//! far beyond real crystals) by time-stretching decoded speech by pitch periods: no frame is
//! dropped or inserted, the buffer never runs dry, and the delay stays near the target.
//! Two MediaTransportAdapters back to back in memory, on virtual time. The receiver's calls
//! (datagrams in, playout with stretching) allocate nothing in steady state.

use std::time::{Duration, Instant};

use media_core::codec::{CodecParams, CodecRegistry};
use media_core::integration::rtp_core::{MediaTransportAdapter, DATAGRAM_LEN};
use media_core::signal::speech_like;
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{counted, counted_total};
#[path = "common/loopback.rs"]
mod loopback;

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
    let config = loopback::adapter_config("drift", d, params, pt, local, remote);
    MediaTransportAdapter::new(config, reg, t0).expect("adapter")
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
    let from = loopback::addr(4000);
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
                counted(k > 300, || rx.handle_datagram(now, from, &buf[..len], true));
            }
        }
        counted(k > 300, || rx.pull_playout_frame(now, &mut out, true));
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
            assert_eq!(counted_total(), 0, "{codec} {ppm}: receiver allocated");
        }
    }
}
