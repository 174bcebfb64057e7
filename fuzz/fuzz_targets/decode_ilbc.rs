//! The ilbc decoder never panics on arbitrary packets, losses and FEC requests.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| media_core_fuzz::decode_stream("ilbc", data));
