//! `mediacore call` as a user runs it: real RTP over UDP loopback.

#[path = "common/mediacore.rs"]
mod common;
use common::{mediacore, tmp};

fn call_json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["call", "--fast", "--json"];
    all.extend_from_slice(args);
    let o = mediacore(&all);
    assert!(
        o.status.success(),
        "{}",
        String::from_utf8_lossy(&o.stderr).trim()
    );
    serde_json::from_slice(&o.stdout).expect("one JSON object")
}

#[test]
fn call_reports_the_required_fields() {
    let v = call_json(&["--duration", "4"]);
    for key in [
        "codec",
        "duration_s",
        "packets_sent",
        "packets_received",
        "packets_lost",
        "packets_concealed",
        "jitter_ms",
        "jitter_buffer_delay_ms",
        "mos",
    ] {
        assert!(v.get(key).is_some(), "{key} missing: {v}");
    }
    assert_eq!(v["codec"], "pcmu");
    // No loss configured: everything arrives (the first packet is the source's probation).
    assert!(v["packets_sent"].as_u64().unwrap() >= 200);
    assert_eq!(v["packets_lost"], 0);
    assert!(v["mos"].as_f64().unwrap() > 4.0, "{v}");
}

#[test]
fn same_seed_same_losses_and_concealment_matches() {
    let args = [
        "--duration",
        "6",
        "--loss",
        "10",
        "--jitter",
        "30",
        "--seed",
        "7",
    ];
    let a = call_json(&args);
    let b = call_json(&args);
    assert_eq!(a["network_dropped"], b["network_dropped"]);
    assert_eq!(a["packets_lost"], b["packets_lost"]);
    let dropped = a["network_dropped"].as_u64().unwrap();
    assert!(dropped > 10, "{a}");
    // Every dropped packet is concealed (G.711 has no FEC), give or take the last in flight.
    let concealed = a["packets_concealed"].as_u64().unwrap();
    assert!(concealed.abs_diff(dropped) <= 3, "{a}");
    assert!(a["mos"].as_f64().unwrap() < 4.0);
}

#[test]
fn srtp_g722_and_burst_loss_record_a_wav() {
    let out = tmp("g722.wav");
    let out_s = out.to_str().unwrap();
    let v = call_json(&[
        "--codec",
        "g722",
        "--srtp",
        "--duration",
        "5",
        "--loss",
        "5",
        "--burst",
        "3",
        "--record",
        out_s,
    ]);
    assert_eq!(v["codec"], "g722");
    assert_eq!(v["srtp"], true);
    assert_eq!(v["srtp_failures"], 0);
    let wav = media_core::wav::read_wav(&out).unwrap();
    assert_eq!(wav.sample_rate, 16000);
    assert!(wav.duration_secs() >= 5.0);
    let rms = (wav
        .samples
        .iter()
        .map(|&s| f64::from(s).powi(2))
        .sum::<f64>()
        / wav.samples.len() as f64)
        .sqrt();
    assert!(rms > 300.0, "the receiver played audio: rms {rms}");
}

#[cfg(feature = "opus")]
#[test]
fn opus_call_recovers_losses_with_fec() {
    let v = call_json(&[
        "--codec",
        "opus",
        "--duration",
        "10",
        "--loss",
        "10",
        "--seed",
        "3",
    ]);
    assert!(v["fec_recovered"].as_u64().unwrap() > 0, "{v}");
    // The adaptation turned FEC on and the sender reported it; the live model's figures
    // are in the report.
    assert_eq!(v["adaptation"]["fec"], true, "{v}");
    assert!(v["adaptation"]["expected_loss_pct"].as_u64().unwrap() >= 1);
    let alice: Vec<&str> = v["events"]["alice"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e.as_str())
        .collect();
    assert!(alice.iter().any(|e| e.ends_with("FEC on")), "{v}");
    for key in [
        "r",
        "loss_pct",
        "concealed_pct",
        "fec_pct",
        "receive_level_dbov",
    ] {
        assert!(v[key].is_number(), "{key}: {v}");
    }
}

#[test]
fn bad_call_options_give_one_line() {
    for args in [
        vec!["call", "--codec", "nope", "--fast"],
        vec!["call", "--loss", "150"],
        vec!["call", "--burst", "0.5", "--loss", "5", "--fast"],
        vec!["call", "--input", "/nonexistent.wav", "--fast"],
    ] {
        let o = mediacore(&args);
        assert!(!o.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    }
}
