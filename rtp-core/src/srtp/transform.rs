//! The packet transforms: AES-CM with HMAC-SHA1 (RFC 3711 §4.1.1, §4.2.1) and AEAD AES-GCM
//! (RFC 7714 §8, §9). They work on byte ranges the session has already validated and know
//! nothing of streams or replay.

use super::kdf::{aes_ctr, SessionKeys, SALT_LEN};
use super::{SrtpError, SrtpProfile};
use aes::Aes128;
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::Aes128Gcm;
use ctr::cipher::StreamCipher;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// Length of the fixed part of an RTCP packet that SRTCP leaves in the clear: the common
/// header and the sender SSRC.
pub(crate) const SRTCP_CLEAR_LEN: usize = 8;
/// Length of the E flag and SRTCP index word.
pub(crate) const SRTCP_INDEX_LEN: usize = 4;
/// The E (encrypted) flag of the SRTCP index word.
pub(crate) const SRTCP_E_FLAG: u32 = 0x8000_0000;
/// AES-GCM tag length (RFC 7714: 16 bytes).
pub(crate) const GCM_TAG_LEN: usize = 16;

type GcmNonce = aes_gcm::aead::Nonce<Aes128Gcm>;
type GcmTag = aes_gcm::aead::Tag<Aes128Gcm>;

/// The HMAC-SHA1 block size: a shorter key is zero-padded to it (RFC 2104), so keying with
/// the padded 20-byte session key is infallible and the same as keying with the key.
const SHA1_BLOCK_LEN: usize = 64;

/// One direction's (SRTP's or SRTCP's) keyed transform.
#[derive(Clone)]
pub(crate) enum Transform {
    /// AES-128-CM encryption, HMAC-SHA1 authentication truncated to `tag_len` bytes.
    AesCmHmac {
        /// The expanded session encryption key.
        cipher: Aes128,
        /// HMAC keyed with the session authentication key; cloned per packet.
        mac: Hmac<Sha1>,
        /// The 112-bit session salt.
        salt: [u8; SALT_LEN],
        /// Bytes of the HMAC-SHA1 output kept as the tag.
        tag_len: usize,
    },
    /// AES-128-GCM with a 16-byte tag.
    Gcm {
        /// The AEAD with its key schedule and GHASH key.
        aead: Aes128Gcm,
        /// The 96-bit session salt.
        salt: [u8; 12],
    },
}

impl Transform {
    /// The SRTP (`rtcp == false`) or SRTCP transform of `profile` over session keys.
    pub(crate) fn new(profile: SrtpProfile, keys: &SessionKeys, rtcp: bool) -> Self {
        if profile.is_aead() {
            let mut salt = [0u8; 12];
            salt.copy_from_slice(&keys.salt[..12]);
            Self::Gcm {
                aead: Aes128Gcm::new(&keys.encryption.into()),
                salt,
            }
        } else {
            Self::AesCmHmac {
                cipher: Aes128::new(&keys.encryption.into()),
                mac: {
                    let mut key = [0u8; SHA1_BLOCK_LEN];
                    key[..keys.auth.len()].copy_from_slice(&keys.auth);
                    <Hmac<Sha1> as KeyInit>::new(&key.into())
                },
                salt: keys.salt,
                tag_len: if rtcp {
                    profile.rtcp_tag_len()
                } else {
                    profile.rtp_tag_len()
                },
            }
        }
    }

    /// The tag length this transform appends.
    pub(crate) const fn tag_len(&self) -> usize {
        match self {
            Self::AesCmHmac { tag_len, .. } => *tag_len,
            Self::Gcm { .. } => GCM_TAG_LEN,
        }
    }

