//! Property tests: random frames into the echo canceller and the processing chain, including
//! NaN and infinite samples, absurd values, wrong lengths and wrong formats, and far-end pushes
//! of any size. Errors come back as errors, nothing panics, and no output sample is ever
//! non-finite.

use media_core::frame::{AudioFormat, AudioFrame, SampleFormat, SampleRate};
use media_core::processing::audio::aec::{EchoCanceller, EchoConfig};
use media_core::processing::audio::chain::{ChainConfig, ProcessingChain, Slot};
use media_core::processing::audio::{AudioStage, ProcessError};
use proptest::collection::vec;
use proptest::prelude::*;

/// A sample: mostly ordinary audio, sometimes NaN, infinities or absurd magnitudes.
fn sample() -> impl Strategy<Value = f32> {
    prop_oneof![
        8 => -1.0f32..1.0,
        1 => Just(f32::NAN),
        1 => Just(f32::INFINITY),
        1 => Just(f32::NEG_INFINITY),
        1 => -1e30f32..1e30,
    ]
}

#[derive(Debug, Clone)]
enum Op {
    /// Push far end (any length).
    Render(Vec<f32>),
    /// A capture frame of `len` samples (the right length with probability ~2/3).
    Capture {
        len_delta: i32,
        fill: Vec<f32>,
    },
    /// A frame in another format.
    WrongFormat(u8),
    Reset,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => vec(sample(), 0..1500).prop_map(Op::Render),
        6 => (prop_oneof![4 => Just(0i32), 1 => -480i32..480], vec(sample(), 1..64))
            .prop_map(|(len_delta, fill)| Op::Capture { len_delta, fill }),
        1 => (0u8..3).prop_map(Op::WrongFormat),
        1 => Just(Op::Reset),
    ]
}

fn rate() -> impl Strategy<Value = u32> {
    prop_oneof![Just(8000u32), Just(16000), Just(32000), Just(48000)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn echo_canceller_never_panics_or_emits_non_finite(rate in rate(), ops in vec(op(), 1..60)) {
        let mut aec = EchoCanceller::new(EchoConfig::new(SampleRate(rate))).unwrap();
        let n = rate as usize / 100;
        let fmt = AudioFormat { sample_rate: SampleRate(rate), channels: 1, sample_format: SampleFormat::F32 };
        for op in ops {
            match op {
                Op::Render(x) => { aec.render_f32(&x).unwrap(); }
                Op::Capture { len_delta, fill } => {
                    let len = (n as i32 + len_delta).max(0) as usize;
                    let mut f = AudioFrame::silent(fmt, len);
                    for (i, s) in f.as_f32_mut().unwrap().iter_mut().enumerate() {
                        *s = fill[i % fill.len()];
                    }
                    let r = aec.process(&mut f);
                    if len == n {
                        prop_assert!(r.is_ok());
                        prop_assert!(f.as_f32().unwrap().iter().all(|v| v.is_finite()));
                    } else {
                        prop_assert_eq!(r, Err(ProcessError::WrongFrameLength { got: len, expected: n }));
                    }
                }
                Op::WrongFormat(k) => {
                    let mut f = match k {
                        0 => AudioFrame::silent(AudioFormat::mono_i16(rate), n),
                        1 => AudioFrame::silent(AudioFormat { channels: 2, ..fmt }, n),
                        _ => AudioFrame::silent(AudioFormat { sample_rate: SampleRate(rate / 2), ..fmt }, n / 2),
                    };
                    prop_assert!(aec.process(&mut f).is_err());
                    prop_assert!(aec.render(&f).is_err() || k == 0);
                }
                Op::Reset => aec.reset(),
            }
        }
        let m = aec.echo_metrics();
        prop_assert!(m.erle_db.is_none_or(f32::is_finite));
    }

    #[test]
    fn chain_never_panics_or_emits_garbage(
        rate in rate(),
        pieces in vec((vec(any::<i16>(), 0..1200), any::<bool>(), 0u8..6), 1..40),
    ) {
        let mut chain = ProcessingChain::new(ChainConfig::new(SampleRate(rate))).unwrap();
        let n = chain.frame_len();
        let mut out = vec![0i16; 1200 + n];
        let mut taken = 0usize;
        let mut given = 0usize;
        for (piece, render, toggle) in pieces {
            if render {
                chain.render_i16(&piece).unwrap();
            }
            match toggle {
                0 => chain.set_enabled(Slot::Aec, false),
                1 => chain.set_enabled(Slot::Aec, true),
                2 => chain.set_enabled(Slot::HighPass, false),
                3 => chain.set_enabled(Slot::HighPass, true),
                _ => {}
            }
            given += piece.len();
            let w = chain.process_i16(&piece, &mut out).unwrap();
            prop_assert_eq!(w % n, 0);
            taken += w;
            prop_assert!(chain.process_i16(&piece, &mut out[..piece.len().saturating_sub(n)]).is_err() || piece.len() < 2);
        }
        // Everything given came out, but for less than one held frame.
        prop_assert!(given - taken < n);
        prop_assert_eq!(chain.echo_metrics().unwrap().divergences, 0);
    }
}
