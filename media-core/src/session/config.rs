//! Session configuration: what the signalling layer hands us after negotiation (codec and
//! payload type, addresses, direction, SRTP keys, identity, DTMF, jitter buffer limits),
//! assembled with [`MediaSessionConfigBuilder`] and validated once when built. A
//! [`MediaSessionConfig`] that exists is valid: its fields are private and read by getters.
//!
//! ```
//! use media_core::codec::CodecRegistry;
//! use media_core::session::MediaSessionConfig;
//!
//! let registry = CodecRegistry::with_builtin();
//! let config = MediaSessionConfig::narrowband_call(
//!     "192.0.2.10:40000".parse().unwrap(),
//!     "198.51.100.7:50000".parse().unwrap(),
//! )
//! .call_id("a84b4c76e66710@pc33.example.com")
//! .local_uri("sip:alice@example.com")
//! .remote_uri("sip:bob@example.com")
//! .build(&registry)?;
//! assert_eq!(config.codec().descriptor().name, "pcmu");
//! assert_eq!(config.codec().params().ptime_ms, 20);
//! # Ok::<(), media_core::session::ConfigError>(())
//! ```

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use crate::codec::{CodecDescriptor, CodecParams, CodecRegistry, PayloadType};
use crate::error::CodecError;

/// The payload type a dynamic codec gets when none is given.
pub const DEFAULT_DYNAMIC_PAYLOAD_TYPE: u8 = 96;
/// The DTMF (telephone-event) payload type the call helpers use.
pub const DEFAULT_DTMF_PAYLOAD_TYPE: u8 = 101;

/// The negotiated media direction (the SDP direction attribute, from our side).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MediaDirection {
    /// Both ways.
    #[default]
    SendRecv,
    /// We only send.
    SendOnly,
    /// We only receive (recording, monitoring).
    RecvOnly,
    /// Neither way (the port is kept).
    Inactive,
}

impl fmt::Display for MediaDirection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SendRecv => "sendrecv",
            Self::SendOnly => "sendonly",
            Self::RecvOnly => "recvonly",
            Self::Inactive => "inactive",
        })
    }
}

/// An SRTP protection profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SrtpProfile {
    /// `AES_CM_128_HMAC_SHA1_80` (RFC 4568, RFC 5764): 16-byte key, 14-byte salt.
    AesCm128HmacSha1_80,
    /// `AES_CM_128_HMAC_SHA1_32`: 16-byte key, 14-byte salt, 4-byte tag.
    AesCm128HmacSha1_32,
    /// `AEAD_AES_128_GCM` (RFC 7714): 16-byte key, 12-byte salt.
    AeadAes128Gcm,
}

impl SrtpProfile {
    /// Master key length in bytes.
    pub const fn key_len(self) -> usize {
        16
    }

    /// Master salt length in bytes.
    pub const fn salt_len(self) -> usize {
        match self {
            Self::AesCm128HmacSha1_80 | Self::AesCm128HmacSha1_32 => 14,
            Self::AeadAes128Gcm => 12,
        }
    }

    /// The profile's name as SDES and DTLS-SRTP spell it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            Self::AesCm128HmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
            Self::AeadAes128Gcm => "AEAD_AES_128_GCM",
        }
    }
}

impl fmt::Display for SrtpProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// SRTP keying material. `Debug` shows the lengths, never the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct SrtpConfig {
    /// The protection profile.
    pub profile: SrtpProfile,
    /// Master key: [`SrtpProfile::key_len`] bytes.
    pub master_key: Vec<u8>,
    /// Master salt: [`SrtpProfile::salt_len`] bytes.
    pub master_salt: Vec<u8>,
}

impl SrtpConfig {
    /// Whether the key and salt lengths fit the profile.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let (profile, key, salt) = (self.profile, self.master_key.len(), self.master_salt.len());
        if key != profile.key_len() {
            return Err(ConfigError::SrtpKeyLength {
                profile,
                expected: profile.key_len(),
                got: key,
            });
        }
        if salt != profile.salt_len() {
            return Err(ConfigError::SrtpSaltLength {
                profile,
                expected: profile.salt_len(),
                got: salt,
            });
        }
        Ok(())
    }
}

impl fmt::Debug for SrtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SrtpConfig")
            .field("profile", &self.profile)
            .field(
                "master_key",
                &format_args!("<{} bytes>", self.master_key.len()),
            )
            .field(
                "master_salt",
                &format_args!("<{} bytes>", self.master_salt.len()),
            )
            .finish()
    }
}