    /// Protects the RTP packet `buf[..len]` (header `buf[..header_len]`) with packet index
    /// `index` (`ROC << 16 | SEQ`) and writes the tag at `buf[len..len + tag_len()]`.
    /// The caller checked that `buf` has that room.
    pub(crate) fn protect_rtp(
        &self,
        buf: &mut [u8],
        header_len: usize,
        len: usize,
        ssrc: u32,
        index: u64,
    ) -> Result<(), SrtpError> {
        let roc = (index >> 16) as u32;
        match self {
            Self::AesCmHmac {
                cipher,
                mac,
                salt,
                tag_len,
            } => {
                let iv = cm_iv(salt, ssrc, index);
                aes_ctr(cipher, &iv).apply_keystream(&mut buf[header_len..len]);
                let tag = hmac_tag(mac, &buf[..len], Some(roc));
                buf[len..len + tag_len].copy_from_slice(&tag[..*tag_len]);
            }
            Self::Gcm { aead, salt } => {
                let nonce = gcm_rtp_nonce(salt, ssrc, index);
                let (aad, rest) = buf.split_at_mut(header_len);
                let (body, tail) = rest.split_at_mut(len - header_len);
                let tag = aead
                    .encrypt_inout_detached(&nonce, aad, body.into())
                    .map_err(|_| TOO_LONG)?;
                tail[..GCM_TAG_LEN].copy_from_slice(&tag);
            }
        }
        Ok(())
    }

    /// Authenticates and decrypts the SRTP packet `buf` (header `buf[..header_len]`, tag at
    /// the end) with packet index `index`. On success `buf[..buf.len() - tag_len()]` is the
    /// RTP packet; on failure `buf` is left as it was (AES-CM) or unspecified (AES-GCM).
    pub(crate) fn unprotect_rtp(
        &self,
        buf: &mut [u8],
        header_len: usize,
        ssrc: u32,
        index: u64,
    ) -> Result<(), SrtpError> {
        let roc = (index >> 16) as u32;
        let body_end = buf
            .len()
            .checked_sub(self.tag_len())
            .filter(|&end| end >= header_len)
            .ok_or(SrtpError::TooShort)?;
        match self {
            Self::AesCmHmac {
                cipher,
                mac,
                salt,
                tag_len,
            } => {
                let (packet, received) = buf.split_at_mut(body_end);
                let tag = hmac_tag(mac, packet, Some(roc));
                if !bool::from(tag[..*tag_len].ct_eq(received)) {
                    return Err(SrtpError::AuthFailed);
                }
                let iv = cm_iv(salt, ssrc, index);
                aes_ctr(cipher, &iv).apply_keystream(&mut packet[header_len..]);
            }
            Self::Gcm { aead, salt } => {
                let nonce = gcm_rtp_nonce(salt, ssrc, index);
                let (aad, rest) = buf.split_at_mut(header_len);
                let (body, received) = rest.split_at_mut(body_end - header_len);
                let tag = GcmTag::try_from(&*received).map_err(|_| SrtpError::TooShort)?;
                aead.decrypt_inout_detached(&nonce, aad, body.into(), &tag)
                    .map_err(|_| SrtpError::AuthFailed)?;
            }
        }
        Ok(())
    }

