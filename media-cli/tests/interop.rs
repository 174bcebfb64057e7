//! RTP interop over 127.0.0.1 with GStreamer and ffmpeg: `mediacore receive` records what they
//! send, they record what `mediacore send` sends, and PESQ compares it with the source speech
//! (Debian's asterisk-core-sounds-en-wav). GStreamer, ffmpeg, sox and the .venv with `pesq`
//! (scripts/setup.sh) are required; set MEDIA_CORE_SKIP_EXTERNAL=1 to skip when they are missing.
//!
//! G.711 itself scores 4.04 (PESQ NB) on this speech (encoded and decoded by sox, no network);
//! the G.711 floor is 4.0, so a single concealed packet, or a frame inserted or dropped by the
//! playout, in the speech fails it. The receive playout time-stretches by pitch periods instead
//! of inserting or dropping frames, only when its smoothed delay leaves a band around the
//! target, and then in pauses unless the delay is far off; `receive` (a recorder) holds at
//! least 80 ms against bursty senders. It scores the codec's own 4.04 from GStreamer and ffmpeg
//! alike (4.042 / 4.047 in every one of 8 runs of each).

#[path = "common/interop.rs"]
mod common;

use common::*;
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn gstreamer_sends_pcmu_to_receive() {
    if !externals() {
        return;
    }
    let port = free_port();
    let src = speech(8000);
    let mut tx = gst(&format!(
        "filesrc location={} ! wavparse ! audioconvert ! audioresample ! \
         audio/x-raw,rate=8000,channels=1 ! mulawenc ! \
         rtppcmupay min-ptime=20000000 max-ptime=20000000 ! udpsink host=127.0.0.1 port={port} sync=true",
        src.display()
    ));
    let s = receive_from(
        &sdp(port, "RTP/AVP", "0", "a=rtpmap:0 PCMU/8000\r\n"),
        &src,
        10.5,
        &mut tx,
        "gst-pcmu",
    );
    assert!(s >= PCMU_FLOOR, "PESQ {s}");
}

/// ffmpeg's `-re` paces in bursts (about 30 ms of jitter at the receiver): the jitter buffer's
/// target covers it and the playout holds its delay without touching the speech.
#[test]
fn ffmpeg_sends_pcmu_to_receive() {
    if !externals() {
        return;
    }
    let port = free_port();
    let src = speech(8000);
    let mut tx = Command::new("ffmpeg");
    tx.args([
        "-nostdin",
        "-loglevel",
        "error",
        "-max_size",
        "1280",
        "-re",
        "-i",
    ])
    .arg(&src)
    .args([
        "-ar",
        "8000",
        "-ac",
        "1",
        "-c:a",
        "pcm_mulaw",
        "-packetsize",
        "172",
        "-f",
        "rtp",
    ])
    .arg(format!("rtp://127.0.0.1:{port}"));
    let s = receive_from(
        &sdp(port, "RTP/AVP", "0", "a=rtpmap:0 PCMU/8000\r\n"),
        &src,
        10.5,
        &mut tx,
        "ffmpeg-pcmu",
    );
    assert!(s >= PCMU_FLOOR, "PESQ {s}");
}

#[test]
fn send_pcmu_to_gstreamer() {
    if !externals() {
        return;
    }
    let port = free_port();
    let src = speech(8000);
    let out = tmp("gst-recv-pcmu.wav");
    let mut rx = gst_for(
        11,
        &format!(
            "udpsrc port={port} caps=application/x-rtp,media=audio,clock-rate=8000,encoding-name=PCMU,payload=0 ! \
             rtpjitterbuffer ! rtppcmudepay ! mulawdec"
        ),
        8000,
        &out,
    );
    let s = send_to(
        &sdp(port, "RTP/AVP", "0", "a=rtpmap:0 PCMU/8000\r\n"),
        &src,
        &mut rx,
        &out,
        "send-gst-pcmu",
    );
    assert!(s >= PCMU_FLOOR, "PESQ {s}");
}

#[test]
fn send_pcmu_to_ffmpeg() {
    if !externals() {
        return;
    }
    let port = free_port();
    let src = speech(8000);
    let out = tmp("ffmpeg-recv-pcmu.wav");
    let remote = sdp(port, "RTP/AVP", "0", "a=rtpmap:0 PCMU/8000\r\n");
    let recv_sdp = tmp("ffmpeg-recv.sdp");
    std::fs::write(&recv_sdp, &remote).expect("write sdp");
    let mut rx = Command::new("timeout");
    rx.args(["20", "ffmpeg", "-nostdin", "-loglevel", "error", "-y"])
        .args(["-protocol_whitelist", "file,udp,rtp", "-i"])
        .arg(&recv_sdp)
        .args(["-t", "8.5", "-ar", "8000", "-ac", "1", "-c:a", "pcm_s16le"])
        .arg(&out);
    let s = send_to(&remote, &src, &mut rx, &out, "send-ffmpeg-pcmu");
    assert!(s >= PCMU_FLOOR, "PESQ {s}");
}

