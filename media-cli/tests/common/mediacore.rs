//! Helpers shared by the tests that run the `mediacore` command as a user does (`cli.rs`,
//! `call.rs`, `process.rs`, `analyze.rs`, `conference.rs`, `record.rs`). Include with
//! `#[path = "common/mediacore.rs"] mod common;`.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs `mediacore` with `args` and waits for it.
pub fn mediacore(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mediacore"))
        .args(args)
        .output()
        .expect("run mediacore")
}

/// `name` in a temporary directory of this test binary (one per test file and process).
pub fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "mediacore-{}-{}",
        env!("CARGO_CRATE_NAME"),
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// What the command wrote to stderr, trimmed.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).trim().to_string()
}

/// Runs sox with `args`; panics with its message when it fails.
pub fn sox(args: &[&str]) {
    let o = Command::new("sox").args(args).output().expect("run sox");
    assert!(
        o.status.success(),
        "sox {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Whether sox runs.
pub fn has_sox() -> bool {
    Command::new("sox").arg("--version").output().is_ok()
}

/// For a test whose external tool or file (`what`) is missing: `true` (skip, with a note)
/// when `MEDIA_CORE_SKIP_EXTERNAL=1`, else a panic saying what to install.
pub fn skip_missing(what: &str) -> bool {
    if std::env::var("MEDIA_CORE_SKIP_EXTERNAL").is_ok_and(|v| v == "1") {
        eprintln!("skipped: {what} missing (MEDIA_CORE_SKIP_EXTERNAL=1)");
        return true;
    }
    panic!("{what} missing: run scripts/setup.sh, or set MEDIA_CORE_SKIP_EXTERNAL=1 to skip");
}
