use super::*;

fn sine(rate: u32, freq: f64, amp: f64, n: usize, phase0: usize) -> Vec<i16> {
    (0..n)
        .map(|i| {
            let t = (phase0 + i) as f64 / f64::from(rate);
            (amp * (2.0 * std::f64::consts::PI * freq * t).sin()).round() as i16
        })
        .collect()
}

#[test]
fn levels_crest_and_clipping() {
    let silence = analyze_frame(&[0; 160], 8000);
    assert_eq!(silence.level_dbov, -127.0);
    assert!(!silence.distorted());
    let square: Vec<i16> = (0..160u32)
        .map(|i| if i.is_multiple_of(2) { 32767 } else { -32767 })
        .collect();
    assert!(analyze_frame(&square, 8000).level_dbov.abs() < 0.01);
    // A half-scale sine: RMS = 0.5 / sqrt(2) of full scale = -9.03 dBov; crest 3.01 dB.
    let s = analyze_frame(&sine(8000, 1000.0, 16384.0, 160, 0), 8000);
    assert!((s.level_dbov + 9.03).abs() < 0.05, "{s:?}");
    assert!((s.crest_db - 3.01).abs() < 0.05, "{s:?}");
    assert!(!s.distorted());
    // Loud clean sines, low and high, at 8 and 48 kHz: not distorted.
    for (rate, freq) in [(8000, 80.0), (8000, 440.0), (48000, 80.0), (48000, 1000.0)] {
        let n = rate as usize / 100;
        for k in 0..20 {
            let a = analyze_frame(&sine(rate, freq, 30000.0, n, k * n), rate);
            assert!(!a.distorted(), "{rate} Hz, {freq} Hz sine: {a:?}");
        }
    }
    // A sine four times too loud for full scale, clipped: distorted.
    let loud: Vec<i16> = (0..160)
        .map(|i| {
            let t = i as f64 / 8000.0;
            (120000.0 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()).clamp(-32768.0, 32767.0)
                as i16
        })
        .collect();
    let a = analyze_frame(&loud, 8000);
    assert!(a.clipped > 10 && a.distorted(), "{a:?}");
    // Flat-topped below full scale (a limiter that clamps at +-20000): distorted, no clipping.
    let flat: Vec<i16> = sine(48000, 200.0, 30000.0, 480, 0)
        .iter()
        .map(|&v| v.clamp(-20000, 20000))
        .collect();
    let a = analyze_frame(&flat, 48000);
    assert_eq!(a.clipped, 0);
    assert!(a.flat_tops >= 2 && a.distorted(), "{a:?}");
}

fn feed(m: &mut MediaMetrics, seconds: u32, mut lost_at: impl FnMut(u64) -> bool, seq0: u64) {
    let frame = sine(8000, 300.0, 8000.0, 80, 0);
    // 20 ms packets: one packet every other 10 ms frame.
    for f in 0..seconds * 100 {
        m.on_frame(&frame);
        if f % 2 == 1 {
            let seq = seq0 + u64::from(f / 2);
            let lost = lost_at(seq);
            m.on_packets(PacketDelta {
                played: u64::from(!lost),
                lost: u64::from(lost),
                concealed: u64::from(lost),
                fec_recovered: 0,
            });
        }
    }
}

