//! The codec registry: descriptors plus factory functions, ordered by priority. Lookups by our
//! name, by an SDP rtpmap, and the capability list from which SDP offers are written.

use super::traits::{
    AudioDecoder, AudioEncoder, CodecDescriptor, CodecParams, PayloadType, RtpClock,
};
use crate::error::CodecError;

/// Makes an encoder from parameters that the descriptor has validated.
pub type EncoderFactory = fn(&CodecParams) -> Result<Box<dyn AudioEncoder>, CodecError>;
/// Makes a decoder from parameters that the descriptor has validated.
pub type DecoderFactory = fn(&CodecParams) -> Result<Box<dyn AudioDecoder>, CodecError>;

/// One registered codec.
#[derive(Debug, Clone, Copy)]
pub struct CodecEntry {
    /// What the codec is.
    pub descriptor: &'static CodecDescriptor,
    /// Higher is offered first.
    pub priority: u8,
    /// Encoder factory.
    pub new_encoder: EncoderFactory,
    /// Decoder factory.
    pub new_decoder: DecoderFactory,
}

/// One codec as it appears in an SDP media section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdpCodec {
    /// The payload type: static where the codec has one, else dynamic from 96 up.
    pub payload_type: PayloadType,
    /// The `a=rtpmap` value after the payload type, e.g. `PCMU/8000` or `opus/48000/2`.
    pub rtpmap: String,
    /// The `a=fmtp` value after the payload type, if any.
    pub fmtp: Option<String>,
    /// The codec.
    pub descriptor: &'static CodecDescriptor,
}

/// The set of codecs this engine can use, ordered by priority.
#[derive(Debug, Clone, Default)]
pub struct CodecRegistry {
    entries: Vec<CodecEntry>,
}

