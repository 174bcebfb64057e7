//! The codec framework: encoder and decoder traits that write into caller buffers, static codec
//! descriptors, and a registry that finds codecs by name or by what SDP says.

pub mod audio;
pub mod registry;
pub mod traits;

pub use registry::{CodecEntry, CodecRegistry, SdpCodec};
pub use traits::{
    AudioDecoder, AudioEncoder, Bitrates, CodecDescriptor, CodecParams, PayloadType, RtpClock,
};