#[test]
fn rating_follows_the_e_model() {
    let mut m = MediaMetrics::new("pcmu", 8000, 20, 0.0);
    m.set_jitter_buffer_delay(40.0);
    m.set_network(5.0, Some(60.0));
    feed(&mut m, 5, |_| false, 0);
    let s = m.snapshot();
    // Delay: 40 ms buffer + 20 ms packet + 30 ms (half the RTT).
    assert!((s.delay_ms - 90.0).abs() < 1e-9);
    let want = rate(&EModelParams::voip(
        CodecImpairment::for_codec("pcmu").unwrap(),
        90.0,
        0.0,
        1.0,
    ));
    assert!((s.mos - want.mos).abs() < 1e-9 && s.loss_pct == 0.0);
    assert!(
        (s.active_level_dbov - (20.0 * (8000.0 / 32768.0 / 2f64.sqrt()).log10()) as f32).abs()
            < 0.1
    );

    // Every tenth packet lost: 10 % random-like loss, BurstR 1.
    let mut m = MediaMetrics::new("pcmu", 8000, 20, 0.0);
    feed(&mut m, 5, |seq| seq.is_multiple_of(10), 0);
    let s = m.snapshot();
    assert!((s.loss_pct - 10.0).abs() < 0.01, "{s:?}");
    assert_eq!(s.burst_ratio, 1.0);
    assert!((s.concealed_fraction - 0.1).abs() < 1e-9);
    let random = s.mos;
    let want = rate(&EModelParams::voip(
        CodecImpairment::for_codec("pcmu").unwrap(),
        20.0,
        10.0,
        1.0,
    ));
    assert!((random - want.mos).abs() < 1e-9);

    // Five in a row out of every fifty: the same 10 %, BurstR = 5 * 0.9 = 4.5, lower MOS.
    let mut m = MediaMetrics::new("pcmu", 8000, 20, 0.0);
    feed(&mut m, 5, |seq| seq % 50 < 5, 0);
    let s = m.snapshot();
    assert!((s.loss_pct - 10.0).abs() < 0.01, "{s:?}");
    assert!((s.burst_ratio - 4.5).abs() < 0.01, "{s:?}");
    assert!(s.mos < random);

    // FEC-recovered packets are not loss.
    let mut m = MediaMetrics::new("opus", 48000, 20, 6.5);
    for _ in 0..250 {
        m.on_frame(&[0; 480]);
        m.on_packets(PacketDelta {
            played: 9,
            lost: 1,
            concealed: 0,
            fec_recovered: 1,
        });
    }
    let s = m.snapshot();
    assert_eq!(s.loss_pct, 0.0);
    assert!((s.fec_fraction - 0.1).abs() < 1e-9);
}

#[test]
fn the_window_forgets_old_loss() {
    let mut m = MediaMetrics::new("pcmu", 8000, 20, 0.0);
    feed(&mut m, 5, |seq| seq.is_multiple_of(5), 0);
    assert!(m.snapshot().loss_pct > 19.0);
    feed(&mut m, 3, |_| false, 1000);
    let mid = m.snapshot().loss_pct;
    assert!(mid > 5.0 && mid < 15.0, "{mid}");
    feed(&mut m, 3, |_| false, 2000);
    assert_eq!(m.snapshot().loss_pct, 0.0);
}

#[test]
fn distortion_lowers_the_rating() {
    let clean = sine(8000, 440.0, 20000.0, 80, 0);
    let clipped: Vec<i16> = clean
        .iter()
        .map(|&v| (i32::from(v) * 4).clamp(-32768, 32767) as i16)
        .collect();
    let mut a = MediaMetrics::new("pcmu", 8000, 20, 0.0);
    let mut b = MediaMetrics::new("pcmu", 8000, 20, 0.0);
    for i in 0..500u32 {
        a.on_frame(&clean);
        b.on_frame(if i.is_multiple_of(10) {
            &clipped
        } else {
            &clean
        });
    }
    let (sa, sb) = (a.snapshot(), b.snapshot());
    assert_eq!(sa.distorted_fraction, 0.0);
    assert!((sb.distorted_fraction - 0.1).abs() < 1e-9);
    assert!(sb.clipping_ratio > 0.0 && sa.clipping_ratio == 0.0);
    // 10 % distorted frames: 4 R points.
    assert!((sa.r - sb.r - 4.0).abs() < 1e-6, "{} {}", sa.r, sb.r);
}

