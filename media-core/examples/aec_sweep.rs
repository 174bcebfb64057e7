//! Echo-canceller quality sweep on real speech: ours, ours without the residual suppressor,
//! WebRTC AEC3 as-is (sonora) and no AEC. `--sweep` runs all 27 cases (heavy), otherwise the
//! three CI cases. Needs the .venv PESQ judge (scripts/setup.sh). The comparison with speexdsp
//! is in media-bench (tests/aec_vs_speexdsp.rs, examples/aec_table.rs).
#[path = "../tests/common/echo_cases.rs"]
mod echo_cases;
#[path = "../tests/common/pesq.rs"]
mod pesq;
#[path = "../tests/common/sonora_ref.rs"]
mod sonora_ref;

use media_core::frame::{AudioFormat, AudioFrame, SampleFormat, SampleRate};
use media_core::processing::audio::aec::sim::erle_db;
use media_core::processing::audio::aec::{EchoCanceller, EchoConfig};
use media_core::processing::audio::AudioStage;

fn ours(
    sc: &media_core::processing::audio::aec::sim::EchoScenario,
    suppression: bool,
) -> (Vec<f32>, String) {
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
    let mut diag = String::new();
    let mut i = 0;
    let out = sc.run(|far, mic, out| {
        aec.render_f32(far).expect("render");
        frame.as_f32_mut().expect("f32").copy_from_slice(mic);
        aec.process(&mut frame).expect("process");
        out.copy_from_slice(frame.as_f32().expect("f32"));
        i += 1;
        if i % 100 == 0 {
            let m = aec.echo_metrics();
            diag += &format!(
                " {:.0}/{:.2}/{:?}",
                m.delay_ms.unwrap_or(-1.0),
                aec.leak_estimate(),
                m.talk_state
            );
        }
    });
    (out, diag)
}

fn main() {
    let rate = 16000;
    let sweep = std::env::args().any(|a| a == "--sweep");
    let verbose = std::env::args().any(|a| a == "-v");
    let cases = if sweep {
        echo_cases::sweep_cases()
    } else {
        echo_cases::ci_cases()
    };
    let python = pesq::python().expect("python");
    println!("| case | ERLE ours | ERLE ours-linear | ERLE AEC3 | PESQ none | PESQ ours | PESQ ours-linear | PESQ AEC3 |");
    println!("|---|---|---|---|---|---|---|---|");
    let only: Option<usize> = std::env::var("CASE").ok().and_then(|v| v.parse().ok());
    for (ci, case) in cases.iter().enumerate() {
        if only.is_some_and(|o| o != ci) {
            continue;
        }
        let sc = echo_cases::build(case, rate);
        let mut s = sonora_ref::SonoraAec::new(rate);
        let out_s = sc.run(|f, m, o| s.process(f, m, o));
        let (out_o, diag) = ours(&sc, true);
        let (out_l, _) = ours(&sc, false);
        let ew = echo_cases::erle_window(rate);
        let dw = echo_cases::dt_window(rate);
        let e = |x: &[f32]| erle_db(&sc.echo[ew.clone()], &x[ew.clone()]);
        let near = &sc.near[dw.clone()];
        let p = pesq::pesq_pairs(
            &python,
            rate,
            &[
                (near, &sc.mic[dw.clone()]),
                (near, &out_o[dw.clone()]),
                (near, &out_l[dw.clone()]),
                (near, &out_s[dw.clone()]),
            ],
        );
        println!(
            "| {} | {:.1} | {:.1} | {:.1} | {:.2} | {:.2} | {:.2} | {:.2} |",
            case.name,
            e(&out_o),
            e(&out_l),
            e(&out_s),
            p[0],
            p[1],
            p[2],
            p[3]
        );
        if verbose {
            println!("   delay/leak/state per second:{diag}");
            let sec = rate as usize / 2;
            let lin: Vec<String> = (0..10)
                .map(|i| {
                    format!(
                        "{:.0}",
                        erle_db(
                            &sc.echo[i * sec..(i + 1) * sec],
                            &out_l[i * sec..(i + 1) * sec]
                        )
                    )
                })
                .collect();
            let tot: Vec<String> = (0..10)
                .map(|i| {
                    format!(
                        "{:.0}",
                        erle_db(
                            &sc.echo[i * sec..(i + 1) * sec],
                            &out_o[i * sec..(i + 1) * sec]
                        )
                    )
                })
                .collect();
            println!("   linear ERLE per 0.5 s (first 5 s): {}", lin.join(" "));
            println!("   total ERLE per 0.5 s (first 5 s): {}", tot.join(" "));
            let b = rate as usize / 20;
            let mut rows = Vec::new();
            for i in 40..100 {
                let r = i * b..(i + 1) * b;
                let pe: f64 = sc.echo[r.clone()].iter().map(|&x| f64::from(x * x)).sum();
                let po: f64 = out_o[r.clone()].iter().map(|&x| f64::from(x * x)).sum();
                let pl: f64 = out_l[r.clone()].iter().map(|&x| f64::from(x * x)).sum();
                rows.push((
                    po,
                    format!(
                        "t={:.2} echo={:.0}dB lin={:.0}dB out={:.0}dB",
                        i as f32 / 20.0,
                        10.0 * pe.log10(),
                        10.0 * pl.log10(),
                        10.0 * po.log10()
                    ),
                ));
            }
            let total: f64 = rows.iter().map(|r| r.0).sum();
            rows.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
            for r in rows.iter().take(8) {
                println!("     {:.0}% {}", 100.0 * r.0 / total, r.1);
            }
        }
    }
}
