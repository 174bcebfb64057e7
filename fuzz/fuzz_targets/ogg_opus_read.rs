//! The Ogg Opus reader: arbitrary bytes give packets or typed errors, in bounded memory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use media_core::container::OggOpusReader;

fuzz_target!(|data: &[u8]| {
    let Ok(mut r) = OggOpusReader::new(data) else { return };
    // Every packet read consumes input, so this ends.
    while let Ok(Some(_)) = r.next_packet() {}
});
