use super::design::bessel_i0;
use super::*;
use std::f64::consts::PI;

/// All ordered pairs of distinct supported rates.
fn pairs() -> Vec<(u32, u32)> {
    let mut v = Vec::new();
    for &a in &SUPPORTED_RATES {
        for &b in &SUPPORTED_RATES {
            if a != b {
                v.push((a, b));
            }
        }
    }
    v
}

fn db(x: f64) -> f64 {
    20.0 * x.max(1e-300).log10()
}

/// Sum of `amp * sin(2 pi f t + phase_i)` over `freqs`, `n` samples at `fs`.
fn tones(freqs: &[f64], amp: f64, fs: f64, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let t = i as f64 / fs;
            freqs
                .iter()
                .enumerate()
                .map(|(k, &f)| amp * (2.0 * PI * f * t + 0.7 * k as f64).sin())
                .sum::<f64>() as f32
        })
        .collect()
}

/// Analysis window: Kaiser, beta 20 (sidelobes far below -150 dB, main lobe +-6.5 bins).
fn window(n: usize) -> Vec<f64> {
    let beta = 20.0;
    let i0b = bessel_i0(beta);
    (0..n)
        .map(|i| {
            let x = 2.0 * i as f64 / (n - 1) as f64 - 1.0;
            bessel_i0(beta * (1.0 - x * x).max(0.0).sqrt()) / i0b
        })
        .collect()
}

/// Amplitude of the sinusoid at `f` Hz in `x` (windowed DTFT, exact for any `f`).
fn amplitude_at(x: &[f64], w: &[f64], f: f64, fs: f64) -> f64 {
    let (mut re, mut im) = (0.0, 0.0);
    let dw = 2.0 * PI * f / fs;
    for (n, (&v, &wv)) in x.iter().zip(w).enumerate() {
        let ph = dw * n as f64;
        re += v * wv * ph.cos();
        im -= v * wv * ph.sin();
    }
    2.0 * (re * re + im * im).sqrt() / w.iter().sum::<f64>()
}

/// Windowed amplitude spectrum (bins 0..=n/2), scaled so a sinusoid of amplitude `a` on a
/// bin centre reads `a`. `x.len()` must be a power of two.
fn spectrum(x: &[f64], w: &[f64]) -> Vec<f64> {
    let n = x.len();
    let mut re: Vec<f64> = x.iter().zip(w).map(|(a, b)| a * b).collect();
    let mut im = vec![0.0; n];
    let mut j = 0;
    for i in 1..n {
        let mut bit = n >> 1;
        while j & bit != 0 {
            j ^= bit;
            bit >>= 1;
        }
        j |= bit;
        if i < j {
            re.swap(i, j);
            im.swap(i, j);
        }
    }
    let mut len = 2;
    while len <= n {
        let ang = -2.0 * PI / len as f64;
        for start in (0..n).step_by(len) {
            for k in 0..len / 2 {
                let (s, c) = (ang * k as f64).sin_cos();
                let (a, b) = (start + k, start + k + len / 2);
                let tr = re[b] * c - im[b] * s;
                let ti = re[b] * s + im[b] * c;
                re[b] = re[a] - tr;
                im[b] = im[a] - ti;
                re[a] += tr;
                im[a] += ti;
            }
        }
        len <<= 1;
    }
    let norm = 2.0 / w.iter().sum::<f64>();
    (0..=n / 2)
        .map(|k| (re[k] * re[k] + im[k] * im[k]).sqrt() * norm)
        .collect()
}

const FFT_LEN: usize = 4096;

/// Resamples `input` in one call and returns `FFT_LEN` steady-state output samples.
fn steady_output(r: &mut Resampler, input: &[f32]) -> Vec<f64> {
    let mut out = vec![0.0f32; r.max_output_len(input.len())];
    let (_, n) = r.process(input, &mut out).unwrap();
    let skip = 2 * r.latency() + 16;
    assert!(n >= skip + FFT_LEN, "signal too short");
    out[skip..skip + FFT_LEN]
        .iter()
        .map(|&v| f64::from(v))
        .collect()
}

