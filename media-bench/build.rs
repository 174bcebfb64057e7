// Links the C reference libraries only when the `c-reference` feature is on, so the default
// build needs nothing beyond cargo.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=LIBFVAD_DIR");
    println!("cargo:rustc-check-cfg=cfg(libfvad)");
    if std::env::var_os("CARGO_FEATURE_C_REFERENCE").is_some() {
        for lib in ["spandsp", "soxr", "speexdsp"] {
            println!("cargo:rustc-link-lib={lib}");
        }
        // libfvad is not packaged by Debian: link a local build when one is named.
        if let Some(dir) = std::env::var_os("LIBFVAD_DIR") {
            println!("cargo:rustc-link-search=native={}", dir.to_string_lossy());
            println!("cargo:rustc-link-lib=static=fvad");
            println!("cargo:rustc-cfg=libfvad");
        }
    }
}
