//! Unit tests of the processing chain (a child module of `chain`).
use super::*;
use crate::processing::audio::aec::EchoConfig;
use crate::processing::audio::agc::AgcConfig;
use crate::processing::audio::check_frame;
use crate::processing::audio::ns::NsConfig;
use crate::processing::audio::vad::VadConfig;

/// A stage that scales by a constant (stands in for NS/AGC) and counts frames.
struct Gain(f32, StageMetrics);

impl AudioStage for Gain {
    fn name(&self) -> &'static str {
        "gain"
    }
    fn process(&mut self, frame: &mut AudioFrame) -> Result<(), ProcessError> {
        let s = check_frame(frame, SampleRate::HZ_16000)?;
        for v in s.iter_mut() {
            *v *= self.0;
        }
        self.1.frames += 1;
        Ok(())
    }
    fn reset(&mut self) {
        self.1 = StageMetrics::default();
    }
    fn metrics(&self) -> StageMetrics {
        self.1
    }
}

fn plain(rate: SampleRate) -> ProcessingChain {
    let mut cfg = ChainConfig::new(rate);
    cfg.high_pass = false;
    cfg.aec = None;
    ProcessingChain::new(cfg).unwrap()
}

#[test]
fn splits_any_input_into_frames_and_passes_through() {
    let mut c = plain(SampleRate::HZ_16000);
    let input: Vec<i16> = (0..1000).map(|i| (i * 37 % 20000) as i16 - 10000).collect();
    let mut out = vec![0i16; 2000];
    let mut got = Vec::new();
    for piece in input.chunks(77) {
        let n = c.process_i16(piece, &mut out).unwrap();
        assert_eq!(n % 160, 0);
        got.extend_from_slice(&out[..n]);
    }
    assert_eq!(got.len(), 960);
    assert_eq!(&got[..], &input[..960]);
    // Too small an output buffer is an error, not a panic.
    assert!(c.process_i16(&input, &mut out[..100]).is_err());
    assert!(c.process_frame(&mut [0i16; 100]).is_err());
    assert!(c.process_frame_f32(&mut [0.0; 100]).is_err());
}

#[test]
fn slots_switch_at_frame_boundaries_with_a_fade() {
    let mut c = plain(SampleRate::HZ_16000);
    c.set_stage(Slot::Ns, Box::new(Gain(0.5, StageMetrics::default())))
        .unwrap();
    // Faded in over two frames, then fully on.
    let mut f = [1000i16; 160];
    c.process_frame(&mut f).unwrap();
    assert_eq!((f[0], f[159]), (998, 750));
    assert!(f.windows(2).all(|w| w[1] <= w[0]));
    let mut f = [1000i16; 160];
    c.process_frame(&mut f).unwrap();
    assert_eq!(f[159], 500);
    // Half a frame in, then switch off: the switch waits for the frame boundary, then
    // fades out over two frames.
    let mut out = [0i16; 640];
    assert_eq!(c.process_i16(&[1000; 80], &mut out).unwrap(), 0);
    c.set_enabled(Slot::Ns, false);
    assert!(c.is_enabled(Slot::Ns));
    assert_eq!(c.process_i16(&[1000; 400], &mut out).unwrap(), 480);
    assert_eq!(
        (out[0], out[159], out[319], out[479]),
        (502, 750, 1000, 1000)
    );
    assert!(!c.is_enabled(Slot::Ns));
    let m = c.metrics();
    assert_eq!(m.stages[2].name, "gain");
    assert!(m.stages[2].present && !m.stages[2].enabled);
    assert_eq!(m.stages[2].metrics.frames, 4);
    assert!(!m.stages[3].present);
    // A stage for another rate is refused when plugged in.
    let mut c8 = plain(SampleRate::HZ_8000);
    assert!(c8
        .set_stage(Slot::Agc, Box::new(Gain(1.0, StageMetrics::default())))
        .is_err());
    assert!(c8
        .set_stage(Slot::Aec, Box::new(Gain(1.0, StageMetrics::default())))
        .is_err());
}