    /// Protects the RTCP datagram `buf[..len]` with SRTCP index `index` (31 bits), encrypting
    /// when `encrypt` (the E flag). Appends the trailer (RFC 3711: index word then tag;
    /// RFC 7714: tag then index word); returns the protected length. The caller checked the
    /// room and that `len >= SRTCP_CLEAR_LEN`.
    pub(crate) fn protect_rtcp(
        &self,
        buf: &mut [u8],
        len: usize,
        ssrc: u32,
        index: u32,
        encrypt: bool,
    ) -> Result<usize, SrtpError> {
        let word = (index & !SRTCP_E_FLAG) | if encrypt { SRTCP_E_FLAG } else { 0 };
        let word = word.to_be_bytes();
        match self {
            Self::AesCmHmac {
                cipher,
                mac,
                salt,
                tag_len,
            } => {
                if encrypt {
                    let iv = cm_iv(salt, ssrc, u64::from(index));
                    aes_ctr(cipher, &iv).apply_keystream(&mut buf[SRTCP_CLEAR_LEN..len]);
                }
                let auth_end = len + SRTCP_INDEX_LEN;
                buf[len..auth_end].copy_from_slice(&word);
                let tag = hmac_tag(mac, &buf[..auth_end], None);
                buf[auth_end..auth_end + tag_len].copy_from_slice(&tag[..*tag_len]);
                Ok(auth_end + tag_len)
            }
            Self::Gcm { aead, salt } => {
                let nonce = gcm_rtcp_nonce(salt, ssrc, index);
                let tag = if encrypt {
                    let mut aad = [0u8; SRTCP_CLEAR_LEN + SRTCP_INDEX_LEN];
                    aad[..SRTCP_CLEAR_LEN].copy_from_slice(&buf[..SRTCP_CLEAR_LEN]);
                    aad[SRTCP_CLEAR_LEN..].copy_from_slice(&word);
                    let body = &mut buf[SRTCP_CLEAR_LEN..len];
                    aead.encrypt_inout_detached(&nonce, &aad, body.into())
                } else {
                    // Authentication only: the whole packet and the index word are the AAD,
                    // contiguous while the index word sits where the tag will go.
                    buf[len..len + SRTCP_INDEX_LEN].copy_from_slice(&word);
                    let aad = &buf[..len + SRTCP_INDEX_LEN];
                    aead.encrypt_inout_detached(&nonce, aad, empty().into())
                }
                .map_err(|_| TOO_LONG)?;
                buf[len..len + GCM_TAG_LEN].copy_from_slice(&tag);
                let end = len + GCM_TAG_LEN;
                buf[end..end + SRTCP_INDEX_LEN].copy_from_slice(&word);
                Ok(end + SRTCP_INDEX_LEN)
            }
        }
    }

    /// Where the index word of the SRTCP packet `buf` is: its offset and the word.
    pub(crate) fn rtcp_index_word(&self, buf: &[u8]) -> Result<(usize, u32), SrtpError> {
        let at = match self {
            Self::AesCmHmac { tag_len, .. } => buf.len().checked_sub(tag_len + SRTCP_INDEX_LEN),
            Self::Gcm { .. } => buf.len().checked_sub(SRTCP_INDEX_LEN),
        }
        .filter(|&at| at >= SRTCP_CLEAR_LEN + self.trailer_before_index())
        .ok_or(SrtpError::TooShort)?;
        let word = buf
            .get(at..at + SRTCP_INDEX_LEN)
            .and_then(|w| w.first_chunk::<4>())
            .ok_or(SrtpError::TooShort)?;
        Ok((at, u32::from_be_bytes(*word)))
    }

    /// Trailer bytes between the RTCP packet and the index word (the GCM tag).
    const fn trailer_before_index(&self) -> usize {
        match self {
            Self::AesCmHmac { .. } => 0,
            Self::Gcm { .. } => GCM_TAG_LEN,
        }
    }

