//! A counting global allocator proves that protecting and unprotecting SRTP and SRTCP
//! allocates nothing per packet: not in steady state, not when a new SSRC's state is created,
//! not when one is evicted, and not when a packet is refused.

use rtp_core::rtcp::{CompoundWriter, ReceiverReportWriter};
use rtp_core::srtp::{SrtpProfile, SrtpSession};
use rtp_core::{RtpTimestamp, RtpWriter, SeqNo, Ssrc};
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations;

#[test]
fn protect_and_unprotect_allocate_nothing() {
    for profile in SrtpProfile::ALL {
        let salt = &[7u8; 14][..profile.master_salt_len()];
        let mut tx = SrtpSession::new(profile, &[9; 16], salt)
            .expect("key")
            .with_max_streams(4);
        let mut rx = SrtpSession::new(profile, &[9; 16], salt)
            .expect("key")
            .with_max_streams(4);
        let payload = [0xD5u8; 160];
        let mut buf = [0u8; 512];
        let mut out = [0u8; 512];
        let mut ok = 0u64;
        let n = allocations(|| {
            // 6 SSRCs over 4 slots: creation and eviction on both sides; sequence numbers wrap.
            for i in 0..3000u32 {
                let ssrc = Ssrc(1 + i % 6);
                let seq = SeqNo(65_000u16.wrapping_add((i / 6) as u16));
                let w = RtpWriter::new(0, seq, RtpTimestamp(160 * i), ssrc, &payload);
                let Ok(len) = w.write(&mut buf) else { continue };
                let Ok(n) = tx.protect_rtp(&mut buf, len) else {
                    continue;
                };
                if rx.unprotect_rtp(&mut buf[..n]).is_ok() {
                    ok += 1;
                }
                // A replay and a tampered copy are refused without allocating either.
                let _ = tx.protect_rtp_into(&buf[..len], &mut out);
                out[..n].copy_from_slice(&buf[..n]);
                let _ = rx.unprotect_rtp(&mut out[..n]);

                let mut rtcp = CompoundWriter::new(&mut buf);
                let Ok(rtcp) = rtcp.push(&ReceiverReportWriter::new(ssrc, &[])) else {
                    continue;
                };
                let len = rtcp.len();
                let Ok(n) = tx.protect_rtcp(&mut buf, len) else {
                    continue;
                };
                buf[n - 1] ^= (i % 2) as u8;
                let _ = rx.unprotect_rtcp(&mut buf[..n]);
            }
        });
        assert_eq!(n, 0, "{profile}: allocations in the packet path");
        assert_eq!(ok, 3000, "{profile}");
        let (t, r) = (tx.stats(), rx.stats());
        assert!(r.streams_evicted > 0 && t.streams_evicted > 0, "{profile}");
        assert_eq!((t.rtp_replayed, r.rtp_replayed), (3000, 3000), "{profile}");
        assert_eq!(
            (r.rtcp_unprotected, r.rtcp_auth_failures),
            (1500, 1500),
            "{profile}"
        );
    }
}
