//! SDES a=crypto parsing: never panics on any text, and every line it accepts is written back
//! in a canonical form that parses to the same attribute, whose key makes a working session.
//!
//! Each input is tried alone, as the key-info after a valid suite, and as what follows a
//! valid key (lifetime, MKI, session parameters), so mutations reach every part.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtp_core::srtp::CryptoAttribute;

fn check(text: &str) {
    let Ok(attr) = CryptoAttribute::parse(text) else {
        return;
    };
    let line = attr.to_sdp_line();
    assert_eq!(CryptoAttribute::parse(&line).as_ref(), Ok(&attr), "{line}");
    assert_eq!(attr.master_key().len(), attr.profile().master_key_len());
    assert_eq!(attr.master_salt().len(), attr.profile().master_salt_len());
    assert!(attr.session().is_ok());
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    check(&text);
    check(&format!("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{text}"));
    check(&format!(
        "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR{text}"
    ));
});
