//! RFC 3264 offer/answer: what we offer, how we answer, how we read the answer to our offer.

use super::*;

/// Whether we use SRTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SrtpPolicy {
    /// Plain RTP only: SRTP m-lines are rejected.
    Disabled,
    /// We offer plain RTP and accept SRTP (SDES) when it is offered.
    #[default]
    Optional,
    /// We offer SRTP (SDES) and reject plain RTP m-lines.
    Required,
}

/// How we want our side of a call: address, codecs, packet time, direction, SRTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalConfig {
    /// Our RTP address (written in `o=` and `c=`).
    pub address: IpAddr,
    /// Our RTP port (not 0).
    pub port: u16,
    /// Our RTCP port if it is not `port + 1` (written as `a=rtcp`).
    pub rtcp_port: Option<u16>,
    /// `o=` session id.
    pub session_id: u64,
    /// `o=` session version: raise it for every new offer or answer in the same session.
    pub session_version: u64,
    /// `s=` (`-` when empty).
    pub session_name: String,
    /// The codecs we accept, by our name or encoding name, in our order of preference; empty
    /// means every registered codec in registry priority order.
    pub codecs: Vec<String>,
    /// The packet time we ask for, in ms.
    pub ptime: u16,
    /// The longest packet time we accept, in ms (written as `a=maxptime`).
    pub maxptime: Option<u16>,
    /// What we want to do: sendonly (or inactive) puts the call on hold.
    pub direction: Direction,
    /// Whether we offer and accept RTP/RTCP multiplexing (RFC 5761).
    pub rtcp_mux: bool,
    /// Whether we offer and accept telephone-event (RFC 4733 DTMF).
    pub telephone_event: bool,
    /// SRTP use.
    pub srtp: SrtpPolicy,
    /// The SRTP suites we accept and offer, in our order of preference.
    pub srtp_suites: Vec<SrtpSuite>,
}

impl LocalConfig {
    /// Defaults: every codec, 20 ms, sendrecv, rtcp-mux, telephone-event, SRTP optional with
    /// the two AES-CM suites.
    pub fn new(address: IpAddr, port: u16) -> Self {
        Self {
            address,
            port,
            rtcp_port: None,
            session_id: 1,
            session_version: 1,
            session_name: "-".into(),
            codecs: Vec::new(),
            ptime: 20,
            maxptime: None,
            direction: Direction::SendRecv,
            rtcp_mux: true,
            telephone_event: true,
            srtp: SrtpPolicy::Optional,
            srtp_suites: vec![
                SrtpSuite::AesCm128HmacSha1_80,
                SrtpSuite::AesCm128HmacSha1_32,
            ],
        }
    }
}

/// How to decode one payload type we may receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiveFormat {
    /// Audio in a codec we have.
    Codec {
        /// The codec.
        codec: &'static CodecDescriptor,
        /// Its parameters.
        params: CodecParams,
    },
    /// RFC 4733 events.
    TelephoneEvent {
        /// Their clock rate.
        clock_rate: u32,
    },
}

/// Negotiated telephone-event use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegotiatedEvents {
    /// The payload type we send events with.
    pub send_payload_type: PayloadType,
    /// The payload type we receive events with.
    pub receive_payload_type: PayloadType,
    /// The clock rate (that of the audio codec).
    pub clock_rate: u32,
    /// Events both ends support (at most DTMF 0-15).
    pub events: EventSet,
}

/// The outcome of an offer/answer exchange: everything needed to set up the audio stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedMedia {
    /// The m-line the stream is on, from 0.
    pub media_index: usize,
    /// Where to send RTP.
    pub remote: SocketAddr,
    /// Where to send RTCP (the RTP address with rtcp-mux).
    pub remote_rtcp: Option<SocketAddr>,
    /// The transport profile.
    pub transport: Transport,
    /// The codec we send (and mostly receive) with.
    pub codec: &'static CodecDescriptor,
    /// Its parameters: sample rate, channels, ptime (the remote's `a=ptime` where the codec
    /// allows it), and the remote's fmtp for this payload type, passed through as written.
    pub params: CodecParams,
    /// The payload type we send the codec with.
    pub payload_type: PayloadType,
    /// The remote's `a=maxptime`, ms: the longest packets it takes (the adaptation may switch
    /// Opus up to it mid-call).
    pub max_ptime_ms: Option<u16>,
    /// Telephone-event, if both ends use it at the codec's clock rate.
    pub telephone_event: Option<NegotiatedEvents>,
    /// What we do: send, receive, both or neither.
    pub direction: Direction,
    /// Whether RTP and RTCP share a port.
    pub rtcp_mux: bool,
    /// SRTP keys, for the SAVP profiles.
    pub crypto: Option<NegotiatedCrypto>,
    /// Every payload type we may receive and what it is.
    pub receive: BTreeMap<PayloadType, ReceiveFormat>,
    /// The other m-lines, answered (or answered by the remote) with port 0, and why.
    pub rejected: Vec<Rejection>,
}

