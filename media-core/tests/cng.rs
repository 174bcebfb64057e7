//! RFC 3389 comfort noise: the generated noise has the coded level and follows the spectral
//! tilt of the noise it was analysed from; payloads round-trip; arbitrary payloads never
//! panic and never make the synthesis blow up.

use media_core::processing::audio::cng::{CnEncoder, CnGenerator, CnPayload, MAX_PAYLOAD};
use media_core::signal::SplitMix64;
use media_core::SampleRate;
use proptest::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Colour {
    White,
    Pink,
    Brown,
}

/// `n` samples of coloured Gaussian noise at `dbov` (mean power).
fn noise(colour: Colour, n: usize, dbov: f64, seed: u64) -> Vec<f64> {
    let mut rng = SplitMix64(seed);
    let mut gauss = move || {
        let (u1, u2) = (rng.unit().max(1e-300), rng.unit());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    };
    let mut x: Vec<f64> = match colour {
        Colour::White => (0..n).map(|_| gauss()).collect(),
        // Paul Kellet's "economy" pink filter: about -3 dB/octave over the band.
        Colour::Pink => {
            let (mut b0, mut b1, mut b2) = (0.0, 0.0, 0.0);
            (0..n)
                .map(|_| {
                    let w = gauss();
                    b0 = 0.99765 * b0 + w * 0.0990460;
                    b1 = 0.96300 * b1 + w * 0.2965164;
                    b2 = 0.57000 * b2 + w * 1.0526913;
                    b0 + b1 + b2 + w * 0.1848
                })
                .collect()
        }
        // Leaky integration: -6 dB/octave above a few Hz.
        Colour::Brown => {
            let mut y = 0.0;
            (0..n)
                .map(|_| {
                    y = 0.995 * y + gauss();
                    y
                })
                .collect()
        }
    };
    let p = x.iter().map(|v| v * v).sum::<f64>() / n as f64;
    let g = (10f64.powf(dbov / 10.0) / p).sqrt();
    x.iter_mut().for_each(|v| *v *= g);
    x
}