/// Jitter buffer delay limits in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct JitterDelay {
    /// The least delay the buffer holds.
    pub min_ms: u16,
    /// The most delay the buffer grows to; must be at least one packet.
    pub max_ms: u16,
}

impl JitterDelay {
    /// The largest `max_ms` accepted.
    pub const LIMIT_MS: u16 = 2000;
    /// Interactive calls: 20 to 200 ms.
    pub const CALL: Self = Self {
        min_ms: 20,
        max_ms: 200,
    };
    /// Conference legs: a steadier, bounded delay so the mixer's inputs line up.
    pub const CONFERENCE: Self = Self {
        min_ms: 40,
        max_ms: 120,
    };
    /// Recording: latency does not matter, completeness does.
    pub const RECORDING: Self = Self {
        min_ms: 60,
        max_ms: 500,
    };
}

impl Default for JitterDelay {
    fn default() -> Self {
        Self::CALL
    }
}

/// Who the session is for: identifiers for logs, recordings and correlation. Plain strings;
/// we do not parse SIP.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionIdentity {
    call_id: String,
    local_uri: String,
    remote_uri: String,
    local_name: Option<String>,
    remote_name: Option<String>,
}

impl SessionIdentity {
    /// The signalling call identifier (SIP Call-ID).
    pub fn call_id(&self) -> &str {
        &self.call_id
    }
    /// Our participant's URI.
    pub fn local_uri(&self) -> &str {
        &self.local_uri
    }
    /// The remote participant's URI.
    pub fn remote_uri(&self) -> &str {
        &self.remote_uri
    }
    /// Our participant's display name, if any.
    pub fn local_name(&self) -> Option<&str> {
        self.local_name.as_deref()
    }
    /// The remote participant's display name, if any.
    pub fn remote_name(&self) -> Option<&str> {
        self.remote_name.as_deref()
    }
}

/// The codec a session uses: a registered descriptor, parameters it validated, and the RTP
/// payload type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecConfig {
    descriptor: &'static CodecDescriptor,
    params: CodecParams,
    payload_type: PayloadType,
}

impl CodecConfig {
    /// The codec.
    pub fn descriptor(&self) -> &'static CodecDescriptor {
        self.descriptor
    }
    /// Its parameters (rate, channels, ptime, bitrate, fmtp), valid for the descriptor.
    pub fn params(&self) -> &CodecParams {
        &self.params
    }
    /// The RTP payload type.
    pub fn payload_type(&self) -> PayloadType {
        self.payload_type
    }
}

/// A validated session configuration. Build one with [`MediaSessionConfig::builder`] or a
/// call-pattern helper; change one with [`MediaSessionConfig::to_builder`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaSessionConfig {
    codec: CodecConfig,
    local: SocketAddr,
    remote: Option<SocketAddr>,
    direction: MediaDirection,
    srtp: Option<SrtpConfig>,
    identity: SessionIdentity,
    dtmf_payload_type: Option<PayloadType>,
    jitter: JitterDelay,
}

impl MediaSessionConfig {
    /// An empty builder.
    pub fn builder() -> MediaSessionConfigBuilder {
        MediaSessionConfigBuilder::default()
    }

    /// A narrowband call: PCMU, 20 ms, sendrecv, telephone-event on 101.
    pub fn narrowband_call(local: SocketAddr, remote: SocketAddr) -> MediaSessionConfigBuilder {
        Self::call("pcmu", local, remote)
    }

    /// A wideband call: G.722, 20 ms, sendrecv, telephone-event on 101. Building fails with
    /// [`ConfigError::UnknownCodec`] when the registry has no G.722.
    pub fn wideband_call(local: SocketAddr, remote: SocketAddr) -> MediaSessionConfigBuilder {
        Self::call("g722", local, remote)
    }

    /// An Opus call: payload type 111, 20 ms, sendrecv, telephone-event on 101. Building
    /// fails with [`ConfigError::UnknownCodec`] when the registry has no Opus.
    pub fn opus_call(local: SocketAddr, remote: SocketAddr) -> MediaSessionConfigBuilder {
        Self::call("opus", local, remote).payload_type(111)
    }

    /// One leg of a conference bridge: PCMU, 20 ms, sendrecv, with the bounded jitter delay
    /// of [`JitterDelay::CONFERENCE`] so the mixer's inputs stay aligned.
    pub fn conference_leg(local: SocketAddr, remote: SocketAddr) -> MediaSessionConfigBuilder {
        Self::call("pcmu", local, remote).jitter_delay(
            JitterDelay::CONFERENCE.min_ms,
            JitterDelay::CONFERENCE.max_ms,
        )
    }