fn input_len_for(from: u32, to: u32) -> usize {
    let r = Resampler::new(from, to, 1).unwrap();
    let out_needed = FFT_LEN + 2 * r.latency() + 32;
    (out_needed as u64 * u64::from(from)).div_ceil(u64::from(to)) as usize
}

/// Largest spectrum value outside +-`guard` Hz of every frequency in `exclude`, and where.
fn worst_spur(spec: &[f64], fs: f64, exclude: &[f64], guard: f64) -> (f64, f64) {
    let bin = fs / FFT_LEN as f64;
    let mut worst = (0.0, 0.0);
    for (k, &v) in spec.iter().enumerate() {
        let f = k as f64 * bin;
        if exclude.iter().any(|&e| (f - e).abs() <= guard) {
            continue;
        }
        if v > worst.0 {
            worst = (v, f);
        }
    }
    worst
}

/// Frequency `f` as seen after sampling at `fs`.
fn fold(f: f64, fs: f64) -> f64 {
    let r = f.rem_euclid(fs);
    r.min(fs - r)
}

struct Quality {
    ripple_db: f64,
    /// Worst image / alias / spur relative to the tone amplitude, dB, and its frequency.
    spur_db: f64,
    spur_hz: f64,
}

/// Passband ripple and spurs (images when upsampling) for in-band tones, plus aliases of
/// tones above the output Nyquist frequency when downsampling.
fn measure(from: u32, to: u32) -> Quality {
    let (fi, fo) = (f64::from(from), f64::from(to));
    let lo = fi.min(fo);
    let n_in = input_len_for(from, to);
    let w = window(FFT_LEN);
    let guard = 8.0 * fo / FFT_LEN as f64;
    const K: usize = 24;
    let amp = 1.0 / K as f64;

    // In-band tones up to 90% of the lower Nyquist frequency.
    let freqs: Vec<f64> = (1..=K)
        .map(|k| (0.45 * lo * k as f64 / K as f64).round())
        .collect();
    let mut r = Resampler::new(from, to, 1).unwrap();
    let y = steady_output(&mut r, &tones(&freqs, amp, fi, n_in));
    let mut ripple: f64 = 0.0;
    for &f in &freqs {
        let g = db(amplitude_at(&y, &w, f, fo) / amp);
        ripple = ripple.max(g.abs());
    }
    let spec = spectrum(&y, &w);
    let (mut spur, mut spur_hz) = worst_spur(&spec, fo, &freqs, guard);
    // Exact level at each image frequency (the FFT scan may fall between bins).
    for &f in &freqs {
        for k in 1..=(to / from.min(to)) as usize + 1 {
            for img in [k as f64 * fi - f, k as f64 * fi + f] {
                let seen = fold(img, fo);
                if freqs.iter().all(|&t| (t - seen).abs() > guard) && img < fo / 2.0 {
                    let a = amplitude_at(&y, &w, seen, fo);
                    if a > spur {
                        (spur, spur_hz) = (a, seen);
                    }
                }
            }
        }
    }

    // Transition-band tones (90%..100% of the lower Nyquist): nothing may land in the
    // guaranteed passband.
    let trans: Vec<f64> = [0.46, 0.475, 0.49, 0.499]
        .iter()
        .map(|&x| (x * lo).round())
        .collect();
    r.reset();
    let y = steady_output(&mut r, &tones(&trans, amp, fi, n_in));
    let spec = spectrum(&y, &w);
    let bin = fo / FFT_LEN as f64;
    for (k, &v) in spec.iter().enumerate() {
        let f = k as f64 * bin;
        if f <= 0.45 * lo - guard && v > spur {
            (spur, spur_hz) = (v, f);
        }
    }

    // Downsampling: tones from the output Nyquist frequency up to the input one.
    if to < from {
        let stop: Vec<f64> = (0..K)
            .map(|k| (0.5 * fo + (0.5 * fi - 0.5 * fo) * (k as f64 + 0.02) / K as f64).round())
            .collect();
        r.reset();
        let y = steady_output(&mut r, &tones(&stop, amp, fi, n_in));
        let spec = spectrum(&y, &w);
        let (s, f) = worst_spur(&spec, fo, &[], 0.0);
        if s > spur {
            (spur, spur_hz) = (s, f);
        }
        for &f in &stop {
            let a = amplitude_at(&y, &w, fold(f, fo), fo);
            if a > spur {
                (spur, spur_hz) = (a, fold(f, fo));
            }
        }
    }
    Quality {
        ripple_db: ripple,
        spur_db: db(spur / amp),
        spur_hz,
    }
}

