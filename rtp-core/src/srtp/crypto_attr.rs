//! SDP Security Descriptions: the `a=crypto` attribute (RFC 4568) that carries an SRTP master
//! key in the offer and answer.
//!
//! ```text
//! a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20
//! ```
//!
//! [`CryptoAttribute::parse`] reads one line; [`CryptoAttribute`]'s `Display` writes the
//! attribute value and [`CryptoAttribute::to_sdp_line`] the whole line. Key material comes
//! from the caller ([`CryptoAttribute::generate`] takes a fill function): the core has no
//! random source.

use super::{SrtpError, SrtpProfile, SrtpSession, MASTER_KEY_LEN};
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use std::fmt;

/// Standard base64 with padding written, and accepted with or without it when read.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Longest key || salt of the supported profiles (16 + 14).
const MAX_KEY_SALT: usize = 30;

/// Largest `tag` (at most nine digits).
const MAX_TAG: u32 = 999_999_999;

/// Why an `a=crypto` line was rejected.
///
/// The enum is `#[non_exhaustive]`: match with a wildcard arm. An answerer skips a rejected
/// line and tries the offer's next one.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SdesError {
    /// The line does not have the attribute's shape; the text says what is missing.
    Syntax(&'static str),
    /// The tag is not 1 to 9 decimal digits.
    BadTag,
    /// The crypto-suite is not one this crate implements (the name is carried).
    UnsupportedSuite(String),
    /// The key method is not `inline` (the method is carried).
    UnsupportedKeyMethod(String),
    /// The key is not valid base64.
    BadBase64,
    /// The decoded key || salt has the wrong length for the suite.
    BadKeyLength {
        /// Master key plus master salt length of the suite.
        expected: usize,
        /// The length found.
        actual: usize,
    },
    /// The lifetime is neither `2^N` nor a decimal number of packets, or overflows.
    BadLifetime,
    /// The MKI field is not `value:length` with a length of 1 to 128.
    BadMki,
    /// The key has a master key identifier: SRTP packets would carry an MKI, which this
    /// implementation does not support. Offer (or answer) a line without one.
    MkiUnsupported {
        /// The MKI value, as written.
        value: String,
        /// The MKI length in bytes.
        length: u8,
    },
    /// More than one key (`;`-separated key-params): that needs MKIs, which are unsupported.
    MultipleKeys,
    /// A session parameter this implementation cannot honour (`KDR`, `UNENCRYPTED_SRTP`,
    /// `UNENCRYPTED_SRTCP`, `UNAUTHENTICATED_SRTP`, `FEC_KEY`, or an unknown one that is not
    /// marked optional with a leading `-`). The parameter is carried.
    UnsupportedSessionParam(String),
}

impl fmt::Display for SdesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax(what) => write!(f, "malformed a=crypto: {what}"),
            Self::BadTag => f.write_str("a=crypto tag is not 1 to 9 digits"),
            Self::UnsupportedSuite(s) => write!(f, "unsupported SRTP crypto-suite {s:?}"),
            Self::UnsupportedKeyMethod(m) => write!(f, "unsupported key method {m:?}"),
            Self::BadBase64 => f.write_str("a=crypto key is not valid base64"),
            Self::BadKeyLength { expected, actual } => write!(
                f,
                "a=crypto key||salt is {actual} bytes, the suite needs {expected}"
            ),
            Self::BadLifetime => f.write_str("a=crypto key lifetime is malformed"),
            Self::BadMki => f.write_str("a=crypto MKI is malformed"),
            Self::MkiUnsupported { value, length } => write!(
                f,
                "a=crypto key has an MKI ({value}:{length}); MKIs are not supported"
            ),
            Self::MultipleKeys => f.write_str("a=crypto with several keys (needs MKIs)"),
            Self::UnsupportedSessionParam(p) => {
                write!(f, "unsupported a=crypto session parameter {p:?}")
            }
        }
    }
}

impl std::error::Error for SdesError {}

/// One `a=crypto` attribute: a tag, a suite, one inline master key and salt, and the
/// parameters this implementation honours.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CryptoAttribute {
    tag: u32,
    profile: SrtpProfile,
    key_salt: [u8; MAX_KEY_SALT],
    lifetime: Option<u64>,
    window_size_hint: Option<u64>,
}

impl fmt::Debug for CryptoAttribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key stays out of logs.
        f.debug_struct("CryptoAttribute")
            .field("tag", &self.tag)
            .field("profile", &self.profile)
            .field("lifetime", &self.lifetime)
            .field("window_size_hint", &self.window_size_hint)
            .finish_non_exhaustive()
    }
}

