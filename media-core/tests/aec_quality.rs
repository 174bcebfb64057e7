//! Echo canceller quality on real speech through simulated echo paths (tests/common/echo_cases.rs:
//! room responses of RT60 100-400 ms, 20-200 ms of delay, 0-20 dB of echo return loss).
//!
//! - Far-end single talk, 2-5 s: ERLE >= 30 dB.
//! - Double talk, 5-10 s: PESQ (P.862.2) of the output against the clean near end beats WebRTC
//!   AEC3 as-is (sonora) and no echo cancellation at all.
//!
//! The comparison with speexdsp is media-bench/tests/aec_vs_speexdsp.rs (it links C). Needs
//! Debian's codec2-examples and asterisk-core-sounds-en-wav and the .venv PESQ judge
//! (scripts/setup.sh); set MEDIA_CORE_SKIP_EXTERNAL=1 to skip without them.

#[path = "common/echo_cases.rs"]
mod echo_cases;
#[path = "common/pesq.rs"]
mod pesq;
#[path = "common/sonora_ref.rs"]
mod sonora_ref;

use media_core::frame::{AudioFormat, AudioFrame, SampleFormat, SampleRate};
use media_core::processing::audio::aec::sim::{erle_db, EchoPath, EchoScenario};
use media_core::processing::audio::aec::{EchoCanceller, EchoConfig, TalkState};
use media_core::processing::audio::AudioStage;
use media_core::processing::format::resampler::resample_all;

fn speech_or_skip() -> bool {
    if echo_cases::speech_available() {
        return true;
    }
    if std::env::var_os("MEDIA_CORE_SKIP_EXTERNAL").is_some() {
        return false;
    }
    panic!(
        "speech test material missing ({} / {}): run scripts/setup.sh",
        echo_cases::CODEC2,
        echo_cases::ALLISON
    );
}

/// Runs our canceller over a call, the far end pushed through `render_f32` in `chunk`-sample
/// pieces (so playback and capture buffers differ), returning the output and the talk states.
fn ours(sc: &EchoScenario, chunk: usize) -> (Vec<f32>, EchoCanceller) {
    let rate = sc.rate;
    let mut aec = EchoCanceller::new(EchoConfig::new(SampleRate(rate))).expect("config");
    let n = rate as usize / 100;
    let fmt = AudioFormat {
        sample_rate: SampleRate(rate),
        channels: 1,
        sample_format: SampleFormat::F32,
    };
    let mut frame = AudioFrame::silent(fmt, n);
    let mut out = sc.mic.clone();
    let mut pushed = 0usize;
    for (i, o) in out.chunks_exact_mut(n).enumerate() {
        // Playback pushes whole chunks as soon as the capture clock reaches them.
        let due = ((i + 1) * n).min(sc.far.len());
        while pushed < due {
            let end = (pushed + chunk).min(sc.far.len());
            aec.render_f32(&sc.far[pushed..end]).expect("render");
            pushed = end;
        }
        frame
            .as_f32_mut()
            .expect("f32")
            .copy_from_slice(&sc.mic[i * n..(i + 1) * n]);
        aec.process(&mut frame).expect("process");
        o.copy_from_slice(frame.as_f32().expect("f32"));
    }
    (out, aec)
}

