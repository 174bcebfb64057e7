//! Audio codecs. Each registers a static descriptor and factory functions.

pub mod g711;
pub mod g722;
pub mod ilbc;
pub mod l16;
#[cfg(feature = "opus")]
pub mod opus;

use super::registry::CodecEntry;

/// The codecs built into this build, in no particular order (the registry sorts by priority).
pub fn builtin() -> Vec<CodecEntry> {
    #[allow(unused_mut)]
    let mut list = vec![
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
            descriptor: &g722::G722,
            priority: 101,
            new_encoder: g722::new_encoder,
            new_decoder: g722::new_decoder,
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
    ];
    #[cfg(feature = "opus")]
    list.push(CodecEntry {
        descriptor: &opus::OPUS,
        priority: 120,
        new_encoder: opus::new_encoder,
        new_decoder: opus::new_decoder,
    });
    list
}
