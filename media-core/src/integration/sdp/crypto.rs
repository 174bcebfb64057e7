//! RFC 4568 SDES `a=crypto` lines: suites, keys, parsing and writing.

use super::*;

/// The SRTP crypto suites we accept in `a=crypto` lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SrtpSuite {
    /// `AES_CM_128_HMAC_SHA1_80` (RFC 4568): 16-byte key, 14-byte salt, 80-bit tag.
    AesCm128HmacSha1_80,
    /// `AES_CM_128_HMAC_SHA1_32` (RFC 4568): 16-byte key, 14-byte salt, 32-bit tag.
    AesCm128HmacSha1_32,
    /// `AEAD_AES_128_GCM` (RFC 7714): 16-byte key, 12-byte salt.
    AeadAes128Gcm,
}

impl SrtpSuite {
    /// The suite's name in `a=crypto`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            Self::AesCm128HmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
            Self::AeadAes128Gcm => "AEAD_AES_128_GCM",
        }
    }

    /// The suite a name means (case-insensitive), if we support it.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::AesCm128HmacSha1_80,
            Self::AesCm128HmacSha1_32,
            Self::AeadAes128Gcm,
        ]
        .into_iter()
        .find(|s| s.as_str().eq_ignore_ascii_case(name))
    }

    /// Master key length in bytes.
    pub fn key_len(self) -> usize {
        16
    }

    /// Master salt length in bytes.
    pub fn salt_len(self) -> usize {
        match self {
            Self::AesCm128HmacSha1_80 | Self::AesCm128HmacSha1_32 => 14,
            Self::AeadAes128Gcm => 12,
        }
    }

    /// Length of the key and salt together, as carried base64-encoded in `inline:`.
    pub fn key_salt_len(self) -> usize {
        self.key_len() + self.salt_len()
    }
}

impl fmt::Display for SrtpSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Master Key Identifier: its value and the length in bytes of the MKI field in each packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mki {
    /// The MKI value.
    pub value: u32,
    /// Bytes the MKI takes in each SRTP packet (1-128).
    pub length: u8,
}

/// One SDES master key (`inline:KEY||SALT|lifetime|MKI:length`), decoded. `Debug` does not show
/// the key.
#[derive(Clone, PartialEq, Eq)]
pub struct SdesKey {
    /// The master key.
    pub master_key: Vec<u8>,
    /// The master salt.
    pub master_salt: Vec<u8>,
    /// The key's lifetime in packets, if given.
    pub lifetime: Option<u64>,
    /// The MKI, if given.
    pub mki: Option<Mki>,
}

impl SdesKey {
    /// The master key followed by the master salt, as SRTP libraries take them.
    pub fn key_salt(&self) -> Vec<u8> {
        let mut v = self.master_key.clone();
        v.extend_from_slice(&self.master_salt);
        v
    }

    fn from_key_salt(suite: SrtpSuite, key_salt: &[u8]) -> Option<Self> {
        if key_salt.len() != suite.key_salt_len() {
            return None;
        }
        let (key, salt) = key_salt.split_at(suite.key_len());
        Some(Self {
            master_key: key.to_vec(),
            master_salt: salt.to_vec(),
            lifetime: None,
            mki: None,
        })
    }

    fn write(&self, out: &mut String) {
        out.push_str("inline:");
        out.push_str(&B64.encode(self.key_salt()));
        if let Some(l) = self.lifetime {
            if l.is_power_of_two() {
                out.push_str(&format!("|2^{}", l.trailing_zeros()));
            } else {
                out.push_str(&format!("|{l}"));
            }
        }
        if let Some(m) = self.mki {
            out.push_str(&format!("|{}:{}", m.value, m.length));
        }
    }
}

impl fmt::Debug for SdesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SdesKey")
            .field(
                "master_key",
                &format_args!("<{} bytes>", self.master_key.len()),
            )
            .field(
                "master_salt",
                &format_args!("<{} bytes>", self.master_salt.len()),
            )
            .field("lifetime", &self.lifetime)
            .field("mki", &self.mki)
            .finish()
    }
}

/// An `a=crypto` line (RFC 4568) with a supported suite, its keys decoded and length-checked.
/// Turning it into SRTP contexts is rtp-core's work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdesCrypto {
    /// The tag that pairs an answer's line with the offer's.
    pub tag: u32,
    /// The crypto suite.
    pub suite: SrtpSuite,
    /// The master keys (usually one; several only with MKIs).
    pub keys: Vec<SdesKey>,
    /// Session parameters (`KDR=1`, `UNENCRYPTED_SRTCP`, ...) as written.
    pub session_params: Vec<String>,
}

