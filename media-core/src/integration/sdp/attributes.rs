//! Small media-level types: RTP transport profile, stream direction, telephone-event sets.

use super::*;

/// The RTP transport profiles we carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// `RTP/AVP` (RFC 3551).
    RtpAvp,
    /// `RTP/AVPF` (RFC 4585); we send no RTCP feedback, which the profile allows.
    RtpAvpf,
    /// `RTP/SAVP` (RFC 3711), keyed by SDES `a=crypto`.
    RtpSavp,
    /// `RTP/SAVPF` (RFC 5124), keyed by SDES `a=crypto`.
    RtpSavpf,
}

impl Transport {
    /// The protocol as written on the m-line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RtpAvp => "RTP/AVP",
            Self::RtpAvpf => "RTP/AVPF",
            Self::RtpSavp => "RTP/SAVP",
            Self::RtpSavpf => "RTP/SAVPF",
        }
    }

    /// Whether the profile is SRTP.
    pub fn is_secure(self) -> bool {
        matches!(self, Self::RtpSavp | Self::RtpSavpf)
    }

    /// The profile an m-line names (case-insensitive), or why we cannot carry it.
    pub fn parse(proto: &str) -> Result<Self, &'static str> {
        const KNOWN: [Transport; 4] = [
            Transport::RtpAvp,
            Transport::RtpAvpf,
            Transport::RtpSavp,
            Transport::RtpSavpf,
        ];
        if let Some(t) = KNOWN
            .iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(proto))
        {
            return Ok(*t);
        }
        let upper = proto.to_ascii_uppercase();
        Err(if upper.contains("TLS") || upper.contains("DTLS") {
            "DTLS-SRTP is not supported (yet); only SDES a=crypto keying"
        } else if upper.contains("TCP") {
            "RTP over TCP is not supported"
        } else {
            "not an RTP profile we support (RTP/AVP, RTP/AVPF, RTP/SAVP, RTP/SAVPF)"
        })
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The direction of a media stream, from the point of view of whoever wrote the SDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// Sends and receives.
    #[default]
    SendRecv,
    /// Only sends.
    SendOnly,
    /// Only receives.
    RecvOnly,
    /// Neither.
    Inactive,
}

impl Direction {
    fn from_flags(send: bool, recv: bool) -> Self {
        match (send, recv) {
            (true, true) => Self::SendRecv,
            (true, false) => Self::SendOnly,
            (false, true) => Self::RecvOnly,
            (false, false) => Self::Inactive,
        }
    }

    /// The attribute name (`sendrecv`, `sendonly`, `recvonly`, `inactive`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SendRecv => "sendrecv",
            Self::SendOnly => "sendonly",
            Self::RecvOnly => "recvonly",
            Self::Inactive => "inactive",
        }
    }

    /// The direction an attribute name means (case-insensitive).
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::SendRecv,
            Self::SendOnly,
            Self::RecvOnly,
            Self::Inactive,
        ]
        .into_iter()
        .find(|d| d.as_str().eq_ignore_ascii_case(name))
    }

    /// Whether media is sent.
    pub fn sends(self) -> bool {
        matches!(self, Self::SendRecv | Self::SendOnly)
    }

    /// Whether media is received.
    pub fn receives(self) -> bool {
        matches!(self, Self::SendRecv | Self::RecvOnly)
    }

    /// The same stream seen from the other end: sendonly becomes recvonly and back.
    pub fn reversed(self) -> Self {
        Self::from_flags(self.receives(), self.sends())
    }

    /// What both allow.
    pub fn intersect(self, other: Self) -> Self {
        Self::from_flags(
            self.sends() && other.sends(),
            self.receives() && other.receives(),
        )
    }

    /// Whether everything `self` does, `other` allows.
    pub fn within(self, other: Self) -> bool {
        (!self.sends() || other.sends()) && (!self.receives() || other.receives())
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of RFC 4733 event codes (0-255), as an `a=fmtp` line of telephone-event lists them
/// (`0-15,66,70`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct EventSet([u64; 4]);

impl EventSet {
    /// The DTMF events 0-15 (digits, `*`, `#`, A-D): what we send and understand.
    pub const DTMF: EventSet = EventSet([0xffff, 0, 0, 0]);

    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an event code.
    pub fn insert(&mut self, event: u8) {
        self.0[usize::from(event >> 6)] |= 1u64 << (event & 63);
    }

    /// Whether `event` is in the set.
    pub fn contains(&self, event: u8) -> bool {
        self.0[usize::from(event >> 6)] & (1u64 << (event & 63)) != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }

    /// The events in both sets.
    pub fn intersection(&self, other: &Self) -> Self {
        let mut out = *self;
        for (o, b) in out.0.iter_mut().zip(other.0) {
            *o &= b;
        }
        out
    }

    /// Parses an fmtp event list: comma-separated codes and inclusive ranges, each 0-255.
    pub fn parse(s: &str) -> Option<Self> {
        let mut set = Self::new();
        for item in s.split(',') {
            let item = item.trim();
            let (lo, hi) = match item.split_once('-') {
                Some((a, b)) => (a.trim().parse::<u8>().ok()?, b.trim().parse::<u8>().ok()?),
                None => {
                    let v = item.parse::<u8>().ok()?;
                    (v, v)
                }
            };
            if lo > hi {
                return None;
            }
            for e in lo..=hi {
                set.insert(e);
            }
        }
        Some(set)
    }
}

impl fmt::Display for EventSet {
    /// Writes the set as an fmtp event list, ranges collapsed (`0-15,66`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut e: u16 = 0;
        while e < 256 {
            if !self.contains(e as u8) {
                e += 1;
                continue;
            }
            let start = e;
            while e + 1 < 256 && self.contains((e + 1) as u8) {
                e += 1;
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            if start == e {
                write!(f, "{start}")?;
            } else {
                write!(f, "{start}-{e}")?;
            }
            e += 1;
        }
        Ok(())
    }
}

impl fmt::Debug for EventSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventSet({self})")
    }
}
