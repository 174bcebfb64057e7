//! G.192 erasure patterns: arbitrary bytes give a pattern or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = media_core::loss::parse_g192(data) {
        assert_eq!(p.len() * 2, data.len());
    }
});
