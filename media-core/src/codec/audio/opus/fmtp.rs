//! RFC 7587 fmtp parameters for Opus, parsed and written, and mapped to and from our settings.
//!
//! The parameters a side sends describe what it wants to *receive* (`maxplaybackrate`,
//! `maxaveragebitrate`, `stereo`, `cbr`, `useinbandfec`, `usedtx`, `ptime`, `minptime`,
//! `maxptime`) and what it will *send* (`sprop-maxcapturerate`, `sprop-stereo`). So the remote
//! side's fmtp constrains our encoder ([`OpusEncoderConfig::apply_fmtp`]), and the fmtp we
//! advertise comes from our decoder's preferences plus our encoder's properties
//! ([`OpusFmtp::from_config`]).

use super::{
    check_bitrate, Bandwidth, BitrateMode, OpusDecoderConfig, OpusEncoderConfig,
    FRAME_DURATIONS_MS, MAX_PACKET_MS,
};
use crate::error::CodecError;
use std::fmt;

/// The RFC 7587 parameters of one `a=fmtp` line; `None` where the line does not say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpusFmtp {
    /// `maxplaybackrate`: the highest rate the receiver renders, 8000..=48000 Hz.
    pub max_playback_rate: Option<u32>,
    /// `sprop-maxcapturerate`: the highest rate the sender captures, 8000..=48000 Hz.
    pub sprop_max_capture_rate: Option<u32>,
    /// `maxaveragebitrate`: the most the receiver wants, 6000..=510000 bit/s.
    pub max_average_bitrate: Option<u32>,
    /// `stereo`: whether the receiver prefers stereo.
    pub stereo: Option<bool>,
    /// `sprop-stereo`: whether the sender is likely to send stereo.
    pub sprop_stereo: Option<bool>,
    /// `cbr`: whether the receiver prefers a constant bitrate.
    pub cbr: Option<bool>,
    /// `useinbandfec`: whether the receiver can use in-band FEC.
    pub use_inband_fec: Option<bool>,
    /// `usedtx`: whether the receiver prefers DTX.
    pub use_dtx: Option<bool>,
    /// `ptime`: the packet duration the receiver prefers, ms.
    pub ptime: Option<u16>,
    /// `minptime`: the shortest packet duration the receiver wants, ms.
    pub min_ptime: Option<u16>,
    /// `maxptime`: the longest packet duration the receiver wants, ms.
    pub max_ptime: Option<u16>,
}

fn invalid(name: &'static str, value: &str, supported: &str) -> CodecError {
    CodecError::UnsupportedParameter {
        name,
        value: value.to_string(),
        supported: supported.to_string(),
    }
}

fn parse_bool(name: &'static str, v: &str) -> Result<bool, CodecError> {
    match v {
        "0" => Ok(false),
        "1" => Ok(true),
        _ => Err(invalid(name, v, "0, 1")),
    }
}

fn parse_u32(name: &'static str, v: &str, lo: u32, hi: u32) -> Result<u32, CodecError> {
    match v.parse::<u32>() {
        Ok(x) if (lo..=hi).contains(&x) => Ok(x),
        _ => Err(invalid(name, v, &format!("{lo}..={hi}"))),
    }
}

fn parse_ptime(name: &'static str, v: &str) -> Result<u16, CodecError> {
    // Opus packets last 2.5..=120 ms; an integer ptime of 1..=120 is meaningful.
    parse_u32(name, v, 1, MAX_PACKET_MS).map(|x| x as u16)
}

impl OpusFmtp {
    /// Parses an fmtp value such as `minptime=10; useinbandfec=1`. Separators may carry
    /// spaces, names are matched case-insensitively, unknown parameters (and ones with no
    /// `=`) are ignored, and a later duplicate wins. A known parameter with a value RFC 7587
    /// does not allow is an [`CodecError::UnsupportedParameter`].
    pub fn parse(s: &str) -> Result<Self, CodecError> {
        let mut f = Self::default();
        for item in s.split(';') {
            let Some((key, value)) = item.split_once('=') else {
                continue;
            };
            let key = key.trim();
            let v = value.trim();
            let is = |name: &str| key.eq_ignore_ascii_case(name);
            if is("maxplaybackrate") {
                f.max_playback_rate = Some(parse_u32("maxplaybackrate", v, 8000, 48000)?);
            } else if is("sprop-maxcapturerate") {
                f.sprop_max_capture_rate = Some(parse_u32("sprop-maxcapturerate", v, 8000, 48000)?);
            } else if is("maxaveragebitrate") {
                f.max_average_bitrate = Some(parse_u32("maxaveragebitrate", v, 6000, 510_000)?);
            } else if is("stereo") {
                f.stereo = Some(parse_bool("stereo", v)?);
            } else if is("sprop-stereo") {
                f.sprop_stereo = Some(parse_bool("sprop-stereo", v)?);
            } else if is("cbr") {
                f.cbr = Some(parse_bool("cbr", v)?);
            } else if is("useinbandfec") {
                f.use_inband_fec = Some(parse_bool("useinbandfec", v)?);
            } else if is("usedtx") {
                f.use_dtx = Some(parse_bool("usedtx", v)?);
            } else if is("ptime") {
                f.ptime = Some(parse_ptime("ptime", v)?);
            } else if is("minptime") {
                f.min_ptime = Some(parse_ptime("minptime", v)?);
            } else if is("maxptime") {
                f.max_ptime = Some(parse_ptime("maxptime", v)?);
            }
        }
        Ok(f)
    }

