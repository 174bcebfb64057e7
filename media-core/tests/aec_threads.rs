//! The far end pushed from a playback thread (a `FarEndSender` moved there) in chunks of its own
//! size, running ahead of capture by a jittering 40-60 ms, while the capture thread cancels:
//! the canceller absorbs the jitter (no underruns, no drops) and cancels the echo.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use media_core::frame::{AudioFormat, AudioFrame, SampleFormat, SampleRate};
use media_core::processing::audio::aec::sim::{erle_db, EchoPath};
use media_core::processing::audio::aec::{EchoCanceller, EchoConfig};
use media_core::processing::audio::AudioStage;
use media_core::signal::{speech_like, SplitMix64};

#[test]
fn playback_on_another_thread_with_jitter() {
    let rate = 16_000u32;
    let n = 160usize;
    let far: Vec<f32> = speech_like(8.0, rate)
        .iter()
        .map(|&s| f32::from(s) / 32768.0)
        .collect();
    let path = EchoPath {
        rt60_s: 0.2,
        delay_ms: 50.0,
        erl_db: 6.0,
        seed: 9,
    };
    let echo = path.echo(&far, rate);
    let frames = far.len() / n;

    let mut aec = EchoCanceller::new(EchoConfig::new(SampleRate(rate))).unwrap();
    let mut tx = aec.far_end_sender().unwrap();
    assert!(
        aec.render_f32(&[0.0; 10]).is_err(),
        "the far end was handed over"
    );
    let captured = Arc::new(AtomicUsize::new(0));
    let pushed_total = Arc::new(AtomicUsize::new(0));
    let playback = {
        let captured = Arc::clone(&captured);
        let pushed_total = Arc::clone(&pushed_total);
        let far = far.clone();
        std::thread::spawn(move || {
            let mut rng = SplitMix64(3);
            let mut pushed = 0usize;
            while pushed < far.len() {
                // Stay 4-6 frames ahead of capture, in 441-sample writes (a lead shorter than
                // a write plus a frame would stall both sides).
                let lead = 4 + (rng.next_u64() % 3) as usize;
                let target = ((captured.load(Ordering::Acquire) + lead) * n).min(far.len());
                if pushed + 441 <= target || (target == far.len() && pushed < target) {
                    let end = (pushed + 441).min(far.len());
                    assert_eq!(tx.push(&far[pushed..end]), end - pushed);
                    pushed = end;
                    pushed_total.store(pushed, Ordering::Release);
                } else {
                    std::thread::yield_now();
                }
            }
            tx.dropped()
        })
    };

    let fmt = AudioFormat {
        sample_rate: SampleRate(rate),
        channels: 1,
        sample_format: SampleFormat::F32,
    };
    let mut frame = AudioFrame::silent(fmt, n);
    let mut out = vec![0.0f32; frames * n];
    for i in 0..frames {
        // What the loudspeaker plays reaches the canceller before its echo is captured. A
        // playback thread that died (panicked) would never push: fail instead of spinning.
        let waiting = Instant::now();
        while pushed_total.load(Ordering::Acquire) < (i + 1) * n {
            if playback.is_finished() || waiting.elapsed() > Duration::from_secs(60) {
                // Its last push may have landed just before it finished: look once more.
                std::thread::sleep(Duration::from_millis(50));
                assert!(
                    pushed_total.load(Ordering::Acquire) >= (i + 1) * n,
                    "playback thread died or stalled before frame {i}"
                );
            }
            std::thread::yield_now();
        }
        frame
            .as_f32_mut()
            .unwrap()
            .copy_from_slice(&echo[i * n..(i + 1) * n]);
        aec.process(&mut frame).unwrap();
        out[i * n..(i + 1) * n].copy_from_slice(frame.as_f32().unwrap());
        captured.store(i + 1, Ordering::Release);
    }
    let dropped = playback.join().unwrap();
    let m = aec.echo_metrics();
    let erle = erle_db(
        &echo[2 * rate as usize..],
        &out[2 * rate as usize..frames * n],
    );
    println!("threads: ERLE {erle:.1} dB, {m:?}");
    assert_eq!(dropped, 0);
    assert_eq!(m.far_dropped, 0);
    assert!(erle > 30.0, "ERLE {erle}");
    let d = m.delay_ms.unwrap_or(0.0);
    assert!((40.0..=100.0).contains(&d), "delay {d}");
}
