//! Property tests for the NS, AGC and VAD stages: any samples (NaN, infinities, huge values,
//! denormals) and any frame shape give either an error or finite output within ±1 (the VAD
//! passes its input through untouched), never a panic, never a non-finite metric; a stage's
//! later output is not poisoned by one bad frame. The same for the whole chain (high-pass,
//! AEC, NS, AGC, VAD) fed f32 capture and far-end frames with such samples, with stages
//! switched on and off in between.

use media_core::frame::{AudioFormat, AudioFrame, MediaTime, SampleFormat, SampleRate, Samples};
use media_core::processing::audio::chain::{
    ChainConfig, ProcessingChain, Slot, SpeechHint, VadInput,
};
use media_core::processing::audio::{
    AgcConfig, AudioStage, GainController, NoiseSuppressor, NsConfig, ProcessError, VadConfig,
    VoiceActivityDetector,
};
use proptest::prelude::*;

fn stages(rate: u32) -> Vec<Box<dyn AudioStage>> {
    let sr = SampleRate(rate);
    let mut floor = NsConfig::at(sr);
    floor.max_attenuation_db = Some(20.0);
    let mut awake = VadConfig::at(sr);
    awake.rest_in_pauses = false;
    vec![
        Box::new(NoiseSuppressor::new(NsConfig::at(sr)).unwrap()),
        Box::new(NoiseSuppressor::new(floor).unwrap()),
        Box::new(GainController::new(AgcConfig::at(sr)).unwrap()),
        Box::new(VoiceActivityDetector::new(VadConfig::at(sr)).unwrap()),
        Box::new(VoiceActivityDetector::new(awake).unwrap()),
    ]
}

fn sample() -> impl Strategy<Value = f32> {
    prop_oneof![
        6 => -1.0f32..1.0,
        1 => Just(f32::NAN),
        1 => Just(f32::INFINITY),
        1 => Just(f32::NEG_INFINITY),
        1 => -1e30f32..1e30,
        1 => Just(f32::MIN_POSITIVE / 2.0),
        1 => Just(f32::MAX),
    ]
}

