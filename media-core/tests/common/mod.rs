//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The shared ITU-T test vectors: `$MEDIA_CORE_TESTDATA`, else `../shared/testdata` beside the
/// repository. Missing vectors fail the test: CI always has them.
pub fn testdata(rel: &str) -> PathBuf {
    let base = std::env::var_os("MEDIA_CORE_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(find_shared);
    let p = base.join(rel);
    assert!(
        p.exists(),
        "test vector {} not found (set MEDIA_CORE_TESTDATA)",
        p.display()
    );
    p
}

/// `shared/testdata` beside the nearest ancestor of this crate that has one (the repository's
/// parent in CI; also found from git worktrees nested deeper).
fn find_shared() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .map(|a| a.join("shared/testdata"))
        .find(|p| p.is_dir())
        .unwrap_or_else(|| here.join("../../shared/testdata"))
}

/// Reads a file of little-endian 16-bit words.
pub fn read_le16(rel: &str) -> Vec<i16> {
    let bytes = std::fs::read(testdata(rel)).expect("read test vector");
    bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

/// Asserts that `got` equals `want`, reporting how many elements differ and the first few.
pub fn assert_same<T: PartialEq + std::fmt::Debug + Copy>(what: &str, got: &[T], want: &[T]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    let bad: Vec<usize> = (0..got.len()).filter(|&i| got[i] != want[i]).collect();
    assert!(
        bad.is_empty(),
        "{what}: {} of {} differ; first at {:?}: got {:?}, want {:?}",
        bad.len(),
        got.len(),
        &bad[..bad.len().min(5)],
        bad.iter().take(5).map(|&i| got[i]).collect::<Vec<_>>(),
        bad.iter().take(5).map(|&i| want[i]).collect::<Vec<_>>(),
    );
}
