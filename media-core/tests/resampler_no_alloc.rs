//! Proves that steady-state `Resampler::process` / `process_i16` calls allocate nothing: a
//! counting global allocator counts every allocation made by this test's thread while the
//! calls run.

use media_core::processing::format::resampler::SUPPORTED_RATES;
use media_core::processing::format::Resampler;
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations;

#[test]
fn counter_sees_allocations() {
    let n = allocations(|| {
        std::hint::black_box(vec![0u8; 64]);
    });
    assert!(n >= 1);
}

#[test]
fn steady_state_process_allocates_nothing() {
    for &from in &SUPPORTED_RATES {
        for &to in &SUPPORTED_RATES {
            for channels in [1u16, 2] {
                let mut r = Resampler::new(from, to, channels).unwrap();
                let ch = usize::from(channels);
                // 10 ms, 20 ms, odd sizes, and more than one internal chunk at once.
                let sizes = [from as usize / 100, from as usize / 50, 1, 7, 333, 2500];
                let max = sizes.iter().max().copied().unwrap_or(0) * ch;
                let input_f: Vec<f32> = (0..max).map(|i| ((i % 97) as f32 - 48.0) / 64.0).collect();
                let input_i: Vec<i16> = (0..max).map(|i| ((i * 389) % 60000) as i16).collect();
                let mut out_f = vec![0.0f32; r.max_output_len(max)];
                let mut out_i = vec![0i16; r.max_output_len(max)];
                // Warm up once (nothing should allocate here either, but only steady state is
                // the claim).
                r.process(&input_f[..sizes[0] * ch], &mut out_f).unwrap();

                let n = allocations(|| {
                    for _ in 0..3 {
                        for &s in &sizes {
                            let (a, b) = r.process(&input_f[..s * ch], &mut out_f).unwrap();
                            assert_eq!(a, s * ch);
                            assert!(b <= out_f.len());
                            r.process_i16(&input_i[..s * ch], &mut out_i).unwrap();
                        }
                        // Error paths do not allocate either.
                        if ch == 2 {
                            assert!(r.process(&input_f[..1], &mut out_f).is_err());
                        }
                        assert!(r.process(&input_f[..ch * 100], &mut out_f[..0]).is_err());
                        let _ = r.output_len_for(480);
                        r.reset();
                    }
                });
                assert_eq!(n, 0, "{from} -> {to} x{channels}: {n} allocations");
            }
        }
    }
}
