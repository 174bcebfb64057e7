//! Packet layer cost per packet: parse and write a 172-byte PCMU packet (20 ms at 8 kHz) and an
//! RTCP compound SR (one report block) + SDES CNAME. Throughput is in packets.
//!
//! cargo bench -p rtp-core --bench packets -- --warm-up-time 1 --measurement-time 2

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rtp_core::rtcp::{
    CompoundWriter, NtpTime, ReportBlock, SdesItem, SdesWriteChunk, SdesWriter, SenderInfo,
    SenderReportWriter,
};
use rtp_core::{Compound, RtcpPacket, RtpPacket, RtpTimestamp, RtpWriter, SeqNo, Ssrc};
use std::hint::black_box;

fn pcmu_writer(payload: &[u8]) -> RtpWriter<'_> {
    RtpWriter::new(
        0,
        SeqNo(4711),
        RtpTimestamp(160 * 4711),
        Ssrc(0xDEAD_BEEF),
        payload,
    )
}

const REPORT: ReportBlock = ReportBlock {
    ssrc: Ssrc(0x1234_5678),
    fraction_lost: 3,
    cumulative_lost: 17,
    extended_highest_seq: 0x0001_1267,
    jitter: 42,
    last_sr: 0xB123_4000,
    delay_since_last_sr: 0x0000_8000,
};

fn write_sr_sdes(out: &mut [u8]) -> usize {
    let info = SenderInfo {
        ntp_time: NtpTime::from_parts(0xE5B1_2345, 0x8000_0000),
        rtp_timestamp: RtpTimestamp(753_760),
        packet_count: 4711,
        octet_count: 753_760,
    };
    let items = [SdesItem::cname(b"{7f3c2a4e-media-core}")];
    let chunks = [SdesWriteChunk {
        ssrc: Ssrc(0xDEAD_BEEF),
        items: &items,
    }];
    let mut w = CompoundWriter::new(out);
    let pushed = w
        .push(&SenderReportWriter::new(Ssrc(0xDEAD_BEEF), info, &[REPORT]))
        .and_then(|w| w.push(&SdesWriter { chunks: &chunks }));
    match pushed {
        Ok(w) => w.len(),
        Err(_) => 0,
    }
}

/// What a receiver does with an SR + SDES compound: framing, then every field it keeps.
fn read_sr_sdes(buf: &[u8]) -> u64 {
    let Ok(compound) = Compound::parse(buf) else {
        return 0;
    };
    let mut acc = 0u64;
    for packet in compound.packets().flatten() {
        match packet {
            RtcpPacket::SenderReport(sr) => {
                acc ^= sr.sender_info().ntp_time.0;
                for block in sr.report_blocks() {
                    acc ^= u64::from(block.jitter);
                }
            }
            RtcpPacket::Sdes(sdes) => {
                for chunk in sdes.chunks() {
                    acc ^= chunk.cname().map_or(0, |c| c.len() as u64);
                }
            }
            _ => {}
        }
    }
    acc
}

fn bench(c: &mut Criterion) {
    let payload = [0xFFu8; 160];
    let mut pcmu = [0u8; 1500];
    let pcmu_len = pcmu_writer(&payload).write(&mut pcmu).unwrap_or(0);
    assert_eq!(pcmu_len, 172);
    let mut rtcp = [0u8; 1500];
    let rtcp_len = write_sr_sdes(&mut rtcp);
    assert!(rtcp_len > 0 && read_sr_sdes(&rtcp[..rtcp_len]) != 0);

    let mut g = c.benchmark_group("rtp_pcmu_172");
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse", |b| {
        b.iter(|| {
            let p = RtpPacket::parse(black_box(&pcmu[..pcmu_len]));
            p.map(|p| (p.sequence_number(), p.timestamp(), p.payload().len()))
        })
    });
    let mut out = [0u8; 1500];
    g.bench_function("write", |b| {
        b.iter(|| pcmu_writer(black_box(&payload)).write(black_box(&mut out)))
    });
    g.finish();

    let mut g = c.benchmark_group("rtcp_sr_sdes");
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse", |b| {
        b.iter(|| read_sr_sdes(black_box(&rtcp[..rtcp_len])))
    });
    g.bench_function("write", |b| b.iter(|| write_sr_sdes(black_box(&mut out))));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
