//! The playout time-stretcher on real speech (Debian's asterisk-core-sounds, Allison, 8 kHz):
//!
//! - stretching by pitch periods keeps PESQ high, and far above what inserting or dropping
//!   whole 20 ms frames at the same moments (the playout's previous way to change its delay)
//!   scores;
//! - the per-block call allocates nothing (counting allocator).

#[path = "common/pesq.rs"]
mod pesq;

use media_core::processing::audio::{StretchMode, TimeStretcher};
use media_core::wav::read_wav;
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations;

const ALLISON: &str = "/usr/share/asterisk/sounds/en_US_f_Allison";

/// About 8 s of speech at 8 kHz, or `None` when the sounds are missing and skipping is allowed.
fn speech() -> Option<Vec<i16>> {
    let dir = std::path::Path::new(ALLISON);
    if !dir.exists() {
        assert!(
            std::env::var_os("MEDIA_CORE_SKIP_EXTERNAL").is_some(),
            "{ALLISON} missing: run scripts/setup.sh (or set MEDIA_CORE_SKIP_EXTERNAL=1)"
        );
        return None;
    }
    let mut out = Vec::new();
    for name in ["conf-getpin", "vm-intro", "conf-onlyperson", "vm-options"] {
        let w = read_wav(dir.join(format!("{name}.wav"))).expect("read speech");
        assert_eq!((w.sample_rate, w.channels), (8000, 1));
        out.extend_from_slice(&w.samples);
    }
    Some(out)
}

/// Plays `x` in 20 ms blocks; every `every` blocks it shortens (odd events) or lengthens (even
/// events) the block, by a pitch period (`stretch`) or by dropping / repeating the whole block.
/// Returns the output and how many events changed the length.
fn play(x: &[i16], every: usize, stretch: bool) -> (Vec<i16>, usize) {
    const BLOCK: usize = 160;
    let mut ts = TimeStretcher::new(8000, 1, 20);
    let mut out = Vec::with_capacity(x.len() * 2);
    let mut buf = vec![0i16; BLOCK + ts.max_period()];
    let mut want = None;
    let mut events = 0;
    for (k, b) in x.chunks_exact(BLOCK).enumerate() {
        if k > 0 && k.is_multiple_of(every) {
            want = Some(if (k / every).is_multiple_of(2) {
                StretchMode::Expand
            } else {
                StretchMode::Accelerate
            });
        }
        match (want, stretch) {
            (Some(mode), true) => {
                let r = ts.process(mode, b, &mut buf).expect("stretch");
                out.extend_from_slice(&buf[..r.written]);
                if r.period > 0 {
                    events += 1;
                    want = None;
                }
            }
            (Some(StretchMode::Accelerate), false) => {
                events += 1;
                want = None;
            }
            (Some(StretchMode::Expand), false) => {
                out.extend_from_slice(b);
                out.extend_from_slice(b);
                events += 1;
                want = None;
            }
            (None, _) => out.extend_from_slice(b),
        }
    }
    (out, events)
}

#[test]
fn stretched_speech_keeps_its_quality() {
    let Some(x) = speech() else { return };
    let Some(python) = pesq::python() else { return };
    let every = 25; // an adjustment every 0.5 s: far more often than a playout needs
    let (stretched, n_stretch) = play(&x, every, true);
    let (framed, n_frame) = play(&x, every, false);
    let f = |s: &[i16]| {
        s.iter()
            .map(|&v| f32::from(v) / 32768.0)
            .collect::<Vec<f32>>()
    };
    let (xr, sr, fr) = (f(&x), f(&stretched), f(&framed));
    let scores = pesq::pesq_pairs(&python, 8000, &[(&xr, &sr), (&xr, &fr)]);
    println!(
        "PESQ NB, one adjustment per {} ms: pitch-period stretching {:.3} ({n_stretch} done), \
         whole 20 ms frames {:.3} ({n_frame} done); {:.1} s of speech",
        every * 20,
        scores[0],
        scores[1],
        x.len() as f64 / 8000.0
    );
    assert!(
        n_stretch >= x.len() / 160 / every / 2,
        "{n_stretch} stretches"
    );
    assert!(scores[0] >= 3.8, "stretched PESQ {}", scores[0]);
    assert!(scores[0] >= scores[1] + 0.3, "{scores:?}");
}

#[test]
fn stretching_allocates_nothing() {
    let x: Vec<i16> = (0..48000)
        .map(|i| ((i as f32 * 0.05).sin() * 8000.0 + (i as f32 * 0.011).sin() * 3000.0) as i16)
        .collect();
    let mut ts = TimeStretcher::new(48000, 2, 20);
    let mut out = vec![0i16; 1920 + ts.max_period()];
    let mut done = 0;
    let n = allocations(|| {
        for (k, b) in x.chunks_exact(1920).enumerate() {
            let mode = if k % 2 == 0 {
                StretchMode::Accelerate
            } else {
                StretchMode::Expand
            };
            done += ts.process(mode, b, &mut out).expect("stretch").period;
        }
    });
    assert_eq!(n, 0);
    assert!(done > 0);
}