fn f32_frame(rate: u32, samples: Vec<f32>) -> AudioFrame {
    AudioFrame {
        sample_rate: SampleRate(rate),
        channels: 1,
        timestamp: MediaTime(0),
        flags: Default::default(),
        samples: Samples::F32(samples),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn any_samples_give_finite_bounded_output(
        rate_idx in 0usize..4,
        frames in prop::collection::vec(prop::collection::vec(sample(), 480), 1..6),
    ) {
        let rate = [8000u32, 16000, 32000, 48000][rate_idx];
        let n = rate as usize / 100;
        for mut stage in stages(rate) {
            for f in &frames {
                let mut frame = f32_frame(rate, f[..n].to_vec());
                let input = frame.clone();
                stage.process(&mut frame).unwrap();
                let out = frame.as_f32().unwrap();
                if stage.name() == "vad" {
                    // The detector never touches the audio (it judges a sanitised copy).
                    let same = input.as_f32().unwrap().iter().zip(out).all(|(a, b)| a.to_bits() == b.to_bits());
                    prop_assert!(same);
                } else {
                    prop_assert!(out.iter().all(|x| x.is_finite() && x.abs() <= 1.0),
                        "{} produced {:?}", stage.name(), out.iter().find(|x| !x.is_finite() || x.abs() > 1.0));
                }
                let m = stage.metrics();
                for v in [m.noise_floor_dbov, m.gain_db, m.speech_probability].into_iter().flatten() {
                    prop_assert!(v.is_finite());
                }
            }
            // After the junk, a clean tone still comes out finite (nothing was poisoned).
            for k in 0..5 {
                let tone: Vec<f32> = (0..n).map(|i| 0.3 * ((k * n + i) as f32 * 0.05).sin()).collect();
                let mut frame = f32_frame(rate, tone);
                stage.process(&mut frame).unwrap();
                prop_assert!(frame.as_f32().unwrap().iter().all(|x| x.is_finite() && x.abs() <= 1.0));
            }
        }
    }

    #[test]
    fn wrong_shapes_are_errors(
        rate_idx in 0usize..4,
        len in 0usize..1000,
        other_rate in prop::sample::select(vec![8000u32, 11025, 16000, 22050, 32000, 44100, 48000, 96000]),
        channels in 1u16..3,
        as_i16 in any::<bool>(),
    ) {
        let rate = [8000u32, 16000, 32000, 48000][rate_idx];
        for mut stage in stages(rate) {
            let fmt = AudioFormat {
                sample_rate: SampleRate(other_rate),
                channels,
                sample_format: if as_i16 { SampleFormat::I16 } else { SampleFormat::F32 },
            };
            let mut frame = AudioFrame::silent(fmt, len);
            let ok_shape = other_rate == rate && channels == 1 && !as_i16 && len == rate as usize / 100;
            let r = stage.process(&mut frame);
            if ok_shape {
                prop_assert!(r.is_ok());
            } else {
                prop_assert!(matches!(r, Err(ProcessError::WrongFrameLength { .. }) | Err(ProcessError::FormatMismatch(_))), "{:?}", r);
            }
        }
    }
}

proptest! {
    // The whole chain costs more per case (the AEC unoptimised in debug builds): fewer cases.
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn full_chain_sanitises_any_samples(
        rate_idx in 0usize..3,
        frames in prop::collection::vec(
            (prop::collection::vec(sample(), 480), prop::collection::vec(sample(), 480), 0u8..12),
            1..8,
        ),
        hint in prop::sample::select(vec![SpeechHint::None, SpeechHint::Vad, SpeechHint::Ns]),
        processed in any::<bool>(),
    ) {
        let rate = [8000u32, 16000, 48000][rate_idx];
        let n = rate as usize / 100;
        let mut chain = ProcessingChain::new(
            ChainConfig::voip(SampleRate(rate))
                .with_speech_hint(hint)
                .with_vad_input(if processed { VadInput::Processed } else { VadInput::Capture }),
        ).unwrap();
        let mut bad = 0u64;
        for (cap, far, toggle) in &frames {
            chain.render_f32(&far[..n]).unwrap();
            let slot = Slot::ALL[usize::from(toggle % 6).min(4)];
            if *toggle < 10 {
                chain.set_enabled(slot, toggle % 2 == 0);
            }
            let mut x = cap[..n].to_vec();
            bad += x.iter().filter(|v| !v.is_finite()).count() as u64;
            chain.process_frame_f32(&mut x).unwrap();
            prop_assert!(x.iter().all(|v| v.is_finite() && v.abs() <= 1.0), "{:?}", x.iter().find(|v| !v.is_finite() || v.abs() > 1.0));
            let m = chain.metrics();
            for v in [m.erle_db, m.echo_delay_ms, m.noise_floor_dbov, m.gain_db, m.speech_probability].into_iter().flatten() {
                prop_assert!(v.is_finite());
            }
        }
        prop_assert_eq!(chain.metrics().sanitized_samples, bad);
        // Everything back on, then clean speech-like input: still finite, still bounded, and
        // the chain still passes sound (nothing was poisoned into silence or noise).
        for s in Slot::ALL {
            chain.set_enabled(s, true);
        }
        let mut energy = 0.0f32;
        let zeros = vec![0.0f32; n];
        for k in 0..30 {
            let mut x: Vec<f32> = (0..n).map(|i| {
                let t = (k * n + i) as f32 / rate as f32;
                0.3 * (2.0 * std::f32::consts::PI * 220.0 * t).sin() * (1.0 + (2.0 * std::f32::consts::PI * 3.0 * t).sin())
            }).collect();
            chain.render_f32(&zeros).unwrap();
            chain.process_frame_f32(&mut x).unwrap();
            prop_assert!(x.iter().all(|v| v.is_finite() && v.abs() <= 1.0));
            if k >= 20 {
                energy += x.iter().map(|v| v * v).sum::<f32>();
            }
        }
        prop_assert!(energy > 0.0);
    }
}

#[test]
fn invalid_configs_are_refused() {
    for hz in [0u32, 11025, 44100, 96000] {
        let sr = SampleRate(hz);
        assert!(NoiseSuppressor::new(NsConfig::at(sr)).is_err());
        assert!(GainController::new(AgcConfig::at(sr)).is_err());
        assert!(VoiceActivityDetector::new(VadConfig::at(sr)).is_err());
    }
    let sr = SampleRate::HZ_16000;
    for bad in [Some(0.0), Some(-3.0), Some(f32::NAN), Some(f32::INFINITY)] {
        let mut c = NsConfig::at(sr);
        c.max_attenuation_db = bad;
        assert!(NoiseSuppressor::new(c).is_err());
    }
    let mut c = AgcConfig::at(sr);
    c.target_dbov = f32::NAN;
    assert!(GainController::new(c).is_err());
    let mut c = AgcConfig::at(sr);
    c.max_gain_db = 100.0;
    assert!(GainController::new(c).is_err());
    let mut agc = GainController::new(AgcConfig::at(sr)).unwrap();
    assert!(agc.set_target_dbov(1.0).is_err());
    assert!(agc.set_target_dbov(-20.0).is_ok());
    let mut c = VadConfig::at(sr);
    c.threshold = 1.5;
    assert!(VoiceActivityDetector::new(c).is_err());
    let mut c = VadConfig::at(sr);
    c.hangover_ms = 15;
    assert!(VoiceActivityDetector::new(c).is_err());
}