    /// A recording leg: PCMU, recvonly, no remote address yet (set it with
    /// [`MediaSessionConfigBuilder::remote`] when known), with the deep jitter buffer of
    /// [`JitterDelay::RECORDING`].
    pub fn recording_only(local: SocketAddr) -> MediaSessionConfigBuilder {
        Self::builder()
            .codec("pcmu")
            .ptime(20)
            .local(local)
            .direction(MediaDirection::RecvOnly)
            .dtmf_payload_type(DEFAULT_DTMF_PAYLOAD_TYPE)
            .jitter_delay(JitterDelay::RECORDING.min_ms, JitterDelay::RECORDING.max_ms)
    }

    fn call(codec: &str, local: SocketAddr, remote: SocketAddr) -> MediaSessionConfigBuilder {
        Self::builder()
            .codec(codec)
            .ptime(20)
            .local(local)
            .remote(remote)
            .direction(MediaDirection::SendRecv)
            .dtmf_payload_type(DEFAULT_DTMF_PAYLOAD_TYPE)
    }

    /// A builder holding this configuration, to change it (e.g. for a
    /// [`super::MediaSession::update`]).
    pub fn to_builder(&self) -> MediaSessionConfigBuilder {
        let p = &self.codec.params;
        MediaSessionConfigBuilder {
            codec: Some(self.codec.descriptor.name.to_string()),
            sample_rate: Some(p.sample_rate),
            channels: Some(p.channels),
            ptime_ms: Some(p.ptime_ms),
            bitrate: p.bitrate,
            fmtp: p.fmtp.clone(),
            payload_type: Some(self.codec.payload_type.0),
            local: Some(self.local),
            remote: self.remote,
            direction: self.direction,
            srtp: self.srtp.clone(),
            call_id: Some(self.identity.call_id.clone()),
            local_uri: Some(self.identity.local_uri.clone()),
            remote_uri: Some(self.identity.remote_uri.clone()),
            local_name: self.identity.local_name.clone(),
            remote_name: self.identity.remote_name.clone(),
            dtmf_payload_type: self.dtmf_payload_type.map(|pt| pt.0),
            jitter: self.jitter,
        }
    }

    /// The codec.
    pub fn codec(&self) -> &CodecConfig {
        &self.codec
    }
    /// The local transport address (port 0: let the driver pick).
    pub fn local(&self) -> SocketAddr {
        self.local
    }
    /// The remote transport address, once known.
    pub fn remote(&self) -> Option<SocketAddr> {
        self.remote
    }
    /// The negotiated direction.
    pub fn direction(&self) -> MediaDirection {
        self.direction
    }
    /// SRTP keying material; `None` for plain RTP.
    pub fn srtp(&self) -> Option<&SrtpConfig> {
        self.srtp.as_ref()
    }
    /// Who the session is for.
    pub fn identity(&self) -> &SessionIdentity {
        &self.identity
    }
    /// The telephone-event payload type, if DTMF was negotiated.
    pub fn dtmf_payload_type(&self) -> Option<PayloadType> {
        self.dtmf_payload_type
    }
    /// Jitter buffer delay limits.
    pub fn jitter(&self) -> JitterDelay {
        self.jitter
    }
}

/// Assembles a [`MediaSessionConfig`]; [`Self::build`] validates everything at once.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct MediaSessionConfigBuilder {
    codec: Option<String>,
    sample_rate: Option<u32>,
    channels: Option<u16>,
    ptime_ms: Option<u16>,
    bitrate: Option<u32>,
    fmtp: Option<String>,
    payload_type: Option<u8>,
    local: Option<SocketAddr>,
    remote: Option<SocketAddr>,
    direction: MediaDirection,
    srtp: Option<SrtpConfig>,
    call_id: Option<String>,
    local_uri: Option<String>,
    remote_uri: Option<String>,
    local_name: Option<String>,
    remote_name: Option<String>,
    dtmf_payload_type: Option<u8>,
    jitter: JitterDelay,
}

