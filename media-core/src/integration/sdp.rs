//! SDP media negotiation for a signalling layer: RFC 4566 session descriptions, RFC 3264
//! offer/answer, RFC 3551 static payload types, RFC 4733 telephone events and RFC 4568 SDES
//! `a=crypto` lines.
//!
//! The signalling layer hands us SDP bytes from the network and gets back typed results and SDP
//! text to send; it never needs to look inside either. Three entry points:
//!
//! - [`parse_remote`]: any SDP (offer or answer) to a [`RemoteSdp`], one [`MediaSection`] per
//!   m-line, each audio one parsed into a [`RemoteMedia`] or the [`SdpError`] that makes it
//!   unusable. It takes raw bytes and never panics, so a fuzz target is one line:
//!   `let _ = media_core::integration::sdp::parse_remote(data);`
//! - [`Negotiator::answer`]: answers a remote offer, returning the [`NegotiatedMedia`] to set the
//!   call up with and the answer SDP.
//! - [`Negotiator::offer`] and [`Negotiator::process_answer`]: the other side of the exchange.
//!
//! One audio stream per call: the first acceptable audio m-line is used and every other m-line is
//! answered with port 0, with the reason in [`NegotiatedMedia::rejected`].
//!
//! Text parsing and writing is done by the `sdp-types` crate; this module adds the media-level
//! meaning, limits on size ([`MAX_SDP_BYTES`], [`MAX_MEDIA`], [`MAX_FORMATS`]) and line numbers
//! for errors found after the text has parsed.
//!
//! Nothing here has IO, a clock or a random number generator: SRTP keys come from a random source
//! the caller passes in (`&mut dyn FnMut(&mut [u8])`, to be filled with cryptographically secure
//! random bytes).
//!
//! ```
//! use media_core::codec::CodecRegistry;
//! use media_core::integration::sdp::{LocalConfig, Negotiator};
//!
//! let registry = CodecRegistry::with_builtin();
//! let config = LocalConfig::new("192.0.2.10".parse().unwrap(), 40000);
//! let negotiator = Negotiator::new(&registry, config).unwrap();
//! let offer = "v=0\r\no=- 1 1 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\n\
//!              t=0 0\r\nm=audio 5004 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";
//! // Plain RTP needs no keys; the random source is only called for SRTP.
//! let (media, answer) = negotiator.answer(offer.as_bytes(), &mut |_: &mut [u8]| {}).unwrap();
//! assert_eq!(media.codec.name, "pcma");
//! assert!(answer.contains("m=audio 40000 RTP/AVP 8 101"));
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use sdp_types as sdpt;

use crate::codec::{CodecDescriptor, CodecParams, CodecRegistry, PayloadType, SdpCodec};

/// The largest SDP we parse, in bytes.
pub const MAX_SDP_BYTES: usize = 64 * 1024;
/// The most m-lines an SDP may have.
pub const MAX_MEDIA: usize = 64;
/// The most formats (payload types) one m-line may list.
pub const MAX_FORMATS: usize = 128;

/// The longest base64 key-and-salt we decode (30 bytes encode to 40 characters).
const MAX_KEY_B64: usize = 64;
/// Packet times and maximum packet times above this many milliseconds are rejected.
const MAX_PTIME_MS: u32 = 1000;

/// Base64 as RFC 4568 uses it; some stacks leave the padding off, so accept it either way.
const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

mod error;
use error::{parser_error, shorten};
pub use error::{Rejection, SdpError};
mod attributes;
pub use attributes::{Direction, EventSet, Transport};
mod crypto;
pub use crypto::{CryptoAttribute, Mki, NegotiatedCrypto, SdesCrypto, SdesKey, SrtpSuite};
mod remote;
pub use remote::{
    parse_remote, MediaSection, RemoteFormat, RemoteMedia, RemoteSdp, RtcpAttribute, RtpMap,
    TelephoneEvent,
};
mod negotiate;
pub use negotiate::{
    LocalConfig, NegotiatedEvents, NegotiatedMedia, Negotiator, ReceiveFormat, SrtpPolicy,
};

#[cfg(test)]
mod tests;
