//! Echo-canceller test calls on real speech (Debian's codec2-examples for the far-end talkers,
//! asterisk-core-sounds-en-wav's Allison for the near-end talker, both 8 kHz, resampled).
//! Shared by media-core's and media-bench's tests and examples (included by path).
//!
//! Every call is 10 s: the far end talks throughout; the near end is silent for the first 5 s
//! (single talk: ERLE is measured over 2-5 s) and talks over the far end for the last 5 s
//! (double talk: PESQ of the output against the clean near end over 5-10 s).
#![allow(dead_code)]

use media_core::processing::audio::aec::sim::{
    set_active_level, speech_from_files, EchoPath, EchoScenario,
};

/// Where Debian puts the speech.
pub const CODEC2: &str = "/usr/share/codec2/wav";
/// Allison's prompts (asterisk-core-sounds-en-wav).
pub const ALLISON: &str = "/usr/share/asterisk/sounds/en_US_f_Allison";

/// Far-end talker sets (codec2-examples).
pub const FAR_TALKERS: [&[&str]; 3] = [
    &["hts1a", "hts2a", "mmt1", "morig"],
    &["david4"],
    &["big_dog", "forig", "vk5qi"],
];
/// Near-end prompt sets (Allison).
pub const NEAR_TALKERS: [&[&str]; 3] = [
    &["vm-intro", "conf-onlyperson"],
    &["vm-options"],
    &["privacy-prompt", "vm-intro"],
];

/// Call length in seconds.
pub const CALL_S: f32 = 10.0;
/// When the near end starts talking, in seconds.
pub const NEAR_START_S: f32 = 5.0;
/// Start of the ERLE window, in seconds (convergence allowance).
pub const ERLE_FROM_S: f32 = 2.0;
/// Far-end active speech level, dBFS.
pub const FAR_LEVEL_DB: f32 = -24.0;
/// Near-end active speech level at the microphone, dBFS.
pub const NEAR_LEVEL_DB: f32 = -26.0;
/// Microphone self-noise, dBFS (white).
pub const NOISE_DB: f32 = -90.0;

/// One test call.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// Short label for tables.
    pub name: &'static str,
    /// Index into [`FAR_TALKERS`].
    pub far: usize,
    /// Index into [`NEAR_TALKERS`].
    pub near: usize,
    /// The echo path.
    pub path: EchoPath,
}

/// The cases CI runs: a medium room, a hard one (long tail, long delay, loud echo), a small
/// one with quiet echo, and the sweep's long room with a short delay (its late reverberation
/// once passed for near-end speech: ERLE 27.6 dB).
pub fn ci_cases() -> Vec<Case> {
    vec![
        Case {
            name: "rt250-d60-erl6",
            far: 0,
            near: 0,
            path: EchoPath {
                rt60_s: 0.25,
                delay_ms: 60.0,
                erl_db: 6.0,
                seed: 1,
            },
        },
        Case {
            name: "rt400-d200-erl0",
            far: 1,
            near: 1,
            path: EchoPath {
                rt60_s: 0.4,
                delay_ms: 200.0,
                erl_db: 0.0,
                seed: 2,
            },
        },
        Case {
            name: "rt100-d20-erl20",
            far: 2,
            near: 2,
            path: EchoPath {
                rt60_s: 0.1,
                delay_ms: 20.0,
                erl_db: 20.0,
                seed: 3,
            },
        },
        // The same call as the sweep's row of that name.
        Case {
            name: "rt400-d20-erl10",
            far: 0,
            near: 1,
            path: EchoPath {
                rt60_s: 0.4,
                delay_ms: 20.0,
                erl_db: 10.0,
                seed: 119,
            },
        },
    ]
}

/// The full sweep: RT60 {100, 250, 400} ms x delay {20, 100, 200} ms x ERL {0, 10, 20} dB.
pub fn sweep_cases() -> Vec<Case> {
    let mut v = Vec::new();
    let mut i = 0;
    for (a, rt60) in [0.1f32, 0.25, 0.4].into_iter().enumerate() {
        for (b, delay) in [20.0f32, 100.0, 200.0].into_iter().enumerate() {
            for (c, erl) in [0.0f32, 10.0, 20.0].into_iter().enumerate() {
                let name = Box::leak(
                    format!(
                        "rt{}-d{}-erl{}",
                        (rt60 * 1000.0) as u32,
                        delay as u32,
                        erl as u32
                    )
                    .into_boxed_str(),
                );
                v.push(Case {
                    name,
                    // Talkers rotate with every parameter, so none is tied to one talker.
                    far: (a + b + c) % FAR_TALKERS.len(),
                    near: (a + 2 * b + c + 1) % NEAR_TALKERS.len(),
                    path: EchoPath {
                        rt60_s: rt60,
                        delay_ms: delay,
                        erl_db: erl,
                        seed: 100 + i as u64,
                    },
                });
                i += 1;
            }
        }
    }
    v
}

/// Whether the speech packages are installed.
pub fn speech_available() -> bool {
    std::path::Path::new(CODEC2).join("hts1a.wav").exists()
        && std::path::Path::new(ALLISON).join("vm-intro.wav").exists()
}

/// Loads the talkers for `case` at `rate` and builds the call.
pub fn build(case: &Case, rate: u32) -> EchoScenario {
    let len = (CALL_S * rate as f32) as usize;
    let far_files: Vec<String> = FAR_TALKERS[case.far]
        .iter()
        .map(|n| format!("{CODEC2}/{n}.wav"))
        .collect();
    let near_files: Vec<String> = NEAR_TALKERS[case.near]
        .iter()
        .map(|n| format!("{ALLISON}/{n}.wav"))
        .collect();
    let mut far = speech_from_files(&far_files, rate, 150).expect("far-end speech");
    while far.len() < len {
        let again = far.clone();
        far.extend(again);
    }
    far.truncate(len);
    set_active_level(&mut far, rate, FAR_LEVEL_DB);
    let mut near = speech_from_files(&near_files, rate, 100).expect("near-end speech");
    let near_len = len - (NEAR_START_S * rate as f32) as usize;
    near.truncate(near_len);
    set_active_level(&mut near, rate, NEAR_LEVEL_DB);
    EchoScenario::new(
        rate,
        far,
        &near,
        (NEAR_START_S * rate as f32) as usize,
        &case.path,
        NOISE_DB,
    )
}

/// Sample range of the single-talk ERLE window.
pub fn erle_window(rate: u32) -> std::ops::Range<usize> {
    (ERLE_FROM_S * rate as f32) as usize..(NEAR_START_S * rate as f32) as usize
}

/// Sample range of the double-talk window.
pub fn dt_window(rate: u32) -> std::ops::Range<usize> {
    (NEAR_START_S * rate as f32) as usize..(CALL_S * rate as f32) as usize
}