#[test]
fn gstreamer_sends_srtp_pcmu_to_receive() {
    if !externals() {
        return;
    }
    let port = free_port();
    let src = speech(8000);
    let key: Vec<u8> = (0..30u8)
        .map(|i| i.wrapping_mul(37).wrapping_add(11))
        .collect();
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let mut tx = gst(&format!(
        "filesrc location={} ! wavparse ! audioconvert ! audioresample ! \
         audio/x-raw,rate=8000,channels=1 ! mulawenc ! \
         rtppcmupay min-ptime=20000000 max-ptime=20000000 ! \
         srtpenc key={hex} rtp-cipher=aes-128-icm rtp-auth=hmac-sha1-80 \
         rtcp-cipher=aes-128-icm rtcp-auth=hmac-sha1-80 ! \
         udpsink host=127.0.0.1 port={port} sync=true",
        src.display()
    ));
    let crypto = format!(
        "a=rtpmap:0 PCMU/8000\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{}\r\n",
        base64(&key)
    );
    let s = receive_from(
        &sdp(port, "RTP/SAVP", "0", &crypto),
        &src,
        10.5,
        &mut tx,
        "gst-srtp-pcmu",
    );
    assert!(s >= PCMU_FLOOR, "PESQ {s}");
}

/// `mediacore send` over SRTP to GStreamer's srtpdec (libsrtp): `send --answer` writes our SDP
/// answer (our `a=crypto` key and `a=ssrc`, which srtpdec needs in its caps) and waits
/// `--delay` before sending, while the test starts GStreamer keyed from that answer.
#[test]
fn send_srtp_pcmu_to_gstreamer() {
    if !externals() {
        return;
    }
    let port = free_port();
    let src = speech(8000);
    let out = tmp("gst-recv-srtp-pcmu.wav");
    let theirs: Vec<u8> = (0..30u8)
        .map(|i| i.wrapping_mul(11).wrapping_add(3))
        .collect();
    let remote = sdp(
        port,
        "RTP/SAVP",
        "0",
        &format!(
            "a=rtpmap:0 PCMU/8000\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{}\r\n",
            base64(&theirs)
        ),
    );
    let sdp_path = tmp("send-srtp-remote.sdp");
    std::fs::write(&sdp_path, &remote).expect("write sdp");
    let answer = tmp("send-srtp-answer.sdp");
    let tx = spawn(
        Command::new(MEDIACORE)
            .arg("send")
            .arg("--sdp")
            .arg(&sdp_path)
            .arg("--input")
            .arg(&src)
            .arg("--answer")
            .arg(&answer)
            .args(["--delay", "2", "--duration", "8", "--json"]),
    );
    let start = Instant::now();
    let text = loop {
        let t = std::fs::read_to_string(&answer).unwrap_or_default();
        if t.contains("a=ssrc:") {
            break t;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no answer written"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let field = |prefix: &str| -> String {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .unwrap_or_else(|| panic!("{prefix} in {text}"))
            .to_string()
    };
    let ssrc: u32 = field("a=ssrc:")
        .split_whitespace()
        .next()
        .and_then(|s| s.parse().ok())
        .expect("ssrc");
    let inline = field("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:");
    let key: String = unbase64(inline.split('|').next().unwrap_or(""))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(key.len(), 60, "{text}");
    let rx = spawn(&mut gst_for(
        11,
        &format!(
            "udpsrc port={port} caps=\"application/x-srtp,media=(string)audio,\
             clock-rate=(int)8000,encoding-name=(string)PCMU,payload=(int)0,ssrc=(uint){ssrc},\
             srtp-key=(buffer){key},srtp-cipher=(string)aes-128-icm,srtp-auth=(string)hmac-sha1-80,\
             srtcp-cipher=(string)aes-128-icm,srtcp-auth=(string)hmac-sha1-80\" ! srtpdec ! \
             rtpjitterbuffer ! rtppcmudepay ! mulawdec"
        ),
        8000,
        &out,
    ));
    let report = tx.wait(Duration::from_secs(30), "mediacore send");
    rx.wait(Duration::from_secs(30), "gst srtpdec");
    let (score, len) = pesq(&src, &out);
    println!(
        "send-gst-srtp-pcmu: PESQ {score:.3}, {len:.2} s recorded; {}",
        report.trim()
    );
    assert!(len >= 7.9, "recorded {len} s");
    assert!(score >= PCMU_FLOOR, "PESQ {score}");
}