    /// The fmtp this side advertises: what `dec` would like to receive, and what `enc` will
    /// send. Defaults are left out, so the default configs give the descriptor's
    /// `minptime=10;useinbandfec=1`.
    pub fn from_config(enc: &OpusEncoderConfig, dec: &OpusDecoderConfig) -> Self {
        let flag = |b: bool| b.then_some(true);
        let below_48k = |r: u32| (r < 48000).then_some(r);
        Self {
            max_playback_rate: below_48k(dec.sample_rate),
            sprop_max_capture_rate: below_48k(enc.sample_rate),
            max_average_bitrate: dec.max_average_bitrate,
            stereo: flag(dec.channels == 2),
            sprop_stereo: flag(enc.channels == 2 && !enc.force_mono),
            cbr: flag(dec.prefer_cbr),
            use_inband_fec: flag(dec.inband_fec),
            use_dtx: flag(dec.prefer_dtx),
            ptime: dec.ptime_ms,
            min_ptime: dec.min_ptime_ms,
            max_ptime: None,
        }
    }
}

impl fmt::Display for OpusFmtp {
    /// `name=value` pairs joined by `;`, in a fixed order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        let mut put = |f: &mut fmt::Formatter<'_>, name: &str, v: &dyn fmt::Display| {
            let r = write!(f, "{sep}{name}={v}");
            sep = ";";
            r
        };
        let b = |x: bool| u8::from(x);
        if let Some(v) = self.min_ptime {
            put(f, "minptime", &v)?;
        }
        if let Some(v) = self.ptime {
            put(f, "ptime", &v)?;
        }
        if let Some(v) = self.max_ptime {
            put(f, "maxptime", &v)?;
        }
        if let Some(v) = self.use_inband_fec {
            put(f, "useinbandfec", &b(v))?;
        }
        if let Some(v) = self.use_dtx {
            put(f, "usedtx", &b(v))?;
        }
        if let Some(v) = self.cbr {
            put(f, "cbr", &b(v))?;
        }
        if let Some(v) = self.stereo {
            put(f, "stereo", &b(v))?;
        }
        if let Some(v) = self.sprop_stereo {
            put(f, "sprop-stereo", &b(v))?;
        }
        if let Some(v) = self.max_playback_rate {
            put(f, "maxplaybackrate", &v)?;
        }
        if let Some(v) = self.sprop_max_capture_rate {
            put(f, "sprop-maxcapturerate", &v)?;
        }
        if let Some(v) = self.max_average_bitrate {
            put(f, "maxaveragebitrate", &v)?;
        }
        Ok(())
    }
}

/// The longest frame we make that is no longer than `ms` (10 ms at least).
fn frame_at_most(ms: u16) -> u16 {
    FRAME_DURATIONS_MS
        .iter()
        .copied()
        .filter(|&d| d <= ms)
        .max()
        .unwrap_or(FRAME_DURATIONS_MS[0])
}

/// The shortest frame we make that is no shorter than `ms` (60 ms at most).
fn frame_at_least(ms: u16) -> u16 {
    FRAME_DURATIONS_MS
        .iter()
        .copied()
        .find(|&d| d >= ms)
        .unwrap_or(FRAME_DURATIONS_MS[FRAME_DURATIONS_MS.len() - 1])
}