impl CodecRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every codec built into this build (optional codecs depend on cargo features).
    pub fn with_builtin() -> Self {
        let mut reg = Self::new();
        for entry in super::audio::builtin() {
            reg.register(entry);
        }
        reg
    }

    /// Adds a codec, replacing one of the same name.
    pub fn register(&mut self, entry: CodecEntry) {
        self.entries.retain(|e| {
            !e.descriptor
                .name
                .eq_ignore_ascii_case(entry.descriptor.name)
        });
        // Stable sort keeps registration order among equal priorities.
        let pos = self
            .entries
            .iter()
            .position(|e| e.priority < entry.priority)
            .unwrap_or(self.entries.len());
        self.entries.insert(pos, entry);
    }

    /// All codecs, highest priority first.
    pub fn entries(&self) -> &[CodecEntry] {
        &self.entries
    }

    /// The names of all codecs, highest priority first.
    pub fn names(&self) -> Vec<&'static str> {
        self.entries.iter().map(|e| e.descriptor.name).collect()
    }

    /// The codec called `name` (case-insensitive; our name or the RTP encoding name).
    pub fn find(&self, name: &str) -> Result<&CodecEntry, CodecError> {
        self.entries
            .iter()
            .find(|e| {
                e.descriptor.name.eq_ignore_ascii_case(name)
                    || e.descriptor.encoding_name.eq_ignore_ascii_case(name)
            })
            .ok_or_else(|| CodecError::UnknownCodec {
                name: name.to_string(),
                known: self.names(),
            })
    }

    /// The codec an SDP `a=rtpmap` value names (`PCMU/8000`, `opus/48000/2`, `L16/16000`),
    /// with the parameters it implies. `None` when it is malformed or names nothing we have.
    pub fn find_rtpmap(&self, rtpmap: &str) -> Option<(&CodecEntry, CodecParams)> {
        let mut parts = rtpmap.trim().split('/');
        let enc = parts.next()?;
        let clock: u32 = parts.next()?.trim().parse().ok()?;
        let channels_named: Option<u16> = match parts.next() {
            Some(c) => Some(c.trim().parse().ok()?),
            None => None,
        };
        if parts.next().is_some() {
            return None;
        }
        self.entries.iter().find_map(|e| {
            let d = e.descriptor;
            if !d.encoding_name.eq_ignore_ascii_case(enc) {
                return None;
            }
            // A fixed clock (Opus) says nothing about the sampling rate: use the default one.
            // Otherwise find the sample rate whose RTP clock is the one named.
            let rate = match d.rtp_clock {
                RtpClock::Fixed => (clock == d.clock_rate).then_some(d.sample_rate)?,
                RtpClock::Scaled => d
                    .sample_rates
                    .iter()
                    .copied()
                    .find(|&r| d.clock_rate_at(r) == clock)?,
            };
            let channels = match d.rtpmap_channels {
                // The rtpmap count is a constant (Opus: always 2, RFC 7587); the real count is
                // negotiated in fmtp, so start from the default.
                Some(fixed) => {
                    if channels_named.is_some_and(|c| c != fixed) {
                        return None;
                    }
                    d.channels
                }
                None => channels_named.unwrap_or(1),
            };
            if channels == 0 || channels > d.max_channels {
                return None;
            }
            let mut params = CodecParams::defaults(d);
            params.sample_rate = rate;
            params.channels = channels;
            Some((e, params))
        })
    }

    /// The SDP lines for every codec, highest priority first. Codecs with a static payload type
    /// keep it; the others get dynamic types from 96 up.
    pub fn capabilities(&self) -> Vec<SdpCodec> {
        let mut next_dynamic = 96u8;
        self.entries
            .iter()
            .map(|e| {
                let d = e.descriptor;
                let payload_type = match d.payload_type {
                    Some(pt) => PayloadType(pt),
                    None => {
                        let pt = PayloadType(next_dynamic);
                        next_dynamic = next_dynamic.saturating_add(1).min(127);
                        pt
                    }
                };
                let rtpmap = match d.rtpmap_channels {
                    Some(n) => format!("{}/{}/{}", d.encoding_name, d.clock_rate, n),
                    None if d.channels > 1 => {
                        format!("{}/{}/{}", d.encoding_name, d.clock_rate, d.channels)
                    }
                    None => format!("{}/{}", d.encoding_name, d.clock_rate),
                };
                SdpCodec {
                    payload_type,
                    rtpmap,
                    fmtp: d.fmtp.map(str::to_string),
                    descriptor: d,
                }
            })
            .collect()
    }

    /// An encoder for `name` with `params`, validated against the codec's descriptor.
    pub fn encoder(
        &self,
        name: &str,
        params: &CodecParams,
    ) -> Result<Box<dyn AudioEncoder>, CodecError> {
        let e = self.find(name)?;
        e.descriptor.validate(params)?;
        (e.new_encoder)(params)
    }

    /// A decoder for `name` with `params`, validated against the codec's descriptor.
    pub fn decoder(
        &self,
        name: &str,
        params: &CodecParams,
    ) -> Result<Box<dyn AudioDecoder>, CodecError> {
        let e = self.find(name)?;
        e.descriptor.validate(params)?;
        (e.new_decoder)(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_by_name_is_case_insensitive_and_lists_known() {
        let reg = CodecRegistry::with_builtin();
        assert_eq!(reg.find("PcMu").map(|e| e.descriptor.name), Ok("pcmu"));
        assert_eq!(reg.find("PCMA").map(|e| e.descriptor.name), Ok("pcma"));
        match reg.find("speex") {
            Err(CodecError::UnknownCodec { name, known }) => {
                assert_eq!(name, "speex");
                assert!(known.contains(&"pcmu") && known.contains(&"l16"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rtpmap_lookup() {
        let reg = CodecRegistry::with_builtin();
        let (e, p) = reg.find_rtpmap("PCMU/8000").unwrap();
        assert_eq!(
            (e.descriptor.name, p.sample_rate, p.channels),
            ("pcmu", 8000, 1)
        );
        let (e, p) = reg.find_rtpmap("L16/16000/2").unwrap();
        assert_eq!(
            (e.descriptor.name, p.sample_rate, p.channels),
            ("l16", 16000, 2)
        );
        for bad in [
            "PCMU",
            "PCMU/abc",
            "PCMU/16000",
            "PCMU/8000/2",
            "L16/8000/1/1",
            "",
            "/",
        ] {
            assert!(reg.find_rtpmap(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn capabilities_follow_priority_and_payload_types() {
        let reg = CodecRegistry::with_builtin();
        let caps = reg.capabilities();
        let by_name = |n: &str| caps.iter().position(|c| c.descriptor.name == n).unwrap();
        let (pcmu, pcma) = (by_name("pcmu"), by_name("pcma"));
        assert!(pcmu < pcma);
        assert_eq!(caps[pcmu].rtpmap, "PCMU/8000");
        assert_eq!(caps[pcmu].payload_type, PayloadType(0));
        assert_eq!(caps[pcma].payload_type, PayloadType(8));
        // Descending priority.
        let prio: Vec<u8> = reg.entries().iter().map(|e| e.priority).collect();
        assert!(prio.windows(2).all(|w| w[0] >= w[1]));
        let l16 = caps.iter().find(|c| c.descriptor.name == "l16").unwrap();
        assert_eq!(
            (l16.payload_type, l16.rtpmap.as_str()),
            (PayloadType(11), "L16/44100")
        );
        // Every dynamic type is unique and in range.
        let mut pts: Vec<u8> = caps.iter().map(|c| c.payload_type.0).collect();
        pts.sort_unstable();
        pts.dedup();
        assert_eq!(pts.len(), caps.len());
    }

    #[test]
    fn validation_rejects_out_of_range_params() {
        let reg = CodecRegistry::with_builtin();
        let mut p = CodecParams::defaults(&crate::codec::audio::g711::PCMU);
        p.ptime_ms = 25;
        assert!(matches!(
            reg.encoder("pcmu", &p),
            Err(CodecError::UnsupportedParameter { name: "ptime", .. })
        ));
        p.ptime_ms = 20;
        p.sample_rate = 16000;
        assert!(reg.decoder("pcmu", &p).is_err());
        p.sample_rate = 8000;
        p.bitrate = Some(64000);
        assert!(matches!(
            reg.encoder("pcmu", &p),
            Err(CodecError::UnsupportedParameter {
                name: "bitrate",
                ..
            })
        ));
    }

    use crate::codec::traits::Bitrates;

    static FIXED: CodecDescriptor = CodecDescriptor {
        name: "fixedclock",
        encoding_name: "FIXEDCLOCK",
        clock_rate: 48000,
        rtp_clock: RtpClock::Fixed,
        rtpmap_channels: Some(2),
        sample_rate: 48000,
        sample_rates: &[16000, 48000],
        channels: 1,
        max_channels: 2,
        ptimes: &[20],
        default_ptime: 20,
        payload_type: None,
        fmtp: None,
        bitrates: Bitrates::Fixed,
        sample_based: false,
    };

    fn no_encoder(_: &CodecParams) -> Result<Box<dyn AudioEncoder>, CodecError> {
        Err(CodecError::Library("test".into()))
    }
    fn no_decoder(_: &CodecParams) -> Result<Box<dyn AudioDecoder>, CodecError> {
        Err(CodecError::Library("test".into()))
    }

    fn registry() -> CodecRegistry {
        let mut reg = CodecRegistry::with_builtin();
        reg.register(CodecEntry {
            descriptor: &FIXED,
            priority: 1,
            new_encoder: no_encoder,
            new_decoder: no_decoder,
        });
        reg
    }

    #[test]
    fn fixed_clock_does_not_scale() {
        assert_eq!(FIXED.clock_rate_at(16000), 48000);
        let l16 = registry().find("l16").unwrap().descriptor;
        assert_eq!(l16.clock_rate_at(16000), 16000);
    }

    #[test]
    fn rtpmap_with_fixed_clock_and_channels() {
        let reg = registry();
        let (e, p) = reg.find_rtpmap("FIXEDCLOCK/48000/2").unwrap();
        assert_eq!(e.descriptor.name, "fixedclock");
        // The default rate and channel count: the rtpmap says neither.
        assert_eq!((p.sample_rate, p.channels), (48000, 1));
        // Tolerated: the channel count left out.
        assert!(reg.find_rtpmap("fixedclock/48000").is_some());
        assert!(reg.find_rtpmap("FIXEDCLOCK/16000/2").is_none());
        assert!(reg.find_rtpmap("FIXEDCLOCK/48000/1").is_none());
        // Scaled clocks still find their rate and channels.
        let (_, p) = reg.find_rtpmap("L16/16000/2").unwrap();
        assert_eq!((p.sample_rate, p.channels), (16000, 2));
        let (_, p) = reg.find_rtpmap("PCMU/8000").unwrap();
        assert_eq!((p.sample_rate, p.channels), (8000, 1));
    }

    #[test]
    fn capabilities_write_the_fixed_channel_count() {
        let caps = registry().capabilities();
        let rtpmap = |name: &str| {
            caps.iter()
                .find(|c| c.descriptor.name == name)
                .map(|c| c.rtpmap.clone())
                .unwrap()
        };
        assert_eq!(rtpmap("fixedclock"), "FIXEDCLOCK/48000/2");
        assert_eq!(rtpmap("pcmu"), "PCMU/8000");
        assert_eq!(rtpmap("l16"), "L16/44100");
    }
}
