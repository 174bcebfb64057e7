//! Ogg Opus files (RFC 7845): the `OpusHead` and `OpusTags` headers, a writer and a reader.
//!
//! Granule positions count 48 kHz samples of decoded output, pre-skip included: a stream of
//! `n` real samples whose encoder delay is `pre_skip` ends at granule `pre_skip + n`, and the
//! reader tells, per packet, which of its samples to drop at the start (pre-skip) and at the
//! end (end trimming on the last page), so a decode gives back exactly the samples encoded.
//!
//! The reader takes any byte stream: damage comes back as typed errors after which reading
//! carries on, memory is bounded by two Ogg pages plus one packet under [`ReaderLimits`], and
//! nothing panics. It follows the first Opus stream of a multiplexed file and stops at its end
//! (a chained file's later links are not read).

use super::ogg::{PageHeader, PageReader, PageWriter, FLAG_BOS, FLAG_CONTINUED, FLAG_EOS};
use crate::codec::audio::opus::{packet, OpusEncoder};
use crate::error::ContainerError;
use std::io::{Read, Write};

const HEAD_MAGIC: &[u8; 8] = b"OpusHead";
const TAGS_MAGIC: &[u8; 8] = b"OpusTags";

/// The identification header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpusHead {
    /// The version byte; readers take major version 0 (values 0..=15).
    pub version: u8,
    /// Output channels, 1..=255 (1 or 2 with mapping family 0).
    pub channels: u8,
    /// Samples at 48 kHz to drop from the start of the decoded output (the encoder's delay).
    pub pre_skip: u16,
    /// The rate of the original input in Hz, for information only (0: unknown).
    pub input_sample_rate: u32,
    /// Gain to apply to the output, Q7.8 dB.
    pub output_gain: i16,
    /// Channel mapping family: 0 is mono or stereo in one Opus stream.
    pub mapping_family: u8,
    /// Opus streams per packet (1 for family 0).
    pub stream_count: u8,
    /// How many of those are coupled (stereo) streams.
    pub coupled_count: u8,
    /// Output channel to decoded channel map (family 0: identity).
    pub channel_mapping: Vec<u8>,
}

impl OpusHead {
    /// A family 0 header: `channels` (1 or 2) in one Opus stream.
    pub fn new(channels: u8, input_sample_rate: u32, pre_skip: u16) -> Self {
        Self {
            version: 1,
            channels,
            pre_skip,
            input_sample_rate,
            output_gain: 0,
            mapping_family: 0,
            stream_count: 1,
            coupled_count: channels.saturating_sub(1),
            channel_mapping: (0..channels).collect(),
        }
    }

    /// The header for a stream from `enc`: its channels and rate, and its delay as pre-skip.
    pub fn for_encoder(enc: &OpusEncoder) -> Self {
        let cfg = enc.config();
        Self::new(cfg.channels as u8, cfg.sample_rate, enc.pre_skip())
    }

    /// Parses the header packet.
    pub fn parse(p: &[u8]) -> Result<Self, ContainerError> {
        if p.len() < 19 || &p[..8] != HEAD_MAGIC {
            return Err(ContainerError::BadHeader("OpusHead too short or misnamed"));
        }
        let version = p[8];
        if version >> 4 != 0 {
            return Err(ContainerError::Unsupported(format!(
                "OpusHead version {version}"
            )));
        }
        let channels = p[9];
        if channels == 0 {
            return Err(ContainerError::BadHeader("OpusHead says 0 channels"));
        }
        let pre_skip = u16::from_le_bytes([p[10], p[11]]);
        let input_sample_rate = u32::from_le_bytes([p[12], p[13], p[14], p[15]]);
        let output_gain = i16::from_le_bytes([p[16], p[17]]);
        let mapping_family = p[18];
        let (stream_count, coupled_count, channel_mapping) = if mapping_family == 0 {
            if channels > 2 {
                return Err(ContainerError::BadHeader(
                    "mapping family 0 with more than 2 channels",
                ));
            }
            (1, channels - 1, (0..channels).collect())
        } else {
            let table = p
                .get(21..21 + usize::from(channels))
                .ok_or(ContainerError::BadHeader(
                    "OpusHead channel mapping cut short",
                ))?;
            let (streams, coupled) = (p[19], p[20]);
            if streams == 0
                || coupled > streams
                || usize::from(streams) + usize::from(coupled) > 255
            {
                return Err(ContainerError::BadHeader("OpusHead stream counts"));
            }
            let decoded = streams + coupled;
            if table.iter().any(|&m| m != 255 && m >= decoded) {
                return Err(ContainerError::BadHeader("OpusHead channel mapping"));
            }
            (streams, coupled, table.to_vec())
        };
        Ok(Self {
            version,
            channels,
            pre_skip,
            input_sample_rate,
            output_gain,
            mapping_family,
            stream_count,
            coupled_count,
            channel_mapping,
        })
    }

