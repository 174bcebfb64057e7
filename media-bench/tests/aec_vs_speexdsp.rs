//! Our echo canceller against speexdsp's (MDF + its preprocessor's residual echo suppressor) and
//! WebRTC AEC3 as-is (sonora), in the same run, on the real-speech calls of
//! media-core/tests/common/echo_cases.rs. Ours must beat speexdsp on both measures - ERLE in
//! far-end single talk after 2 s (and reach 30 dB), PESQ against the clean near end in double
//! talk - and AEC3 on double-talk PESQ. speexdsp has no delay estimator: it is handed the far
//! end aligned to the true delay minus 10 ms, an advantage the others do not get.
//!
//! The 27-case sweep is `cargo run --release -p media-bench --features c-reference --example
//! aec_table -- --sweep`; besides the four CI calls this runs the two sweep calls that were the
//! last behind speexdsp on double-talk PESQ (ERL 0 dB, echo as loud as the near end; 2.58 vs
//! 2.53 and 2.43 vs 2.37 when last measured).
#![cfg(feature = "c-reference")]

#[path = "support/aec_run.rs"]
mod aec_run;
#[path = "../../media-core/tests/common/echo_cases.rs"]
mod echo_cases;
#[path = "../../media-core/tests/common/pesq.rs"]
mod pesq;
#[path = "../../media-core/tests/common/sonora_ref.rs"]
mod sonora_ref;

use media_core::processing::audio::aec::sim::erle_db;

#[test]
fn ours_beats_speexdsp_and_aec3() {
    if !echo_cases::speech_available() {
        if std::env::var_os("MEDIA_CORE_SKIP_EXTERNAL").is_some() {
            return;
        }
        panic!("speech test material missing: run scripts/setup.sh");
    }
    let Some(python) = pesq::python() else {
        return;
    };
    let rate = 16_000;
    let ew = echo_cases::erle_window(rate);
    let dw = echo_cases::dt_window(rate);
    let mut failures = Vec::new();
    println!("| case | ERLE ours | ERLE speexdsp | ERLE AEC3 | PESQ none | PESQ ours | PESQ speexdsp | PESQ AEC3 |");
    println!("|---|---|---|---|---|---|---|---|");
    let last_behind = ["rt250-d200-erl0", "rt400-d100-erl0"];
    let sweep = echo_cases::sweep_cases()
        .into_iter()
        .filter(|c| last_behind.contains(&c.name));
    for case in echo_cases::ci_cases().into_iter().chain(sweep) {
        let sc = echo_cases::build(&case, rate);
        let o = aec_run::ours(&sc, true);
        let s = aec_run::speex(&sc, case.path.delay_ms, true);
        let a = aec_run::aec3(&sc);
        let e = |x: &[f32]| erle_db(&sc.echo[ew.clone()], &x[ew.clone()]);
        let (eo, es, ea) = (e(&o), e(&s), e(&a));
        let near = &sc.near[dw.clone()];
        let p = pesq::pesq_pairs(
            &python,
            rate,
            &[
                (near, &sc.mic[dw.clone()]),
                (near, &o[dw.clone()]),
                (near, &s[dw.clone()]),
                (near, &a[dw.clone()]),
            ],
        );
        println!(
            "| {} | {eo:.1} | {es:.1} | {ea:.1} | {:.2} | {:.2} | {:.2} | {:.2} |",
            case.name, p[0], p[1], p[2], p[3]
        );
        if eo < 30.0 || eo <= es {
            failures.push(format!(
                "{}: ERLE ours {eo:.1} dB, speexdsp {es:.1} dB",
                case.name
            ));
        }
        if p[1] <= p[2] || p[1] <= p[3] {
            failures.push(format!(
                "{}: double-talk PESQ ours {:.2}, speexdsp {:.2}, AEC3 {:.2}",
                case.name, p[1], p[2], p[3]
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
