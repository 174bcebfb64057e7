//! The G.722 decoder (all three modes) never panics on arbitrary packets, losses and flushes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| media_core_fuzz::decode_stream("g722", data));