impl SdesCrypto {
    /// A line with one fresh key for `suite`, filled from `random`.
    pub fn generate(tag: u32, suite: SrtpSuite, random: &mut dyn FnMut(&mut [u8])) -> Self {
        let mut key_salt = vec![0u8; suite.key_salt_len()];
        random(&mut key_salt);
        let key = SdesKey {
            master_key: key_salt[..suite.key_len()].to_vec(),
            master_salt: key_salt[suite.key_len()..].to_vec(),
            lifetime: None,
            mki: None,
        };
        Self {
            tag,
            suite,
            keys: vec![key],
            session_params: Vec::new(),
        }
    }

    /// The value of the `a=crypto` attribute (after `a=crypto:`).
    pub fn to_attribute_value(&self) -> String {
        let mut out = format!("{} {} ", self.tag, self.suite);
        for (i, k) in self.keys.iter().enumerate() {
            if i > 0 {
                out.push(';');
            }
            k.write(&mut out);
        }
        for p in &self.session_params {
            out.push(' ');
            out.push_str(p);
        }
        out
    }

    /// Parses an `a=crypto` value, checking the suite and key lengths.
    pub fn parse(value: &str) -> Result<Self, String> {
        // sdp-types splits on single spaces; collapse runs of whitespace first.
        let normalized = value.split_whitespace().collect::<Vec<_>>().join(" ");
        let parsed = sdpt::Crypto::from_str(&normalized).map_err(|e| e.to_string())?;
        let suite_name = parsed.crypto_suite.as_str();
        let suite = SrtpSuite::from_name(suite_name)
            .ok_or_else(|| format!("unsupported crypto suite '{}'", shorten(suite_name)))?;
        let mut keys = Vec::with_capacity(parsed.key_params.len());
        for kp in &parsed.key_params {
            if kp.key_and_salt.len() > MAX_KEY_B64 {
                return Err(format!(
                    "key is {} base64 characters, longer than any suite's",
                    kp.key_and_salt.len()
                ));
            }
            let bytes = B64
                .decode(kp.key_and_salt.as_bytes())
                .map_err(|e| format!("key is not base64: {e}"))?;
            let mut key = SdesKey::from_key_salt(suite, &bytes).ok_or_else(|| {
                format!(
                    "{suite} needs {} bytes of key and salt, got {}",
                    suite.key_salt_len(),
                    bytes.len()
                )
            })?;
            key.lifetime = kp.lifetime;
            if let Some((value, length)) = kp.mki_and_length {
                let length = u8::try_from(length)
                    .ok()
                    .filter(|l| (1..=128).contains(l))
                    .ok_or_else(|| format!("MKI length {length} is not 1-128"))?;
                key.mki = Some(Mki { value, length });
            }
            keys.push(key);
        }
        if keys.is_empty() {
            return Err("no key".into());
        }
        Ok(Self {
            tag: parsed.tag,
            suite,
            keys,
            session_params: normalized.split(' ').skip(3).map(str::to_string).collect(),
        })
    }
}

/// An `a=crypto` line as received: the raw value, its tag and suite if they can be read, and
/// the decoded line or why it cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CryptoAttribute {
    /// The line.
    pub line: usize,
    /// The value after `a=crypto:`, as written.
    pub raw: String,
    /// The tag, if it is a number.
    pub tag: Option<u32>,
    /// The suite name as written, if present.
    pub suite: Option<String>,
    /// The decoded line, or why it is unusable.
    pub parsed: Result<SdesCrypto, SdpError>,
}

impl CryptoAttribute {
    pub(super) fn parse(value: &str, line: usize) -> Self {
        let mut toks = value.split_whitespace();
        let tag = toks.next().and_then(|t| t.parse::<u32>().ok());
        let suite = toks.next().map(shorten);
        Self {
            line,
            raw: value.to_string(),
            tag,
            suite,
            parsed: SdesCrypto::parse(value).map_err(|reason| SdpError::BadCrypto { line, reason }),
        }
    }
}

/// Both ends' SDES crypto for a negotiated SRTP stream: ours keys what we send, theirs what we
/// receive. They share tag and suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedCrypto {
    /// Our line (what we send with).
    pub local: SdesCrypto,
    /// The remote line (what we receive with).
    pub remote: SdesCrypto,
}
