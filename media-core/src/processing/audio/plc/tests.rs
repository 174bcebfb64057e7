use super::*;
use proptest::prelude::*;

const RATES: [u32; 5] = [8000, 16000, 32000, 44100, 48000];

/// A voiced-like periodic signal: 160 Hz with two harmonics, peak below 12,000.
fn voiced(rate: u32, n: usize) -> Vec<i16> {
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            let w = 2.0 * std::f64::consts::PI * 160.0 * t;
            (6000.0 * w.sin() + 3000.0 * (2.0 * w).sin() + 1500.0 * (3.0 * w).sin()) as i16
        })
        .collect()
}

fn max_step(x: &[i16]) -> i32 {
    x.windows(2)
        .map(|w| (i32::from(w[1]) - i32::from(w[0])).abs())
        .max()
        .unwrap_or(0)
}

#[test]
fn standard_constants_at_8khz() {
    let p = Params::for_rate(8000);
    assert_eq!(
        (p.pitch_min, p.pitch_max, p.poverlap_max, p.history_len),
        (40, 120, 30, 390)
    );
    assert_eq!(
        (p.ndec, p.corr_len, p.eoverlap_incr, p.frame),
        (2, 160, 32, 80)
    );
    assert_eq!((p.coarse_min_power, p.fine_min_power), (250.0, 250.0));
    assert_eq!(p.atten_incr, 0.2 / 80.0);
    assert_eq!(Params::for_rate(0), p);
    let p = Params::for_rate(48000);
    assert_eq!((p.pitch_min, p.pitch_max, p.poverlap_max), (240, 720, 180));
    assert_eq!((p.ndec, p.corr_len, p.frame), (12, 960, 480));
}

#[test]
fn good_frames_come_out_delayed_by_3_75_ms() {
    for rate in RATES {
        let mut plc = G711Plc::new(rate);
        let d = plc.delay_samples();
        assert!(
            (d as f64 / f64::from(rate) * 1000.0 - 3.75).abs() < 0.02,
            "{rate}: {d}"
        );
        let input: Vec<i16> = (0..3 * plc.frame_samples()).map(|i| i as i16 + 1).collect();
        let mut out = input.clone();
        for chunk in out.chunks_mut(37) {
            plc.good_frame(chunk);
        }
        assert!(out[..d].iter().all(|&s| s == 0));
        assert_eq!(out[d..], input[..input.len() - d]);
        let mut tail = vec![0; d + 5];
        assert_eq!(plc.flush(&mut tail), d);
        assert_eq!(tail[..d], input[input.len() - d..]);
    }
}

#[test]
fn long_losses_decay_to_silence_after_60_ms() {
    for rate in RATES {
        let mut plc = G711Plc::new(rate);
        let f = plc.frame_samples();
        let d = plc.delay_samples();
        let mut good = voiced(rate, 20 * f);
        plc.good_frame(&mut good);
        let mut lost = vec![0i16; 10 * f];
        for frame in lost.chunks_mut(f) {
            plc.conceal(frame);
        }
        // The first 10 ms of the loss repeat the signal at full level ...
        let level = |x: &[i16]| x.iter().map(|&s| i32::from(s).abs()).max().unwrap();
        assert!(level(&lost[d..d + f]) > 8000, "{rate}");
        // ... then it fades by 20 % per 10 ms ...
        for k in 1..6 {
            let l = level(&lost[d + k * f..d + (k + 1) * f]);
            let bound = (1.0 - 0.2 * (k - 1) as f64) * 11000.0;
            assert!(f64::from(l) <= bound, "{rate}: frame {k}: {l} > {bound}");
        }
        // ... and is silent from 60 ms on (after the delay).
        assert!(lost[d + 6 * f..].iter().all(|&s| s == 0), "{rate}");
    }
}

#[test]
fn the_first_good_frame_after_a_loss_is_continuous() {
    // The speech resumes in opposite phase to the concealment: a plain splice would jump
    // by up to twice the amplitude. The end-of-loss overlap-add must hide it.
    for rate in RATES {
        let f = G711Plc::new(rate).frame_samples();
        let signal = voiced(rate, 40 * f);
        let natural = max_step(&signal);
        let mut worst_splice = 0;
        for lost_frames in 1..=8 {
            let mut plc = G711Plc::new(rate);
            let d = plc.delay_samples();
            let resume = (20 + lost_frames) * f;
            let mut out = signal.clone();
            for s in &mut out[resume..] {
                *s = -*s;
            }
            let splice = (i32::from(out[resume]) - i32::from(out[resume - 1])).abs();
            for (k, frame) in out.chunks_mut(f).enumerate() {
                if (20..20 + lost_frames).contains(&k) {
                    plc.conceal(frame);
                } else {
                    plc.good_frame(frame);
                }
            }
            // Around the first good samples (which come out `d` later).
            let region = &out[resume + d - f..resume + d + 2 * f];
            let step = max_step(region);
            worst_splice = worst_splice.max(splice);
            assert!(
                f64::from(step) <= 1.5 * f64::from(natural),
                "{rate} Hz, {lost_frames} lost: step {step}, signal's {natural}"
            );
        }
        // The test means something: a plain splice would have jumped.
        assert!(worst_splice > 4 * natural, "{rate}: {worst_splice}");
    }
}

