//! Property tests: arbitrary insert / poll sequences (sequence numbers, timestamps, SSRCs,
//! payload sizes, times that jump or go backwards) never panic and keep the buffer bounded.

use proptest::prelude::*;
use rtp_core::jitter::{JitterBuffer, JitterConfig, JitterPacket, Playout};
use rtp_core::netem::{GilbertElliott, JitterDist, LossModel, Netem, NetemConfig, RateLimit};
use rtp_core::{RtpTimestamp, SeqNo, Ssrc};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
enum Op {
    /// A packet near the current stream position (mostly plausible traffic).
    Near {
        dseq: i8,
        dts: i16,
        marker: bool,
        len: usize,
        dt_us: i32,
    },
    /// A packet with arbitrary fields.
    Wild {
        ssrc: u8,
        seq: u16,
        ts: u32,
        marker: bool,
        len: usize,
        dt_us: i32,
    },
    Poll {
        dt_us: i32,
    },
    /// Poll at the buffer's own deadline.
    PollTimeout,
    SetDuration(u32),
    Reset,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (any::<i8>(), any::<i16>(), any::<bool>(), 0usize..1600, -1000i32..60_000).prop_map(
            |(dseq, dts, marker, len, dt_us)| Op::Near { dseq, dts, marker, len, dt_us }
        ),
        1 => (0u8..3, any::<u16>(), any::<u32>(), any::<bool>(), 0usize..2000, any::<i32>())
            .prop_map(|(ssrc, seq, ts, marker, len, dt_us)| Op::Wild {
                ssrc, seq, ts, marker, len, dt_us
            }),
        4 => (-1000i32..40_000).prop_map(|dt_us| Op::Poll { dt_us }),
        2 => Just(Op::PollTimeout),
        1 => any::<u32>().prop_map(Op::SetDuration),
        1 => Just(Op::Reset),
    ]
}

fn config() -> impl Strategy<Value = JitterConfig> {
    (
        prop_oneof![Just(8000u32), Just(16_000), Just(48_000), 1000u32..200_000],
        1usize..40,
        1u64..100,
        prop_oneof![Just(5u64), Just(10), Just(20), Just(60)],
    )
        .prop_map(|(rate, max_packets, kib, frame_ms)| {
            let mut c = JitterConfig::new(rate);
            c.max_packets = max_packets;
            c.max_bytes = (kib as usize) * 1024;
            c.max_payload = c.max_payload.min(c.max_bytes);
            c.frame_duration = Duration::from_millis(frame_ms);
            c.max_packet_duration = c.max_packet_duration.max(c.frame_duration);
            c
        })
}