impl CryptoAttribute {
    /// An attribute for `profile` with the given master key and salt.
    ///
    /// Errors: [`SdesError::BadKeyLength`] when the lengths are not the suite's.
    pub fn new(
        tag: u32,
        profile: SrtpProfile,
        master_key: &[u8],
        master_salt: &[u8],
    ) -> Result<Self, SdesError> {
        let expected = profile.master_key_len() + profile.master_salt_len();
        if master_key.len() != profile.master_key_len()
            || master_salt.len() != profile.master_salt_len()
            || tag > MAX_TAG
        {
            return Err(if tag > MAX_TAG {
                SdesError::BadTag
            } else {
                SdesError::BadKeyLength {
                    expected,
                    actual: master_key.len() + master_salt.len(),
                }
            });
        }
        let mut key_salt = [0u8; MAX_KEY_SALT];
        key_salt[..MASTER_KEY_LEN].copy_from_slice(master_key);
        key_salt[MASTER_KEY_LEN..expected].copy_from_slice(master_salt);
        Ok(Self {
            tag,
            profile,
            key_salt,
            lifetime: None,
            window_size_hint: None,
        })
    }

    /// An attribute with fresh key material: `fill` writes random bytes (from the caller's
    /// CSPRNG) into the buffer it is given, once, for key and salt together. A `tag` over
    /// nine digits is clamped to 999999999.
    pub fn generate(tag: u32, profile: SrtpProfile, fill: &mut impl FnMut(&mut [u8])) -> Self {
        let mut key_salt = [0u8; MAX_KEY_SALT];
        fill(&mut key_salt[..profile.master_key_len() + profile.master_salt_len()]);
        Self {
            tag: tag.min(MAX_TAG),
            profile,
            key_salt,
            lifetime: None,
            window_size_hint: None,
        }
    }

