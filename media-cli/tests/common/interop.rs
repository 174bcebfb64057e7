//! Helpers shared by the interop tests (`interop*.rs`): child processes, speech, PESQ, SDP,
//! `mediacore send` / `receive` runs against GStreamer and ffmpeg.
#![allow(dead_code)]

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const MEDIACORE: &str = env!("CARGO_BIN_EXE_mediacore");

/// A child process killed (and reaped) on drop.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Guard {
    /// Waits for the child to exit, at most `limit`; panics (killing it) when it does not.
    pub fn wait(mut self, limit: Duration, what: &str) -> String {
        let start = Instant::now();
        loop {
            if let Some(status) = self.0.try_wait().expect("try_wait") {
                let mut out = String::new();
                if let Some(mut o) = self.0.stdout.take() {
                    let _ = std::io::Read::read_to_string(&mut o, &mut out);
                }
                let mut err = String::new();
                if let Some(mut e) = self.0.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                assert!(status.success(), "{what} failed: {status}\n{out}\n{err}");
                return out;
            }
            assert!(
                start.elapsed() < limit,
                "{what} did not finish in {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until something has bound UDP `port` on this host (Linux: /proc/net/udp*), at
    /// most `limit`, or until the child exits (its own wait then says why). The callers' fixed
    /// head starts are not enough for a receiver that starts slowly on a loaded machine:
    /// whatever is sent before it binds is lost.
    pub fn wait_bound(&mut self, port: u16, limit: Duration, what: &str) {
        if !Path::new("/proc/net/udp").exists() {
            return;
        }
        let suffix = format!(":{port:04X}");
        let start = Instant::now();
        loop {
            let bound = ["/proc/net/udp", "/proc/net/udp6"].iter().any(|f| {
                std::fs::read_to_string(f).is_ok_and(|t| {
                    t.lines().skip(1).any(|l| {
                        l.split_whitespace()
                            .nth(1)
                            .is_some_and(|a| a.ends_with(&suffix))
                    })
                })
            });
            if bound || matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            assert!(
                start.elapsed() < limit,
                "{what} did not bind UDP port {port} in {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The port of the `m=audio` line of `sdp`.
pub fn m_port(sdp: &str) -> u16 {
    sdp.lines()
        .find_map(|l| l.strip_prefix("m=audio "))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no m=audio port in {sdp}"))
}

pub fn spawn(cmd: &mut Command) -> Guard {
    Guard(
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}")),
    )
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg(if tool == "gst-launch-1.0" {
            "--version"
        } else {
            "-version"
        })
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Whether the external tools are here; panics when they are not (unless told to skip).
pub fn externals() -> bool {
    let speech = Path::new("/usr/share/asterisk/sounds/en_US_f_Allison/conf-getpin.wav");
    let python = root().join(".venv/bin/python");
    let ok = have("gst-launch-1.0") && have("ffmpeg") && speech.exists() && python.exists();
    let sox = Command::new("sox")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok();
    if !(ok && sox) {
        if std::env::var_os("MEDIA_CORE_SKIP_EXTERNAL").is_some() {
            return false;
        }
        panic!(
            "interop tests need gst-launch-1.0, ffmpeg, sox, Allison's speech and the .venv with \
             pesq (run scripts/setup.sh, or set MEDIA_CORE_SKIP_EXTERNAL=1)"
        );
    }
    true
}

/// A port free right now on 127.0.0.1 (even, as RTP wants).
pub fn free_port() -> u16 {
    loop {
        let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let p = s.local_addr().expect("addr").port();
        if p.is_multiple_of(2) && p < 65534 {
            return p;
        }
    }
}

pub fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mediacore-interop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    dir.join(name)
}

/// About 8 s of real speech at `rate` Hz (several Allison prompts concatenated by sox).
pub fn speech(rate: u32) -> PathBuf {
    static COUNT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let k = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let out = tmp(&format!("speech-{rate}-{k}.wav"));
    let dir = Path::new("/usr/share/asterisk/sounds/en_US_f_Allison");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("speech dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wav"))
        .collect();
    files.sort();
    let st = Command::new("sox")
        .args(&files[9..16])
        .arg("-r")
        .arg(rate.to_string())
        .arg(&out)
        .args(["trim", "0", "8"])
        .status()
        .expect("sox");
    assert!(st.success(), "sox failed");
    out
}

/// PESQ of `degraded` against `reference` (aligned by cross-correlation, cut to the reference's
/// length); NB at 8 kHz, WB at 16 kHz. Also returns the degraded file's length in seconds.
pub fn pesq(reference: &Path, degraded: &Path) -> (f64, f64) {
    let script = r#"
import sys, soundfile as sf, numpy as np
from pesq import pesq
r, fr = sf.read(sys.argv[1], dtype='int16'); d, fd = sf.read(sys.argv[2], dtype='int16')
r = r.astype(float); d = d.astype(float)
assert fr == fd, (fr, fd)
n = 2 * max(len(d), len(r))
x = np.fft.irfft(np.fft.rfft(d, n) * np.conj(np.fft.rfft(r, n)))[:len(d)]
lag = int(np.argmax(x))
seg = d[lag:lag + len(r)]
print(pesq(fr, r[:len(seg)], seg, 'nb' if fr == 8000 else 'wb'), len(d) / fd)
"#;
    // PESQ knows 8 and 16 kHz: wideband (and Opus's 48 kHz) goes down to 16 kHz by sox.
    let wb = |p: &Path| -> PathBuf {
        let rate = Command::new("soxi")
            .arg("-r")
            .arg(p)
            .output()
            .expect("soxi");
        if String::from_utf8_lossy(&rate.stdout).trim() == "8000" {
            return p.to_path_buf();
        }
        let o = p.with_extension("16k.wav");
        let st = Command::new("sox")
            .arg(p)
            .args(["-r", "16000"])
            .arg(&o)
            .status()
            .expect("sox");
        assert!(st.success(), "sox resample");
        o
    };
    let out = Command::new(root().join(".venv/bin/python"))
        .args(["-c", script])
        .arg(wb(reference))
        .arg(wb(degraded))
        .output()
        .expect("python");
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pesq failed: {s}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut it = s
        .split_whitespace()
        .map(|v| v.parse::<f64>().expect("number"));
    (it.next().expect("pesq"), it.next().expect("length"))
}

/// PESQ of each of `degraded` against `reference`, all judged on the same span: each is aligned
/// by cross-correlation, and the reference and every recording are cut to the shortest aligned
/// length (a recording that ends early is not penalised against one that does not).
pub fn pesq_common(reference: &Path, degraded: &[&Path]) -> Vec<f64> {
    let script = r#"
import sys, soundfile as sf, numpy as np
from pesq import pesq
r, fr = sf.read(sys.argv[1], dtype='int16'); r = r.astype(float)
segs = []
for p in sys.argv[2:]:
    d, fd = sf.read(p, dtype='int16'); d = d.astype(float)
    assert fr == fd, (fr, fd)
    n = 2 * max(len(d), len(r))
    x = np.fft.irfft(np.fft.rfft(d, n) * np.conj(np.fft.rfft(r, n)))[:len(d)]
    lag = int(np.argmax(x))
    segs.append(d[lag:lag + len(r)])
m = min(len(s) for s in segs)
for s in segs:
    print(pesq(fr, r[:m], s[:m], 'nb' if fr == 8000 else 'wb'))
"#;
    let to16k = |p: &Path| -> PathBuf {
        let rate = Command::new("soxi")
            .arg("-r")
            .arg(p)
            .output()
            .expect("soxi");
        let r = String::from_utf8_lossy(&rate.stdout).trim().to_string();
        if r == "8000" || r == "16000" {
            return p.to_path_buf();
        }
        let o = p.with_extension("16k.wav");
        let st = Command::new("sox")
            .arg(p)
            .args(["-r", "16000"])
            .arg(&o)
            .status()
            .expect("sox");
        assert!(st.success(), "sox resample");
        o
    };
    let out = Command::new(root().join(".venv/bin/python"))
        .args(["-c", script])
        .arg(to16k(reference))
        .args(degraded.iter().map(|p| to16k(p)))
        .output()
        .expect("python");
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pesq failed: {s}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    s.split_whitespace()
        .map(|v| v.parse::<f64>().expect("number"))
        .collect()
}

pub fn sdp(port: u16, proto: &str, media: &str, extra: &str) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {port} {proto} {media}\r\n{extra}"
    )
}

/// `mediacore receive` for `secs` while `sender` (started half a second later) sends.
pub fn receive_from(
    local_sdp: &str,
    reference: &Path,
    secs: f64,
    sender: &mut Command,
    what: &str,
) -> f64 {
    let sdp_path = tmp(&format!("{what}-local.sdp"));
    std::fs::write(&sdp_path, local_sdp).expect("write sdp");
    let out = tmp(&format!("{what}-ours.wav"));
    let mut rx = spawn(
        Command::new(MEDIACORE)
            .arg("receive")
            .arg("--sdp")
            .arg(&sdp_path)
            .arg("--output")
            .arg(&out)
            .args(["--duration", &secs.to_string(), "--json"]),
    );
    std::thread::sleep(Duration::from_millis(500));
    rx.wait_bound(
        m_port(local_sdp),
        Duration::from_secs(20),
        "mediacore receive",
    );
    let tx = spawn(sender);
    tx.wait(Duration::from_secs(30), what);
    let report = rx.wait(Duration::from_secs(30), "mediacore receive");
    let (score, len) = pesq(reference, &out);
    println!(
        "{what}: PESQ {score:.3}, {len:.2} s recorded; {}",
        report.trim()
    );
    assert!((len - secs).abs() < 0.1, "{what}: recorded {len} s");
    score
}

pub fn gst(pipeline: &str) -> Command {
    let mut c = Command::new("gst-launch-1.0");
    c.arg("-q").args(pipeline.split_whitespace());
    c
}

/// PESQ floor for PCMU that crosses the wire intact: the issue's bar. The codec's own ceiling on
/// this speech is 4.04.
pub const PCMU_FLOOR: f64 = 4.0;

/// `mediacore send` of 8 s of speech to a receiver started a second earlier (which must stop
/// by itself); returns the PESQ of what it recorded at `recorded`.
pub fn send_to(
    remote_sdp: &str,
    src: &Path,
    receiver: &mut Command,
    recorded: &Path,
    what: &str,
) -> f64 {
    let sdp_path = tmp(&format!("{what}-remote.sdp"));
    std::fs::write(&sdp_path, remote_sdp).expect("write sdp");
    let mut rx = spawn(receiver);
    std::thread::sleep(Duration::from_secs(1));
    rx.wait_bound(m_port(remote_sdp), Duration::from_secs(20), what);
    let tx = spawn(
        Command::new(MEDIACORE)
            .arg("send")
            .arg("--sdp")
            .arg(&sdp_path)
            .arg("--input")
            .arg(src)
            .args(["--duration", "8", "--json"]),
    );
    let report = tx.wait(Duration::from_secs(30), "mediacore send");
    rx.wait(Duration::from_secs(30), what);
    let (score, len) = pesq(src, recorded);
    println!(
        "{what}: PESQ {score:.3}, {len:.2} s recorded; {}",
        report.trim()
    );
    assert!(len >= 7.9, "{what}: recorded {len} s");
    score
}

/// `gst-launch-1.0` writing raw S16 mono at `rate` (unbuffered) to `out`.raw, stopped after
/// `secs`, then converted by sox to the WAV `out`; succeeds only when it ran until then.
pub fn gst_for(secs: u32, pipeline: &str, rate: u32, out: &Path) -> Command {
    let out = out.display();
    let mut c = Command::new("sh");
    c.arg("-c").arg(format!(
        "timeout {secs} gst-launch-1.0 -q {pipeline} ! filesink buffer-mode=unbuffered location={out}.raw; \
         test $? -eq 124 && sox -t raw -e signed -b 16 -r {rate} -c 1 {out}.raw {out}"
    ));
    c
}

pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                s.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                s.push('=');
            }
        }
    }
    s
}

pub fn unbase64(s: &str) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes().take_while(|&c| c != b'=') {
        let v = A.iter().position(|&a| a == c).expect("base64") as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    out
}