    /// The header packet.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(21 + self.channel_mapping.len());
        v.extend_from_slice(HEAD_MAGIC);
        v.push(self.version);
        v.push(self.channels);
        v.extend_from_slice(&self.pre_skip.to_le_bytes());
        v.extend_from_slice(&self.input_sample_rate.to_le_bytes());
        v.extend_from_slice(&self.output_gain.to_le_bytes());
        v.push(self.mapping_family);
        if self.mapping_family != 0 {
            v.push(self.stream_count);
            v.push(self.coupled_count);
            v.extend_from_slice(&self.channel_mapping);
        }
        v
    }
}

/// The comment header: the encoder's vendor string and `NAME=value` comments.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpusTags {
    /// Who wrote the stream.
    pub vendor: String,
    /// User comments, `NAME=value` (invalid UTF-8 is replaced).
    pub comments: Vec<String>,
}

impl OpusTags {
    /// Tags with `vendor` and no comments.
    pub fn new(vendor: &str) -> Self {
        Self {
            vendor: vendor.to_string(),
            comments: Vec::new(),
        }
    }

    /// Parses the header packet. Data after the comments (binary, RFC 7845 section 5.2) is
    /// ignored.
    pub fn parse(p: &[u8]) -> Result<Self, ContainerError> {
        const SHORT: ContainerError = ContainerError::BadHeader("OpusTags cut short");
        if p.len() < 8 || &p[..8] != TAGS_MAGIC {
            return Err(ContainerError::BadHeader("OpusTags missing"));
        }
        let mut rest = &p[8..];
        let take = |rest: &mut &[u8]| -> Result<String, ContainerError> {
            let len = rest.get(..4).ok_or(SHORT)?;
            let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
            let s = rest.get(4..4usize.saturating_add(len)).ok_or(SHORT)?;
            let out = String::from_utf8_lossy(s).into_owned();
            *rest = &rest[4 + len..];
            Ok(out)
        };
        let vendor = take(&mut rest)?;
        let count = rest.get(..4).ok_or(SHORT)?;
        let count = u32::from_le_bytes([count[0], count[1], count[2], count[3]]);
        rest = &rest[4..];
        // Each comment takes at least 4 bytes, so the packet bounds the work and memory.
        let mut comments = Vec::new();
        for _ in 0..count {
            comments.push(take(&mut rest)?);
        }
        Ok(Self { vendor, comments })
    }

    /// The header packet.
    pub fn to_bytes(&self) -> Vec<u8> {
        fn put(v: &mut Vec<u8>, s: &str) {
            v.extend_from_slice(&(s.len() as u32).to_le_bytes());
            v.extend_from_slice(s.as_bytes());
        }
        let mut v = Vec::new();
        v.extend_from_slice(TAGS_MAGIC);
        put(&mut v, &self.vendor);
        v.extend_from_slice(&(self.comments.len() as u32).to_le_bytes());
        for c in &self.comments {
            put(&mut v, c);
        }
        v
    }
}

/// Writes an Ogg Opus file: headers on their own pages, then audio packets, several to a page
/// (a page closes once it holds [`Self::set_max_page_duration`] of audio, or when its 255
/// segments fill, the packet then continuing on the next page). Call [`Self::finish`] to write
/// the last page; a writer dropped without it leaves the file without its end.
#[derive(Debug)]
pub struct OggOpusWriter<W: Write> {
    out: W,
    pages: PageWriter,
    pre_skip: u64,
    /// The granule at the end of the last packet written.
    granule: u64,
    max_page_duration: u64,
    audio_packets: u64,
}