fn to_i16(x: &[f64]) -> Vec<i16> {
    x.iter()
        .map(|v| (v * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}

fn level_dbov(x: &[i16]) -> f64 {
    let p = x
        .iter()
        .map(|&v| (f64::from(v) / 32768.0).powi(2))
        .sum::<f64>()
        / x.len() as f64;
    10.0 * p.max(1e-30).log10()
}

/// The spectral slope in dB/octave between 250 Hz and 3.5 kHz (scaled to the rate): Welch
/// power at log-spaced frequencies, least squares against log2 f.
fn slope_db_per_octave(x: &[i16], rate: u32) -> f64 {
    let scale = f64::from(rate) / 8000.0;
    let freqs: Vec<f64> = (0..12)
        .map(|i| 250.0 * scale * 2f64.powf(i as f64 * 3.807 / 11.0))
        .collect();
    let block = (512.0 * scale) as usize;
    let mut pts = Vec::new();
    for &f in &freqs {
        let w = std::f64::consts::TAU * f / f64::from(rate);
        let mut p = 0.0;
        for b in x.chunks_exact(block) {
            let (mut re, mut im) = (0.0, 0.0);
            for (i, &v) in b.iter().enumerate() {
                let h = 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / block as f64).cos();
                re += h * f64::from(v) * (w * i as f64).cos();
                im += h * f64::from(v) * (w * i as f64).sin();
            }
            p += re * re + im * im;
        }
        pts.push((f.log2(), 10.0 * p.max(1e-30).log10()));
    }
    let n = pts.len() as f64;
    let (sx, sy) = pts
        .iter()
        .fold((0.0, 0.0), |(a, b), &(x, y)| (a + x, b + y));
    let (mx, my) = (sx / n, sy / n);
    let (num, den) = pts.iter().fold((0.0, 0.0), |(a, b), &(x, y)| {
        (a + (x - mx) * (y - my), b + (x - mx) * (x - mx))
    });
    num / den
}

fn generate(sid: &CnPayload, rate: u32, ms: usize, seed: u64) -> Vec<i16> {
    let mut g = CnGenerator::new(SampleRate(rate), seed).unwrap();
    g.update(sid);
    let mut out = vec![0i16; rate as usize * ms / 1000];
    for f in out.chunks_mut(rate as usize / 100) {
        g.fill_i16(f);
    }
    out
}

#[test]
fn generated_level_within_2_db_of_the_coded_level() {
    for rate in [8000u32, 16000, 48000] {
        for colour in [Colour::White, Colour::Pink, Colour::Brown] {
            for dbov in [-20.0, -40.0, -60.0] {
                let input = to_i16(&noise(colour, rate as usize, dbov, 1));
                let mut enc = CnEncoder::new(SampleRate(rate), 12).unwrap();
                let sid = enc.analyze_i16(&input);
                assert!(
                    (sid.level_dbov() - level_dbov(&input)).abs() <= 0.6,
                    "{rate} {colour:?} {dbov}: coded {} for input {:.2}",
                    sid.level_dbov(),
                    level_dbov(&input)
                );
                let out = generate(&sid, rate, 2000, 7);
                let got = level_dbov(&out);
                eprintln!(
                    "{rate} Hz {colour:?} {dbov} dBov: input {:.2}, coded {}, generated {got:.2}",
                    level_dbov(&input),
                    sid.level_dbov()
                );
                assert!(
                    (got - sid.level_dbov()).abs() <= 2.0,
                    "{rate} {colour:?} {dbov}: generated {got:.2} dBov for coded {}",
                    sid.level_dbov()
                );
            }
        }
    }
}

#[test]
fn spectral_tilt_follows_the_input() {
    for rate in [8000u32, 16000] {
        let mut slopes = Vec::new();
        for colour in [Colour::White, Colour::Pink, Colour::Brown] {
            let input = to_i16(&noise(colour, 2 * rate as usize, -30.0, 2));
            let sid = CnEncoder::new(SampleRate(rate), 12)
                .unwrap()
                .analyze_i16(&input);
            let out = generate(&sid, rate, 4000, 9);
            let (s_in, s_out) = (
                slope_db_per_octave(&input, rate),
                slope_db_per_octave(&out, rate),
            );
            assert!(
                (s_in - s_out).abs() <= 1.5,
                "{rate} Hz {colour:?}: input {s_in:.2} dB/oct, comfort noise {s_out:.2}"
            );
            eprintln!("{rate} Hz {colour:?}: input {s_in:.2} dB/oct, comfort noise {s_out:.2}");
            slopes.push(s_out);
        }
        // White is flat, pink falls about 3 dB/octave, brown about 6.
        assert!(slopes[0].abs() < 1.0, "{slopes:?}");
        assert!(
            slopes[1] < slopes[0] - 1.5 && slopes[2] < slopes[1] - 1.5,
            "{slopes:?}"
        );
    }
}

#[test]
fn a_new_sid_glides_in_without_a_jump() {
    let rate = 8000;
    let mut g = CnGenerator::new(SampleRate(rate), 5).unwrap();
    g.update(&CnPayload::new(-30.0, &[-0.5]));
    let mut warm = vec![0i16; 8000];
    g.fill_i16(&mut warm);
    g.update(&CnPayload::new(-50.0, &[0.3]));
    // 5 ms after the switch: still near the old level.
    let mut first = vec![0i16; 40];
    g.fill_i16(&mut first);
    assert!(
        (level_dbov(&first) + 30.0).abs() < 3.0,
        "{}",
        level_dbov(&first)
    );
    // 100 ms on: the new level.
    let mut skip = vec![0i16; 800];
    g.fill_i16(&mut skip);
    let mut later = vec![0i16; 8000];
    g.fill_i16(&mut later);
    assert!(
        (level_dbov(&later) + 50.0).abs() < 2.0,
        "{}",
        level_dbov(&later)
    );
}

#[test]
fn level_only_payloads_give_white_noise() {
    let sid = CnPayload::parse(&[45]).unwrap();
    assert_eq!(sid.order(), 0);
    let out = generate(&sid, 8000, 2000, 3);
    assert!((level_dbov(&out) + 45.0).abs() < 1.0);
    assert!(slope_db_per_octave(&out, 8000).abs() < 1.0);
    // An encoder of order 0 sends the level only.
    let input = to_i16(&noise(Colour::Brown, 8000, -25.0, 4));
    let sid = CnEncoder::new(SampleRate::HZ_8000, 0)
        .unwrap()
        .analyze_i16(&input);
    assert_eq!((sid.order(), sid.level()), (0, 25));
}

#[test]
fn extreme_models_settle_to_the_new_level() {
    // Cases proptest found: a loud SID, then a quieter one whose model is all but on the unit
    // circle. The filter's memory must not keep ringing at the old level.
    for (first, second) in [
        (vec![0u8], vec![49u8, 22, 0, 0, 0, 0, 0]),
        (
            vec![0, 0, 50, 57],
            vec![9, 130, 14, 0, 61, 164, 0, 150, 0, 0, 0, 0, 0],
        ),
    ] {
        let mut g = CnGenerator::new(SampleRate::HZ_16000, 1).unwrap();
        g.update_from_bytes(&first).unwrap();
        let mut pcm = vec![0i16; 4000];
        g.fill_i16(&mut pcm);
        g.update_from_bytes(&second).unwrap();
        g.fill_i16(&mut pcm);
        let coded = -f64::from(second[0]);
        let got = level_dbov(&pcm[2000..]);
        assert!((got - coded).abs() <= 2.0, "{second:?}: {got:.1} dBov");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn payload_bytes_round_trip(level in 0u8..=127, coeffs in prop::collection::vec(any::<u8>(), 0..=12)) {
        let mut bytes = vec![level];
        bytes.extend(&coeffs);
        let p = CnPayload::parse(&bytes).unwrap();
        let mut out = [0u8; MAX_PAYLOAD];
        let n = p.write(&mut out).unwrap();
        prop_assert_eq!(&out[..n], &bytes[..]);
        // And values survive quantisation: re-quantising the decoded values gives the same
        // payload, except that 255 (k = +1) comes back as the largest stable value.
        let k: Vec<f64> = (0..p.order()).map(|i| p.reflection(i)).collect();
        let q = CnPayload::new(p.level_dbov(), &k);
        prop_assert_eq!(q.level(), p.level());
        for (a, b) in q.coefficient_bytes().iter().zip(p.coefficient_bytes()) {
            prop_assert_eq!(*a, (*b).min(254));
        }
    }

    #[test]
    fn arbitrary_payloads_never_panic_or_blow_up(bytes in prop::collection::vec(any::<u8>(), 0..40),
                                                 more in prop::collection::vec(any::<u8>(), 1..20),
                                                 len in 0usize..700) {
        let mut g = CnGenerator::new(SampleRate::HZ_16000, 1).unwrap();
        let mut out = vec![0f32; len];
        if g.update_from_bytes(&bytes).is_err() {
            prop_assert!(bytes.is_empty());
        }
        g.fill_f32(&mut out);
        prop_assert!(out.iter().all(|s| s.is_finite() && s.abs() <= 1.0));
        g.update_from_bytes(&more).unwrap();
        let mut pcm = vec![0i16; 4000];
        g.fill_i16(&mut pcm);
        // Power at or below the coded level (clipping only lowers it), give or take.
        let coded = CnPayload::parse(&more).unwrap().level_dbov();
        prop_assert!(level_dbov(&pcm[3000..]) <= coded + 6.0);
    }

    #[test]
    fn analysis_of_any_signal_is_a_valid_payload(x in prop::collection::vec(any::<i16>(), 0..1000), order in 0usize..=12) {
        let mut enc = CnEncoder::new(SampleRate::HZ_8000, order).unwrap();
        let p = enc.analyze_i16(&x);
        prop_assert!(p.level() <= 127);
        prop_assert!(p.order() == order || x.iter().all(|&s| s == 0) || p.order() == 0);
        let mut buf = [0u8; MAX_PAYLOAD];
        let n = p.write(&mut buf).unwrap();
        prop_assert_eq!(CnPayload::parse(&buf[..n]).unwrap(), p);
    }
}
