//! The model of a remote SDP and its parser ([`parse_remote`]).

use super::*;

/// An rtpmap value: encoding name, clock rate and channels.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RtpMap {
    /// The encoding name as written (`PCMU`, `opus`, `telephone-event`).
    pub encoding_name: String,
    /// The RTP clock rate.
    pub clock_rate: u32,
    /// The channel count (1 when not written).
    pub channels: u16,
}

impl RtpMap {
    /// Parses `ENCODING/CLOCK[/CHANNELS]`.
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.trim().split('/');
        let name = parts.next()?.trim();
        if name.is_empty() || name.len() > 64 || name.contains(char::is_whitespace) {
            return None;
        }
        let clock_rate: u32 = parts.next()?.trim().parse().ok().filter(|&c| c > 0)?;
        let channels = match parts.next() {
            Some(c) => c.trim().parse().ok().filter(|&c| c > 0)?,
            None => 1,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Self {
            encoding_name: name.to_string(),
            clock_rate,
            channels,
        })
    }

    /// The RFC 3551 meaning of a static payload type used without an rtpmap (table 4); `None`
    /// for dynamic and unassigned types.
    pub fn for_static(pt: u8) -> Option<Self> {
        let (name, clock_rate, channels) = match pt {
            0 => ("PCMU", 8000, 1),
            3 => ("GSM", 8000, 1),
            4 => ("G723", 8000, 1),
            5 => ("DVI4", 8000, 1),
            6 => ("DVI4", 16000, 1),
            7 => ("LPC", 8000, 1),
            8 => ("PCMA", 8000, 1),
            9 => ("G722", 8000, 1),
            10 => ("L16", 44100, 2),
            11 => ("L16", 44100, 1),
            12 => ("QCELP", 8000, 1),
            13 => ("CN", 8000, 1),
            14 => ("MPA", 90000, 1),
            15 => ("G728", 8000, 1),
            16 => ("DVI4", 11025, 1),
            17 => ("DVI4", 22050, 1),
            18 => ("G729", 8000, 1),
            _ => return None,
        };
        Some(Self {
            encoding_name: name.to_string(),
            clock_rate,
            channels,
        })
    }

    /// Whether both name the same format (encoding name compared case-insensitively).
    pub fn same_format(&self, other: &Self) -> bool {
        self.encoding_name
            .eq_ignore_ascii_case(&other.encoding_name)
            && self.clock_rate == other.clock_rate
            && self.channels == other.channels
    }

    pub(super) fn is_telephone_event(&self) -> bool {
        self.encoding_name.eq_ignore_ascii_case("telephone-event")
    }
}

impl fmt::Display for RtpMap {
    /// `ENCODING/CLOCK`, with `/CHANNELS` when not 1.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.encoding_name, self.clock_rate)?;
        if self.channels != 1 {
            write!(f, "/{}", self.channels)?;
        }
        Ok(())
    }
}

/// One format of an RTP m-line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFormat {
    /// The payload type.
    pub payload_type: PayloadType,
    /// What it is: from `a=rtpmap`, else the RFC 3551 static table; `None` for a dynamic type
    /// without rtpmap.
    pub rtpmap: Option<RtpMap>,
    /// Whether [`Self::rtpmap`] came from an `a=rtpmap` line.
    pub explicit_rtpmap: bool,
    /// The `a=fmtp` parameters for this payload type, as written.
    pub fmtp: Option<String>,
}

impl RemoteFormat {
    pub(super) fn describe(&self) -> String {
        match &self.rtpmap {
            Some(m) => format!("{} {m}", self.payload_type.0),
            None => format!("{} ?", self.payload_type.0),
        }
    }
}

/// A telephone-event (RFC 4733) format offered on an m-line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// The payload type.
    pub payload_type: PayloadType,
    /// Its clock rate (8000, or that of the audio codec it goes with).
    pub clock_rate: u32,
    /// The events listed in its fmtp (0-15 when there is none, per RFC 4733).
    pub events: EventSet,
}

