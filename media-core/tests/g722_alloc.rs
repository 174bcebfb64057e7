//! The G.722 per-frame calls allocate nothing once the codec is built (DESIGN principle 3):
//! encode, decode and conceal run under a global allocator that counts.

#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations;
use media_core::{CodecParams, CodecRegistry};

#[test]
fn encode_decode_and_conceal_do_not_allocate() {
    let reg = CodecRegistry::with_builtin();
    let params = CodecParams::defaults(reg.find("g722").unwrap().descriptor);
    let mut enc = reg.encoder("g722", &params).unwrap();
    let mut dec = reg.decoder("g722", &params).unwrap();
    let pcm: Vec<i16> = (0..320)
        .map(|i| ((f64::from(i) * 0.3).sin() * 9000.0) as i16)
        .collect();
    let mut codes = vec![0u8; 160];
    let mut out = vec![0i16; 320];

    // The counter sees this thread's allocations.
    assert_eq!(allocations(|| drop(std::hint::black_box(vec![0u8; 64]))), 1);

    let n = allocations(|| {
        for frame in 0..50 {
            enc.encode(&pcm, &mut codes).unwrap();
            if frame % 7 == 3 {
                dec.conceal(&mut out).unwrap();
            } else {
                dec.decode(&codes, &mut out).unwrap();
            }
        }
        // Odd-length concealment and long payloads take the same paths.
        dec.conceal(&mut out[..155]).unwrap();
        dec.decode(&codes[..7], &mut out).unwrap();
    });
    assert_eq!(n, 0, "allocations in the per-frame path");
}