impl<W: Write> OggOpusWriter<W> {
    /// Starts a file on `out` with `head` and `tags`, as logical stream `serial`.
    pub fn new(
        mut out: W,
        head: &OpusHead,
        tags: &OpusTags,
        serial: u32,
    ) -> Result<Self, ContainerError> {
        let head_bytes = head.to_bytes();
        // Check what we write reads back.
        OpusHead::parse(&head_bytes)?;
        let mut pages = PageWriter::new(serial);
        pages.push_packet(&mut out, &head_bytes, 0)?;
        pages.flush(&mut out, 0)?;
        pages.push_packet(&mut out, &tags.to_bytes(), 0)?;
        pages.flush(&mut out, 0)?;
        Ok(Self {
            out,
            pages,
            pre_skip: u64::from(head.pre_skip),
            granule: 0,
            max_page_duration: 48000,
            audio_packets: 0,
        })
    }

    /// The most audio on one page, in 48 kHz samples (default one second). Shorter pages cost
    /// more overhead but lose less on damage and let a live stream be read sooner.
    pub fn set_max_page_duration(&mut self, samples_48k: u32) {
        self.max_page_duration = u64::from(samples_48k.max(1));
    }

    /// Adds one Opus packet (its duration is read from its TOC).
    pub fn write_packet(&mut self, packet: &[u8]) -> Result<(), ContainerError> {
        let duration = packet::duration(packet, 48000)
            .ok_or(ContainerError::InvalidArgument("not a valid Opus packet"))?;
        if self.pages.has_pending()
            && self.granule - self.pages.last_written_granule() >= self.max_page_duration
        {
            self.pages.flush(&mut self.out, 0)?;
        }
        self.granule += u64::from(duration);
        self.pages
            .push_packet(&mut self.out, packet, self.granule)?;
        self.audio_packets += 1;
        Ok(())
    }

    /// Writes the last page and returns the sink. `samples_48k`, if given, is how many real
    /// samples (48 kHz, after pre-skip) the stream holds: the last page's granule then trims
    /// the padding of the last frame. It may not exceed what the packets hold, nor trim into
    /// packets on an earlier page.
    pub fn finish(mut self, samples_48k: Option<u64>) -> Result<W, ContainerError> {
        if let Some(n) = samples_48k {
            let end = self.pre_skip + n;
            if end > self.granule {
                return Err(ContainerError::InvalidArgument(
                    "more samples than the packets hold",
                ));
            }
            if self.audio_packets == 0 || end < self.pages.last_written_granule() {
                return Err(ContainerError::InvalidArgument(
                    "end trimming reaches before the last page",
                ));
            }
            self.pages.set_pending_granule(end);
        }
        self.pages.flush(&mut self.out, FLAG_EOS)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Memory bounds for the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderLimits {
    /// The largest audio packet, in bytes (default 1 MiB; real ones are under 8 KiB).
    pub max_packet_bytes: usize,
    /// The largest OpusTags packet, in bytes (default 16 MiB, room for cover art).
    pub max_tags_bytes: usize,
}

impl Default for ReaderLimits {
    fn default() -> Self {
        Self {
            max_packet_bytes: 1 << 20,
            max_tags_bytes: 16 << 20,
        }
    }
}

/// One audio packet from [`OggOpusReader::next_packet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpusPacket<'a> {
    /// The Opus packet.
    pub data: &'a [u8],
    /// Its duration in 48 kHz samples, from its TOC (0 if the TOC is malformed).
    pub duration: u32,
    /// Samples (48 kHz) to drop from the start of its decoded output: pre-skip.
    pub skip: u32,
    /// Samples (48 kHz) to keep after those; less than `duration - skip` on the last page
    /// when the stream's end is trimmed.
    pub keep: u32,
    /// The page's granule position, when this is the last packet to end on its page.
    pub granule: Option<u64>,
    /// The last packet of the stream.
    pub last: bool,
}

impl OpusPacket<'_> {
    /// [`Self::skip`] and [`Self::keep`] at `rate` Hz (an Opus decoding rate), for a decoder
    /// that does not run at 48 kHz.
    pub fn trim_at(&self, rate: u32) -> (usize, usize) {
        let scale = |x: u32| (u64::from(x) * u64::from(rate) / 48000) as usize;
        let skip = scale(self.skip);
        let end = scale(self.skip + self.keep);
        (skip, end - skip)
    }
}

/// Where the packet being returned lives.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// In the current page's body.
    Page(usize, usize),
    /// Assembled across pages.
    Assembled,
}

#[derive(Debug, Clone, Copy)]
struct RawPacket {
    source: Source,
    /// The granule of the page the packet ends on.
    page_granule: Option<u64>,
    /// The last packet to end on its page.
    ends_page: bool,
    /// That page is the stream's last.
    eos: bool,
}

