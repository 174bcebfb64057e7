//! RFC 3389 comfort noise: the payload parser never panics and round-trips what it keeps;
//! the generator, fed a stream of arbitrary SIDs, never panics and its output stays finite
//! and within full scale.
#![no_main]

use libfuzzer_sys::fuzz_target;
use media_core::processing::audio::cng::{CnGenerator, CnPayload, MAX_ORDER, MAX_PAYLOAD};
use media_core::SampleRate;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the rate; the rest is a sequence of SIDs, each prefixed by its
    // length (low nibble) and how many 10 ms frames to play after it (high nibble).
    let Some((&sel, mut rest)) = data.split_first() else {
        return;
    };
    let rate = [8000, 16000, 32000, 48000][usize::from(sel & 3)];
    let Ok(mut cng) = CnGenerator::new(SampleRate(rate), u64::from(sel)) else {
        return;
    };
    let mut frame = vec![0f32; rate as usize / 100];
    while let Some((&head, tail)) = rest.split_first() {
        let len = usize::from(head & 0x0F).min(tail.len());
        let (payload, after) = tail.split_at(len);
        rest = after;
        match CnPayload::parse(payload) {
            Ok(p) => {
                assert_eq!(p.order(), payload.len().saturating_sub(1).min(MAX_ORDER));
                assert_eq!(p.level(), payload[0] & 0x7F);
                let mut out = [0u8; MAX_PAYLOAD];
                let n = p.write(&mut out).expect("a payload fits MAX_PAYLOAD");
                assert_eq!(&out[1..n], &payload[1..n]);
                cng.update(&p);
            }
            Err(_) => assert!(payload.is_empty()),
        }
        for _ in 0..=(head >> 4) {
            cng.fill_f32(&mut frame);
            assert!(frame.iter().all(|s| s.is_finite() && s.abs() <= 1.0));
        }
    }
});