/// An `a=rtcp` attribute (RFC 3605).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtcpAttribute {
    /// The RTCP port.
    pub port: u16,
    /// The RTCP address, when it differs from the connection address.
    pub address: Option<IpAddr>,
}

/// A usable audio m-line of a remote SDP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteMedia {
    /// The RTP port (not 0).
    pub port: u16,
    /// The connection address (media-level `c=`, else session-level). `0.0.0.0` is RFC 2543
    /// hold: nothing may be sent to it.
    pub address: IpAddr,
    /// The transport profile.
    pub transport: Transport,
    /// Every format, in m-line order (the sender's preference), telephone-event included.
    pub formats: Vec<RemoteFormat>,
    /// The telephone-event formats among [`Self::formats`].
    pub telephone_events: Vec<TelephoneEvent>,
    /// `a=ptime`: the packet time the sender wants to receive, in ms.
    pub ptime: Option<u16>,
    /// `a=maxptime`, in ms.
    pub maxptime: Option<u16>,
    /// The direction (media-level, else session-level, else sendrecv).
    pub direction: Direction,
    /// Whether `a=rtcp-mux` is present.
    pub rtcp_mux: bool,
    /// `a=rtcp`, if present.
    pub rtcp: Option<RtcpAttribute>,
    /// The `a=crypto` lines, in order (the sender's preference).
    pub crypto: Vec<CryptoAttribute>,
}

impl RemoteMedia {
    /// The RTP address to send to.
    pub fn rtp_addr(&self) -> SocketAddr {
        SocketAddr::new(self.address, self.port)
    }

    /// The RTCP address to send to: the RTP address with rtcp-mux, else `a=rtcp`, else the next
    /// port up (`None` when the RTP port is 65535).
    pub fn rtcp_addr(&self, muxed: bool) -> Option<SocketAddr> {
        if muxed {
            return Some(self.rtp_addr());
        }
        match self.rtcp {
            Some(r) => Some(SocketAddr::new(r.address.unwrap_or(self.address), r.port)),
            None => self
                .port
                .checked_add(1)
                .map(|p| SocketAddr::new(self.address, p)),
        }
    }

    /// The format with payload type `pt`, if listed.
    pub fn format(&self, pt: PayloadType) -> Option<&RemoteFormat> {
        self.formats.iter().find(|f| f.payload_type == pt)
    }
}

/// One m-line of a remote SDP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaSection {
    /// Its position, from 0.
    pub index: usize,
    /// The line of its `m=`.
    pub line: usize,
    /// The media type (`audio`, `video`, ...).
    pub media: String,
    /// The port.
    pub port: u16,
    /// The transport protocol as written.
    pub proto: String,
    /// The formats as written.
    pub formats: Vec<String>,
    /// The parsed audio stream, or why it cannot be used: [`SdpError::NotAudio`] for other
    /// media, [`SdpError::MediaDisabled`] for port 0, or what is wrong with it.
    pub audio: Result<RemoteMedia, SdpError>,
}

/// A remote SDP, offer or answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSdp {
    /// `o=` session id.
    pub session_id: String,
    /// `o=` session version: a re-offer with the same version changes nothing.
    pub session_version: u64,
    /// Every m-line, in order.
    pub media: Vec<MediaSection>,
}

impl RemoteSdp {
    /// The usable audio m-lines.
    pub fn audio(&self) -> impl Iterator<Item = (&MediaSection, &RemoteMedia)> {
        self.media
            .iter()
            .filter_map(|s| s.audio.as_ref().ok().map(|a| (s, a)))
    }
}

/// Where the lines sdp-types keeps came from, so errors found after parsing can name a line.
#[derive(Default)]
struct LineMap {
    session_c: usize,
    session_a: Vec<usize>,
    media: Vec<MediaLines>,
}

#[derive(Default)]
struct MediaLines {
    m: usize,
    c: Vec<usize>,
    a: Vec<usize>,
}

