// Links the C reference libraries only when the `c-reference` feature is on, so the default
// build needs nothing beyond cargo.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_C_REFERENCE").is_some() {
        for lib in ["spandsp", "soxr", "speexdsp"] {
            println!("cargo:rustc-link-lib={lib}");
        }
    }
}