#[test]
fn quality_all_pairs() {
    for (from, to) in pairs() {
        let q = measure(from, to);
        eprintln!(
            "{from:>5} -> {to:>5}: ripple {:.4} dB, worst spur {:.1} dB at {:.0} Hz",
            q.ripple_db, q.spur_db, q.spur_hz
        );
        assert!(q.ripple_db <= 0.1, "{from}->{to}: ripple {}", q.ripple_db);
        assert!(q.spur_db <= -90.0, "{from}->{to}: spur {} dB", q.spur_db);
    }
}

#[test]
fn report_design() {
    for (from, to) in pairs() {
        let r = Resampler::new(from, to, 1).unwrap();
        let stages: Vec<String> = r
            .stages()
            .iter()
            .map(|s| {
                format!(
                    "{}->{} L{}/M{} {} coefs {:.0} MAC/out {}",
                    s.from,
                    s.to,
                    s.phases,
                    s.decimation,
                    s.coefficients,
                    s.macs_per_output,
                    if s.block_kernel { "block" } else { "group" }
                )
            })
            .collect();
        eprintln!(
            "{from:>5} -> {to:>5}: latency {} ({:.2} ms); {}",
            r.latency(),
            r.latency_seconds() * 1e3,
            stages.join(" | ")
        );
    }
}

/// Runs `input` through `r` in chunks of the given frame counts (cycled).
fn run_chunked(r: &mut Resampler, input: &[f32], chunks: &[usize]) -> Vec<f32> {
    let ch = r.channels;
    let mut out = Vec::new();
    let mut buf = vec![0.0f32; r.max_output_len(input.len())];
    let mut at = 0;
    for &c in chunks.iter().cycle() {
        if at >= input.len() {
            break;
        }
        let end = (at + c * ch).min(input.len());
        let expect = r.output_len_for(end - at);
        assert!(expect <= r.max_output_len(end - at));
        let (used, n) = r.process(&input[at..end], &mut buf).unwrap();
        assert_eq!((used, n), (end - at, expect));
        out.extend_from_slice(&buf[..n]);
        at = end;
    }
    out
}

fn noise(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            f32::from((s >> 16) as i16) / 40000.0
        })
        .collect()
}

#[test]
fn chunking_does_not_change_output() {
    for (from, to) in pairs() {
        for ch in [1u16, 2] {
            let input = noise(from as usize / 5 * ch as usize, from ^ to);
            let mut r = Resampler::new(from, to, ch).unwrap();
            let whole = run_chunked(&mut r, &input, &[usize::MAX / 4]);
            assert_eq!(
                whole.len() as u64,
                (input.len() as u64 / u64::from(ch) * u64::from(to)).div_ceil(u64::from(from))
                    * u64::from(ch)
            );
            let ms10 = from as usize / 100;
            for pattern in [
                &[ms10][..],
                &[2 * ms10],
                &[1, 7, 13, 441, 3, 1000, 2049, 0, 5],
            ] {
                r.reset();
                let chunked = run_chunked(&mut r, &input, pattern);
                assert!(
                    whole == chunked,
                    "{from}->{to} x{ch} chunks {pattern:?} differ"
                );
            }
        }
    }
}

#[test]
fn whole_frames_give_whole_frames() {
    for (from, to) in pairs() {
        let mut r = Resampler::new(from, to, 2).unwrap();
        for ms in [10, 20] {
            let (fin, fout) = r.frame_lengths(ms).unwrap();
            assert_eq!(
                (fin, fout),
                (
                    from as usize * ms as usize / 500,
                    to as usize * ms as usize / 500
                )
            );
            let input = vec![0.25f32; fin];
            let mut out = vec![0.0f32; fout];
            for _ in 0..7 {
                assert_eq!(r.output_len_for(fin), fout);
                assert_eq!(r.process(&input, &mut out), Ok((fin, fout)));
            }
        }
    }
    let r = Resampler::new(44100, 48000, 1).unwrap();
    assert_eq!(r.frame_lengths(5), None);
    assert_eq!(r.frame_lengths(30), Some((1323, 1440)));
}

