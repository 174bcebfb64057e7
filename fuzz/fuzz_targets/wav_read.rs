//! The WAV reader never panics and never allocates without bound on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = media_core::wav::read_wav_from(std::io::Cursor::new(data));
});