impl MediaSessionConfigBuilder {
    /// The codec, by our name or its RTP encoding name (`pcmu`, `G722`, `opus`). Clears the
    /// codec parameters and payload type set before, which belonged to the previous codec;
    /// set them after this.
    pub fn codec(mut self, name: impl Into<String>) -> Self {
        self.codec = Some(name.into());
        self.sample_rate = None;
        self.channels = None;
        self.ptime_ms = None;
        self.bitrate = None;
        self.fmtp = None;
        self.payload_type = None;
        self
    }
    /// PCM sampling rate in Hz (default: the codec's).
    pub fn sample_rate(mut self, hz: u32) -> Self {
        self.sample_rate = Some(hz);
        self
    }
    /// Channels (default: the codec's).
    pub fn channels(mut self, channels: u16) -> Self {
        self.channels = Some(channels);
        self
    }
    /// Packet duration in milliseconds (default: the codec's).
    pub fn ptime(mut self, ms: u16) -> Self {
        self.ptime_ms = Some(ms);
        self
    }
    /// Target bitrate in bit/s, for codecs that have a choice.
    pub fn bitrate(mut self, bits_per_second: u32) -> Self {
        self.bitrate = Some(bits_per_second);
        self
    }
    /// Negotiated fmtp parameters.
    pub fn fmtp(mut self, fmtp: impl Into<String>) -> Self {
        self.fmtp = Some(fmtp.into());
        self
    }
    /// RTP payload type, 0-127 (default: the codec's static type at its default rate and
    /// channels, else 96).
    pub fn payload_type(mut self, pt: u8) -> Self {
        self.payload_type = Some(pt);
        self
    }
    /// Local transport address (required; port 0 lets the driver pick).
    pub fn local(mut self, addr: SocketAddr) -> Self {
        self.local = Some(addr);
        self
    }
    /// Remote transport address, once known.
    pub fn remote(mut self, addr: SocketAddr) -> Self {
        self.remote = Some(addr);
        self
    }
    /// Forget the remote address (not known yet).
    pub fn no_remote(mut self) -> Self {
        self.remote = None;
        self
    }
    /// Negotiated direction (default sendrecv).
    pub fn direction(mut self, direction: MediaDirection) -> Self {
        self.direction = direction;
        self
    }
    /// SRTP keying material.
    pub fn srtp(mut self, srtp: SrtpConfig) -> Self {
        self.srtp = Some(srtp);
        self
    }
    /// Plain RTP (the default).
    pub fn no_srtp(mut self) -> Self {
        self.srtp = None;
        self
    }
    /// The signalling call identifier (required).
    pub fn call_id(mut self, call_id: impl Into<String>) -> Self {
        self.call_id = Some(call_id.into());
        self
    }
    /// Our participant's URI (required).
    pub fn local_uri(mut self, uri: impl Into<String>) -> Self {
        self.local_uri = Some(uri.into());
        self
    }
    /// The remote participant's URI (required).
    pub fn remote_uri(mut self, uri: impl Into<String>) -> Self {
        self.remote_uri = Some(uri.into());
        self
    }
    /// Our participant's display name (optional; empty means none).
    pub fn local_name(mut self, name: impl Into<String>) -> Self {
        self.local_name = Some(name.into());
        self
    }
    /// The remote participant's display name (optional; empty means none).
    pub fn remote_name(mut self, name: impl Into<String>) -> Self {
        self.remote_name = Some(name.into());
        self
    }
    /// The telephone-event payload type (dynamic, 96-127).
    pub fn dtmf_payload_type(mut self, pt: u8) -> Self {
        self.dtmf_payload_type = Some(pt);
        self
    }
    /// No DTMF.
    pub fn no_dtmf(mut self) -> Self {
        self.dtmf_payload_type = None;
        self
    }
    /// Jitter buffer delay limits in milliseconds (default [`JitterDelay::CALL`]).
    pub fn jitter_delay(mut self, min_ms: u16, max_ms: u16) -> Self {
        self.jitter = JitterDelay { min_ms, max_ms };
        self
    }