#[test]
fn resample_all_is_time_aligned() {
    for (from, to) in pairs() {
        let f = 0.2 * f64::from(from.min(to)); // well inside the passband
        let n = from as usize / 10;
        let input: Vec<f32> = (0..n)
            .map(|i| (0.5 * (2.0 * PI * f * i as f64 / f64::from(from)).sin()) as f32)
            .collect();
        let out = resample_all_f32(&input, from, to, 1).unwrap();
        let expected_len = (n as f64 * f64::from(to) / f64::from(from)).round() as usize;
        assert_eq!(out.len(), expected_len);
        // Away from the clip edges the output is the same sine sampled at the new rate.
        let edge = to as usize / 100;
        let mut err: f64 = 0.0;
        for (k, &y) in out.iter().enumerate().take(out.len() - edge).skip(edge) {
            let ideal = 0.5 * (2.0 * PI * f * k as f64 / f64::from(to)).sin();
            err = err.max((f64::from(y) - ideal).abs());
        }
        eprintln!(
            "{from:>5} -> {to:>5}: alignment error {:.1} dB",
            db(err / 0.5)
        );
        assert!(
            db(err / 0.5) < -90.0,
            "{from}->{to}: misaligned, error {} dB",
            db(err / 0.5)
        );
    }
}

#[test]
fn resample_all_i16_matches_f32_path() {
    let input: Vec<i16> = noise(3000, 7)
        .iter()
        .map(|&v| (v * 32768.0) as i16)
        .collect();
    for (from, to) in [(48000, 16000), (8000, 44100), (44100, 48000)] {
        let a = resample_all(&input, from, to, 2).unwrap();
        let f: Vec<f32> = input.iter().map(|&v| f32::from(v) / 32768.0).collect();
        let b = resample_all_f32(&f, from, to, 2).unwrap();
        assert_eq!(a.len(), b.len());
        assert_eq!(
            a.len(),
            (1500.0 * f64::from(to) / f64::from(from)).round() as usize * 2
        );
        for (&x, &y) in a.iter().zip(&b) {
            assert_eq!(x, (y * 32768.0).round_ties_even() as i16);
        }
    }
    assert_eq!(resample_all(&[], 8000, 16000, 1), Ok(vec![]));
    assert_eq!(resample_all(&[1, 2, 3], 16000, 16000, 1), Ok(vec![1, 2, 3]));
}

#[test]
fn channels_are_independent() {
    let (from, to) = (16000, 44100);
    let left = noise(4000, 1);
    let right = noise(4000, 2);
    let stereo: Vec<f32> = left
        .iter()
        .zip(&right)
        .flat_map(|(&l, &r)| [l, r])
        .collect();
    let mut r2 = Resampler::new(from, to, 2).unwrap();
    let out2 = run_chunked(&mut r2, &stereo, &[160]);
    let mut r1 = Resampler::new(from, to, 1).unwrap();
    let out_l = run_chunked(&mut r1, &left, &[160]);
    r1.reset();
    let out_r = run_chunked(&mut r1, &right, &[160]);
    let joined: Vec<f32> = out_l
        .iter()
        .zip(&out_r)
        .flat_map(|(&l, &r)| [l, r])
        .collect();
    assert!(out2 == joined);
}

