//! Pieces shared by the tests that run calls between `MediaSessionController`s on virtual time
//! (`call_virtual.rs`, `adaptation_virtual.rs`, `call_alloc.rs`). Include with
//! `#[path = "common/virtual_call.rs"] mod virtual_call;`.
#![allow(dead_code)]

use std::net::SocketAddr;

use media_core::codec::CodecRegistry;
use media_core::integration::sdp::SrtpPolicy;
use media_core::integration::session_core::{ControllerConfig, MediaSessionController, RandomFill};
use rtp_core::netem::WireSize;

/// A datagram in flight through rtp-core's netem, with the address it was sent from.
#[derive(Clone)]
pub struct Dgram {
    pub from: SocketAddr,
    pub bytes: Vec<u8>,
}

impl WireSize for Dgram {
    fn wire_size(&self) -> usize {
        self.bytes.len()
    }
}

/// A deterministic stand-in for the secure random source (SRTP keys, SSRC seed): a 64-bit LCG.
pub fn seeded(seed: u64) -> RandomFill {
    let mut s = seed;
    Box::new(move |buf: &mut [u8]| {
        for b in buf {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            *b = (s >> 33) as u8;
        }
    })
}

/// A controller on `addr` offering `codecs` (comma-separated, in order of preference), with
/// SRTP required or disabled, seeded with `seed`.
pub fn controller(addr: SocketAddr, codecs: &str, srtp: bool, seed: u64) -> MediaSessionController {
    let mut cfg = ControllerConfig::new(addr);
    cfg.codecs = codecs.split(',').map(str::to_string).collect();
    cfg.srtp = if srtp {
        SrtpPolicy::Required
    } else {
        SrtpPolicy::Disabled
    };
    MediaSessionController::new(CodecRegistry::with_builtin(), cfg, seeded(seed)).unwrap()
}
