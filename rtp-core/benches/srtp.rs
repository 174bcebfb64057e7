//! SRTP cost per packet: protect and unprotect of a 172-byte PCMU packet (20 ms at 8 kHz)
//! under each profile. Each iteration gets a packet with the next sequence number (made outside
//! the timed part), as a real stream would: the replay checks refuse repeats.
//!
//! cargo bench -p rtp-core --bench srtp -- --warm-up-time 1 --measurement-time 2

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rtp_core::srtp::{SrtpProfile, SrtpSession};
use rtp_core::{RtpTimestamp, RtpWriter, SeqNo, Ssrc};
use std::hint::black_box;

const SSRC: Ssrc = Ssrc(0xDEAD_BEEF);

fn session(profile: SrtpProfile) -> SrtpSession {
    let salt = &[0x5A; 14][..profile.master_salt_len()];
    match SrtpSession::new(profile, &[0xA5; 16], salt) {
        Ok(s) => s,
        Err(e) => panic!("bench key: {e}"),
    }
}

/// The plain PCMU packet with sequence number `seq`, in a buffer with room for any tag.
fn pcmu(seq: u16) -> ([u8; 256], usize) {
    let payload = [0xFFu8; 160];
    let mut buf = [0u8; 256];
    let w = RtpWriter::new(
        0,
        SeqNo(seq),
        RtpTimestamp(160 * u32::from(seq)),
        SSRC,
        &payload,
    );
    let len = w.write(&mut buf).unwrap_or(0);
    assert_eq!(len, 172);
    (buf, len)
}

fn bench(c: &mut Criterion) {
    for profile in SrtpProfile::ALL {
        let mut g = c.benchmark_group(format!("srtp_pcmu_172/{profile}"));
        g.throughput(Throughput::Elements(1));

        let mut tx = session(profile);
        let mut seq = 0u16;
        g.bench_function("protect", |b| {
            b.iter_batched(
                || {
                    seq = seq.wrapping_add(1);
                    pcmu(seq)
                },
                |(mut buf, len)| tx.protect_rtp(black_box(&mut buf), len).map(|n| buf[n - 1]),
                BatchSize::SmallInput,
            )
        });

        let mut sender = session(profile);
        let mut rx = session(profile);
        let mut seq = 0u16;
        g.bench_function("unprotect", |b| {
            b.iter_batched(
                || {
                    seq = seq.wrapping_add(1);
                    let (mut buf, len) = pcmu(seq);
                    let n = sender.protect_rtp(&mut buf, len).unwrap_or(0);
                    (buf, n)
                },
                |(mut buf, n)| rx.unprotect_rtp(black_box(&mut buf[..n])),
                BatchSize::SmallInput,
            )
        });
        g.finish();
        assert_eq!(rx.stats().rtp_auth_failures + rx.stats().rtp_replayed, 0);
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
