//! Runs each echo canceller under comparison over a test call (shared by the comparison test
//! and the table example; the including crate root declares `echo_cases` and `sonora_ref`).
#![allow(dead_code)]

use media_bench::cref::speex_echo::SpeexEcho;
use media_core::frame::{AudioFormat, AudioFrame, SampleFormat, SampleRate};
use media_core::processing::audio::aec::sim::{to_i16, EchoScenario};
use media_core::processing::audio::aec::{EchoCanceller, EchoConfig};
use media_core::processing::audio::AudioStage;

/// Our echo canceller (far end fed through `render_f32` each frame).
pub fn ours(sc: &EchoScenario, suppression: bool) -> Vec<f32> {
    let rate = sc.rate;
    let mut cfg = EchoConfig::new(SampleRate(rate));
    cfg.suppression = suppression;
    let mut aec = EchoCanceller::new(cfg).expect("config");
    let fmt = AudioFormat {
        sample_rate: SampleRate(rate),
        channels: 1,
        sample_format: SampleFormat::F32,
    };
    let mut frame = AudioFrame::silent(fmt, rate as usize / 100);
    sc.run(|far, mic, out| {
        aec.render_f32(far).expect("render");
        frame.as_f32_mut().expect("f32").copy_from_slice(mic);
        aec.process(&mut frame).expect("process");
        out.copy_from_slice(frame.as_f32().expect("f32"));
    })
}

/// WebRTC AEC3 as-is.
pub fn aec3(sc: &EchoScenario) -> Vec<f32> {
    let mut s = crate::sonora_ref::SonoraAec::new(sc.rate);
    sc.run(|f, m, o| s.process(f, m, o))
}

/// Echo tail speexdsp is given, in ms (as long as ours models).
pub const SPEEX_TAIL_MS: u32 = 200;
/// How far before the true echo delay speexdsp's far end is aligned, in ms.
pub const SPEEX_HEADROOM_MS: f32 = 10.0;

/// speexdsp (MDF, plus its preprocessor's residual echo suppressor when `suppress`). It has no
/// delay estimator, so it gets the far end pre-aligned to the true delay minus 10 ms: an
/// advantage the others do not get.
pub fn speex(sc: &EchoScenario, true_delay_ms: f32, suppress: bool) -> Vec<f32> {
    let n = sc.rate as usize / 100;
    let tail = sc.rate as usize * SPEEX_TAIL_MS as usize / 1000;
    let mut sp = SpeexEcho::new(n, tail, sc.rate, suppress).expect("speexdsp");
    let shift = ((true_delay_ms - SPEEX_HEADROOM_MS).max(0.0) * sc.rate as f32 / 1000.0) as usize;
    let far16 = to_i16(&sc.far);
    let mic16 = to_i16(&sc.mic);
    let mut aligned = vec![0i16; far16.len()];
    aligned[shift..].copy_from_slice(&far16[..far16.len() - shift]);
    let mut out = sc.mic.clone();
    let mut o16 = vec![0i16; n];
    for i in 0..far16.len() / n {
        let r = i * n..(i + 1) * n;
        sp.process(&mic16[r.clone()], &aligned[r.clone()], &mut o16);
        for (o, &v) in out[r].iter_mut().zip(&o16) {
            *o = f32::from(v) / 32768.0;
        }
    }
    out
}
