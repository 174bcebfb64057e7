//! A counting global allocator proves that steady-state per-frame calls allocate nothing.

use media_core::codec::CodecRegistry;
use media_core::CodecParams;
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations;

#[test]
fn codecs_encode_decode_conceal_without_allocating() {
    let reg = CodecRegistry::with_builtin();
    for e in reg.entries() {
        let d = e.descriptor;
        let params = CodecParams::defaults(d);
        let mut enc = reg.encoder(d.name, &params).unwrap();
        let mut dec = reg.decoder(d.name, &params).unwrap();
        let frame = enc.frame_samples();
        let pcm: Vec<i16> = (0..frame)
            .map(|i| ((i * 977) % 20000) as i16 - 10000)
            .collect();
        let mut bytes = vec![0u8; enc.max_payload_bytes()];
        let mut out = vec![0i16; dec.max_frame_samples().max(frame)];
        // Warm up: first calls may size internal state.
        for _ in 0..3 {
            let n = enc.encode(&pcm, &mut bytes).unwrap();
            dec.decode(&bytes[..n], &mut out).unwrap();
            dec.conceal(&mut out[..frame]).unwrap();
        }
        let n = allocations(|| {
            for _ in 0..100 {
                let n = enc.encode(&pcm, &mut bytes).unwrap();
                dec.decode(&bytes[..n], &mut out).unwrap();
                if n.is_multiple_of(7) {
                    dec.conceal(&mut out[..frame]).unwrap();
                }
                dec.conceal(&mut out[..frame]).unwrap();
            }
        });
        assert_eq!(n, 0, "{} allocated {n} times in 100 frames", d.name);
    }
}