#[test]
fn bad_arguments_are_errors() {
    assert_eq!(
        Resampler::new(11025, 8000, 1).err(),
        Some(FormatError::UnsupportedRate(11025))
    );
    assert_eq!(
        Resampler::new(8000, 0, 1).err(),
        Some(FormatError::UnsupportedRate(0))
    );
    assert_eq!(
        Resampler::new(8000, 16000, 0).err(),
        Some(FormatError::UnsupportedChannels(0))
    );
    assert_eq!(
        Resampler::new(8000, 16000, MAX_CHANNELS + 1).err(),
        Some(FormatError::UnsupportedChannels(MAX_CHANNELS + 1))
    );
    let mut r = Resampler::new(8000, 48000, 2).unwrap();
    let mut out = [0.0f32; 1000];
    assert!(matches!(
        r.process(&[0.0; 3], &mut out),
        Err(FormatError::BadLength { .. })
    ));
    assert_eq!(
        r.process(&[0.0; 160], &mut out[..959]),
        Err(FormatError::BadLength {
            got: 959,
            expected: 960
        })
    );
    // Nothing was consumed by the failed calls.
    assert_eq!(r.process(&[0.0; 160], &mut out), Ok((160, 960)));
    assert_eq!(r.process_i16(&[], &mut []), Ok((0, 0)));
    assert!(resample_all(&[0; 3], 8000, 16000, 2).is_err());
}

#[test]
fn i16_output_rounds_to_nearest_even_and_saturates() {
    let mut specials = vec![
        0.0f32,
        -0.0,
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        1.0,
        -1.0,
        2.0,
        -2.0,
        0.5 / 32768.0,
        -0.5 / 32768.0,
        1.5 / 32768.0,
        -1.5 / 32768.0,
        32767.5 / 32768.0,
        -32768.5 / 32768.0,
        0.499_999_97 / 32768.0,
    ];
    let mut s = 12345u32;
    for _ in 0..100_000 {
        s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        specials.push(f32::from_bits(s) % 1.1);
        specials.push((s as f32 / u32::MAX as f32 - 0.5) * 2.2);
    }
    for v in specials {
        let expect = (v * 32768.0).round_ties_even() as i16;
        assert_eq!(<i16 as Sample>::from_f32(v), expect, "{v}");
    }
}

#[test]
fn equal_rates_copy() {
    let mut r = Resampler::new(32000, 32000, 2).unwrap();
    assert_eq!(r.latency(), 0);
    let mut out = [0i16; 4];
    assert_eq!(r.process_i16(&[1, -2, 3, -4], &mut out), Ok((4, 4)));
    assert_eq!(out, [1, -2, 3, -4]);
}

#[test]
fn i16_saturates_and_rounds() {
    // A full-scale square wave overshoots (Gibbs); i16 output must clip, not wrap.
    let input: Vec<i16> = (0..4800)
        .map(|i| if (i / 24) % 2 == 0 { 32767 } else { -32768 })
        .collect();
    let mut r = Resampler::new(48000, 16000, 1).unwrap();
    let mut out = vec![0i16; r.max_output_len(input.len())];
    let (_, n) = r.process_i16(&input, &mut out).unwrap();
    assert_eq!(n, 1600);
    assert!(out[..n].contains(&i16::MAX));
    assert!(out[..n].contains(&i16::MIN));
}

#[test]
fn f32_noise_floor_is_far_below_the_spec() {
    // One near-full-scale tone: the median spectrum bin is the noise floor of the f32
    // arithmetic (images and aliases are isolated lines above it).
    let mut worst: f64 = -400.0;
    for (from, to) in [
        (48000, 16000),
        (8000, 48000),
        (44100, 48000),
        (48000, 44100),
    ] {
        let n_in = input_len_for(from, to);
        let f = 0.1 * f64::from(from.min(to)) + 3.0;
        let mut r = Resampler::new(from, to, 1).unwrap();
        let y = steady_output(&mut r, &tones(&[f], 0.99, f64::from(from), n_in));
        let mut spec = spectrum(&y, &window(FFT_LEN));
        spec.sort_by(f64::total_cmp);
        worst = worst.max(db(spec[spec.len() / 2]));
    }
    eprintln!("f32 noise floor (median bin): {worst:.1} dBFS");
    assert!(worst < -130.0, "noise floor {worst} dBFS per bin");
}

#[test]
fn latency_is_documented_range() {
    for (from, to) in pairs() {
        let r = Resampler::new(from, to, 1).unwrap();
        let ms = r.latency_seconds() * 1e3;
        assert!((0.5..10.0).contains(&ms), "{from}->{to}: {ms} ms");
        assert_eq!(r.latency() as f64 / f64::from(to), r.latency_seconds());
    }
}
