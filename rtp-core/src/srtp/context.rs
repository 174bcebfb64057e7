//! The SRTP cryptographic context of one direction: session keys, per-SSRC stream state and
//! the protect / unprotect calls.

use super::kdf::derive;
use super::replay::{estimate_index, ReplayWindow};
use super::transform::{Transform, SRTCP_CLEAR_LEN, SRTCP_E_FLAG};
use super::{SrtpError, SrtpProfile, DEFAULT_MAX_STREAMS, MAX_SRTCP_INDEX};
use crate::rtcp::first_sender_ssrc;
use crate::{PacketError, RtpPacket, Ssrc};
use aes::Aes128;
use ctr::cipher::KeyInit;
use std::fmt;

/// What a session has done and refused, for monitoring. Every error a call returns is
/// counted here once.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SrtpStats {
    /// RTP packets protected.
    pub rtp_protected: u64,
    /// SRTP packets authenticated and decrypted.
    pub rtp_unprotected: u64,
    /// RTCP datagrams protected.
    pub rtcp_protected: u64,
    /// SRTCP datagrams authenticated and decrypted.
    pub rtcp_unprotected: u64,
    /// SRTP packets whose tag did not match.
    pub rtp_auth_failures: u64,
    /// SRTCP packets whose tag did not match.
    pub rtcp_auth_failures: u64,
    /// SRTP packets refused as replays (on protect: an index already sent).
    pub rtp_replayed: u64,
    /// SRTCP packets refused as replays.
    pub rtcp_replayed: u64,
    /// Packets (SRTP or SRTCP) behind the replay window.
    pub too_old: u64,
    /// Packets too short or with a malformed header, and caller buffers too small.
    pub malformed: u64,
    /// Packets refused because the stream's index space is used up.
    pub index_exhausted: u64,
    /// Stream states created (first packet of an SSRC, or a signalled ROC).
    pub streams_created: u64,
    /// Stream states evicted to make room for a new SSRC (least recently used first).
    pub streams_evicted: u64,
}

/// Per-SSRC state.
#[derive(Debug, Clone, Copy, Default)]
struct Stream {
    ssrc: u32,
    /// Session clock value of the last use, for least-recently-used eviction.
    last_used: u64,
    /// The ROC of the first packet, before any packet was seen (signalled, or 0).
    initial_roc: u32,
    /// SRTP indexes (`ROC << 16 | SEQ`) sent or received; its highest is `ROC` and `s_l`.
    rtp: ReplayWindow,
    /// SRTCP indexes received.
    rtcp: ReplayWindow,
    /// The next SRTCP index to send.
    rtcp_next: u32,
}

impl Stream {
    /// The packet index of an SRTP packet with sequence number `seq` on this stream.
    fn rtp_index(&self, seq: u16) -> Result<u64, SrtpError> {
        match self.rtp.highest() {
            Some(highest) => estimate_index(highest, seq),
            None => Ok(u64::from(self.initial_roc) << 16 | u64::from(seq)),
        }
    }
}

/// One direction of an SRTP/SRTCP session under one master key (RFC 3711 §3.2).
///
/// Make one to protect what this end sends and another, from the peer's key, to unprotect
/// what it receives. State for each SSRC is created on its first packet (after that packet
/// authenticates, when receiving); at most [`DEFAULT_MAX_STREAMS`] (or
/// [`with_max_streams`](Self::with_max_streams)) SSRCs are kept, the least recently used
/// evicted first.
///
/// No call allocates: the stream table is allocated when the session is made.
///
/// Not supported: MKIs (an SDES line with one is refused), key derivation rates other than 0,
/// AES-256, and enforcing an SDES key lifetime below the hard limits (2^48 SRTP, 2^31 SRTCP
/// packets per SSRC, [`SrtpError::IndexExhausted`]): the caller rekeys from [`stats`].
///
/// [`stats`]: Self::stats
pub struct SrtpSession {
    profile: SrtpProfile,
    rtp: Transform,
    rtcp: Transform,
    streams: Vec<Stream>,
    max_streams: usize,
    /// Incremented on every stream use; orders streams for eviction.
    clock: u64,
    stats: SrtpStats,
}

