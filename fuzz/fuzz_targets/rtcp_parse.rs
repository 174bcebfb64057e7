//! RTCP compound parsing: never panics, framing covers the datagram exactly, and every
//! accessor of every packet is safe to call.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtp_core::rtcp::{is_rtcp, RtcpPacket};
use rtp_core::Compound;

fuzz_target!(|data: &[u8]| {
    let _ = is_rtcp(data);
    let Ok(compound) = Compound::parse(data) else {
        return;
    };
    let _ = compound.is_reduced_size();
    let total: usize = compound.raw_packets().map(|p| p.as_bytes().len()).sum();
    assert_eq!(total, data.len());
    for packet in compound.packets().flatten() {
        match packet {
            RtcpPacket::SenderReport(sr) => {
                let _ = sr.sender_info();
                for b in sr.report_blocks() {
                    assert!((-0x80_0000..=0x7F_FFFF).contains(&b.cumulative_lost));
                }
                let _ = sr.profile_extension();
            }
            RtcpPacket::ReceiverReport(rr) => {
                let _ = (rr.report_blocks().count(), rr.profile_extension());
            }
            RtcpPacket::Sdes(sdes) => {
                for chunk in sdes.chunks() {
                    let _ = chunk.cname();
                    for item in chunk.items() {
                        assert!(item.value.len() <= 255);
                    }
                }
            }
            RtcpPacket::Bye(bye) => {
                let _ = (bye.ssrcs().count(), bye.reason());
            }
            RtcpPacket::App(app) => {
                let _ = (app.subtype(), app.name(), app.data());
            }
            RtcpPacket::Nack(nack) => {
                assert!(nack.lost().count() <= 17 * nack.entries().len());
            }
            RtcpPacket::Pli(_) => {}
            RtcpPacket::Fir(fir) => {
                let _ = fir.entries().count();
            }
            RtcpPacket::Remb(remb) => {
                let _ = (remb.bitrate_bps(), remb.ssrcs().count());
            }
            RtcpPacket::ExtendedReport(xr) => {
                let _ = xr.blocks().count();
            }
            _ => {}
        }
    }
});
