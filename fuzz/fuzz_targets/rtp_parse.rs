//! RTP parsing: never panics, and every packet it accepts is rewritten byte for byte by
//! `RtpWriter` from the parsed fields (padding contents aside).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtp_core::{ExtensionWriter, RtpPacket, RtpWriter, Ssrc};

fuzz_target!(|data: &[u8]| {
    let Ok(p) = RtpPacket::parse(data) else {
        return;
    };
    assert_eq!(
        p.header_len() + p.payload().len() + p.padding_len(),
        data.len()
    );
    if let Some(ext) = p.extension() {
        let mut seen = 0;
        for e in ext.elements() {
            seen += e.data.len();
        }
        assert!(seen <= ext.data().len());
    }

    let mut csrcs = [Ssrc(0); 15];
    let mut n = 0;
    for (slot, csrc) in csrcs.iter_mut().zip(p.csrcs()) {
        *slot = csrc;
        n += 1;
    }
    let mut w = RtpWriter::new(
        p.payload_type(),
        p.sequence_number(),
        p.timestamp(),
        p.ssrc(),
        p.payload(),
    );
    w.marker = p.marker();
    w.csrcs = &csrcs[..n];
    w.extension = p.extension().map(|e| ExtensionWriter::Raw {
        profile: e.profile(),
        data: e.data(),
    });
    w.padding = p.padding_len() as u8;
    let mut out = vec![0u8; data.len()];
    let written = w.write(&mut out).expect("a parsed packet can be rewritten");
    assert_eq!(written, data.len());
    let keep = written - p.padding_len();
    assert_eq!(out[..keep], data[..keep]);
    if p.padding_len() > 0 {
        assert_eq!(out[written - 1], data[written - 1]);
    }
});