impl fmt::Debug for SrtpSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The keys stay out of logs.
        f.debug_struct("SrtpSession")
            .field("profile", &self.profile)
            .field("streams", &self.streams.len())
            .field("max_streams", &self.max_streams)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl SrtpSession {
    /// A session for `profile` keyed with a master key and salt (RFC 3711 §8.1); derives the
    /// SRTP and SRTCP session keys (§4.3, key derivation rate 0).
    ///
    /// Errors: [`SrtpError::BadKeyLength`], [`SrtpError::BadSaltLength`].
    pub fn new(
        profile: SrtpProfile,
        master_key: &[u8],
        master_salt: &[u8],
    ) -> Result<Self, SrtpError> {
        if master_key.len() != profile.master_key_len() {
            return Err(SrtpError::BadKeyLength {
                expected: profile.master_key_len(),
                actual: master_key.len(),
            });
        }
        if master_salt.len() != profile.master_salt_len() {
            return Err(SrtpError::BadSaltLength {
                expected: profile.master_salt_len(),
                actual: master_salt.len(),
            });
        }
        let master = Aes128::new_from_slice(master_key).map_err(|_| SrtpError::BadKeyLength {
            expected: profile.master_key_len(),
            actual: master_key.len(),
        })?;
        let salt_len = profile.master_salt_len();
        let rtp = derive(&master, master_salt, false, salt_len);
        let rtcp = derive(&master, master_salt, true, salt_len);
        Ok(Self::with_transforms(
            profile,
            Transform::new(profile, &rtp, false),
            Transform::new(profile, &rtcp, true),
        ))
    }

    /// A session over ready transforms (the RFC 7714 vectors give session keys directly).
    pub(crate) fn with_transforms(profile: SrtpProfile, rtp: Transform, rtcp: Transform) -> Self {
        Self {
            profile,
            rtp,
            rtcp,
            streams: Vec::with_capacity(DEFAULT_MAX_STREAMS),
            max_streams: DEFAULT_MAX_STREAMS,
            clock: 0,
            stats: SrtpStats::default(),
        }
    }

    /// The same session keeping state for at most `max` SSRCs (at least 1). Streams beyond
    /// the new bound are dropped, least recently used first.
    pub fn with_max_streams(mut self, max: usize) -> Self {
        let max = max.max(1);
        while self.streams.len() > max {
            let Some(victim) = self.least_recently_used() else {
                break;
            };
            self.streams.swap_remove(victim);
        }
        self.streams
            .reserve_exact(max.saturating_sub(self.streams.len()));
        self.max_streams = max;
        self
    }

    /// The protection profile.
    pub const fn profile(&self) -> SrtpProfile {
        self.profile
    }

    /// What the session has done and refused.
    pub const fn stats(&self) -> SrtpStats {
        self.stats
    }

    /// SSRCs with state.
    pub fn stream_count(&self) -> usize {
        self.streams.len()
    }

    /// The rollover counter of `ssrc`'s SRTP stream: the ROC of the highest index sent or
    /// received, or the one its first packet will get. `None` for an unknown SSRC.
    pub fn roc(&self, ssrc: Ssrc) -> Option<u32> {
        let s = self.streams.get(self.find(ssrc.0)?)?;
        Some(s.rtp.highest().map_or(s.initial_roc, |h| (h >> 16) as u32))
    }

    /// Sets the rollover counter of `ssrc` as signalled out of band (a receiver joining a
    /// stream that already wrapped; RFC 3711 §3.3.1). Before the stream's first packet it is
    /// that packet's ROC; afterwards it replaces the ROC of the highest index (keeping `s_l`)
    /// and the replay window starts again from there. Creates the stream state if needed.
    pub fn set_roc(&mut self, ssrc: Ssrc, roc: u32) {
        let i = self.find_or_insert(ssrc.0);
        if let Some(s) = self.streams.get_mut(i) {
            s.initial_roc = roc;
            if let Some(h) = s.rtp.highest() {
                let mut w = ReplayWindow::default();
                w.accept(u64::from(roc) << 16 | (h & 0xFFFF));
                s.rtp = w;
            }
        }
    }

    /// Forgets `ssrc` (after its BYE). Returns whether it was known.
    pub fn remove_stream(&mut self, ssrc: Ssrc) -> bool {
        match self.find(ssrc.0) {
            Some(i) => {
                self.streams.swap_remove(i);
                true
            }
            None => false,
        }
    }

    /// Protects the RTP packet `buf[..len]` in place and returns the SRTP length, `len` plus
    /// [`SrtpProfile::rtp_overhead`]; `buf` must have that room.
    ///
    /// Errors: [`SrtpError::Malformed`] (not a valid RTP packet), [`SrtpError::BufferTooSmall`],
    /// [`SrtpError::Replayed`] / [`SrtpError::TooOld`] (the index was already used: sending
    /// it again would reuse keystream), [`SrtpError::IndexExhausted`].
    pub fn protect_rtp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, SrtpError> {
        let result = self.protect_rtp_inner(buf, len);
        self.tally(&result, false, true);
        result
    }

    /// Protects the RTP packet `input` into `out`; returns the SRTP length.
    pub fn protect_rtp_into(&mut self, input: &[u8], out: &mut [u8]) -> Result<usize, SrtpError> {
        let needed = input.len() + self.profile.rtp_overhead();
        if out.len() < needed {
            let result = Err(SrtpError::BufferTooSmall { needed });
            self.tally(&result, false, true);
            return result;
        }
        out[..input.len()].copy_from_slice(input);
        self.protect_rtp(out, input.len())
    }

    /// Authenticates and decrypts the SRTP packet that is all of `buf`, in place; returns the
    /// length of the RTP packet now at `buf[..len]` (parse it with [`RtpPacket::parse`]).
    ///
    /// Errors: [`SrtpError::TooShort`], [`SrtpError::Malformed`], [`SrtpError::Replayed`],
    /// [`SrtpError::TooOld`], [`SrtpError::AuthFailed`]. On an error the packet is to be
    /// dropped; `buf` may have been altered.
    pub fn unprotect_rtp(&mut self, buf: &mut [u8]) -> Result<usize, SrtpError> {
        let result = self.unprotect_rtp_inner(buf);
        self.tally(&result, false, false);
        result
    }

    /// Protects the compound RTCP datagram `buf[..len]` in place (encrypted, E flag set) and
    /// returns the SRTCP length, `len` plus [`SrtpProfile::rtcp_overhead`].
    ///
    /// Only the version and the first eight bytes (common header and sender SSRC, which stay in
    /// the clear) are checked; the framing of the rest is the caller's.
    ///
    /// Errors: [`SrtpError::Malformed`] (version not 2, or under 8 bytes),
    /// [`SrtpError::BufferTooSmall`],
    /// [`SrtpError::IndexExhausted`] (2^31 datagrams sent on this SSRC).
    pub fn protect_rtcp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, SrtpError> {
        let result = self.protect_rtcp_inner(buf, len, true);
        self.tally(&result, true, true);
        result
    }

    /// Protects the RTCP datagram `input` into `out`; returns the SRTCP length.
    pub fn protect_rtcp_into(&mut self, input: &[u8], out: &mut [u8]) -> Result<usize, SrtpError> {
        let needed = input.len() + self.profile.rtcp_overhead();
        if out.len() < needed {
            let result = Err(SrtpError::BufferTooSmall { needed });
            self.tally(&result, true, true);
            return result;
        }
        out[..input.len()].copy_from_slice(input);
        self.protect_rtcp(out, input.len())
    }

    /// Authenticates and (when its E flag is set) decrypts the SRTCP datagram that is all of
    /// `buf`, in place; returns the length of the RTCP datagram now at `buf[..len]`.
    ///
    /// Errors as [`unprotect_rtp`](Self::unprotect_rtp).
    pub fn unprotect_rtcp(&mut self, buf: &mut [u8]) -> Result<usize, SrtpError> {
        let result = self.unprotect_rtcp_inner(buf);
        self.tally(&result, true, false);
        result
    }

    fn protect_rtp_inner(&mut self, buf: &mut [u8], len: usize) -> Result<usize, SrtpError> {
        let needed = len + self.rtp.tag_len();
        let packet = buf.get(..len).ok_or(SrtpError::BufferTooSmall { needed })?;
        let packet = RtpPacket::parse(packet)?;
        let (header_len, ssrc, seq) = (
            packet.header_len(),
            packet.ssrc().0,
            packet.sequence_number().0,
        );
        let buf = buf
            .get_mut(..needed)
            .ok_or(SrtpError::BufferTooSmall { needed })?;
        let slot = self.find(ssrc);
        let stream = slot
            .and_then(|i| self.streams.get(i).copied())
            .unwrap_or_default();
        let index = stream.rtp_index(seq)?;
        stream.rtp.check(index)?;
        self.rtp.protect_rtp(buf, header_len, len, ssrc, index)?;
        if let Some(s) = self.commit(slot, ssrc, stream) {
            s.rtp.accept(index);
        }
        Ok(needed)
    }

    fn unprotect_rtp_inner(&mut self, buf: &mut [u8]) -> Result<usize, SrtpError> {
        let body_end = buf
            .len()
            .checked_sub(self.rtp.tag_len())
            .ok_or(SrtpError::TooShort)?;
        let packet = RtpPacket::parse_opaque_body(&buf[..body_end]).map_err(|e| match e {
            PacketError::TooShort => SrtpError::TooShort,
            e => SrtpError::Malformed(e),
        })?;
        let (header_len, ssrc, seq) = (
            packet.header_len(),
            packet.ssrc().0,
            packet.sequence_number().0,
        );
        let slot = self.find(ssrc);
        let stream = slot
            .and_then(|i| self.streams.get(i).copied())
            .unwrap_or_default();
        let index = stream.rtp_index(seq)?;
        stream.rtp.check(index)?;
        self.rtp.unprotect_rtp(buf, header_len, ssrc, index)?;
        // Only an authenticated packet creates or advances state.
        if let Some(s) = self.commit(slot, ssrc, stream) {
            s.rtp.accept(index);
        }
        Ok(body_end)
    }

    /// Protects RTCP; `encrypt` false sends it authenticated only (E flag clear).
    pub(crate) fn protect_rtcp_inner(
        &mut self,
        buf: &mut [u8],
        len: usize,
        encrypt: bool,
    ) -> Result<usize, SrtpError> {
        let needed = len + self.profile.rtcp_overhead();
        let packet = buf.get(..len).ok_or(SrtpError::BufferTooSmall { needed })?;
        // The framing of the rest is the caller's (RFC 7714's own example has a length word
        // that disagrees with its size); SRTCP needs the version and sender SSRC.
        let ssrc = first_sender_ssrc(packet)?.0;
        let buf = buf
            .get_mut(..needed)
            .ok_or(SrtpError::BufferTooSmall { needed })?;
        let slot = self.find(ssrc);
        let stream = slot
            .and_then(|i| self.streams.get(i).copied())
            .unwrap_or_default();
        let index = stream.rtcp_next;
        if index > MAX_SRTCP_INDEX {
            return Err(SrtpError::IndexExhausted);
        }
        let out = self.rtcp.protect_rtcp(buf, len, ssrc, index, encrypt)?;
        if let Some(s) = self.commit(slot, ssrc, stream) {
            s.rtcp_next = index + 1;
        }
        Ok(out)
    }

    fn unprotect_rtcp_inner(&mut self, buf: &mut [u8]) -> Result<usize, SrtpError> {
        let ssrc = match first_sender_ssrc(buf) {
            Ok(ssrc) => ssrc.0,
            Err(PacketError::TooShort) => return Err(SrtpError::TooShort),
            Err(e) => return Err(SrtpError::Malformed(e)),
        };
        let (word_at, word) = self.rtcp.rtcp_index_word(buf)?;
        let index = u64::from(word & !SRTCP_E_FLAG);
        let slot = self.find(ssrc);
        let stream = slot
            .and_then(|i| self.streams.get(i).copied())
            .unwrap_or_default();
        stream.rtcp.check(index)?;
        let len = self.rtcp.unprotect_rtcp(buf, word_at, word, ssrc)?;
        debug_assert!(len >= SRTCP_CLEAR_LEN);
        if let Some(s) = self.commit(slot, ssrc, stream) {
            s.rtcp.accept(index);
        }
        Ok(len)
    }

    /// The state of `ssrc` after a packet succeeded: its slot, or a new one (the state the
    /// packet was checked against, stored); marked as most recently used.
    fn commit(&mut self, slot: Option<usize>, ssrc: u32, stream: Stream) -> Option<&mut Stream> {
        let i = slot.unwrap_or_else(|| self.insert(ssrc, stream));
        self.clock += 1;
        let clock = self.clock;
        let s = self.streams.get_mut(i)?;
        s.last_used = clock;
        Some(s)
    }

    /// The slot of `ssrc`.
    fn find(&self, ssrc: u32) -> Option<usize> {
        self.streams.iter().position(|s| s.ssrc == ssrc)
    }

    fn find_or_insert(&mut self, ssrc: u32) -> usize {
        match self.find(ssrc) {
            Some(i) => i,
            None => self.insert(ssrc, Stream::default()),
        }
    }

    fn least_recently_used(&self) -> Option<usize> {
        self.streams
            .iter()
            .enumerate()
            .min_by_key(|(_, s)| s.last_used)
            .map(|(i, _)| i)
    }

    /// Stores a new stream for `ssrc` (evicting the least recently used one when full) and
    /// returns its slot.
    fn insert(&mut self, ssrc: u32, mut stream: Stream) -> usize {
        stream.ssrc = ssrc;
        self.stats.streams_created += 1;
        if self.streams.len() < self.max_streams {
            self.streams.push(stream);
            return self.streams.len() - 1;
        }
        let victim = self.least_recently_used().unwrap_or(0);
        self.stats.streams_evicted += 1;
        match self.streams.get_mut(victim) {
            Some(slot) => *slot = stream,
            None => self.streams.push(stream),
        }
        victim
    }

    /// Counts a call's outcome, and marks the stream it touched as recently used.
    fn tally(&mut self, result: &Result<usize, SrtpError>, rtcp: bool, protect: bool) {
        let s = &mut self.stats;
        match (result, rtcp, protect) {
            (Ok(_), false, true) => s.rtp_protected += 1,
            (Ok(_), false, false) => s.rtp_unprotected += 1,
            (Ok(_), true, true) => s.rtcp_protected += 1,
            (Ok(_), true, false) => s.rtcp_unprotected += 1,
            (Err(SrtpError::AuthFailed), false, _) => s.rtp_auth_failures += 1,
            (Err(SrtpError::AuthFailed), true, _) => s.rtcp_auth_failures += 1,
            (Err(SrtpError::Replayed), false, _) => s.rtp_replayed += 1,
            (Err(SrtpError::Replayed), true, _) => s.rtcp_replayed += 1,
            (Err(SrtpError::TooOld), _, _) => s.too_old += 1,
            (Err(SrtpError::IndexExhausted), _, _) => s.index_exhausted += 1,
            (Err(_), _, _) => s.malformed += 1,
        }
    }

    /// Sets the next SRTCP index `ssrc` sends with (the RFC 7714 vectors start mid-stream).
    #[cfg(test)]
    pub(crate) fn set_next_rtcp_index(&mut self, ssrc: Ssrc, index: u32) {
        let i = self.find_or_insert(ssrc.0);
        if let Some(s) = self.streams.get_mut(i) {
            s.rtcp_next = index;
        }
    }
}