#[test]
fn zero_length_calls_and_reset_change_nothing() {
    let signal = voiced(8000, 800);
    let run = |plc: &mut G711Plc| {
        let mut out = signal.clone();
        for (k, frame) in out.chunks_mut(80).enumerate() {
            if k % 4 == 3 {
                plc.conceal(frame);
                plc.conceal(&mut []);
            } else {
                plc.good_frame(&mut []);
                plc.good_frame(frame);
            }
        }
        out
    };
    let mut plc = G711Plc::new(8000);
    let first = run(&mut plc);
    plc.reset();
    assert_eq!(run(&mut plc), first);
    assert_eq!(run(&mut G711Plc::new(8000)), first);
}

#[test]
fn odd_and_extreme_rates_work() {
    let rates = [
        0,
        1,
        7999,
        11025,
        22050,
        24000,
        88200,
        96000,
        192000,
        u32::MAX,
    ];
    for rate in rates {
        let mut plc = G711Plc::new(rate);
        let f = plc.frame_samples();
        let mut good = voiced(rate.clamp(8000, 384_000), 12 * f);
        plc.good_frame(&mut good);
        let mut lost = vec![0i16; 8 * f + 3];
        plc.conceal(&mut lost);
        assert!(lost[..f].iter().any(|&s| s != 0), "{rate}");
        assert!(lost[lost.len() - f..].iter().all(|&s| s == 0), "{rate}");
        plc.good_frame(&mut good);
    }
}

/// A stream of 10 ms frames, each good (with its samples) or lost.
fn frames() -> impl Strategy<Value = Vec<(bool, Vec<i16>)>> {
    prop::collection::vec(
        (any::<bool>(), prop::collection::vec(any::<i16>(), 80)),
        0..40,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_patterns_and_lengths_never_panic_and_stay_bounded(
        rate in prop::sample::select(RATES.to_vec()),
        calls in prop::collection::vec(
            (any::<bool>(), 0usize..1000, any::<i16>(), any::<u32>()),
            0..30,
        ),
    ) {
        let mut plc = G711Plc::new(rate);
        let mut peak = 0i32;
        let mut buf = vec![0i16; 1000];
        for (good, len, amp, seed) in calls {
            let frame = &mut buf[..len];
            if good {
                let mut x = seed;
                for s in frame.iter_mut() {
                    x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    *s = ((i32::from(amp) * ((x >> 16) as i32 - 32768)) >> 15) as i16;
                    peak = peak.max(i32::from(*s).abs());
                }
                plc.good_frame(frame);
            } else {
                plc.conceal(frame);
            }
            for &s in frame.iter() {
                prop_assert!(i32::from(s).abs() <= peak, "{} > {}", s, peak);
            }
        }
    }

    #[test]
    fn splitting_10ms_frames_does_not_change_the_output(
        stream in frames(),
        cuts in prop::collection::vec(0usize..80, 0..4),
    ) {
        let run = |split: &[usize]| {
            let mut plc = G711Plc::new(8000);
            let mut out = Vec::new();
            for (good, samples) in &stream {
                let mut frame = samples.clone();
                let mut rest = &mut frame[..];
                let mut at = 0;
                let mut points = split.to_vec();
                points.sort_unstable();
                for p in points {
                    let (a, b) = rest.split_at_mut(p - at);
                    if *good { plc.good_frame(a) } else { plc.conceal(a) }
                    rest = b;
                    at = p;
                }
                if *good { plc.good_frame(rest) } else { plc.conceal(rest) }
                out.extend_from_slice(&frame);
            }
            out
        };
        prop_assert_eq!(run(&cuts), run(&[]));
    }
}

#[test]
fn wideband_tuning_changes_only_the_search_and_the_added_periods() {
    let (s, w) = (Params::for_rate(16000), Params::wideband(16000));
    assert_eq!((w.pitch_min, w.pitch_max, w.corr_len), (64, 240, 80));
    assert!(!w.add_periods && s.add_periods);
    assert_eq!(
        (w.poverlap_max, w.history_len, w.frame, w.atten_incr),
        (s.poverlap_max, s.history_len, s.frame, s.atten_incr)
    );
    assert_eq!((w.ndec, s.ndec), (1, 4));
    assert_eq!(
        G711Plc::wideband(16000).delay_samples(),
        G711Plc::new(16000).delay_samples()
    );
}

#[test]
fn wideband_tuning_continues_a_high_voice_by_its_own_period() {
    // 250 Hz: a 4 ms period, shorter than the standard's 5 ms minimum. The wideband search finds
    // it, and the first 10 ms of concealment continue the tone closely.
    let rate = 16000;
    let x: Vec<i16> = (0..4000)
        .map(|i| {
            let w = 2.0 * std::f64::consts::PI * 250.0 * i as f64 / f64::from(rate);
            (8000.0 * w.sin() + 2000.0 * (3.0 * w).sin()) as i16
        })
        .collect();
    let mut plc = G711Plc::wideband(rate);
    let mut good = x[..3200].to_vec();
    plc.good_frame(&mut good);
    let mut out = vec![0i16; 160 + plc.delay_samples()];
    plc.conceal(&mut out);
    assert_eq!(plc.pitch, 64);
    let d = plc.delay_samples();
    let err: f64 = out[d..]
        .iter()
        .zip(&x[3200..])
        .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
        .sum::<f64>()
        / 160.0;
    assert!(err.sqrt() < 100.0, "rms error {:.0}", err.sqrt());
}
