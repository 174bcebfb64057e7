//! Echo-canceller quality table on real speech: ours, WebRTC AEC3 as-is (sonora), speexdsp, and
//! no AEC, per case: ERLE in far-end single talk after 2 s and PESQ of the double-talk output
//! against the clean near end. `--sweep` runs all 27 cases (RT60 x delay x ERL), otherwise the
//! four CI cases. Needs the .venv PESQ judge (scripts/setup.sh).
//!
//!   cargo run --release -p media-bench --features c-reference --example aec_table -- --sweep
//!
//! `--case NAME[,NAME...]` runs only those sweep cases (`CASE=INDEX` one case of the list); `DT_ERLE=1` adds the
//! linear filters' residual echo in double talk (echo over output minus the fitted near end, dB); `DUMP=DIR` writes every signal as WAV.
#[path = "../tests/support/aec_run.rs"]
mod aec_run;
#[path = "../../media-core/tests/common/echo_cases.rs"]
mod echo_cases;
#[path = "../../media-core/tests/common/pesq.rs"]
mod pesq;
#[path = "../../media-core/tests/common/sonora_ref.rs"]
mod sonora_ref;

use media_core::processing::audio::aec::sim::erle_db;

fn main() {
    let rate = 16000;
    let args: Vec<String> = std::env::args().collect();
    let sweep = args.iter().any(|a| a == "--sweep");
    let names: Option<Vec<String>> = args
        .iter()
        .position(|a| a == "--case")
        .and_then(|i| args.get(i + 1))
        .map(|v| v.split(',').map(str::to_owned).collect());
    let mut cases = if sweep || names.is_some() {
        echo_cases::sweep_cases()
    } else {
        echo_cases::ci_cases()
    };
    if let Some(names) = &names {
        cases.retain(|c| names.iter().any(|n| n == c.name));
    }
    let python = pesq::python().expect("python");
    println!(
        "ERLE (dB, far-end single talk 2-5 s) | double-talk PESQ (WB, 5-10 s, vs clean near end)"
    );
    println!("| case | ERLE ours | ERLE AEC3 | ERLE speex | ERLE speex-lin | PESQ none | PESQ ours | PESQ AEC3 | PESQ speex | PESQ speex-lin | PESQ ours-lin |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let mut sums = [0.0f64; 10];
    let mut ran = 0usize;
    let only: Option<usize> = std::env::var("CASE").ok().and_then(|v| v.parse().ok());
    for (ci, case) in cases.iter().enumerate() {
        if only.is_some_and(|o| o != ci) {
            continue;
        }
        ran += 1;
        let sc = echo_cases::build(case, rate);
        let o = aec_run::ours(&sc, true);
        let ol = aec_run::ours(&sc, false);
        let a = aec_run::aec3(&sc);
        let s = aec_run::speex(&sc, case.path.delay_ms, true);
        let sl = aec_run::speex(&sc, case.path.delay_ms, false);
        let ew = echo_cases::erle_window(rate);
        let dw = echo_cases::dt_window(rate);
        let e = |x: &[f32]| f64::from(erle_db(&sc.echo[ew.clone()], &x[ew.clone()]));
        let near = &sc.near[dw.clone()];
        let p = pesq::pesq_pairs(
            &python,
            rate,
            &[
                (near, &sc.mic[dw.clone()]),
                (near, &o[dw.clone()]),
                (near, &a[dw.clone()]),
                (near, &s[dw.clone()]),
                (near, &sl[dw.clone()]),
                (near, &ol[dw.clone()]),
            ],
        );
        if std::env::var_os("DT_ERLE").is_some() {
            // Residual echo in double talk for the linear-only cancellers: output minus the
            // near end as the output carries it (a least-squares FIR fit, so that speexdsp's DC
            // notch is not counted as echo); ours lags one block.
            let d = rate as usize / 100;
            let dt_erle = |out: &[f32], lag: usize| {
                let r = fitted_residual(&out[lag..], &sc.near, dw.start, dw.end - lag);
                let per = r
                    .chunks(rate as usize / 2)
                    .enumerate()
                    .map(|(j, c)| {
                        let a = dw.start + j * rate as usize / 2;
                        format!("{:.0}", erle_db(&sc.echo[a..a + c.len()], c))
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                let all = erle_db(&sc.echo[dw.start..dw.start + r.len()], &r);
                format!("{all:.1} [{per}]")
            };
            println!(
                "   DT linear ERLE: ours {} speex {}",
                dt_erle(&ol, d),
                dt_erle(&sl, 0)
            );
        }
        if let Ok(dir) = std::env::var("DUMP") {
            let w = |name: &str, x: &[f32]| {
                let spec = hound::WavSpec {
                    channels: 1,
                    sample_rate: rate,
                    bits_per_sample: 16,
                    sample_format: hound::SampleFormat::Int,
                };
                let mut wr =
                    hound::WavWriter::create(format!("{dir}/{}-{name}.wav", case.name), spec)
                        .expect("wav");
                for &v in x {
                    wr.write_sample((v * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
                        .expect("wav");
                }
                wr.finalize().expect("wav");
            };
            w("near", &sc.near);
            w("far", &sc.far);
            w("mic", &sc.mic);
            w("echo", &sc.echo);
            w("ours", &o);
            w("ourslin", &ol);
            w("speex", &s);
            w("speexlin", &sl);
            w("aec3", &a);
        }
        let row = [
            e(&o),
            e(&a),
            e(&s),
            e(&sl),
            p[0],
            p[1],
            p[2],
            p[3],
            p[4],
            p[5],
        ];
        for (acc, v) in sums.iter_mut().zip(row) {
            *acc += v;
        }
        println!(
            "| {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            case.name, row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9]
        );
    }
    let n = ran.max(1) as f64;
    let m: Vec<f64> = sums.iter().map(|s| s / n).collect();
    println!(
        "| mean | {:.1} | {:.1} | {:.1} | {:.1} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
        m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8], m[9]
    );
}

/// `out - h * near` over `from..to`, `h` the least-squares FIR (8 taps ahead, 64 behind; normal
/// equations on the near end's autocorrelation) mapping the near end onto `out`: what of `out`
/// is not a linear filtering of the near end (residual echo, mostly).
fn fitted_residual(out: &[f32], near: &[f32], from: usize, to: usize) -> Vec<f32> {
    const AHEAD: usize = 8;
    const TAPS: usize = 72;
    let to = to.min(near.len() - AHEAD).min(out.len());
    let x = |i: usize, t: usize| f64::from(near[i + AHEAD - t]);
    let mut acf = [0.0f64; TAPS];
    for (l, a) in acf.iter_mut().enumerate() {
        *a = (from..to).map(|i| x(i, 0) * x(i, l)).sum();
    }
    let mut m = vec![[0.0f64; TAPS + 1]; TAPS];
    for (t, row) in m.iter_mut().enumerate() {
        for (u, v) in row.iter_mut().take(TAPS).enumerate() {
            *v = acf[t.abs_diff(u)] * (1.0 + if t == u { 1e-9 } else { 0.0 });
        }
        row[TAPS] = (from..to).map(|i| f64::from(out[i]) * x(i, t)).sum();
    }
    // Gaussian elimination (the matrix is symmetric positive definite).
    for c in 0..TAPS {
        for r in c + 1..TAPS {
            let f = m[r][c] / m[c][c];
            let pivot = m[c];
            for (v, &p) in m[r][c..].iter_mut().zip(&pivot[c..]) {
                *v -= f * p;
            }
        }
    }
    let mut h = [0.0f64; TAPS];
    for c in (0..TAPS).rev() {
        let s: f64 = (c + 1..TAPS).map(|k| m[c][k] * h[k]).sum();
        h[c] = (m[c][TAPS] - s) / m[c][c];
    }
    (from..to)
        .map(|i| {
            let y: f64 = (0..TAPS).map(|t| h[t] * x(i, t)).sum();
            (f64::from(out[i]) - y) as f32
        })
        .collect()
}
