//! Remote SDP from outside: arbitrary bytes give a parsed description or a typed error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = media_core::integration::sdp::parse_remote(data);
});
