//! Events a [`super::MediaSession`] emits. Each carries the session id, the correlation id of
//! the command or input that caused it, and the `now` of that call. All of them are
//! high-priority on the [event bus](crate::events): none may be dropped.

use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::config::CodecConfig;
use super::flow::MuteState;
use super::media_session::{FailureReason, SessionState};
use super::SessionId;
use crate::codec::PayloadType;
use crate::events::CorrelationId;

/// One event from a session.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionEvent {
    /// The session that emitted it.
    pub session: SessionId,
    /// Shared by every event one command or input caused.
    pub correlation: CorrelationId,
    /// The `now` of the call that caused it.
    pub at: Instant,
    /// What happened.
    pub kind: SessionEventKind,
}

/// What happened to a session.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SessionEventKind {
    /// The transport is up and media flows (Starting -> Active).
    Started,
    /// The session has ended (-> Stopped).
    Stopped,
    /// The session failed (-> Failed).
    Failed {
        /// Why.
        reason: FailureReason,
    },
    /// Any state change; emitted before `Started`, `Stopped` or `Failed`.
    StateChanged {
        /// The state left.
        from: SessionState,
        /// The state entered.
        to: SessionState,
    },
    /// An update changed the codec, its parameters or its payload type.
    CodecChanged {
        /// The codec before.
        from: CodecSummary,
        /// The codec now.
        to: CodecSummary,
    },
    /// An update changed (or first set, or cleared) the remote address.
    RemoteAddressChanged {
        /// The address before, if one was known.
        from: Option<SocketAddr>,
        /// The address now, if one is known.
        to: Option<SocketAddr>,
    },
    /// A mute flag changed.
    MuteChanged {
        /// Both flags as they are now.
        mute: MuteState,
    },
    /// A DTMF digit arrived.
    DtmfReceived {
        /// The digit.
        digit: DtmfDigit,
        /// How long it was held.
        duration: Duration,
    },
    /// A quality measure crossed its threshold.
    QualityAlert(QualityAlert),
}

/// The facts about a codec configuration that a log line or a controller needs. `Copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CodecSummary {
    /// Our name for the codec (`pcmu`, `g722`, `opus`).
    pub name: &'static str,
    /// The RTP payload type.
    pub payload_type: PayloadType,
    /// PCM sampling rate in Hz.
    pub sample_rate: u32,
    /// Channels.
    pub channels: u16,
    /// Packet duration in milliseconds.
    pub ptime_ms: u16,
    /// Target bitrate in bit/s, where one was set.
    pub bitrate: Option<u32>,
}

impl From<&CodecConfig> for CodecSummary {
    fn from(c: &CodecConfig) -> Self {
        let p = c.params();
        Self {
            name: c.descriptor().name,
            payload_type: c.payload_type(),
            sample_rate: p.sample_rate,
            channels: p.channels,
            ptime_ms: p.ptime_ms,
            bitrate: p.bitrate,
        }
    }
}

impl fmt::Display for CodecSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} pt {} {} Hz x{} {} ms",
            self.name, self.payload_type.0, self.sample_rate, self.channels, self.ptime_ms
        )?;
        if let Some(b) = self.bitrate {
            write!(f, " {b} bit/s")?;
        }
        Ok(())
    }
}

/// A DTMF event: the RFC 4733 event codes 0-15 (`0`-`9`, `*`, `#`, `A`-`D`) and 16 (flash).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DtmfDigit(u8);

impl DtmfDigit {
    /// Hook flash (RFC 4733 event 16).
    pub const FLASH: Self = Self(16);

    /// The digit for an RFC 4733 event code, or `None` for codes that are not DTMF.
    pub const fn from_event_code(code: u8) -> Option<Self> {
        if code <= 16 {
            Some(Self(code))
        } else {
            None
        }
    }

    /// The digit for a keypad character (`0`-`9`, `*`, `#`, `A`-`D`, case-insensitive).
    pub fn from_char(c: char) -> Option<Self> {
        let code = match c.to_ascii_uppercase() {
            d @ '0'..='9' => d as u8 - b'0',
            '*' => 10,
            '#' => 11,
            l @ 'A'..='D' => l as u8 - b'A' + 12,
            _ => return None,
        };
        Some(Self(code))
    }

    /// The RFC 4733 event code.
    pub const fn event_code(self) -> u8 {
        self.0
    }

    /// The keypad character; `!` for flash.
    pub const fn as_char(self) -> char {
        match self.0 {
            d @ 0..=9 => (b'0' + d) as char,
            10 => '*',
            11 => '#',
            l @ 12..=15 => (b'A' + l - 12) as char,
            _ => '!',
        }
    }
}

impl fmt::Display for DtmfDigit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Self::FLASH {
            f.write_str("flash")
        } else {
            write!(f, "{}", self.as_char())
        }
    }
}

/// Which quality measure an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QualityMetric {
    /// Estimated MOS (E-model or similar), 1.0-4.5; the alert fires when it falls below.
    Mos,
    /// Packet loss in percent; fires when it rises above.
    PacketLoss,
    /// Interarrival jitter in milliseconds; fires when it rises above.
    Jitter,
    /// Round-trip time in milliseconds; fires when it rises above.
    RoundTripTime,
}

/// A quality measure that crossed its threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QualityAlert {
    /// Which measure.
    pub metric: QualityMetric,
    /// Its value now.
    pub value: f32,
    /// The threshold it crossed.
    pub threshold: f32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtmf_digits_round_trip() {
        for (i, c) in "0123456789*#ABCD".chars().enumerate() {
            let d = DtmfDigit::from_char(c).unwrap();
            assert_eq!(usize::from(d.event_code()), i);
            assert_eq!(d.as_char(), c);
            assert_eq!(DtmfDigit::from_event_code(i as u8), Some(d));
        }
        assert_eq!(DtmfDigit::from_char('b').map(DtmfDigit::as_char), Some('B'));
        assert_eq!(DtmfDigit::from_char('e'), None);
        assert_eq!(DtmfDigit::from_event_code(17), None);
        assert_eq!(DtmfDigit::FLASH.to_string(), "flash");
    }
}