impl LineMap {
    /// Numbers lines the way sdp-types does (split at LF, CR of CRLF dropped, empty lines
    /// counted but skipped).
    fn new(data: &[u8]) -> Self {
        let mut map = Self::default();
        for (i, raw) in data.split(|&b| b == b'\n').enumerate() {
            let n = i + 1;
            let line = raw.strip_suffix(b"\r").unwrap_or(raw);
            let (Some(&key), Some(&b'=')) = (line.first(), line.get(1)) else {
                continue;
            };
            match (key, map.media.last_mut()) {
                (b'm', _) => map.media.push(MediaLines {
                    m: n,
                    ..MediaLines::default()
                }),
                (b'a', None) => map.session_a.push(n),
                (b'c', None) => map.session_c = n,
                (b'a', Some(m)) => m.a.push(n),
                (b'c', Some(m)) => m.c.push(n),
                _ => {}
            }
        }
        map
    }
}

/// Parses a remote SDP (offer or answer). Fails only for what spoils the whole description
/// (size, syntax, limits); what spoils one m-line is in that [`MediaSection::audio`].
///
/// Never panics, whatever the bytes: this is the fuzzing entry point.
pub fn parse_remote(sdp: &[u8]) -> Result<RemoteSdp, SdpError> {
    if sdp.len() > MAX_SDP_BYTES {
        return Err(SdpError::TooLarge {
            len: sdp.len(),
            max: MAX_SDP_BYTES,
        });
    }
    let session = sdpt::Session::parse(sdp).map_err(|e| parser_error(sdp, &e))?;
    if session.medias.len() > MAX_MEDIA {
        return Err(SdpError::TooManyMedia {
            count: session.medias.len(),
            max: MAX_MEDIA,
        });
    }
    let lines = LineMap::new(sdp);
    let session_dir = direction_of(&session.attributes, &lines.session_a)?;
    let session_conn = session.connection.as_ref().map(|c| (c, lines.session_c));

    let mut media = Vec::with_capacity(session.medias.len());
    for (index, m) in session.medias.iter().enumerate() {
        let no_lines = MediaLines::default();
        let ml = lines.media.get(index).unwrap_or(&no_lines);
        let line = ml.m;
        // sdp-types splits the m-line at single spaces: with a doubled space the protocol comes
        // out empty and the formats start with it. Re-split on any whitespace.
        let mut tokens = m.proto.split_whitespace().chain(m.fmt.split_whitespace());
        let proto = tokens.next().unwrap_or_default().to_string();
        let count = tokens.clone().count();
        if count > MAX_FORMATS {
            return Err(SdpError::TooManyFormats {
                line,
                count,
                max: MAX_FORMATS,
            });
        }
        if count == 0 {
            return Err(SdpError::Syntax {
                line,
                reason: "m-line lists no formats".into(),
            });
        }
        let formats: Vec<String> = tokens.map(str::to_string).collect();
        let audio = if !m.media.eq_ignore_ascii_case("audio") {
            Err(SdpError::NotAudio {
                line,
                media: shorten(&m.media),
            })
        } else if m.port == 0 {
            Err(SdpError::MediaDisabled { line })
        } else {
            parse_audio(m, ml, &proto, &formats, session_conn, session_dir)
        };
        media.push(MediaSection {
            index,
            line,
            media: m.media.clone(),
            port: m.port,
            proto,
            formats,
            audio,
        });
    }
    Ok(RemoteSdp {
        session_id: session.origin.sess_id.clone(),
        session_version: session.origin.sess_version,
        media,
    })
}

/// The direction attribute among `attrs`, if any; two different ones are an error.
fn direction_of(attrs: &[sdpt::Attribute], lines: &[usize]) -> Result<Option<Direction>, SdpError> {
    let mut found: Option<Direction> = None;
    for (j, a) in attrs.iter().enumerate() {
        if let Some(d) = Direction::parse(a.attribute.trim()) {
            if found.is_some_and(|f| f != d) {
                return Err(SdpError::BadAttribute {
                    line: lines.get(j).copied().unwrap_or(0),
                    name: d.as_str(),
                    value: String::new(),
                    reason: "contradicts an earlier direction attribute",
                });
            }
            found = Some(d);
        }
    }
    Ok(found)
}

