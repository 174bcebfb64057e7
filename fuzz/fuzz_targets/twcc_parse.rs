//! Transport-wide feedback (RTPFB FMT 15): parsing never panics, the statuses match the
//! status count, and what parses re-encodes to statuses that parse back identically.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtp_core::rtcp::{TransportFeedbackWriter, TwccStatus};
use rtp_core::{Compound, RtcpPacket, RtcpWrite};

fuzz_target!(|data: &[u8]| {
    // Force the header to PT 205 FMT 15 so that the fuzzer spends its time in the body.
    let mut buf = data.to_vec();
    if buf.len() >= 4 {
        buf[0] = (buf[0] & 0x20) | 0x80 | 15;
        buf[1] = 205;
        let words = (buf.len() / 4 - 1) as u16;
        buf[2..4].copy_from_slice(&words.to_be_bytes());
        buf.truncate(buf.len() / 4 * 4);
    }
    let Ok(compound) = Compound::parse(&buf) else {
        return;
    };
    for packet in compound.packets().flatten() {
        let RtcpPacket::TransportFeedback(fb) = packet else {
            continue;
        };
        let statuses: Vec<TwccStatus> = fb.statuses().collect();
        assert_eq!(statuses.len(), usize::from(fb.status_count()));
        let deltas: Vec<Option<i32>> = statuses.iter().map(|s| s.delta).collect();
        let w = TransportFeedbackWriter {
            sender_ssrc: fb.sender_ssrc(),
            media_ssrc: fb.media_ssrc(),
            base_seq: fb.base_seq(),
            reference_time: fb.reference_time(),
            fb_pkt_count: fb.fb_pkt_count(),
            deltas: &deltas,
        };
        let mut out = vec![0u8; w.encoded_len().expect("parsed deltas are encodable")];
        w.write(&mut out).expect("sized by encoded_len");
        let again = Compound::parse(&out).expect("written feedback parses");
        let Some(Ok(RtcpPacket::TransportFeedback(fb2))) = again.packets().next() else {
            panic!("re-encoded feedback did not parse");
        };
        assert!(fb2.statuses().eq(statuses.iter().copied()));
    }
});
