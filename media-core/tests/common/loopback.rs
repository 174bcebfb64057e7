//! The configuration of a `MediaTransportAdapter` for virtual-time tests that put two adapters
//! back to back on 127.0.0.1. Include with `#[path = "common/loopback.rs"] mod loopback;`.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use media_core::codec::{CodecDescriptor, CodecParams};
use media_core::integration::rtp_core::AdapterConfig;

/// 127.0.0.1:`port`.
pub fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// An adapter on port `local` sending to `remote` (RTCP muxed): CNAME `{cname}{local}`, the
/// same payload type both ways, no DTMF, no SRTP, a 40-300 ms jitter buffer, no adaptation,
/// RTCP at least 5 s apart, seeded with `local`. Tests change the fields they exercise.
pub fn adapter_config(
    cname: &str,
    codec: &'static CodecDescriptor,
    params: CodecParams,
    payload_type: u8,
    local: u16,
    remote: u16,
) -> AdapterConfig {
    AdapterConfig {
        cname: format!("{cname}{local}"),
        remote_rtp: Some(addr(remote)),
        remote_rtcp: None,
        rtcp_mux: true,
        codec,
        params,
        payload_type,
        receive_payload_type: payload_type,
        dtmf: None,
        other_payload_types: Vec::new(),
        srtp: None,
        jitter_min_ms: 40,
        jitter_max_ms: 300,
        seed: u64::from(local),
        adaptation: false,
        rtcp_min_interval: Duration::from_secs(5),
        max_ptime_ms: None,
    }
}