fn connection_address(conn: &sdpt::Connection, line: usize) -> Result<IpAddr, SdpError> {
    let bad = |reason| SdpError::BadAddress {
        line,
        value: shorten(&conn.connection_address),
        reason,
    };
    if conn.nettype != sdpt::NetType::In {
        return Err(bad("network type is not IN"));
    }
    let addr = conn
        .try_address()
        .map_err(|_| bad("not a literal IP address"))?;
    match (&conn.addrtype, addr.ip) {
        (sdpt::AddrType::Ip4, IpAddr::V4(_)) | (sdpt::AddrType::Ip6, IpAddr::V6(_)) => Ok(addr.ip),
        (sdpt::AddrType::Ip4 | sdpt::AddrType::Ip6, _) => {
            Err(bad("address family does not match IP4/IP6"))
        }
        _ => Err(bad("address type is not IP4 or IP6")),
    }
}

/// Splits `PT rest` (an rtpmap or fmtp value) into a payload type 0-127 and the rest, trimmed.
fn split_pt(value: &str) -> Option<(u8, &str)> {
    let value = value.trim_start();
    let (pt, rest) = match value.find(char::is_whitespace) {
        Some(i) => (&value[..i], value[i..].trim()),
        None => (value, ""),
    };
    let pt: u8 = pt.parse().ok()?;
    (pt <= 127).then_some((pt, rest))
}

/// Parses a ptime-like value in ms (`20`, or `20.0` as some stacks write it).
fn parse_ms(value: &str) -> Option<u16> {
    let int = match value.split_once('.') {
        Some((i, frac)) if !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit()) => i,
        Some(_) => return None,
        None => value,
    };
    let ms: u32 = int.parse().ok()?;
    if ms == 0 || ms > MAX_PTIME_MS {
        return None;
    }
    u16::try_from(ms).ok()
}

fn parse_rtcp(value: &str) -> Option<RtcpAttribute> {
    let mut toks = value.split_whitespace();
    let port: u16 = toks.next()?.parse().ok().filter(|&p| p != 0)?;
    let address = match (toks.next(), toks.next(), toks.next(), toks.next()) {
        (None, ..) => None,
        (Some(net), Some(ty), Some(addr), None) if net.eq_ignore_ascii_case("IN") => {
            let ip: IpAddr = addr.parse().ok()?;
            let family_ok = (ty.eq_ignore_ascii_case("IP4") && ip.is_ipv4())
                || (ty.eq_ignore_ascii_case("IP6") && ip.is_ipv6());
            if !family_ok {
                return None;
            }
            Some(ip)
        }
        _ => return None,
    };
    Some(RtcpAttribute { port, address })
}

