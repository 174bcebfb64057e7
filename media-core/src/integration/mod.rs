//! The edges where media-core meets the rest of a VoIP stack: SDP media negotiation for the
//! signalling layer ([`sdp`]), frames to RTP through rtp-core ([`rtp_core`]), and the single
//! entry point a signalling layer drives ([`session_core`]).

mod call_quality;
mod playout;
pub mod rtp_core;
pub mod sdp;
pub mod session_core;