impl OpusEncoderConfig {
    /// Applies the remote side's fmtp (what it wants to receive) to what we send. A boolean
    /// it leaves out takes RFC 7587's default, 0:
    ///
    /// | parameter | effect |
    /// |---|---|
    /// | `maxaveragebitrate` | bitrate capped to it |
    /// | `maxplaybackrate` | max bandwidth capped to what that rate can play |
    /// | `stereo` | stereo input coded as stereo only with `stereo=1` (`force_mono` otherwise) |
    /// | `cbr` | constant bitrate with `cbr=1`; otherwise the mode is left alone |
    /// | `useinbandfec` | in-band FEC on only with `useinbandfec=1` |
    /// | `usedtx` | DTX on only with `usedtx=1` |
    /// | `ptime` | frame duration: the longest of ours not above it |
    /// | `maxptime` | frame duration capped to it |
    /// | `minptime` | frame duration raised to it |
    ///
    /// `sprop-*` describe the remote side's sending and change nothing here. The input format
    /// (rate, channels) is ours and is kept. The result is validated.
    pub fn apply_fmtp(&mut self, remote: &OpusFmtp) -> Result<(), CodecError> {
        if let Some(b) = remote.max_average_bitrate {
            check_bitrate(b)?;
            self.bitrate = self.bitrate.min(b);
        }
        if let Some(rate) = remote.max_playback_rate {
            self.max_bandwidth = self.max_bandwidth.min(Bandwidth::for_rate(rate));
        }
        self.force_mono = !remote.stereo.unwrap_or(false);
        if remote.cbr == Some(true) {
            self.bitrate_mode = BitrateMode::Cbr;
        }
        self.inband_fec = remote.use_inband_fec.unwrap_or(false);
        self.dtx = remote.use_dtx.unwrap_or(false);
        if let Some(p) = remote.ptime {
            self.frame_ms = frame_at_most(p);
        }
        if let Some(p) = remote.max_ptime {
            self.frame_ms = self.frame_ms.min(frame_at_most(p));
        }
        if let Some(p) = remote.min_ptime {
            self.frame_ms = self.frame_ms.max(frame_at_least(p));
        }
        self.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::super::OPUS;
    use super::*;

    #[test]
    fn parses_every_parameter() {
        let f = OpusFmtp::parse(
            "maxplaybackrate=16000;sprop-maxcapturerate=24000;maxaveragebitrate=20000;\
             stereo=1;sprop-stereo=0;cbr=1;useinbandfec=1;usedtx=0;ptime=40;minptime=10;\
             maxptime=60",
        )
        .unwrap();
        assert_eq!(
            f,
            OpusFmtp {
                max_playback_rate: Some(16000),
                sprop_max_capture_rate: Some(24000),
                max_average_bitrate: Some(20000),
                stereo: Some(true),
                sprop_stereo: Some(false),
                cbr: Some(true),
                use_inband_fec: Some(true),
                use_dtx: Some(false),
                ptime: Some(40),
                min_ptime: Some(10),
                max_ptime: Some(60),
            }
        );
    }

    #[test]
    fn tolerant_of_spaces_case_unknowns_and_empties() {
        let f = OpusFmtp::parse(
            "  minptime = 10 ;;UseInbandFec=1; x-google-min-bitrate=30; flag ; stereo=0;",
        )
        .unwrap();
        assert_eq!(f.min_ptime, Some(10));
        assert_eq!(f.use_inband_fec, Some(true));
        assert_eq!(f.stereo, Some(false));
        assert_eq!(OpusFmtp::parse("").unwrap(), OpusFmtp::default());
        // Later duplicates win.
        assert_eq!(
            OpusFmtp::parse("usedtx=1;usedtx=0").unwrap().use_dtx,
            Some(false)
        );
    }

    #[test]
    fn rejects_invalid_values() {
        for bad in [
            "useinbandfec=2",
            "useinbandfec=yes",
            "stereo=",
            "maxplaybackrate=7999",
            "maxplaybackrate=96000",
            "sprop-maxcapturerate=-1",
            "maxaveragebitrate=5999",
            "maxaveragebitrate=510001",
            "maxaveragebitrate=1e5",
            "ptime=0",
            "minptime=121",
            "maxptime=abc",
            "cbr=1.0",
        ] {
            match OpusFmtp::parse(bad) {
                Err(CodecError::UnsupportedParameter { name, .. }) => {
                    assert!(bad.starts_with(name), "{bad}: {name}")
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn writes_and_reparses() {
        let f = OpusFmtp::parse(
            "stereo=1;sprop-stereo=1;maxplaybackrate=24000;sprop-maxcapturerate=16000;\
             maxaveragebitrate=40000;cbr=0;usedtx=1;useinbandfec=0;ptime=20;minptime=10;\
             maxptime=120",
        )
        .unwrap();
        assert_eq!(OpusFmtp::parse(&f.to_string()).unwrap(), f);
        assert_eq!(OpusFmtp::default().to_string(), "");
    }

    #[test]
    fn default_configs_give_the_descriptor_fmtp() {
        let f = OpusFmtp::from_config(&OpusEncoderConfig::default(), &OpusDecoderConfig::default());
        assert_eq!(Some(f.to_string().as_str()), OPUS.fmtp);
    }

    #[test]
    fn from_config_says_what_we_want_and_send() {
        let enc = OpusEncoderConfig {
            sample_rate: 16000,
            channels: 2,
            ..Default::default()
        };
        let dec = OpusDecoderConfig {
            sample_rate: 24000,
            channels: 2,
            inband_fec: false,
            prefer_dtx: true,
            prefer_cbr: true,
            max_average_bitrate: Some(40000),
            ptime_ms: Some(40),
            min_ptime_ms: None,
            ..Default::default()
        };
        assert_eq!(
            OpusFmtp::from_config(&enc, &dec).to_string(),
            "ptime=40;usedtx=1;cbr=1;stereo=1;sprop-stereo=1;maxplaybackrate=24000;\
             sprop-maxcapturerate=16000;maxaveragebitrate=40000"
        );
    }

    #[test]
    fn remote_fmtp_constrains_the_encoder() {
        let mut cfg = OpusEncoderConfig {
            channels: 2,
            bitrate: 64000,
            inband_fec: false,
            ..Default::default()
        };
        let remote = OpusFmtp::parse(
            "maxaveragebitrate=24000;maxplaybackrate=16000;stereo=0;cbr=1;useinbandfec=1;\
             usedtx=1;ptime=60;maxptime=40;sprop-stereo=1;sprop-maxcapturerate=8000",
        )
        .unwrap();
        cfg.apply_fmtp(&remote).unwrap();
        assert_eq!(cfg.bitrate, 24000);
        assert_eq!(cfg.max_bandwidth, Bandwidth::Wideband);
        assert!(cfg.force_mono);
        assert_eq!(cfg.bitrate_mode, BitrateMode::Cbr);
        assert!(cfg.inband_fec && cfg.dtx);
        assert_eq!(cfg.frame_ms, 40);
        // The input format is ours to choose: unchanged.
        assert_eq!((cfg.sample_rate, cfg.channels), (48000, 2));

        // A lower bitrate is kept; ptime rounds down to a frame we make; minptime raises it.
        // Booleans left out mean 0: no FEC, no DTX, mono.
        let mut cfg = OpusEncoderConfig {
            bitrate: 16000,
            channels: 2,
            dtx: true,
            ..Default::default()
        };
        cfg.apply_fmtp(&OpusFmtp::parse("maxaveragebitrate=24000;ptime=30").unwrap())
            .unwrap();
        assert_eq!((cfg.bitrate, cfg.frame_ms), (16000, 20));
        assert!(!cfg.inband_fec && !cfg.dtx && cfg.force_mono);
        cfg.apply_fmtp(&OpusFmtp::parse("minptime=25").unwrap())
            .unwrap();
        assert_eq!(cfg.frame_ms, 40);
        cfg.apply_fmtp(&OpusFmtp::parse("ptime=5;stereo=1;cbr=0").unwrap())
            .unwrap();
        assert_eq!(cfg.frame_ms, 10);
        assert!(!cfg.force_mono);
        assert_eq!(cfg.bitrate_mode, BitrateMode::ConstrainedVbr);
    }

    #[test]
    fn our_offer_configures_their_encoder() {
        // What we advertise, applied by the other side, gives what we asked for.
        let dec = OpusDecoderConfig {
            sample_rate: 16000,
            channels: 1,
            max_average_bitrate: Some(20000),
            ..Default::default()
        };
        let offer = OpusFmtp::from_config(&OpusEncoderConfig::default(), &dec).to_string();
        let mut theirs = OpusEncoderConfig {
            channels: 2,
            ..Default::default()
        };
        theirs
            .apply_fmtp(&OpusFmtp::parse(&offer).unwrap())
            .unwrap();
        assert_eq!(theirs.bitrate, 20000);
        assert_eq!(theirs.max_bandwidth, Bandwidth::Wideband);
        assert!(theirs.inband_fec);
        // We want mono (no `stereo=1`): their stereo input is coded as mono.
        assert!(theirs.force_mono);
    }

    #[test]
    fn invalid_struct_values_are_caught() {
        let mut cfg = OpusEncoderConfig::default();
        let bad = OpusFmtp {
            max_average_bitrate: Some(100),
            ..Default::default()
        };
        assert!(cfg.apply_fmtp(&bad).is_err());
    }
}
