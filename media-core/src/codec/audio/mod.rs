//! Audio codecs. Each registers a static descriptor and factory functions.

pub mod g711;
pub mod ilbc;
pub mod l16;

use super::registry::CodecEntry;

/// The codecs built into this build, in no particular order (the registry sorts by priority).
pub fn builtin() -> Vec<CodecEntry> {
    vec![
        CodecEntry {
            descriptor: &g711::PCMU,
            priority: 100,
            new_encoder: g711::new_pcmu_encoder,
            new_decoder: g711::new_pcmu_decoder,
        },
        CodecEntry {
            descriptor: &g711::PCMA,
            priority: 99,
            new_encoder: g711::new_pcma_encoder,
            new_decoder: g711::new_pcma_decoder,
        },
        CodecEntry {
            descriptor: &ilbc::ILBC,
            priority: 50,
            new_encoder: ilbc::new_encoder,
            new_decoder: ilbc::new_decoder,
        },
        CodecEntry {
            descriptor: &l16::L16,
            priority: 10,
            new_encoder: l16::new_encoder,
            new_decoder: l16::new_decoder,
        },
    ]
}
