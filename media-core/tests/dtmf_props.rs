//! The DTMF detector and generator take anything: arbitrary samples (NaN and infinities
//! too) in arbitrary call lengths, at any supported rate, never panic, and how a stream is
//! cut into calls never changes what is detected.

use media_core::processing::audio::dtmf::{
    DetectorConfig, DtmfDetection, DtmfDetector, DtmfGenerator, GeneratorConfig,
};
use media_core::SampleRate;
use proptest::prelude::*;

fn run(det: &mut DtmfDetector, pcm: &[i16], cuts: &[usize]) -> Vec<DtmfDetection> {
    let mut out = Vec::new();
    let mut rest = pcm;
    let mut i = 0;
    while !rest.is_empty() {
        let n = cuts
            .get(i % cuts.len().max(1))
            .copied()
            .unwrap_or(80)
            .clamp(1, rest.len());
        det.process_i16(&rest[..n]);
        rest = &rest[n..];
        i += 1;
        while let Some(d) = det.poll() {
            out.push(d);
        }
    }
    det.flush();
    while let Some(d) = det.poll() {
        out.push(d);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_input_never_panics(samples in prop::collection::vec(any::<i16>(), 0..3000),
                                    floats in prop::collection::vec(any::<f32>(), 0..3000),
                                    rate in prop::sample::select(vec![8000u32, 11025, 16000, 22050, 32000, 44100, 48000, 96000])) {
        let mut det = DtmfDetector::new(DetectorConfig::at_rate(SampleRate(rate))).unwrap();
        det.process_i16(&samples);
        det.process_f32(&floats);
        det.flush();
        while let Some(d) = det.poll() {
            prop_assert!(d.duration_ms() >= 0.0);
        }
    }

    #[test]
    fn call_lengths_do_not_change_detections(digits in "[0-9A-D*#]{1,6}",
                                             cuts in prop::collection::vec(1usize..500, 1..8),
                                             rate in prop::sample::select(vec![8000u32, 16000, 48000])) {
        let mut gen = DtmfGenerator::new(GeneratorConfig {
            tone_ms: 60,
            pause_ms: 60,
            ..GeneratorConfig::at_rate(SampleRate(rate))
        }).unwrap();
        gen.push_str(&digits).unwrap();
        let mut pcm = vec![0i16; rate as usize * (digits.len() * 120 + 200) / 1000];
        gen.fill_i16(&mut pcm);
        let cfg = DetectorConfig::at_rate(SampleRate(rate));
        let whole = run(&mut DtmfDetector::new(cfg).unwrap(), &pcm, &[pcm.len().max(1)]);
        let cut = run(&mut DtmfDetector::new(cfg).unwrap(), &pcm, &cuts);
        prop_assert_eq!(&whole, &cut);
        let found: String = whole.iter().map(|d| d.digit).collect();
        prop_assert_eq!(found, digits);
    }
}
