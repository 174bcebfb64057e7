//! SRTP/SRTCP: unprotecting arbitrary bytes never panics, refuses what does not authenticate
//! and creates no stream state for it; protecting arbitrary bytes either refuses them or
//! produces a packet that unprotects back to exactly those bytes.
//!
//! The first byte picks the profile; the rest is the datagram.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtp_core::srtp::{SrtpProfile, SrtpSession};

const KEY: [u8; 16] = *b"fuzz-master-key!";
const SALT: [u8; 14] = *b"fuzz-salt-14by";

fn session(profile: SrtpProfile) -> SrtpSession {
    SrtpSession::new(profile, &KEY, &SALT[..profile.master_salt_len()])
        .expect("the fuzz key fits every profile")
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, packet)) = data.split_first() else {
        return;
    };
    let profile = SrtpProfile::ALL[usize::from(selector) % SrtpProfile::ALL.len()];

    // Arbitrary bytes as SRTP and SRTCP: refused and counted, and no state created for what
    // is refused. (A random 32-bit tag matches once in 2^32 tries: that is allowed.)
    let mut rx = session(profile);
    let mut accepted = 0;
    let mut buf = packet.to_vec();
    if let Ok(n) = rx.unprotect_rtp(&mut buf) {
        assert!(n < packet.len());
        accepted += 1;
    }
    let mut buf = packet.to_vec();
    if let Ok(n) = rx.unprotect_rtcp(&mut buf) {
        assert!(n < packet.len());
        accepted += 1;
    }
    assert!(rx.stream_count() <= accepted);
    let s = rx.stats();
    assert_eq!(s.rtp_unprotected + s.rtcp_unprotected, accepted as u64);

    // The same bytes as clear RTP and RTCP: protect, then unprotect round-trips.
    let mut tx = session(profile);
    let mut rx = session(profile);
    let mut buf = vec![0u8; packet.len() + profile.rtcp_overhead()];
    buf[..packet.len()].copy_from_slice(packet);
    if let Ok(n) = tx.protect_rtp(&mut buf, packet.len()) {
        assert_eq!(n, packet.len() + profile.rtp_tag_len());
        let m = rx
            .unprotect_rtp(&mut buf[..n])
            .expect("our own SRTP unprotects");
        assert_eq!(&buf[..m], packet);
    }
    buf[..packet.len()].copy_from_slice(packet);
    if let Ok(n) = tx.protect_rtcp(&mut buf, packet.len()) {
        assert_eq!(n, packet.len() + profile.rtcp_overhead());
        let m = rx
            .unprotect_rtcp(&mut buf[..n])
            .expect("our own SRTCP unprotects");
        assert_eq!(&buf[..m], packet);
    }
});