    /// Parses an `a=crypto` line: `a=crypto:` (optional), tag, suite, `inline:` key and salt
    /// in base64, an optional lifetime (`2^31` or decimal), an optional MKI (rejected), and
    /// session parameters.
    pub fn parse(line: &str) -> Result<Self, SdesError> {
        let line = line.trim();
        let line = line.strip_prefix("a=").unwrap_or(line);
        let line = line.strip_prefix("crypto:").unwrap_or(line);
        let mut fields = line.split_ascii_whitespace();
        let tag = fields.next().ok_or(SdesError::Syntax("empty"))?;
        if tag.is_empty() || tag.len() > 9 || !tag.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SdesError::BadTag);
        }
        let tag: u32 = tag.parse().map_err(|_| SdesError::BadTag)?;
        let suite = fields
            .next()
            .ok_or(SdesError::Syntax("missing crypto-suite"))?;
        let profile = SrtpProfile::from_sdes_name(suite)
            .ok_or_else(|| SdesError::UnsupportedSuite(suite.to_owned()))?;
        let key_params = fields
            .next()
            .ok_or(SdesError::Syntax("missing key-params"))?;
        if key_params.contains(';') {
            return Err(SdesError::MultipleKeys);
        }
        let (method, info) = key_params
            .split_once(':')
            .ok_or(SdesError::Syntax("key-param without key method"))?;
        if !method.eq_ignore_ascii_case("inline") {
            return Err(SdesError::UnsupportedKeyMethod(method.to_owned()));
        }
        let mut parts = info.split('|');
        let key = parts.next().unwrap_or_default();
        let mut attr = Self::from_base64(tag, profile, key)?;
        for part in parts {
            if let Some((value, length)) = part.split_once(':') {
                let length = parse_mki(value, length)?;
                return Err(SdesError::MkiUnsupported {
                    value: value.to_owned(),
                    length,
                });
            }
            if attr.lifetime.is_some() {
                return Err(SdesError::BadLifetime);
            }
            attr.lifetime = Some(parse_lifetime(part)?);
        }
        for param in fields {
            attr.session_param(param)?;
        }
        Ok(attr)
    }

    fn from_base64(tag: u32, profile: SrtpProfile, text: &str) -> Result<Self, SdesError> {
        let expected = profile.master_key_len() + profile.master_salt_len();
        // Room for any suite's key: a longer key is reported with its length, not a
        // decoding error.
        let mut buf = [0u8; 96];
        let actual = match BASE64.decode_slice(text, &mut buf) {
            Ok(n) => n,
            Err(base64::DecodeSliceError::OutputSliceTooSmall) => text.len() / 4 * 3,
            Err(_) => return Err(SdesError::BadBase64),
        };
        if actual != expected {
            return Err(SdesError::BadKeyLength { expected, actual });
        }
        let (key, salt) = buf[..actual].split_at(profile.master_key_len());
        Self::new(tag, profile, key, salt)
    }

    fn session_param(&mut self, param: &str) -> Result<(), SdesError> {
        let unsupported = || SdesError::UnsupportedSessionParam(param.to_owned());
        let (name, value) = param.split_once('=').unwrap_or((param, ""));
        match name {
            "WSH" => {
                let wsh: u64 = value.parse().map_err(|_| unsupported())?;
                self.window_size_hint = Some(wsh);
            }
            // Without FEC the order of FEC and SRTP does not matter.
            "FEC_ORDER" if matches!(value, "FEC_SRTP" | "SRTP_FEC") => {}
            // Optional parameters (RFC 4568 §6.3: a leading '-') may be ignored.
            _ if name.starts_with('-') => {}
            // KDR (any value means re-keying every 2^n packets), UNENCRYPTED_SRTP,
            // UNENCRYPTED_SRTCP, UNAUTHENTICATED_SRTP, FEC_KEY, and the unknown.
            _ => return Err(unsupported()),
        }
        Ok(())
    }

    /// The tag that pairs the answer's line with the offer's.
    pub const fn tag(&self) -> u32 {
        self.tag
    }

    /// The SRTP profile the crypto-suite names.
    pub const fn profile(&self) -> SrtpProfile {
        self.profile
    }

    /// The master key.
    pub fn master_key(&self) -> &[u8] {
        &self.key_salt[..self.profile.master_key_len()]
    }

    /// The master salt.
    pub fn master_salt(&self) -> &[u8] {
        &self.key_salt[self.profile.master_key_len()
            ..self.profile.master_key_len() + self.profile.master_salt_len()]
    }

    /// The key's lifetime in packets, when the line gave one.
    pub const fn lifetime(&self) -> Option<u64> {
        self.lifetime
    }

    /// The same attribute with a key lifetime (written as `2^N` when a power of two).
    pub const fn with_lifetime(mut self, packets: u64) -> Self {
        self.lifetime = Some(packets);
        self
    }

    /// The `WSH` (window size hint) session parameter, when given.
    pub const fn window_size_hint(&self) -> Option<u64> {
        self.window_size_hint
    }

    /// An [`SrtpSession`] keyed with this attribute's master key and salt. For the offerer's
    /// own line it protects what the offerer sends; made from the peer's line it unprotects
    /// what the peer sends.
    pub fn session(&self) -> Result<SrtpSession, SrtpError> {
        SrtpSession::new(self.profile, self.master_key(), self.master_salt())
    }

    /// The whole SDP line, `a=crypto:` and the value [`Display`](fmt::Display) writes.
    pub fn to_sdp_line(&self) -> String {
        format!("a=crypto:{self}")
    }
}

impl fmt::Display for CryptoAttribute {
    /// The attribute value: `TAG SUITE inline:KEY||SALT[|LIFETIME][ WSH=N]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let len = self.profile.master_key_len() + self.profile.master_salt_len();
        let mut b64 = [0u8; 64];
        let n = BASE64
            .encode_slice(&self.key_salt[..len], &mut b64)
            .map_err(|_| fmt::Error)?;
        let b64 = std::str::from_utf8(&b64[..n]).map_err(|_| fmt::Error)?;
        write!(f, "{} {} inline:{b64}", self.tag, self.profile.sdes_name())?;
        match self.lifetime {
            Some(l) if l.is_power_of_two() => write!(f, "|2^{}", l.trailing_zeros())?,
            Some(l) => write!(f, "|{l}")?,
            None => {}
        }
        if let Some(wsh) = self.window_size_hint {
            write!(f, " WSH={wsh}")?;
        }
        Ok(())
    }
}

/// `2^N` or a decimal count of packets.
fn parse_lifetime(text: &str) -> Result<u64, SdesError> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some(exp) = text.strip_prefix("2^") {
        if !digits(exp) {
            return Err(SdesError::BadLifetime);
        }
        let exp: u32 = exp.parse().map_err(|_| SdesError::BadLifetime)?;
        1u64.checked_shl(exp)
            .filter(|_| exp < 64)
            .ok_or(SdesError::BadLifetime)
    } else if digits(text) {
        text.parse().map_err(|_| SdesError::BadLifetime)
    } else {
        Err(SdesError::BadLifetime)
    }
}

