//! G.722 and Opus over RTP with GStreamer and ffmpeg, both ways, through `mediacore send` and
//! `mediacore receive` (see `interop.rs` for what the tests need).

#[path = "common/interop.rs"]
mod common;

use common::*;
use std::process::Command;

/// GStreamer sends G.722 (avenc_g722) and Opus (opusenc, 20 ms) to `mediacore receive`: the
/// recordings have the right length and a sane wideband PESQ.
#[test]
fn gstreamer_sends_g722_and_opus_to_receive() {
    if !externals() {
        return;
    }
    for (name, rate, enc, media, map) in [
        (
            "g722",
            16000,
            "avenc_g722 ! rtpg722pay min-ptime=20000000 max-ptime=20000000",
            "9",
            "a=rtpmap:9 G722/8000\r\n",
        ),
        (
            "opus",
            48000,
            "opusenc frame-size=20 ! rtpopuspay pt=111",
            "111",
            "a=rtpmap:111 opus/48000/2\r\n",
        ),
    ] {
        let port = free_port();
        let src = speech(16000);
        let mut tx = gst(&format!(
            "filesrc location={} ! wavparse ! audioconvert ! audioresample ! \
             audio/x-raw,rate={rate},channels=1 ! {enc} ! \
             udpsink host=127.0.0.1 port={port} sync=true",
            src.display()
        ));
        let s = receive_from(
            &sdp(port, "RTP/AVP", media, map),
            &src,
            9.0,
            &mut tx,
            &format!("gst-{name}"),
        );
        assert!(s >= 3.0, "{name}: PESQ {s}");
    }
}

/// `mediacore send` G.722 and Opus to GStreamer (rtpg722depay ! avdec_g722, rtpopusdepay !
/// opusdec): the recordings have the right length and a sane wideband PESQ.
#[test]
fn send_g722_and_opus_to_gstreamer() {
    if !externals() {
        return;
    }
    for (name, caps, dec, media, map) in [
        (
            "g722",
            "clock-rate=8000,encoding-name=G722,payload=9",
            "rtpg722depay ! avdec_g722",
            "9",
            "a=rtpmap:9 G722/8000\r\n",
        ),
        (
            "opus",
            "clock-rate=48000,encoding-name=OPUS,payload=111",
            "rtpopusdepay ! opusdec",
            "111",
            "a=rtpmap:111 opus/48000/2\r\n",
        ),
    ] {
        let port = free_port();
        let src = speech(16000);
        let out = tmp(&format!("gst-recv-{name}.wav"));
        let mut rx = gst_for(
            11,
            &format!(
                "udpsrc port={port} caps=application/x-rtp,media=audio,{caps} ! \
                 rtpjitterbuffer ! {dec} ! audioconvert ! audioresample ! \
                 audio/x-raw,format=S16LE,rate=16000,channels=1"
            ),
            16000,
            &out,
        );
        let s = send_to(
            &sdp(port, "RTP/AVP", media, map),
            &src,
            &mut rx,
            &out,
            &format!("send-gst-{name}"),
        );
        assert!(s >= 3.0, "{name}: PESQ {s}");
    }
}

/// ffmpeg sends G.722 (static PT 9) and Opus (libopus, dynamic PT 111) to `mediacore receive`
/// with `-re` pacing: the recordings have the right length and a sane wideband PESQ.
#[test]
fn ffmpeg_sends_g722_and_opus_to_receive() {
    if !externals() {
        return;
    }
    for (name, codec, media, map) in [
        (
            "g722",
            &["-ar", "16000", "-c:a", "g722", "-packetsize", "172"][..],
            "9",
            "a=rtpmap:9 G722/8000\r\n",
        ),
        (
            "opus",
            &[
                "-ar",
                "48000",
                "-c:a",
                "libopus",
                "-b:a",
                "32k",
                "-frame_duration",
                "20",
                "-payload_type",
                "111",
            ][..],
            "111",
            "a=rtpmap:111 opus/48000/2\r\n",
        ),
    ] {
        let port = free_port();
        let src = speech(16000);
        let mut tx = Command::new("ffmpeg");
        // Small WAV demuxer packets (1024 bytes, its least: 32 ms) keep `-re`'s bursts short.
        tx.args([
            "-nostdin",
            "-loglevel",
            "error",
            "-max_size",
            "1024",
            "-re",
            "-i",
        ])
        .arg(&src)
        .args(["-ac", "1"])
        .args(codec)
        .args(["-f", "rtp"])
        .arg(format!("rtp://127.0.0.1:{port}"));
        let s = receive_from(
            &sdp(port, "RTP/AVP", media, map),
            &src,
            9.0,
            &mut tx,
            &format!("ffmpeg-{name}"),
        );
        assert!(s >= 3.0, "{name}: PESQ {s}");
    }
}

/// `mediacore send` G.722 and Opus to ffmpeg (reading the same SDP): the recordings have the
/// right length and a sane wideband PESQ.
#[test]
fn send_g722_and_opus_to_ffmpeg() {
    if !externals() {
        return;
    }
    for (name, media, map) in [
        ("g722", "9", "a=rtpmap:9 G722/8000\r\n"),
        ("opus", "111", "a=rtpmap:111 opus/48000/2\r\n"),
    ] {
        let port = free_port();
        let src = speech(16000);
        let out = tmp(&format!("ffmpeg-recv-{name}.wav"));
        let remote = sdp(port, "RTP/AVP", media, map);
        let recv_sdp = tmp(&format!("ffmpeg-recv-{name}.sdp"));
        std::fs::write(&recv_sdp, &remote).expect("write sdp");
        let mut rx = Command::new("timeout");
        rx.args(["20", "ffmpeg", "-nostdin", "-loglevel", "error", "-y"])
            .args(["-protocol_whitelist", "file,udp,rtp", "-i"])
            .arg(&recv_sdp)
            .args(["-t", "8.5", "-ar", "16000", "-ac", "1", "-c:a", "pcm_s16le"])
            .arg(&out);
        let s = send_to(&remote, &src, &mut rx, &out, &format!("send-ffmpeg-{name}"));
        assert!(s >= 3.0, "{name}: PESQ {s}");
    }
}