/// Reads an Ogg Opus file.
#[derive(Debug)]
pub struct OggOpusReader<R: Read> {
    pages: PageReader<R>,
    limits: ReaderLimits,
    serial: u32,
    head: OpusHead,
    tags: OpusTags,
    // The current page.
    page: Option<PageHeader>,
    /// Next lacing value to read.
    seg: usize,
    /// Body offset of that segment.
    off: usize,
    /// Index of the last lacing value below 255 (the last packet ending on the page).
    last_end: Option<usize>,
    next_sequence: u32,
    /// A packet is being assembled across pages in `partial`.
    assembling: bool,
    /// `partial` was returned last time: clear it before going on.
    partial_returned: bool,
    partial: Vec<u8>,
    /// Drop segments until a packet ends (the rest of a packet whose start was lost).
    skipping: bool,
    /// The EOS page has been loaded.
    eos: bool,
    /// The page layer reported damage since the last page of ours.
    damage_reported: bool,
    finished: bool,
    /// The granule at the end of the last audio packet returned.
    position: u64,
}

impl<R: Read> OggOpusReader<R> {
    /// Opens `src`, reading the headers, with the default [`ReaderLimits`].
    pub fn new(src: R) -> Result<Self, ContainerError> {
        Self::with_limits(src, ReaderLimits::default())
    }

    /// Opens `src`, reading the headers.
    pub fn with_limits(src: R, limits: ReaderLimits) -> Result<Self, ContainerError> {
        let mut pages = PageReader::new(src);
        if !pages.starts_with_capture()? {
            return Err(ContainerError::NotOgg);
        }
        // Find the first Opus BOS page; other streams' BOS pages may come first.
        let first = loop {
            match pages.next_page() {
                Ok(Some(h)) if h.flags & FLAG_BOS != 0 => {
                    if pages.body().starts_with(HEAD_MAGIC) {
                        break h;
                    }
                }
                Ok(Some(_)) | Ok(None) => return Err(ContainerError::NotOpus),
                Err(ContainerError::Corrupt(_)) => {}
                Err(e) => return Err(e),
            }
        };
        let mut reader = Self {
            pages,
            limits,
            serial: first.serial,
            head: OpusHead::new(1, 0, 0),
            tags: OpusTags::default(),
            page: None,
            seg: 0,
            off: 0,
            last_end: None,
            next_sequence: first.sequence.wrapping_add(1),
            assembling: false,
            partial_returned: false,
            partial: Vec::new(),
            skipping: false,
            eos: false,
            damage_reported: false,
            finished: false,
            position: 0,
        };
        reader.enter_page(first);
        let head = reader
            .next_raw(limits.max_tags_bytes)?
            .ok_or(ContainerError::BadHeader("no OpusHead"))?;
        reader.head = OpusHead::parse(reader.data(head.source))?;
        let tags = reader
            .next_raw(limits.max_tags_bytes)?
            .ok_or(ContainerError::BadHeader("no OpusTags"))?;
        reader.tags = OpusTags::parse(reader.data(tags.source))?;
        if reader.partial_returned {
            // Do not keep a large tags buffer for the audio.
            reader.partial = Vec::new();
            reader.partial_returned = false;
        }
        Ok(reader)
    }

    /// The identification header.
    pub fn head(&self) -> &OpusHead {
        &self.head
    }

    /// The comment header.
    pub fn tags(&self) -> &OpusTags {
        &self.tags
    }

    /// How many damaged stretches of the file have been skipped.
    pub fn corrupt_count(&self) -> u64 {
        self.pages.corrupt_count()
    }

    fn enter_page(&mut self, h: PageHeader) {
        self.last_end = self.pages.lacing().iter().rposition(|&l| l < 255);
        self.seg = 0;
        self.off = 0;
        self.eos = h.flags & FLAG_EOS != 0;
        self.page = Some(h);
    }

    fn data(&self, source: Source) -> &[u8] {
        match source {
            Source::Page(start, len) => &self.pages.body()[start..start + len],
            Source::Assembled => &self.partial,
        }
    }

