use super::*;
use crate::frame::AudioFormat;
use crate::processing::audio::dtmf::{DtmfGenerator, GeneratorConfig};

#[test]
fn hann_response_matches_the_sum() {
    for len in [80usize, 160, 960] {
        let c = (len as f64 - 1.0) / 2.0;
        for theta in [0.0, 1e-4, TAU / len as f64, 0.013, -0.05, 0.3, 1.7] {
            let direct: f64 = (0..len)
                .map(|i| {
                    let w = 0.5 - 0.5 * (TAU * (i as f64 + 0.5) / len as f64).cos();
                    w * (theta * (i as f64 - c)).cos()
                })
                .sum();
            let fast = hann_response(len, theta);
            assert!(
                (direct - fast).abs() < 1e-6 * len as f64,
                "{len} {theta}: {direct} {fast}"
            );
        }
    }
}

fn digits_of(det: &mut DtmfDetector) -> String {
    let mut s = String::new();
    while let Some(d) = det.poll() {
        s.push(d.digit);
    }
    s
}

#[test]
fn stage_frames_flush_reset_and_bad_samples() {
    let rate = SampleRate::HZ_16000;
    let mut gen = DtmfGenerator::new(GeneratorConfig::at_rate(rate)).unwrap();
    gen.push_str("A7").unwrap();
    let mut det = DtmfDetector::new(DetectorConfig::at_rate(rate)).unwrap();
    let fmt = AudioFormat {
        sample_rate: rate,
        channels: 1,
        sample_format: crate::frame::SampleFormat::F32,
    };
    let mut frame = AudioFrame::silent(fmt, 160);
    for _ in 0..30 {
        if let Some(s) = frame.as_f32_mut() {
            gen.fill_f32(s);
        }
        let before = frame.clone();
        det.process(&mut frame).unwrap();
        assert_eq!(frame, before, "the detector leaves frames alone");
    }
    // The second digit is still sounding: flush reports it.
    assert_eq!(det.current(), Some('7'));
    assert_eq!(digits_of(&mut det), "A");
    det.flush();
    assert_eq!(digits_of(&mut det), "7");
    assert_eq!(det.metrics().frames, 30);
    // Wrong frames are refused.
    let mut short = AudioFrame::silent(fmt, 80);
    assert!(det.process(&mut short).is_err());
    // NaN and infinities count as silence.
    det.process_f32(&[f32::NAN, f32::INFINITY, 0.5]);
    assert_eq!(det.metrics().sanitized_samples, 2);
    det.reset();
    assert_eq!(det.position(), MediaTime(0));
    assert_eq!(det.stats(), DetectorStats::default());
}

#[test]
fn unpolled_detections_are_dropped_oldest_first() {
    let mut gen = DtmfGenerator::new(GeneratorConfig {
        tone_ms: 50,
        pause_ms: 50,
        ..GeneratorConfig::default()
    })
    .unwrap();
    let digits: String = "0123456789".repeat(4);
    gen.push_str(&digits).unwrap();
    let mut det = DtmfDetector::new(DetectorConfig::default()).unwrap();
    let mut buf = [0i16; 80];
    while !gen.is_idle() {
        gen.fill_i16(&mut buf);
        det.process_i16(&buf);
    }
    det.process_i16(&[0; 800]);
    assert_eq!(det.stats().dropped, 8);
    assert_eq!(digits_of(&mut det), &digits[8..]);
}

#[test]
fn config_is_validated() {
    let ok = DetectorConfig::default();
    assert!(DtmfDetector::new(ok).is_ok());
    for bad in [
        DetectorConfig {
            sample_rate: SampleRate(4000),
            ..ok
        },
        DetectorConfig {
            sample_rate: SampleRate(192_000),
            ..ok
        },
        DetectorConfig {
            min_level_dbm0: 5.0,
            ..ok
        },
        DetectorConfig {
            max_normal_twist_db: -1.0,
            ..ok
        },
        DetectorConfig {
            freq_tolerance: 0.1,
            ..ok
        },
        DetectorConfig {
            min_tone_ratio: 0.0,
            ..ok
        },
        DetectorConfig {
            max_harmonic_db: f64::NAN,
            ..ok
        },
    ] {
        assert!(DtmfDetector::new(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn detection_to_rfc4733() {
    let d = DtmfDetection {
        digit: '#',
        start: MediaTime(16_000),
        duration: 1600,
        sample_rate: SampleRate::HZ_16000,
        low_dbm0: -10.0,
        high_dbm0: -8.0,
    };
    assert_eq!(d.start_ms(), 1000.0);
    assert_eq!(d.duration_ms(), 100.0);
    let p: Vec<_> = d
        .telephone_events(RtpTimestamp(5), 8000, 20)
        .unwrap()
        .collect();
    // 100 ms on an 8 kHz clock from timestamp 5 + 8000.
    assert!(p.iter().all(|p| p.timestamp == RtpTimestamp(8005)));
    assert_eq!(p.last().map(|p| p.event.duration), Some(800));
    assert_eq!(p[0].event.volume, 6);
    assert_eq!(p[0].event.event, 11);
}