proptest! {
    #[test]
    fn never_panics_and_stays_bounded(cfg in config(), ops in prop::collection::vec(op(), 1..400)) {
        let max_packets = cfg.max_packets;
        let max_bytes = cfg.max_bytes;
        let mut jb = JitterBuffer::new(cfg).expect("valid");
        let base = Instant::now() + Duration::from_secs(3600);
        let mut t_us: i64 = 0;
        let (mut seq, mut ts) = (0u16, 0u32);
        let at = |t: i64| {
            if t >= 0 {
                base + Duration::from_micros(t as u64)
            } else {
                base - Duration::from_micros(t.unsigned_abs().min(3_000_000_000))
            }
        };
        for op in ops {
            match op {
                Op::Near { dseq, dts, marker, len, dt_us } => {
                    t_us = t_us.saturating_add(i64::from(dt_us));
                    seq = seq.wrapping_add(dseq as u16);
                    ts = ts.wrapping_add(160i32.wrapping_add(i32::from(dts)) as u32);
                    let mut payload = jb.take_buffer();
                    payload.resize(len, 0xd5);
                    jb.insert(at(t_us), JitterPacket {
                        ssrc: Ssrc(1), seq: SeqNo(seq), timestamp: RtpTimestamp(ts), marker, payload,
                    });
                }
                Op::Wild { ssrc, seq: s, ts: t, marker, len, dt_us } => {
                    t_us = t_us.saturating_add(i64::from(dt_us) / 1000);
                    jb.insert(at(t_us), JitterPacket {
                        ssrc: Ssrc(u32::from(ssrc)), seq: SeqNo(s), timestamp: RtpTimestamp(t),
                        marker, payload: vec![0; len],
                    });
                }
                Op::Poll { dt_us } => {
                    t_us = t_us.saturating_add(i64::from(dt_us));
                    if let Playout::Packet(p) = jb.poll(at(t_us)) {
                        jb.recycle(p.payload);
                    }
                }
                Op::PollTimeout => {
                    let now = jb.poll_timeout().unwrap_or(at(t_us));
                    if let Playout::Packet(p) = jb.poll(now) {
                        jb.recycle(p.payload);
                    }
                }
                Op::SetDuration(d) => jb.set_packet_duration(d),
                Op::Reset => jb.reset(),
            }
            prop_assert!(jb.len() <= max_packets);
            prop_assert!(jb.buffered_bytes() <= max_bytes);
            prop_assert!(jb.pooled_buffers() <= max_packets + 8);
            let s = jb.stats();
            prop_assert!(s.played <= s.received);
            prop_assert!(s.target_delay_ms >= 0.0 && s.target_delay_ms.is_finite());
            prop_assert!(s.current_delay_ms.is_finite() && s.jitter_ms.is_finite());
            let _ = jb.peek_next_payload();
        }
    }

    #[test]
    fn netem_never_panics(
        seed in any::<u64>(),
        loss in 0.0f64..=1.0,
        ge in (0.0f64..=1.0, 0.0f64..=1.0, 0.0f64..=1.0, 0.0f64..=1.0),
        use_ge in any::<bool>(),
        jitter_ms in 0u64..5000,
        dist in 0u8..4,
        dup in 0.0f64..=1.0,
        reorder in 0.0f64..=1.0,
        rate in prop::option::of((1u64..10_000_000, 1usize..100_000)),
        limit in 1usize..2000,
        sends in prop::collection::vec((0u32..100_000, 0usize..3000), 1..300),
    ) {
        let jitter = match dist {
            0 => JitterDist::None,
            1 => JitterDist::Uniform { max: Duration::from_millis(jitter_ms) },
            2 => JitterDist::Normal {
                mean: Duration::from_millis(jitter_ms / 2),
                std_dev: Duration::from_millis(jitter_ms),
            },
            _ => JitterDist::Pareto {
                scale: Duration::from_millis(jitter_ms),
                shape: 0.5 + (seed % 4) as f64,
                cap: Duration::from_secs(10),
            },
        };
        let loss = if use_ge {
            LossModel::GilbertElliott(GilbertElliott { p: ge.0, r: ge.1, loss_good: ge.2, loss_bad: ge.3 })
        } else {
            LossModel::Random { probability: loss }
        };
        let cfg = NetemConfig {
            seed, loss, jitter, duplicate: dup, reorder,
            delay: Duration::from_millis(jitter_ms % 300),
            rate: rate.map(|(bits_per_sec, queue_bytes)| RateLimit { bits_per_sec, queue_bytes, overhead_bytes: 28 }),
            limit,
            ..NetemConfig::default()
        };
        let mut net = Netem::<Vec<u8>>::new(cfg).expect("valid");
        let t0 = Instant::now();
        let mut t = t0;
        for (dt_us, len) in sends {
            t += Duration::from_micros(u64::from(dt_us));
            net.send(t, vec![0; len]);
            prop_assert!(net.in_flight() <= limit);
            while net.poll_deliver(t).is_some() {}
        }
        while let Some(at) = net.poll_timeout() {
            while net.poll_deliver(at).is_some() {}
        }
        let s = net.stats();
        prop_assert_eq!(s.delivered, s.sent + s.duplicated - s.dropped());
    }
}
