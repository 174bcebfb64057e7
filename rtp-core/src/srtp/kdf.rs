//! Session key derivation (RFC 3711 §4.3) with the AES-CM PRF (§4.3.3), key derivation rate
//! 0: every session key is derived once, from index 0.
//!
//! For a label, `x = master_salt XOR (label << 48)` (the 56-bit key_id `label || r` with
//! `r = 0`, aligned to the low end of the 112-bit salt), and the session key is the AES-CM
//! keystream of the master key from IV `x * 2^16`. A 96-bit (AES-GCM) master salt is taken
//! as the high 96 bits of the 112-bit value, as libsrtp does and RFC 7714 §11 implies.

use aes::Aes128;
use ctr::cipher::{InnerIvInit, StreamCipher, StreamCipherCoreWrapper};
use ctr::{flavors, CtrCore};

/// Cipher key for SRTP packets.
pub(crate) const LABEL_RTP_ENCRYPTION: u8 = 0x00;
/// Authentication key for SRTP packets.
pub(crate) const LABEL_RTP_AUTH: u8 = 0x01;
/// Salting key for SRTP packets.
pub(crate) const LABEL_RTP_SALT: u8 = 0x02;
/// Cipher key for SRTCP packets.
pub(crate) const LABEL_RTCP_ENCRYPTION: u8 = 0x03;
/// Authentication key for SRTCP packets.
pub(crate) const LABEL_RTCP_AUTH: u8 = 0x04;
/// Salting key for SRTCP packets.
pub(crate) const LABEL_RTCP_SALT: u8 = 0x05;

/// Length of an HMAC-SHA1 session authentication key (RFC 3711 §8.2: n_a = 160).
pub(crate) const AUTH_KEY_LEN: usize = 20;
/// Length of an AES-CM session salt (n_s = 112 bits); AES-GCM uses its first 12 bytes.
pub(crate) const SALT_LEN: usize = 14;

/// AES-128 in counter mode with a 128-bit big-endian counter: the SRTP AES-CM keystream
/// (the counter's low 16 bits are the block counter; packets never carry it further).
pub(crate) type AesCtr = StreamCipherCoreWrapper<CtrCore<Aes128, flavors::Ctr128BE>>;

/// An AES-CM keystream generator over an already expanded key, starting at block `iv`.
pub(crate) fn aes_ctr(cipher: &Aes128, iv: &[u8; 16]) -> AesCtr {
    AesCtr::from_core(CtrCore::inner_iv_init(cipher.clone(), iv.into()))
}

/// The keys one direction (SRTP or SRTCP) uses, derived from the master key.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct SessionKeys {
    /// Session encryption key.
    pub(crate) encryption: [u8; 16],
    /// Session authentication key (unused by AES-GCM).
    pub(crate) auth: [u8; AUTH_KEY_LEN],
    /// Session salt: 14 bytes for AES-CM, the first 12 for AES-GCM (the rest zero).
    pub(crate) salt: [u8; SALT_LEN],
}

/// Fills `out` with the PRF output for `label` (RFC 3711 §4.3.1, §4.3.3).
///
/// `master_salt` is 14 or 12 bytes (shorter salts are zero-extended at the end).
pub(crate) fn prf(master: &Aes128, master_salt: &[u8], label: u8, out: &mut [u8]) {
    let mut iv = [0u8; 16];
    for (d, s) in iv.iter_mut().zip(master_salt.iter().take(SALT_LEN)) {
        *d = *s;
    }
    // key_id = label || r (48 bits, zero at key derivation rate 0) occupies the low 56 bits
    // of the 112-bit value: the label lands on byte 7.
    iv[7] ^= label;
    out.fill(0);
    aes_ctr(master, &iv).apply_keystream(out);
}

/// Derives the SRTP (labels 0..=2) or SRTCP (labels 3..=5) session keys; `salt_len` is the
/// profile's session salt length (14 or 12).
pub(crate) fn derive(
    master: &Aes128,
    master_salt: &[u8],
    rtcp: bool,
    salt_len: usize,
) -> SessionKeys {
    let (enc, auth, salt) = if rtcp {
        (LABEL_RTCP_ENCRYPTION, LABEL_RTCP_AUTH, LABEL_RTCP_SALT)
    } else {
        (LABEL_RTP_ENCRYPTION, LABEL_RTP_AUTH, LABEL_RTP_SALT)
    };
    let mut keys = SessionKeys {
        encryption: [0; 16],
        auth: [0; AUTH_KEY_LEN],
        salt: [0; SALT_LEN],
    };
    prf(master, master_salt, enc, &mut keys.encryption);
    prf(master, master_salt, auth, &mut keys.auth);
    let salt_len = salt_len.min(SALT_LEN);
    prf(master, master_salt, salt, &mut keys.salt[..salt_len]);
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::srtp::tests::hex;
    use ctr::cipher::KeyInit;

    fn master() -> (Aes128, Vec<u8>) {
        let key = hex("E1F97A0D3E018BE0D64FA32C06DE4139");
        let cipher = Aes128::new_from_slice(&key).unwrap_or_else(|_| unreachable!());
        (cipher, hex("0EC675AD498AFEEBB6960B3AABE6"))
    }

    /// RFC 3711 Appendix B.3: the cipher key, salt and 94 bytes of the auth key stream.
    #[test]
    fn rfc3711_b3_key_derivation() {
        let (master, salt) = master();
        let mut key = [0u8; 16];
        prf(&master, &salt, LABEL_RTP_ENCRYPTION, &mut key);
        assert_eq!(key.to_vec(), hex("C61E7A93744F39EE10734AFE3FF7A087"));

        let mut session_salt = [0u8; 14];
        prf(&master, &salt, LABEL_RTP_SALT, &mut session_salt);
        assert_eq!(session_salt.to_vec(), hex("30CBBC08863D8C85D49DB34A9AE1"));

        // The appendix lists 94 octets of the label-1 stream, of which a 160-bit HMAC key
        // takes the first 20.
        let mut auth = [0u8; 94];
        prf(&master, &salt, LABEL_RTP_AUTH, &mut auth);
        assert_eq!(
            auth.to_vec(),
            hex(
                "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA48F0A0ACF3C34E2359E6CDBCE\
                 E049646C43D9327AD175578EF72270986371C10C9A369AC2F94A8C5FBCDDDC25\
                 6D6E919A48B610EF17C2041E474035766B68642C59BBFC2F34DB60DBDFB2"
            )
        );

        let keys = derive(&master, &salt, false, 14);
        assert_eq!(keys.encryption, key);
        assert_eq!(keys.auth[..], auth[..20]);
        assert_eq!(keys.salt, session_salt);
    }

    #[test]
    fn rtcp_keys_differ_and_gcm_salt_is_twelve_bytes() {
        let (master, salt) = master();
        let rtp = derive(&master, &salt, false, 14);
        let rtcp = derive(&master, &salt, true, 14);
        assert!(rtp.encryption != rtcp.encryption && rtp.salt != rtcp.salt);
        let gcm = derive(&master, &salt[..12], false, 12);
        assert_eq!(gcm.salt[12..], [0, 0]);
    }
}