    /// Loads the next page of our stream. `Ok(false)` at the end of the stream.
    fn load_page(&mut self) -> Result<bool, ContainerError> {
        loop {
            if self.eos || self.finished {
                self.finished = true;
                return Ok(false);
            }
            let h = match self.pages.next_page() {
                Ok(Some(h)) => h,
                Err(e) => {
                    self.damage_reported = true;
                    return Err(e);
                }
                Ok(None) => {
                    self.finished = true;
                    self.page = None;
                    if self.assembling {
                        self.assembling = false;
                        self.partial.clear();
                        return Err(ContainerError::Corrupt("stream ends inside a packet"));
                    }
                    return Ok(false);
                }
            };
            if h.serial != self.serial {
                continue;
            }
            if h.flags & FLAG_BOS != 0 {
                // A new stream with our serial: a chained link we do not follow.
                self.finished = true;
                self.page = None;
                return Ok(false);
            }
            let gap = h.sequence != self.next_sequence;
            self.next_sequence = h.sequence.wrapping_add(1);
            // Damage the page layer has reported already explains a gap.
            let reported = std::mem::take(&mut self.damage_reported);
            let continued = h.flags & FLAG_CONTINUED != 0;
            self.enter_page(h);
            let error = if gap {
                self.assembling = false;
                self.partial.clear();
                self.skipping = continued;
                Some("pages missing")
            } else if continued && !self.assembling && !self.skipping {
                self.skipping = true;
                Some("page continues a packet that was never begun")
            } else if !continued && (self.assembling || self.skipping) {
                let error = self.assembling.then_some("packet cut short");
                self.assembling = false;
                self.skipping = false;
                self.partial.clear();
                error
            } else {
                None
            };
            return match error {
                Some(why) if !(gap && reported) => Err(ContainerError::Corrupt(why)),
                _ => Ok(true),
            };
        }
    }

    /// The next packet of our stream, whatever it is.
    fn next_raw(&mut self, limit: usize) -> Result<Option<RawPacket>, ContainerError> {
        if self.partial_returned {
            self.partial.clear();
            self.partial_returned = false;
        }
        loop {
            let segments = self.page.map_or(0, |h| usize::from(h.segments));
            if self.seg >= segments {
                if !self.load_page()? {
                    return Ok(None);
                }
                continue;
            }
            let lacing = self.pages.lacing();
            let start = self.off;
            let mut len = 0usize;
            let mut complete = false;
            while self.seg < segments {
                let l = usize::from(lacing[self.seg]);
                self.seg += 1;
                len += l;
                if l < 255 {
                    complete = true;
                    break;
                }
            }
            self.off += len;
            if self.skipping {
                self.skipping = !complete;
                continue;
            }
            let ends_page = complete && Some(self.seg - 1) == self.last_end;
            let page_granule = self.page.and_then(|h| h.granule);
            let eos = self.eos;
            if self.assembling || !complete {
                if self.partial.len() + len > limit {
                    self.partial.clear();
                    self.assembling = false;
                    self.skipping = !complete;
                    return Err(ContainerError::TooLarge { limit });
                }
                let body = self.pages.body();
                self.partial.extend_from_slice(&body[start..start + len]);
                if !complete {
                    self.assembling = true;
                    continue;
                }
                self.assembling = false;
                self.partial_returned = true;
                return Ok(Some(RawPacket {
                    source: Source::Assembled,
                    page_granule,
                    ends_page,
                    eos,
                }));
            }
            if len > limit {
                return Err(ContainerError::TooLarge { limit });
            }
            return Ok(Some(RawPacket {
                source: Source::Page(start, len),
                page_granule,
                ends_page,
                eos,
            }));
        }
    }

    /// The next audio packet, `Ok(None)` at the end of the stream. After an error (damage,
    /// an oversized packet) reading can go on: the packets around the damage are lost.
    pub fn next_packet(&mut self) -> Result<Option<OpusPacket<'_>>, ContainerError> {
        let Some(raw) = self.next_raw(self.limits.max_packet_bytes)? else {
            return Ok(None);
        };
        let duration = packet::duration(self.data(raw.source), 48000).unwrap_or(0);
        let start = self.position;
        let end = start + u64::from(duration);
        self.position = end;
        // Pre-skip at the start; on the last page, its granule trims the end (of any packet
        // ending on that page).
        let keep_from = start.max(u64::from(self.head.pre_skip)).min(end);
        let keep_to = match (raw.eos, raw.page_granule) {
            (true, Some(g)) => end.min(g),
            _ => end,
        };
        Ok(Some(OpusPacket {
            data: self.data(raw.source),
            duration,
            skip: (keep_from - start) as u32,
            keep: keep_to.saturating_sub(keep_from) as u32,
            granule: raw.page_granule.filter(|_| raw.ends_page),
            last: raw.ends_page && raw.eos,
        }))
    }
}

#[cfg(test)]
mod tests;