    /// Authenticates and, when its E flag says so, decrypts the SRTCP packet `buf` whose
    /// index word [`rtcp_index_word`](Self::rtcp_index_word) found at `word_at`. Returns the
    /// RTCP length. On failure `buf` is unspecified.
    pub(crate) fn unprotect_rtcp(
        &self,
        buf: &mut [u8],
        word_at: usize,
        word: u32,
        ssrc: u32,
    ) -> Result<usize, SrtpError> {
        let encrypted = word & SRTCP_E_FLAG != 0;
        let index = word & !SRTCP_E_FLAG;
        match self {
            Self::AesCmHmac {
                cipher,
                mac,
                salt,
                tag_len,
            } => {
                let auth_end = word_at + SRTCP_INDEX_LEN;
                let (packet, received) = buf.split_at_mut(auth_end);
                let tag = hmac_tag(mac, packet, None);
                if received.len() != *tag_len || !bool::from(tag[..*tag_len].ct_eq(received)) {
                    return Err(SrtpError::AuthFailed);
                }
                if encrypted {
                    let iv = cm_iv(salt, ssrc, u64::from(index));
                    aes_ctr(cipher, &iv).apply_keystream(&mut packet[SRTCP_CLEAR_LEN..word_at]);
                }
                Ok(word_at)
            }
            Self::Gcm { aead, salt } => {
                let len = word_at - GCM_TAG_LEN;
                let tag = GcmTag::try_from(&buf[len..word_at]).map_err(|_| SrtpError::TooShort)?;
                let nonce = gcm_rtcp_nonce(salt, ssrc, index);
                let word = word.to_be_bytes();
                if encrypted {
                    let mut aad = [0u8; SRTCP_CLEAR_LEN + SRTCP_INDEX_LEN];
                    aad[..SRTCP_CLEAR_LEN].copy_from_slice(&buf[..SRTCP_CLEAR_LEN]);
                    aad[SRTCP_CLEAR_LEN..].copy_from_slice(&word);
                    let body = &mut buf[SRTCP_CLEAR_LEN..len];
                    aead.decrypt_inout_detached(&nonce, &aad, body.into(), &tag)
                } else {
                    // Move the index word next to the packet so the AAD is contiguous.
                    buf[len..len + SRTCP_INDEX_LEN].copy_from_slice(&word);
                    let aad = &buf[..len + SRTCP_INDEX_LEN];
                    aead.decrypt_inout_detached(&nonce, aad, empty().into(), &tag)
                }
                .map_err(|_| SrtpError::AuthFailed)?;
                Ok(len)
            }
        }
    }
}

/// The AES-CM IV of RFC 3711 §4.1.1: `(salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16)`.
pub(crate) fn cm_iv(salt: &[u8; SALT_LEN], ssrc: u32, index: u64) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[..SALT_LEN].copy_from_slice(salt);
    for (d, s) in iv[4..8].iter_mut().zip(ssrc.to_be_bytes()) {
        *d ^= s;
    }
    // The 48-bit index occupies bytes 8..14.
    for (d, s) in iv[8..14].iter_mut().zip(&index.to_be_bytes()[2..]) {
        *d ^= s;
    }
    iv
}

/// The AES-GCM SRTP IV of RFC 7714 §8.1: `00 00 || SSRC || ROC || SEQ` XOR the salt.
fn gcm_rtp_nonce(salt: &[u8; 12], ssrc: u32, index: u64) -> GcmNonce {
    let mut iv = [0u8; 12];
    iv[2..6].copy_from_slice(&ssrc.to_be_bytes());
    iv[6..12].copy_from_slice(&index.to_be_bytes()[2..]);
    for (d, s) in iv.iter_mut().zip(salt) {
        *d ^= s;
    }
    iv.into()
}

/// The AES-GCM SRTCP IV of RFC 7714 §9.1: `00 00 || SSRC || 00 00 || 0 || index` XOR salt.
fn gcm_rtcp_nonce(salt: &[u8; 12], ssrc: u32, index: u32) -> GcmNonce {
    let mut iv = [0u8; 12];
    iv[2..6].copy_from_slice(&ssrc.to_be_bytes());
    iv[8..12].copy_from_slice(&(index & !SRTCP_E_FLAG).to_be_bytes());
    for (d, s) in iv.iter_mut().zip(salt) {
        *d ^= s;
    }
    iv.into()
}

/// What AES-GCM's only encryption error (input over 64 GiB) becomes.
const TOO_LONG: SrtpError = SrtpError::Malformed(crate::PacketError::BadLength);

/// An empty plaintext (SRTCP authenticated but not encrypted).
fn empty() -> &'static mut [u8] {
    &mut []
}

/// HMAC-SHA1 over `data` and, for SRTP, the rollover counter (RFC 3711 §4.2: the
/// authenticated portion followed by ROC).
fn hmac_tag(mac: &Hmac<Sha1>, data: &[u8], roc: Option<u32>) -> [u8; 20] {
    let mut mac = mac.clone();
    mac.update(data);
    if let Some(roc) = roc {
        mac.update(&roc.to_be_bytes());
    }
    mac.finalize().into_bytes().into()
}