impl NegotiatedMedia {
    /// Our name of the negotiated codec (`pcmu`, `g722`, ...).
    pub fn codec_name(&self) -> &'static str {
        self.codec.name
    }
}

/// Writes offers and answers for our side, and reads the other side's, with a codec registry
/// and a [`LocalConfig`].
#[derive(Debug, Clone)]
pub struct Negotiator<'a> {
    registry: &'a CodecRegistry,
    config: LocalConfig,
    /// Our names of the allowed codecs, in preference order; empty for all.
    allowed: Vec<&'static str>,
}

/// A codec we can use for a remote format.
struct Resolved<'f> {
    format: &'f RemoteFormat,
    rtpmap: &'f RtpMap,
    codec: &'static CodecDescriptor,
    params: CodecParams,
}

impl<'a> Negotiator<'a> {
    /// Checks `config` against `registry`.
    pub fn new(registry: &'a CodecRegistry, config: LocalConfig) -> Result<Self, SdpError> {
        let invalid = |reason: String| SdpError::InvalidConfig { reason };
        if config.port == 0 {
            return Err(invalid("port is 0".into()));
        }
        if config.rtcp_port == Some(0) {
            return Err(invalid("RTCP port is 0".into()));
        }
        if config.ptime == 0 || u32::from(config.ptime) > MAX_PTIME_MS {
            return Err(invalid(format!("ptime {} is not 1-1000 ms", config.ptime)));
        }
        if config
            .maxptime
            .is_some_and(|m| m == 0 || u32::from(m) > MAX_PTIME_MS || m < config.ptime)
        {
            return Err(invalid("maxptime is not ptime-1000 ms".into()));
        }
        let mut allowed = Vec::new();
        for name in &config.codecs {
            let entry = registry
                .find(name)
                .map_err(|e| invalid(format!("codec list: {e}")))?;
            if !allowed.contains(&entry.descriptor.name) {
                allowed.push(entry.descriptor.name);
            }
        }
        if registry.entries().is_empty() {
            return Err(invalid("the codec registry is empty".into()));
        }
        if config.srtp != SrtpPolicy::Disabled && config.srtp_suites.is_empty() {
            return Err(invalid("SRTP is enabled but no suites are listed".into()));
        }
        Ok(Self {
            registry,
            config,
            allowed,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &LocalConfig {
        &self.config
    }

    fn allows(&self, codec: &CodecDescriptor) -> bool {
        self.allowed.is_empty() || self.allowed.contains(&codec.name)
    }

    /// Our capabilities as SDP lines, in our order of preference.
    fn offered_codecs(&self) -> Vec<SdpCodec> {
        let caps = self.registry.capabilities();
        if self.allowed.is_empty() {
            return caps;
        }
        self.allowed
            .iter()
            .filter_map(|name| caps.iter().find(|c| c.descriptor.name == *name).cloned())
            .collect()
    }

    /// What our registry makes of a remote format.
    fn resolve<'f>(&self, format: &'f RemoteFormat) -> Option<Resolved<'f>> {
        let rtpmap = format.rtpmap.as_ref()?;
        if rtpmap.is_telephone_event() {
            return None;
        }
        let (entry, params) = self.registry.find_rtpmap(&rtpmap.to_string())?;
        self.allows(entry.descriptor).then_some(Resolved {
            format,
            rtpmap,
            codec: entry.descriptor,
            params,
        })
    }

    /// The packet time to send with: the remote's ptime where the codec can, else ours, else the
    /// codec's default; then no more than the remote's maxptime.
    fn choose_ptime(&self, codec: &CodecDescriptor, remote: &RemoteMedia) -> u16 {
        let supported = |p: &u16| codec.ptimes.contains(p);
        let mut ptime = remote
            .ptime
            .filter(supported)
            .or(Some(self.config.ptime).filter(supported))
            .unwrap_or(codec.default_ptime);
        if let Some(max) = remote.maxptime {
            if ptime > max {
                ptime = codec
                    .ptimes
                    .iter()
                    .copied()
                    .filter(|&p| p <= max)
                    .max()
                    .or_else(|| codec.ptimes.iter().copied().min())
                    .unwrap_or(ptime);
            }
        }
        ptime
    }

    fn our_fmtp(&self, codec: &CodecDescriptor) -> Option<String> {
        self.registry
            .capabilities()
            .into_iter()
            .find(|c| c.descriptor.name == codec.name)
            .and_then(|c| c.fmtp)
    }

    fn session(&self, medias: Vec<sdpt::Media>) -> String {
        let origin = sdpt::Origin::with_ip_addr(
            self.config.session_id,
            self.config.session_version,
            self.config.address,
        );
        let name = if self.config.session_name.trim().is_empty() {
            "-"
        } else {
            self.config.session_name.as_str()
        };
        let mut session = sdpt::Session::new(origin, name);
        session.connection = Some(sdpt::Connection::from_ip_addr(self.config.address));
        session.times.push(sdpt::Time::new(0, 0));
        session.medias = medias;
        session.to_string()
    }

    fn audio_media(&self, transport: Transport, pts: &[u8]) -> sdpt::Media {
        let fmt = pts.iter().map(u8::to_string).collect::<Vec<_>>().join(" ");
        let mut m = sdpt::Media::new(
            sdpt::MediaType::Audio,
            self.config.port,
            sdpt::TransportProto::RtpAvp,
            fmt,
        );
        m.proto = transport.as_str().to_string();
        m
    }

    fn common_attributes(&self, m: &mut sdpt::Media, ptime: u16, direction: Direction, mux: bool) {
        m.add_attribute_with_value("ptime", ptime);
        if let Some(max) = self.config.maxptime {
            m.add_attribute_with_value("maxptime", max);
        }
        m.add_attribute(sdpt::Attribute::new(direction.as_str()));
        if mux {
            m.add_attribute(sdpt::Attribute::new("rtcp-mux"));
        }
        if let Some(p) = self.config.rtcp_port {
            m.add_attribute_with_value("rtcp", p);
        }
    }

    /// An offer with every codec we accept, in our order of preference: static payload types
    /// where the codec has one, dynamic ones from 96 otherwise; telephone-event at 8000 Hz (and
    /// 48000 Hz when a 48 kHz codec such as Opus is offered); ptime, direction, rtcp-mux; and,
    /// with [`SrtpPolicy::Required`], RTP/SAVP with one `a=crypto` per suite keyed from `random`.
    pub fn offer(&self, random: &mut dyn FnMut(&mut [u8])) -> String {
        let caps = self.offered_codecs();
        let mut pts: Vec<u8> = caps.iter().map(|c| c.payload_type.0).collect();
        let mut events = Vec::new();
        if self.config.telephone_event {
            let mut clocks = vec![8000u32];
            if caps.iter().any(|c| c.descriptor.clock_rate == 48000) {
                clocks.push(48000);
            }
            for clock in clocks {
                if let Some(pt) = free_dynamic_pt(&pts) {
                    pts.push(pt);
                    events.push((pt, clock));
                }
            }
        }
        let transport = if self.config.srtp == SrtpPolicy::Required {
            Transport::RtpSavp
        } else {
            Transport::RtpAvp
        };
        let mut m = self.audio_media(transport, &pts);
        for c in &caps {
            m.add_attribute_with_value("rtpmap", format!("{} {}", c.payload_type.0, c.rtpmap));
            if let Some(f) = &c.fmtp {
                m.add_attribute_with_value("fmtp", format!("{} {f}", c.payload_type.0));
            }
        }
        for (pt, clock) in events {
            m.add_attribute_with_value("rtpmap", format!("{pt} telephone-event/{clock}"));
            m.add_attribute_with_value("fmtp", format!("{pt} {}", EventSet::DTMF));
        }
        self.common_attributes(
            &mut m,
            self.config.ptime,
            self.config.direction,
            self.config.rtcp_mux,
        );
        if transport.is_secure() {
            for (tag, suite) in (1u32..).zip(&self.config.srtp_suites) {
                let c = SdesCrypto::generate(tag, *suite, random);
                m.add_attribute_with_value("crypto", c.to_attribute_value());
            }
        }
        self.session(vec![m])
    }
}

/// The first free dynamic payload type, 101 (the customary telephone-event type) if it is free.
fn free_dynamic_pt(used: &[u8]) -> Option<u8> {
    std::iter::once(101)
        .chain(96..=127)
        .find(|pt| !used.contains(pt))
}

mod answer;