#[test]
fn high_pass_and_aec_run_in_the_chain() {
    let mut c = ProcessingChain::new(ChainConfig::new(SampleRate::HZ_16000)).unwrap();
    assert!(c.is_enabled(Slot::HighPass) && c.is_enabled(Slot::Aec));
    // DC is removed by the high-pass.
    let mut out = vec![0i16; 16_000 + 160];
    let n = c.process_i16(&vec![8000i16; 16_000], &mut out).unwrap();
    assert!(out[n - 160..n].iter().all(|v| v.abs() < 50));
    c.render_i16(&[0; 160]).unwrap();
    let m = c.echo_metrics().unwrap();
    assert_eq!(m.far_dropped, 0);
    c.set_enabled(Slot::Aec, false);
    c.process_frame(&mut [0; 160]).unwrap();
    assert!(!c.is_enabled(Slot::Aec));
    assert!(ProcessingChain::new(ChainConfig {
        aec: Some(EchoConfig::new(SampleRate::HZ_8000)),
        ..ChainConfig::new(SampleRate::HZ_16000)
    })
    .is_err());
    for bad in [
        ChainConfig::new(SampleRate::HZ_16000).with_ns(Some(NsConfig::at(SampleRate::HZ_8000))),
        ChainConfig::new(SampleRate::HZ_16000).with_agc(Some(AgcConfig::at(SampleRate::HZ_48000))),
        ChainConfig::new(SampleRate::HZ_16000).with_vad(Some(VadConfig::at(SampleRate::HZ_8000))),
    ] {
        assert!(ProcessingChain::new(bad).is_err());
    }
}

#[test]
fn latency_is_constant_and_bypass_is_aligned() {
    // Echo canceller and NS switched off: the chain still delays by their latency, so the
    // output is the input shifted by exactly `latency_samples`.
    let rate = SampleRate::HZ_16000;
    let mut c = ProcessingChain::new(ChainConfig::voip(rate).with_high_pass(false)).unwrap();
    let lat = c.latency_samples();
    assert_eq!(lat, 160 + 184);
    // The VAD judges the capture before NS: its decisions lag the input by the AEC only.
    assert_eq!(c.vad_latency_samples(), 160);
    for s in [Slot::Aec, Slot::Ns, Slot::Agc] {
        c.set_enabled(s, false);
    }
    let x: Vec<i16> = (0..3200)
        .map(|i| ((i * 7919) % 20001) as i16 - 10000)
        .collect();
    let mut out = vec![0i16; 3200 + 160];
    let n = c.process_i16(&x, &mut out).unwrap();
    assert_eq!(&out[lat..n], &x[..n - lat]);
    let m = c.metrics();
    assert_eq!(m.latency_samples, lat);
    assert!(m.erle_db.is_none() && m.gain_db.is_none());
    assert!(m.speech.is_some());
}

#[test]
fn sharing_the_vad_sends_what_the_agc_alone_would() {
    let rate = SampleRate::HZ_16000;
    let x: Vec<i16> = crate::signal::speech_like(3.0, 16000)
        .iter()
        .map(|&s| s / 40)
        .collect();
    let run = |hint: SpeechHint| -> (Vec<i16>, ChainMetrics) {
        let cfg = ChainConfig::voip(rate)
            .with_aec(None)
            .with_ns(None)
            .with_speech_hint(hint);
        let mut c = ProcessingChain::new(cfg).unwrap();
        let mut out = vec![0i16; x.len() + 160];
        let n = c.process_i16(&x, &mut out).unwrap();
        out.truncate(n);
        (out, c.metrics())
    };
    let (shared, m) = run(SpeechHint::Vad);
    let (own, _) = run(SpeechHint::None);
    assert_eq!(shared, own);
    // And the AGC did lift the quiet input (so the comparison is not vacuous).
    assert!(m.gain_db.unwrap() > 6.0, "{:?}", m.gain_db);
    assert!(m.speech.is_some());
}