/// Checks `value:length` (RFC 4568: 1*DIGIT ":" 1*3DIGIT, length 1..=128); returns length.
fn parse_mki(value: &str, length: &str) -> Result<u8, SdesError> {
    let digits = |s: &str, max: usize| {
        !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(value, usize::MAX) || !digits(length, 3) {
        return Err(SdesError::BadMki);
    }
    match length.parse::<u8>() {
        Ok(n @ 1..=128) => Ok(n),
        _ => Err(SdesError::BadMki),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4568 §4's example key (30 bytes, 40 base64 characters).
    const RFC_LINE: &str =
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20";

    #[test]
    fn parses_rfc4568_example_without_its_mki() -> Result<(), SdesError> {
        let a = CryptoAttribute::parse(RFC_LINE)?;
        assert_eq!(a.tag(), 1);
        assert_eq!(a.profile(), SrtpProfile::AesCm128HmacSha1_80);
        assert_eq!(a.lifetime(), Some(1 << 20));
        assert_eq!(a.master_key().len(), 16);
        assert_eq!(a.master_salt().len(), 14);
        assert_eq!(&a.master_key()[..4], b"=-n@");
        assert_eq!(a.to_sdp_line(), RFC_LINE);
        assert!(a.session().is_ok());
        Ok(())
    }

    #[test]
    fn rejects_the_mki_with_a_clear_error() {
        let line = format!("{RFC_LINE}|1:4");
        assert_eq!(
            CryptoAttribute::parse(&line),
            Err(SdesError::MkiUnsupported {
                value: "1".into(),
                length: 4
            })
        );
        let err = CryptoAttribute::parse(&line).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("a=crypto key has an MKI (1:4); MKIs are not supported")
        );
        // MKI without lifetime; malformed MKIs.
        let key = "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
        let parse =
            |tail: &str| CryptoAttribute::parse(&format!("1 AES_CM_128_HMAC_SHA1_32 {key}{tail}"));
        assert!(matches!(
            parse("|7:1"),
            Err(SdesError::MkiUnsupported { length: 1, .. })
        ));
        assert_eq!(parse("|1:0"), Err(SdesError::BadMki));
        assert_eq!(parse("|1:129"), Err(SdesError::BadMki));
        assert_eq!(parse("|x:4"), Err(SdesError::BadMki));
        assert_eq!(parse("|1:"), Err(SdesError::BadMki));
    }

    #[test]
    fn lifetimes_in_both_forms() {
        let key = "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
        let lifetime =
            |tail: &str| CryptoAttribute::parse(&format!("{key}{tail}")).map(|a| a.lifetime());
        assert_eq!(lifetime(""), Ok(None));
        assert_eq!(lifetime("|2^31"), Ok(Some(1 << 31)));
        assert_eq!(lifetime("|2^48"), Ok(Some(1 << 48)));
        assert_eq!(lifetime("|1048576"), Ok(Some(1 << 20)));
        assert_eq!(lifetime("|1000"), Ok(Some(1000)));
        for bad in [
            "|2^",
            "|2^64",
            "|2^x",
            "|",
            "|-5",
            "|3^4",
            "|2^20|2^20",
            "|99999999999999999999",
        ] {
            assert_eq!(lifetime(bad), Err(SdesError::BadLifetime), "{bad}");
        }
        // Written back: powers of two as 2^N, others in decimal.
        let a = CryptoAttribute::parse(&format!("{key}|1000")).map(|a| a.to_string());
        assert_eq!(a, Ok(format!("{}|1000", &key)));
    }

    #[test]
    fn maps_suites_to_profiles() {
        for p in SrtpProfile::ALL {
            assert_eq!(SrtpProfile::from_sdes_name(p.sdes_name()), Some(p));
        }
        assert_eq!(
            SrtpProfile::from_sdes_name("aes_cm_128_hmac_sha1_32"),
            Some(SrtpProfile::AesCm128HmacSha1_32)
        );
        for other in [
            "AES_256_CM_HMAC_SHA1_80",
            "F8_128_HMAC_SHA1_80",
            "AEAD_AES_256_GCM",
        ] {
            assert_eq!(
                CryptoAttribute::parse(&format!("1 {other} inline:AAAA")),
                Err(SdesError::UnsupportedSuite(other.into()))
            );
        }
    }

    #[test]
    fn gcm_key_is_28_bytes_padded_base64() -> Result<(), SdesError> {
        let mut n = 0u8;
        let mut fill = |b: &mut [u8]| {
            for x in b {
                n = n.wrapping_add(37);
                *x = n;
            }
        };
        let a = CryptoAttribute::generate(7, SrtpProfile::AeadAes128Gcm, &mut fill);
        let line = a.to_sdp_line();
        assert!(line.starts_with("a=crypto:7 AEAD_AES_128_GCM inline:"));
        assert!(line.ends_with("=="), "{line}");
        let back = CryptoAttribute::parse(&line)?;
        assert_eq!(back, a);
        assert_eq!(back.master_salt().len(), 12);
        // Accepted without padding too.
        let unpadded = line.trim_end_matches('=');
        assert_eq!(CryptoAttribute::parse(unpadded)?, a);
        Ok(())
    }

    #[test]
    fn rejects_malformed_lines() {
        let key = "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
        let suite = "AES_CM_128_HMAC_SHA1_80";
        let parse = |s: &str| CryptoAttribute::parse(s);
        assert_eq!(parse(""), Err(SdesError::Syntax("empty")));
        assert_eq!(parse("a=crypto:"), Err(SdesError::Syntax("empty")));
        assert_eq!(parse("x AES"), Err(SdesError::BadTag));
        assert_eq!(parse("1234567890 AES"), Err(SdesError::BadTag));
        assert_eq!(parse("1"), Err(SdesError::Syntax("missing crypto-suite")));
        assert_eq!(
            parse(&format!("1 {suite}")),
            Err(SdesError::Syntax("missing key-params"))
        );
        assert_eq!(
            parse(&format!("1 {suite} uri:sip:x")),
            Err(SdesError::UnsupportedKeyMethod("uri".into()))
        );
        assert_eq!(
            parse(&format!("1 {suite} PS1uQCVe")),
            Err(SdesError::Syntax("key-param without key method"))
        );
        assert_eq!(
            parse(&format!("1 {suite} inline:@@@@")),
            Err(SdesError::BadBase64)
        );
        assert_eq!(
            parse(&format!("1 {suite} inline:AAAA")),
            Err(SdesError::BadKeyLength {
                expected: 30,
                actual: 3
            })
        );
        assert!(matches!(
            parse(&format!("1 {suite} inline:{}", "A".repeat(200))),
            Err(SdesError::BadKeyLength { expected: 30, .. })
        ));
        assert_eq!(
            parse(&format!("1 {suite} {key};{key}")),
            Err(SdesError::MultipleKeys)
        );
        // A 30-byte key offered for GCM (28) is the wrong length.
        assert_eq!(
            parse(&format!("1 AEAD_AES_128_GCM {key}")),
            Err(SdesError::BadKeyLength {
                expected: 28,
                actual: 30
            })
        );
    }

    #[test]
    fn session_parameters() -> Result<(), SdesError> {
        let base = "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
        let a = CryptoAttribute::parse(&format!("{base} WSH=128 FEC_ORDER=FEC_SRTP -X_VENDOR=1"))?;
        assert_eq!(a.window_size_hint(), Some(128));
        assert_eq!(a.to_string(), format!("{base} WSH=128"));
        for p in [
            "KDR=0",
            "KDR=24",
            "UNENCRYPTED_SRTP",
            "UNENCRYPTED_SRTCP",
            "UNAUTHENTICATED_SRTP",
            "FEC_KEY=inline:AAAA",
            "FUTURE_PARAM",
            "WSH=x",
        ] {
            assert_eq!(
                CryptoAttribute::parse(&format!("{base} {p}")),
                Err(SdesError::UnsupportedSessionParam(p.into()))
            );
        }
        Ok(())
    }

    #[test]
    fn new_checks_lengths_and_debug_hides_the_key() -> Result<(), SdesError> {
        let p = SrtpProfile::AesCm128HmacSha1_80;
        assert_eq!(
            CryptoAttribute::new(1, p, &[0; 16], &[0; 12]),
            Err(SdesError::BadKeyLength {
                expected: 30,
                actual: 28
            })
        );
        assert_eq!(
            CryptoAttribute::new(1_000_000_000, p, &[0; 16], &[0; 14]),
            Err(SdesError::BadTag)
        );
        let a = CryptoAttribute::new(2, p, &[0xAB; 16], &[0xCD; 14])?.with_lifetime(1 << 31);
        assert_eq!(a.master_key(), &[0xAB; 16]);
        assert_eq!(a.master_salt(), &[0xCD; 14]);
        let debug = format!("{a:?}");
        assert!(!debug.contains("171") && !debug.contains("AB"), "{debug}");
        assert!(a.to_string().ends_with("|2^31"));
        Ok(())
    }
}
