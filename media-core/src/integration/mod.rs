//! The edges where media-core meets the rest of a VoIP stack: SDP media negotiation for the
//! signalling layer (the transport and session-controller adapters join this module later).

pub mod sdp;
