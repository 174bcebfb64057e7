//! Jitter buffer cost per packet (insert + poll), and netem cost per packet.
//!
//! `cargo bench -p rtp-core --bench jitter -- --warm-up-time 1 --measurement-time 2`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rtp_core::jitter::{JitterBuffer, JitterConfig, JitterPacket, Playout};
use rtp_core::netem::{JitterDist, LossModel, Netem, NetemConfig};
use rtp_core::{RtpTimestamp, SeqNo, Ssrc};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// One packet per 20 ms in order: take_buffer, insert, poll, recycle.
fn in_order(c: &mut Criterion) {
    let mut g = c.benchmark_group("jitter_per_packet");
    g.throughput(Throughput::Elements(1));
    let mut jb = JitterBuffer::new(JitterConfig::new(8000)).expect("config");
    let t0 = Instant::now();
    let mut k = 0u64;
    g.bench_function("in_order_insert_poll", |b| {
        b.iter(|| {
            let now = t0 + Duration::from_millis(20 * k);
            let mut payload = jb.take_buffer();
            payload.extend_from_slice(&[0x55; 160]);
            jb.insert(
                now,
                JitterPacket {
                    ssrc: Ssrc(1),
                    seq: SeqNo(k as u16),
                    timestamp: RtpTimestamp((k as u32).wrapping_mul(160)),
                    marker: false,
                    payload,
                },
            );
            if let Playout::Packet(p) = black_box(jb.poll(now)) {
                jb.recycle(p.payload);
            }
            k += 1;
        })
    });

    // A 60 s call through netem (40 ms uniform jitter, 5% loss, 2% duplicates), replayed:
    // the schedule is made once; each iteration replays all of it into a fresh buffer.
    let mut net = Netem::<JitterPacket>::new(NetemConfig {
        seed: 1,
        loss: LossModel::Random { probability: 0.05 },
        delay: Duration::from_millis(30),
        jitter: JitterDist::Uniform {
            max: Duration::from_millis(40),
        },
        duplicate: 0.02,
        ..NetemConfig::default()
    })
    .expect("netem");
    let mut schedule: Vec<(Duration, Option<JitterPacket>)> = Vec::new();
    for i in 0..3000u32 {
        let now = t0 + Duration::from_millis(20 * u64::from(i));
        net.send(
            now,
            JitterPacket {
                ssrc: Ssrc(1),
                seq: SeqNo(i as u16),
                timestamp: RtpTimestamp(i * 160),
                marker: false,
                payload: vec![0x55; 160],
            },
        );
        while let Some(p) = net.poll_deliver(now) {
            schedule.push((now - t0, Some(p)));
        }
        schedule.push((now - t0, None)); // a playout tick
    }
    let packets = schedule.iter().filter(|s| s.1.is_some()).count() as u64;
    g.throughput(Throughput::Elements(packets));
    g.bench_function("netem_call_60s_per_packet", |b| {
        b.iter(|| {
            let mut jb = JitterBuffer::new(JitterConfig::new(8000)).expect("config");
            for (at, p) in &schedule {
                let now = t0 + *at;
                match p {
                    Some(p) => {
                        let mut payload = jb.take_buffer();
                        payload.extend_from_slice(&p.payload);
                        jb.insert(
                            now,
                            JitterPacket {
                                payload,
                                ..p.clone_header()
                            },
                        );
                    }
                    None => {
                        if let Playout::Packet(p) = black_box(jb.poll(now)) {
                            jb.recycle(p.payload);
                        }
                    }
                }
            }
            black_box(jb.stats().played)
        })
    });
    g.finish();

    let mut g = c.benchmark_group("netem_per_packet");
    g.throughput(Throughput::Elements(1));
    let mut net = Netem::<u64>::new(NetemConfig {
        seed: 2,
        loss: LossModel::Random { probability: 0.05 },
        delay: Duration::from_millis(30),
        jitter: JitterDist::Normal {
            mean: Duration::from_millis(10),
            std_dev: Duration::from_millis(10),
        },
        ..NetemConfig::default()
    })
    .expect("netem");
    let mut k = 0u64;
    g.bench_function("send_deliver", |b| {
        b.iter(|| {
            let now = t0 + Duration::from_millis(20 * k);
            net.send_sized(now, k, 172);
            while let Some(p) = net.poll_deliver(now) {
                black_box(p);
            }
            k += 1;
        })
    });
    g.finish();
}

/// A header-only copy (payload moved in separately).
trait CloneHeader {
    fn clone_header(&self) -> JitterPacket;
}

impl CloneHeader for JitterPacket {
    fn clone_header(&self) -> JitterPacket {
        JitterPacket {
            ssrc: self.ssrc,
            seq: self.seq,
            timestamp: self.timestamp,
            marker: self.marker,
            payload: Vec::new(),
        }
    }
}

criterion_group!(benches, in_order);
criterion_main!(benches);