    /// Validates everything against `registry` and builds the configuration. The first
    /// problem found is returned.
    pub fn build(&self, registry: &CodecRegistry) -> Result<MediaSessionConfig, ConfigError> {
        let identity = SessionIdentity {
            call_id: required_text("call-id", self.call_id.as_deref())?,
            local_uri: required_text("local URI", self.local_uri.as_deref())?,
            remote_uri: required_text("remote URI", self.remote_uri.as_deref())?,
            local_name: optional_text("local name", self.local_name.as_deref())?,
            remote_name: optional_text("remote name", self.remote_name.as_deref())?,
        };
        let codec = self.build_codec(registry)?;
        let dtmf_payload_type = match self.dtmf_payload_type {
            None => None,
            Some(pt) if !(96..=127).contains(&pt) => {
                return Err(ConfigError::DtmfPayloadTypeNotDynamic(pt))
            }
            Some(pt) if pt == codec.payload_type.0 => {
                return Err(ConfigError::DtmfPayloadTypeConflict(pt))
            }
            Some(pt) => Some(PayloadType(pt)),
        };
        let local = self.local.ok_or(ConfigError::MissingLocalAddress)?;
        if let Some(remote) = self.remote {
            check_remote(local, remote)?;
        }
        if let Some(srtp) = &self.srtp {
            srtp.validate()?;
        }
        let JitterDelay { min_ms, max_ms } = self.jitter;
        if max_ms == 0 || max_ms > JitterDelay::LIMIT_MS || max_ms < codec.params.ptime_ms {
            return Err(ConfigError::JitterMaxOutOfRange {
                max_ms,
                ptime_ms: codec.params.ptime_ms,
                limit_ms: JitterDelay::LIMIT_MS,
            });
        }
        if min_ms > max_ms {
            return Err(ConfigError::JitterMinAboveMax { min_ms, max_ms });
        }
        Ok(MediaSessionConfig {
            codec,
            local,
            remote: self.remote,
            direction: self.direction,
            srtp: self.srtp.clone(),
            identity,
            dtmf_payload_type,
            jitter: self.jitter,
        })
    }

    fn build_codec(&self, registry: &CodecRegistry) -> Result<CodecConfig, ConfigError> {
        let name = self.codec.as_deref().ok_or(ConfigError::MissingCodec)?;
        // `find` fails only for a name it does not know.
        let descriptor = registry
            .find(name)
            .map_err(|_| ConfigError::UnknownCodec {
                name: name.to_string(),
                known: registry.names(),
            })?
            .descriptor;
        let mut params = CodecParams::defaults(descriptor);
        params.sample_rate = self.sample_rate.unwrap_or(params.sample_rate);
        params.channels = self.channels.unwrap_or(params.channels);
        params.ptime_ms = self.ptime_ms.unwrap_or(params.ptime_ms);
        params.bitrate = self.bitrate;
        params.fmtp = self.fmtp.clone();
        descriptor
            .validate(&params)
            .map_err(|error| ConfigError::InvalidCodecParams {
                codec: descriptor.name,
                error,
            })?;
        // The static type applies only at the rate and channels RFC 3551 assigns it for.
        let static_pt = descriptor.payload_type.filter(|_| {
            params.sample_rate == descriptor.sample_rate && params.channels == descriptor.channels
        });
        let pt = self
            .payload_type
            .unwrap_or(static_pt.unwrap_or(DEFAULT_DYNAMIC_PAYLOAD_TYPE));
        if pt > 127 {
            return Err(ConfigError::PayloadTypeOutOfRange(pt));
        }
        if (72..=76).contains(&pt) {
            return Err(ConfigError::PayloadTypeReserved(pt));
        }
        if pt < 96 && Some(pt) != static_pt {
            return Err(ConfigError::StaticPayloadTypeMismatch {
                payload_type: pt,
                codec: descriptor.name,
                expected: static_pt,
            });
        }
        Ok(CodecConfig {
            descriptor,
            params,
            payload_type: PayloadType(pt),
        })
    }
}

fn required_text(field: &'static str, value: Option<&str>) -> Result<String, ConfigError> {
    match optional_text(field, value)? {
        Some(v) => Ok(v),
        None => Err(ConfigError::MissingField(field)),
    }
}

/// `None` for unset, empty or blank; an error for control characters (CR/LF would forge log
/// lines).
fn optional_text(field: &'static str, value: Option<&str>) -> Result<Option<String>, ConfigError> {
    let Some(v) = value.map(str::trim) else {
        return Ok(None);
    };
    if v.chars().any(char::is_control) {
        return Err(ConfigError::ControlCharacter(field));
    }
    Ok((!v.is_empty()).then(|| v.to_string()))
}

fn check_remote(local: SocketAddr, remote: SocketAddr) -> Result<(), ConfigError> {
    if remote.port() == 0 {
        return Err(ConfigError::RemotePortZero(remote));
    }
    if remote.ip().is_unspecified() {
        return Err(ConfigError::RemoteAddressUnspecified(remote));
    }
    // A socket bound to [::] is dual-stack and reaches IPv4 peers; otherwise the families
    // must agree.
    let dual_stack = matches!(local.ip(), IpAddr::V6(ip) if ip.is_unspecified());
    if local.is_ipv4() != remote.is_ipv4() && !dual_stack {
        return Err(ConfigError::AddressFamilyMismatch { local, remote });
    }
    Ok(())
}

mod error;
pub use error::ConfigError;

#[cfg(test)]
mod tests;
