//! Property tests for the resampler: arbitrary chunkings never panic and give the one-shot
//! output; wrong buffer sizes are errors that change nothing.

use media_core::processing::format::resampler::SUPPORTED_RATES;
use media_core::processing::format::Resampler;
use media_core::FormatError;
use proptest::prelude::*;

fn rate() -> impl Strategy<Value = u32> {
    prop::sample::select(SUPPORTED_RATES.to_vec())
}

/// Chunk sizes in frames, zero-sized ones included, with at least one that is not zero.
fn chunk_sizes() -> impl Strategy<Value = Vec<usize>> {
    (prop::collection::vec(0usize..700, 0..11), 1usize..700).prop_map(|(mut v, nonzero)| {
        v.push(nonzero);
        v
    })
}

fn signal(frames: usize, channels: usize, seed: u32) -> Vec<f32> {
    let mut s = seed | 1;
    (0..frames * channels)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s as i32 as f32) / (i32::MAX as f32)
        })
        .collect()
}

/// Feeds `input` in chunks of `chunks[k]` frames (cycled; zero-sized chunks included).
fn chunked(r: &mut Resampler, input: &[f32], chunks: &[usize]) -> Vec<f32> {
    // All-zero chunks would never get through the input.
    assert!(
        chunks.iter().any(|&c| c > 0),
        "chunks {chunks:?} make no progress"
    );
    let ch = usize::from(r.channels());
    let mut out = Vec::new();
    let mut buf = vec![0.0f32; r.max_output_len(input.len()) + 8];
    let mut at = 0;
    let mut k = 0;
    while at < input.len() {
        let end = (at + chunks[k % chunks.len()] * ch).min(input.len());
        k += 1;
        let expected = r.output_len_for(end - at);
        let (used, n) = r.process(&input[at..end], &mut buf).unwrap();
        assert_eq!(used, end - at);
        assert_eq!(n, expected);
        out.extend_from_slice(&buf[..n]);
        at = end;
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn chunked_equals_one_shot(
        from in rate(),
        to in rate(),
        channels in 1u16..=3,
        frames in 0usize..3000,
        chunks in chunk_sizes(),
        seed in any::<u32>(),
    ) {
        let ch = usize::from(channels);
        let input = signal(frames, ch, seed);
        let mut r = Resampler::new(from, to, channels).unwrap();
        let whole = chunked(&mut r, &input, &[usize::MAX / 8]);
        let total = (frames as u64 * u64::from(to)).div_ceil(u64::from(from)) as usize * ch;
        prop_assert_eq!(whole.len(), total);
        prop_assert!(whole.iter().all(|v| v.is_finite()));
        let mut r2 = Resampler::new(from, to, channels).unwrap();
        let pieces = chunked(&mut r2, &input, &chunks);
        prop_assert!(whole == pieces, "{}->{} x{} chunks {:?}", from, to, channels, chunks);
    }

    #[test]
    fn wrong_sizes_are_errors_and_change_nothing(
        from in rate(),
        to in rate(),
        channels in 1u16..=2,
        attempts in prop::collection::vec((0usize..2000, 0usize..2000), 1..8),
    ) {
        let ch = usize::from(channels);
        let input = signal(2000, ch, 99);
        let mut r = Resampler::new(from, to, channels).unwrap();
        let mut reference = Resampler::new(from, to, channels).unwrap();
        let mut out = vec![0.0f32; 5000];
        let mut out_ref = vec![0.0f32; 5000];
        let mut out_i16 = vec![0i16; 5000];
        let input_i16: Vec<i16> = input.iter().map(|&v| (v * 32767.0) as i16).collect();
        let mut fed = 0;
        for (in_len, out_len) in attempts {
            let in_len = in_len.min(input.len() - fed);
            let src = &input[fed..fed + in_len];
            let needed = r.output_len_for(in_len);
            let valid = in_len % ch == 0 && out_len >= needed;
            if !valid {
                // The i16 entry point checks the same way, and changes nothing either.
                let bad = r.process_i16(&input_i16[fed..fed + in_len], &mut out_i16[..out_len]);
                let is_bad_length = matches!(bad, Err(FormatError::BadLength { .. }));
                prop_assert!(is_bad_length);
                prop_assert_eq!(r.output_len_for(in_len), needed);
            }
            match r.process(src, &mut out[..out_len]) {
                Ok((used, written)) => {
                    prop_assert!(valid);
                    prop_assert_eq!((used, written), (in_len, needed));
                    let (u2, w2) = reference.process(src, &mut out_ref).unwrap();
                    prop_assert_eq!((u2, w2), (used, written));
                    prop_assert!(out[..written] == out_ref[..written]);
                    fed += in_len;
                }
                Err(FormatError::BadLength { .. }) => prop_assert!(!valid),
                Err(e) => prop_assert!(false, "unexpected error {e}"),
            }
        }
    }
}

#[test]
fn unsupported_parameters_are_errors() {
    for bad in [0, 1, 7999, 11025, 22050, 96000, u32::MAX] {
        assert_eq!(
            Resampler::new(bad, 8000, 1).err(),
            Some(FormatError::UnsupportedRate(bad))
        );
        assert_eq!(
            Resampler::new(48000, bad, 1).err(),
            Some(FormatError::UnsupportedRate(bad))
        );
    }
    assert_eq!(
        Resampler::new(8000, 8000, 0).err(),
        Some(FormatError::UnsupportedChannels(0))
    );
    assert_eq!(
        Resampler::new(8000, 8000, 9).err(),
        Some(FormatError::UnsupportedChannels(9))
    );
}