#[test]
fn erle_and_double_talk_beat_aec3_and_no_aec_on_real_speech() {
    if !speech_or_skip() {
        return;
    }
    let Some(python) = pesq::python() else {
        return;
    };
    let rate = 16_000;
    let ew = echo_cases::erle_window(rate);
    let dw = echo_cases::dt_window(rate);
    let mut failures = Vec::new();
    println!("| case | ERLE ours | ERLE AEC3 | PESQ none | PESQ ours | PESQ AEC3 |");
    for case in echo_cases::ci_cases() {
        let sc = echo_cases::build(&case, rate);
        let (o, aec) = ours(&sc, 160);
        let mut s = sonora_ref::SonoraAec::new(rate);
        let a = sc.run(|f, m, out| s.process(f, m, out));
        let erle = erle_db(&sc.echo[ew.clone()], &o[ew.clone()]);
        let erle_a = erle_db(&sc.echo[ew.clone()], &a[ew.clone()]);
        let near = &sc.near[dw.clone()];
        let p = pesq::pesq_pairs(
            &python,
            rate,
            &[
                (near, &sc.mic[dw.clone()]),
                (near, &o[dw.clone()]),
                (near, &a[dw.clone()]),
            ],
        );
        println!(
            "| {} | {erle:.1} | {erle_a:.1} | {:.2} | {:.2} | {:.2} |",
            case.name, p[0], p[1], p[2]
        );
        if erle < 30.0 {
            failures.push(format!("{}: ERLE {erle:.1} dB < 30", case.name));
        }
        if !(p[1] > p[2] && p[1] > p[0]) {
            failures.push(format!(
                "{}: double-talk PESQ {:.2} not above AEC3 {:.2} and no AEC {:.2}",
                case.name, p[1], p[2], p[0]
            ));
        }
        // The delay estimate lands within 30 ms of the true delay (plus the filter's 10 ms
        // block).
        let m = aec.echo_metrics();
        let d = m.delay_ms.unwrap_or(-1000.0);
        if (d - case.path.delay_ms).abs() > 30.0 {
            failures.push(format!(
                "{}: delay estimate {d} ms, true {} ms",
                case.name, case.path.delay_ms
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The same canceller at 48 kHz (0-8 kHz band cancelled, the band above gain-suppressed): echo
/// removed in single talk, near end kept in double talk (PESQ at 16 kHz of both signals
/// resampled alike).
#[test]
fn works_at_48_khz() {
    if !speech_or_skip() {
        return;
    }
    let Some(python) = pesq::python() else {
        return;
    };
    let rate = 48_000;
    let case = echo_cases::ci_cases()[0];
    let sc = echo_cases::build(&case, rate);
    let (o, aec) = ours(&sc, 480);
    let ew = echo_cases::erle_window(rate);
    let dw = echo_cases::dt_window(rate);
    let erle = erle_db(&sc.echo[ew.clone()], &o[ew]);
    let to16 = |x: &[f32]| -> Vec<f32> {
        let i: Vec<i16> = x
            .iter()
            .map(|&v| (v * 32768.0).clamp(-32768.0, 32767.0) as i16)
            .collect();
        resample_all(&i, 48_000, 16_000, 1)
            .expect("48 -> 16 kHz is supported")
            .iter()
            .map(|&v| f32::from(v) / 32768.0)
            .collect()
    };
    let near = to16(&sc.near[dw.clone()]);
    let p = pesq::pesq_pairs(
        &python,
        16_000,
        &[(&near, &to16(&sc.mic[dw.clone()])), (&near, &to16(&o[dw]))],
    );
    println!(
        "48 kHz {}: ERLE {erle:.1} dB, PESQ none {:.2} ours {:.2}, delay {:?}",
        case.name,
        p[0],
        p[1],
        aec.echo_metrics().delay_ms
    );
    assert!(erle >= 30.0, "ERLE {erle}");
    assert!(p[1] > p[0] + 1.0, "PESQ {} vs none {}", p[1], p[0]);
}

/// Playback pushing 441-sample pieces (not the capture's 160) and a mid-call jump of the echo
/// delay (a buffer change): the canceller re-finds the delay and cancels again.
#[test]
fn survives_odd_far_end_chunks_and_a_delay_jump() {
    if !speech_or_skip() {
        return;
    }
    let rate = 16_000;
    let case = echo_cases::ci_cases()[0];
    let base = echo_cases::build(&case, rate);
    // Far-end single talk throughout; the delay jumps by 80 ms at 5 s.
    let later = EchoPath {
        delay_ms: case.path.delay_ms + 80.0,
        ..case.path
    };
    let e1 = case.path.echo(&base.far, rate);
    let e2 = later.echo(&base.far, rate);
    let cut = 5 * rate as usize;
    let echo: Vec<f32> = e1[..cut].iter().chain(&e2[cut..]).copied().collect();
    let sc = EchoScenario {
        rate,
        far: base.far.clone(),
        near: vec![0.0; echo.len()],
        mic: echo.clone(),
        echo,
    };
    let (o, aec) = ours(&sc, 441);
    let before = erle_db(&sc.echo[2 * rate as usize..cut], &o[2 * rate as usize..cut]);
    let after = erle_db(&sc.echo[8 * rate as usize..], &o[8 * rate as usize..]);
    let m = aec.echo_metrics();
    println!("odd chunks: ERLE {before:.1} dB; after the jump {after:.1} dB; {m:?}");
    assert!(before >= 30.0, "ERLE before the jump {before}");
    assert!(after >= 25.0, "ERLE 3 s after the jump {after}");
    let d = m.delay_ms.unwrap_or(0.0);
    assert!(
        (d - later.delay_ms).abs() <= 40.0,
        "delay {d} vs {}",
        later.delay_ms
    );
    assert_ne!(m.talk_state, TalkState::DoubleTalk);
}

/// Playback and capture clocks differ by 200 ppm (the echo path slides by 4 ms over 20 s of
/// far-end single talk): the filter and the delay estimate follow it.
#[test]
fn follows_clock_drift() {
    if !speech_or_skip() {
        return;
    }
    let rate = 16_000u32;
    let case = echo_cases::ci_cases()[0];
    let mut far = Vec::new();
    while far.len() < 20 * rate as usize {
        far.extend(echo_cases::build(&case, rate).far);
    }
    far.truncate(20 * rate as usize);
    // The loudspeaker's clock runs 200 ppm fast: what it plays in capture time t is far-end
    // sample t * (1 + 200e-6).
    let ppm = 200e-6f64;
    let played: Vec<f32> = (0..far.len())
        .map(|i| {
            let pos = i as f64 * (1.0 + ppm);
            let j = pos.floor() as usize;
            let f = (pos - j as f64) as f32;
            let a = far.get(j).copied().unwrap_or(0.0);
            let b = far.get(j + 1).copied().unwrap_or(0.0);
            a + (b - a) * f
        })
        .collect();
    let echo = case.path.echo(&played, rate);
    let sc = EchoScenario {
        rate,
        far: far.clone(),
        near: vec![0.0; echo.len()],
        mic: echo.clone(),
        echo,
    };
    let (o, aec) = ours(&sc, 160);
    let r = rate as usize;
    let early = erle_db(&sc.echo[2 * r..7 * r], &o[2 * r..7 * r]);
    let late = erle_db(&sc.echo[15 * r..], &o[15 * r..]);
    println!(
        "drift 200 ppm: ERLE 2-7 s {early:.1} dB, 15-20 s {late:.1} dB; {:?}",
        aec.echo_metrics()
    );
    assert!(early >= 30.0 && late >= 30.0, "ERLE {early} / {late}");
}
