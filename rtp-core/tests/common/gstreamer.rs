//! Whether GStreamer can run the interop tests (`srtp_gstreamer.rs`, `twcc_gstreamer.rs`).
//! Include with `#[path = "common/gstreamer.rs"] mod gstreamer;`.

use std::process::{Command, Stdio};

/// Whether `gst-launch-1.0` runs and `gst-inspect-1.0` finds `element`. When not, the test
/// fails (saying that `packages` are needed) unless `MEDIA_CORE_SKIP_EXTERNAL=1`, which skips
/// it (`false`).
pub fn gstreamer_present(element: &str, packages: &str) -> bool {
    let ok = |tool: &str, arg: &str| {
        Command::new(tool)
            .arg(arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if ok("gst-launch-1.0", "--version") && ok("gst-inspect-1.0", element) {
        return true;
    }
    if std::env::var("MEDIA_CORE_SKIP_EXTERNAL").as_deref() == Ok("1") {
        eprintln!("skipped: gst-launch-1.0 with {element} not found");
        return false;
    }
    panic!(
        "gst-launch-1.0 with {element} is required (Debian: {packages}; scripts/setup.sh \
         installs them); set MEDIA_CORE_SKIP_EXTERNAL=1 to skip"
    );
}
