//! The Opus decoder (libopus behind our wrapper) never panics on arbitrary packets, losses,
//! FEC requests and flushes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| media_core_fuzz::decode_stream("opus", data));