#[test]
fn send_direction_uses_the_reported_loss() {
    let mut m = MediaMetrics::new("pcmu", 8000, 20, 0.0);
    m.on_frame(&[100; 80]);
    m.set_reported_loss(0.05);
    assert!((m.snapshot().loss_pct - 5.0).abs() < 1e-9);
}

fn run(
    monitor: &mut QualityMonitor,
    t0: Instant,
    mos: impl Fn(u64) -> f64,
    secs: u64,
) -> Vec<(u64, MonitorOutput)> {
    let mut out = Vec::new();
    for s in 0..secs {
        let o = monitor.update(t0 + Duration::from_secs(s), mos(s));
        if o.change.is_some() || o.alert.is_some() {
            out.push((s, o));
        }
    }
    out
}

#[test]
fn monitor_degrades_and_recovers_with_hysteresis() {
    let t0 = Instant::now();
    let mut m = QualityMonitor::new(QualityMonitorConfig::default());
    // Good, then below the threshold from 10 s: Degraded after 3 s, at 13 s, once.
    let ev = run(&mut m, t0, |s| if s < 10 { 4.2 } else { 3.4 }, 30);
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert_eq!(ev[0].0, 13);
    assert!(matches!(
        ev[0].1.change,
        Some(QualityChange::Degraded { .. })
    ));
    assert!(ev[0].1.alert.is_none(), "3.4 is above the floor");
    assert!(m.is_degraded());
    // Back to 3.7: above the threshold but not above threshold + margin: stays degraded.
    let ev = run(&mut m, t0 + Duration::from_secs(30), |_| 3.7, 60);
    assert!(ev.is_empty(), "{ev:?}");
    // 3.9 for 5 s: Recovered.
    let ev = run(&mut m, t0 + Duration::from_secs(90), |_| 3.9, 10);
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].0, 5);
    assert!(matches!(
        ev[0].1.change,
        Some(QualityChange::Recovered { .. })
    ));
}

#[test]
fn no_flapping_around_the_threshold() {
    let t0 = Instant::now();
    // Alternating 3.5 / 3.7 each second: never 3 s in a row below 3.6.
    let mut m = QualityMonitor::new(QualityMonitorConfig::default());
    assert!(run(
        &mut m,
        t0,
        |s| if s.is_multiple_of(2) { 3.5 } else { 3.7 },
        600
    )
    .is_empty());
    // Seeded noise of +-0.15 around the threshold for 10 minutes: a naive threshold
    // crossing would fire hundreds of times; the monitor changes state at most once (it
    // degrades, and 3.75 never reaches the recovery level 3.8).
    let mut x = 0x1234_5678_u64;
    let noise: Vec<f64> = (0..600)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            3.6 + 0.15 * ((x % 2001) as f64 / 1000.0 - 1.0)
        })
        .collect();
    let naive = noise
        .windows(2)
        .filter(|w| (w[0] < 3.6) != (w[1] < 3.6))
        .count();
    assert!(naive > 100, "{naive}");
    let mut m = QualityMonitor::new(QualityMonitorConfig::default());
    let ev = run(&mut m, t0, |s| noise[s as usize], 600);
    assert!(ev.len() <= 1, "{ev:?}");
}

#[test]
fn floor_alerts_once_per_excursion() {
    let t0 = Instant::now();
    let mut m = QualityMonitor::new(QualityMonitorConfig::default());
    // Below the floor (3.1) for 10 s, twice, with a recovery above 3.3 in between, and a
    // wobble around the floor in the second excursion.
    let mos = |s: u64| match s {
        0..=9 => 4.0,
        10..=19 => 2.5,
        20..=29 => 4.0,
        _ => {
            if s.is_multiple_of(2) {
                3.0
            } else {
                3.2
            }
        }
    };
    let alerts: Vec<u64> = run(&mut m, t0, mos, 60)
        .into_iter()
        .filter(|(_, o)| o.alert.is_some())
        .map(|(s, _)| s)
        .collect();
    assert_eq!(alerts, vec![10, 30]);
}
