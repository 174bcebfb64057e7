//! RFC 4733: the payload parser never panics and round-trips, whether fed raw bytes or the
//! payload of an RTP packet; the sender-side plan holds its invariants for any parameters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtp_core::{EventSequence, RtpPacket, RtpTimestamp, TelephoneEvent};

fn check(payload: &[u8]) {
    let Ok(e) = TelephoneEvent::parse(payload) else {
        assert!(payload.len() < TelephoneEvent::LEN);
        return;
    };
    let bytes = e.to_bytes().expect("a parsed volume fits 6 bits");
    assert_eq!(bytes[0], payload[0]);
    assert_eq!(bytes[1], payload[1] & 0xBF); // the reserved bit is dropped
    assert_eq!(bytes[2..], payload[2..4]);
}

fuzz_target!(|data: &[u8]| {
    check(data);
    if let Ok(p) = RtpPacket::parse(data) {
        check(p.payload());
    }
    // Drive the sender plan from the first 12 bytes.
    if let Some(b) = data.first_chunk::<12>() {
        let duration = u32::from_be_bytes([b[2], b[3], b[4], b[5]]);
        let interval = u16::from_be_bytes([b[6], b[7]]);
        let start = RtpTimestamp(u32::from_be_bytes([b[8], b[9], b[10], b[11]]));
        if let Ok(seq) = EventSequence::new(b[0], b[1], start, duration, interval) {
            let mut ends = 0;
            let mut markers = 0;
            for p in seq.take(1_000) {
                ends += usize::from(p.event.end);
                markers += usize::from(p.marker);
                assert!(p.send_offset <= duration);
            }
            assert_eq!(markers, 1);
            assert!(ends <= 3);
        }
    }
});