fn parse_audio(
    m: &sdpt::Media,
    ml: &MediaLines,
    proto: &str,
    format_tokens: &[String],
    session_conn: Option<(&sdpt::Connection, usize)>,
    session_dir: Option<Direction>,
) -> Result<RemoteMedia, SdpError> {
    let line = ml.m;
    let transport = Transport::parse(proto).map_err(|reason| SdpError::UnsupportedTransport {
        line,
        proto: shorten(proto),
        reason,
    })?;
    let mut pts: Vec<u8> = Vec::with_capacity(format_tokens.len());
    for token in format_tokens {
        let bad = |reason| SdpError::BadFormat {
            line,
            token: shorten(token),
            reason,
        };
        let pt = token
            .parse::<u8>()
            .ok()
            .filter(|&p| p <= 127)
            .ok_or_else(|| bad("not an RTP payload type 0-127"))?;
        if pts.contains(&pt) {
            return Err(bad("payload type listed twice"));
        }
        pts.push(pt);
    }

    let address = match (m.connections.first(), session_conn) {
        (Some(c), _) => connection_address(c, ml.c.first().copied().unwrap_or(0))?,
        (None, Some((c, cline))) => connection_address(c, cline)?,
        (None, None) => return Err(SdpError::MissingConnection { line }),
    };

    let mut rtpmaps: BTreeMap<u8, RtpMap> = BTreeMap::new();
    let mut fmtps: BTreeMap<u8, (usize, String)> = BTreeMap::new();
    let mut ptime = None;
    let mut maxptime = None;
    let mut rtcp_mux = false;
    let mut rtcp = None;
    let mut crypto = Vec::new();
    for (j, a) in m.attributes.iter().enumerate() {
        let aline = ml.a.get(j).copied().unwrap_or(0);
        let name = a.attribute.trim();
        let value = a.value.as_deref().unwrap_or_default().trim();
        let bad = |name: &'static str, reason: &'static str| SdpError::BadAttribute {
            line: aline,
            name,
            value: shorten(value),
            reason,
        };
        if name.eq_ignore_ascii_case("rtpmap") {
            let (pt, rest) =
                split_pt(value).ok_or_else(|| bad("rtpmap", "no payload type 0-127"))?;
            if !pts.contains(&pt) {
                continue; // RFC 4566: attributes for formats not on the m-line are ignored
            }
            let map = RtpMap::parse(rest)
                .ok_or_else(|| bad("rtpmap", "not ENCODING/CLOCK[/CHANNELS]"))?;
            if rtpmaps.insert(pt, map).is_some() {
                return Err(bad("rtpmap", "second rtpmap for this payload type"));
            }
        } else if name.eq_ignore_ascii_case("fmtp") {
            let (pt, rest) = split_pt(value).ok_or_else(|| bad("fmtp", "no payload type 0-127"))?;
            if !pts.contains(&pt) || rest.is_empty() {
                continue;
            }
            if fmtps.insert(pt, (aline, rest.to_string())).is_some() {
                return Err(bad("fmtp", "second fmtp for this payload type"));
            }
        } else if name.eq_ignore_ascii_case("ptime") {
            ptime = Some(parse_ms(value).ok_or_else(|| bad("ptime", "not 1-1000 ms"))?);
        } else if name.eq_ignore_ascii_case("maxptime") {
            maxptime = Some(parse_ms(value).ok_or_else(|| bad("maxptime", "not 1-1000 ms"))?);
        } else if name.eq_ignore_ascii_case("rtcp-mux") {
            rtcp_mux = true;
        } else if name.eq_ignore_ascii_case("rtcp") {
            rtcp = Some(parse_rtcp(value).ok_or_else(|| {
                bad(
                    "rtcp",
                    "not 'PORT' or 'PORT IN IP4|IP6 ADDRESS' with a port 1-65535",
                )
            })?);
        } else if name.eq_ignore_ascii_case("crypto") {
            crypto.push(CryptoAttribute::parse(value, aline));
        }
    }
    let direction = direction_of(&m.attributes, &ml.a)?
        .or(session_dir)
        .unwrap_or_default();

    let mut formats = Vec::with_capacity(pts.len());
    let mut telephone_events = Vec::new();
    for pt in pts {
        let (rtpmap, explicit_rtpmap) = match rtpmaps.remove(&pt) {
            Some(m) => (Some(m), true),
            None => (RtpMap::for_static(pt), false),
        };
        let fmtp = fmtps.remove(&pt);
        if let Some(map) = rtpmap.as_ref().filter(|m| m.is_telephone_event()) {
            let events = match &fmtp {
                Some((fline, f)) => EventSet::parse(f).ok_or_else(|| SdpError::BadAttribute {
                    line: *fline,
                    name: "fmtp",
                    value: shorten(f),
                    reason: "not a telephone-event list such as 0-15",
                })?,
                None => EventSet::DTMF,
            };
            telephone_events.push(TelephoneEvent {
                payload_type: PayloadType(pt),
                clock_rate: map.clock_rate,
                events,
            });
        }
        formats.push(RemoteFormat {
            payload_type: PayloadType(pt),
            rtpmap,
            explicit_rtpmap,
            fmtp: fmtp.map(|(_, f)| f),
        });
    }

    Ok(RemoteMedia {
        port: m.port,
        address,
        transport,
        formats,
        telephone_events,
        ptime,
        maxptime,
        direction,
        rtcp_mux,
        rtcp,
        crypto,
    })
}
