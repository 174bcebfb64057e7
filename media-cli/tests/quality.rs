//! PESQ on real recorded speech stays above floors set from measurements (scripts/quality.py;
//! floors in quality-floors.json). Needs scripts/setup.sh (the .venv with `pesq`, Debian's
//! speech packages, ffmpeg).

use std::path::PathBuf;
use std::process::Command;

#[test]
fn pesq_on_real_speech_stays_above_floors() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join(".venv/bin/python");
    if !python.exists() {
        if std::env::var_os("MEDIA_CORE_SKIP_EXTERNAL").is_some() {
            return;
        }
        panic!("{} missing: run scripts/setup.sh", python.display());
    }
    let out = Command::new(&python)
        .arg(root.join("scripts/quality.py"))
        .args(["--mediacore", env!("CARGO_BIN_EXE_mediacore"), "--check"])
        .arg(root.join("media-cli/tests/quality-floors.json"))
        .output()
        .expect("run quality.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(out.status.success(), "{stdout}\n{stderr}");
}
