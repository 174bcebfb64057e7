//! `mediacore send` / `mediacore receive`: one-way RTP with a peer described by one SDP file.
//!
//! The SDP file is handed to the controller as the remote *offer* (`accept_offer`), with its
//! direction rewritten: for `send` the peer only receives (`a=recvonly`), for `receive` it only
//! sends (`a=sendonly`). The controller then picks the first codec of the file it supports,
//! takes the SRTP key of its `a=crypto` line for the peer's stream (what `receive` decrypts) and
//! streams or plays out exactly as in a call (jitter buffer, concealment, Opus FEC). For
//! `receive` the m= port is the port we bind; the peer's address is unknown, so RTCP goes to
//! the discard port until the first packet arrives (the controller latches symmetric RTP).

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use media_core::codec::CodecRegistry;
use media_core::integration::sdp::SrtpPolicy;
use media_core::integration::session_core::{ControllerConfig, MediaSessionController};
use media_core::processing::format::resampler::resample_all;
use media_core::session::config::JitterDelay;
use media_core::wav::{write_wav, WavAudio};

/// Rewrites the SDP's direction attributes to `dir`, and the m= port to `port` if given.
fn rewrite(sdp: &str, dir: &str, port: Option<u16>) -> String {
    let mut out = String::new();
    for line in sdp.lines() {
        let l = line.trim_end();
        if matches!(l, "a=sendrecv" | "a=sendonly" | "a=recvonly" | "a=inactive") {
            continue;
        }
        if let (Some(p), Some(rest)) = (port, l.strip_prefix("m=audio ")) {
            let tail = rest.split_once(' ').map_or("", |(_, t)| t);
            out.push_str(&format!("m=audio {p} {tail}\r\n"));
            continue;
        }
        out.push_str(l);
        out.push_str("\r\n");
        if l.starts_with("m=") {
            out.push_str(&format!("a={dir}\r\n"));
        }
    }
    out
}

fn m_port(sdp: &str) -> Result<u16, String> {
    sdp.lines()
        .find_map(|l| l.trim().strip_prefix("m=audio "))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| "SDP has no m=audio line with a port".to_string())
}

/// The controller for `sdp` (accepted as the remote offer, started) and our answer.
fn controller(
    socket: &UdpSocket,
    sdp: &str,
    now: Instant,
) -> Result<(MediaSessionController, String), String> {
    let local = socket.local_addr().map_err(|e| e.to_string())?;
    let mut cfg = ControllerConfig::new(local);
    cfg.srtp = if sdp.contains("RTP/SAVP") {
        SrtpPolicy::Required
    } else {
        SrtpPolicy::Disabled
    };
    cfg.cname = format!("mediacore@{local}");
    // A recorder, not an interactive call: hold at least 80 ms against the sender's jitter
    // (ffmpeg's `-re` sends in bursts of its demuxer's packets; 60 ms ran dry now and then).
    cfg.jitter = JitterDelay {
        min_ms: 80,
        max_ms: 300,
    };
    let mut ctl = MediaSessionController::new(
        CodecRegistry::with_builtin(),
        cfg,
        crate::call::os_random()?,
    )
    .map_err(|e| e.to_string())?;
    let answer = ctl
        .accept_offer(now, sdp.as_bytes())
        .map_err(|e| format!("SDP: {e}"))?;
    ctl.start(now).map_err(|e| e.to_string())?;
    Ok((ctl, answer))
}

/// One report line (or JSON object) of statistics.
fn report(ctl: &MediaSessionController, what: &str, json: bool, extra: serde_json::Value) {
    let Some(s) = ctl.stats() else { return };
    if json {
        let mut v = serde_json::json!({
            "mode": what,
            "codec": s.codec,
            "packets_sent": s.counters.audio_packets_sent,
            "packets_received": s.packets_received,
            "packets_lost": s.packets_lost,
            "packets_concealed": s.packets_concealed,
            "fec_recovered": s.fec_recovered,
            "late": s.late,
            "discarded": s.discarded,
            "expanded": s.counters.expanded,
            "accelerated": s.counters.accelerated,
            "preemptive_expanded": s.counters.preemptive_expanded,
            "underflow": s.counters.concealed_underflow,
            "silence_frames": s.counters.silence,
            "jb_target_ms": (s.jitter_buffer_target_ms * 10.0).round() / 10.0,
            "jitter_ms": (s.jitter_ms * 100.0).round() / 100.0,
            "srtp_failures": s.counters.srtp_failures,
        });
        if let (Some(o), serde_json::Value::Object(e)) = (v.as_object_mut(), extra) {
            o.extend(e);
        }
        println!("{v}");
    } else {
        println!(
            "{what} {}: sent {}, received {}, lost {}, concealed {}, FEC recovered {}, jitter {:.1} ms",
            s.codec,
            s.counters.audio_packets_sent,
            s.packets_received,
            s.packets_lost,
            s.packets_concealed,
            s.fec_recovered,
            s.jitter_ms
        );
    }
}

fn io(ctl: &mut MediaSessionController, socket: &UdpSocket, now: Instant, buf: &mut [u8]) {
    loop {
        match socket.recv_from(buf) {
            Ok((n, from)) => ctl.handle_datagram(now, from, &buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {}
            Err(_) => break,
        }
    }
    if ctl.poll_timeout().is_some_and(|t| t <= now) {
        ctl.handle_timeout(now);
    }
    while ctl.poll_event().is_some() {}
}

fn flush(ctl: &mut MediaSessionController, socket: &UdpSocket, now: Instant, buf: &mut [u8]) {
    while let Some((to, len)) = ctl.poll_transmit(now, buf) {
        let _ = socket.send_to(&buf[..len], to);
    }
}

fn sleep_until(due: Instant) -> Instant {
    let wall = Instant::now();
    if due > wall {
        std::thread::sleep(due - wall);
    }
    Instant::now()
}

/// Options of `mediacore send` besides the SDP and the input.
#[derive(Debug, Clone)]
pub struct SendOptions {
    /// Seconds to send (default: the input's length).
    pub duration: Option<f64>,
    /// Local UDP port (0: any).
    pub local_port: u16,
    /// Where to write our SDP answer (with `a=ssrc:`) before sending.
    pub answer: Option<PathBuf>,
    /// Seconds to wait after writing the answer.
    pub delay: f64,
    /// JSON report.
    pub json: bool,
}

/// `mediacore send`.
pub fn send(sdp_path: &Path, input: &str, opts: SendOptions) -> Result<(), String> {
    let SendOptions {
        duration,
        local_port,
        answer,
        delay,
        json,
    } = opts;
    if !(delay.is_finite() && (0.0..=3600.0).contains(&delay)) {
        return Err(format!(
            "--delay {delay} is not a number of seconds in 0..=3600"
        ));
    }
    let sdp =
        std::fs::read_to_string(sdp_path).map_err(|e| format!("{}: {e}", sdp_path.display()))?;
    let sdp = rewrite(&sdp, "recvonly", None);
    let socket = UdpSocket::bind(("127.0.0.1", local_port))
        .map_err(|e| format!("bind 127.0.0.1:{local_port}: {e}"))?;
    socket.set_nonblocking(true).map_err(|e| e.to_string())?;
    let (mut ctl, our_answer) = controller(&socket, &sdp, Instant::now())?;
    if let Some(path) = &answer {
        // The answer's only media section is last: our SSRC (RFC 5576) goes at the end.
        let ssrc = ctl.adapter().map_or(0, |a| a.ssrc().0);
        let local = socket.local_addr().map_err(|e| e.to_string())?;
        let text = format!("{our_answer}a=ssrc:{ssrc} cname:mediacore@{local}\r\n");
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    std::thread::sleep(Duration::from_secs_f64(delay));
    let t0 = Instant::now();
    let input_audio = crate::input::load(input)?;
    let ch_in = usize::from(input_audio.channels.max(1));
    let mono: Vec<i16> = input_audio
        .samples
        .chunks(ch_in)
        .map(|c| (c.iter().map(|&s| i32::from(s)).sum::<i32>() / c.len() as i32) as i16)
        .collect();
    let duration = duration.unwrap_or(input_audio.duration_secs());
    if !(duration > 0.0 && duration <= 24.0 * 3600.0) {
        return Err(format!(
            "--duration {duration} is not a positive number of seconds"
        ));
    }
    let format = ctl.audio_format().ok_or("no audio format negotiated")?;
    let rate = format.sample_rate.0;
    let ch = usize::from(format.channels.max(1));
    let source = resample_all(&mono, input_audio.sample_rate, rate, 1)
        .map_err(|e| format!("{input}: {e}"))?;
    if source.is_empty() {
        return Err(format!("{input}: no audio"));
    }
    let frame = ctl.frame_samples();
    let per_channel = frame / ch;
    let ticks = (duration * 100.0).ceil() as u64;
    let mut capture = vec![0i16; frame];
    let mut buf = vec![0u8; 4096];
    let mut now = t0;
    for tick in 0..ticks {
        now = sleep_until(t0 + Duration::from_millis(10 * tick));
        io(&mut ctl, &socket, now, &mut buf);
        let start = tick as usize * per_channel;
        for i in 0..per_channel {
            let s = source[(start + i) % source.len()];
            capture[i * ch..(i + 1) * ch].fill(s);
        }
        ctl.push_capture_frame(now, &capture);
        flush(&mut ctl, &socket, now, &mut buf);
    }
    report(
        &ctl,
        "send",
        json,
        serde_json::json!({ "duration_s": duration }),
    );
    let _ = ctl.stop(now);
    flush(&mut ctl, &socket, now, &mut buf);
    Ok(())
}

/// `mediacore receive`.
pub fn receive(sdp_path: &Path, output: &Path, duration: f64, json: bool) -> Result<(), String> {
    if !(duration > 0.0 && duration <= 24.0 * 3600.0) {
        return Err(format!(
            "--duration {duration} is not a positive number of seconds"
        ));
    }
    let sdp =
        std::fs::read_to_string(sdp_path).map_err(|e| format!("{}: {e}", sdp_path.display()))?;
    let port = m_port(&sdp)?;
    let socket =
        UdpSocket::bind(("127.0.0.1", port)).map_err(|e| format!("bind 127.0.0.1:{port}: {e}"))?;
    socket.set_nonblocking(true).map_err(|e| e.to_string())?;
    // The peer's address is not in the file: RTCP goes to the discard port until RTP arrives.
    let sdp = rewrite(&sdp, "sendonly", Some(9));
    let t0 = Instant::now();
    let (mut ctl, _) = controller(&socket, &sdp, t0)?;
    let format = ctl.audio_format().ok_or("no audio format negotiated")?;
    let rate = format.sample_rate.0;
    let ch = usize::from(format.channels.max(1));
    let frame = ctl.frame_samples();
    let ticks = (duration * 100.0).ceil() as u64;
    let mut recorded: Vec<i16> = Vec::with_capacity(ticks as usize * frame / ch);
    let mut playout = vec![0i16; frame];
    let mut buf = vec![0u8; 4096];
    let mut now = t0;
    for tick in 0..ticks {
        now = sleep_until(t0 + Duration::from_millis(10 * tick));
        io(&mut ctl, &socket, now, &mut buf);
        let n = ctl.pull_playout_frame(now, &mut playout);
        recorded.extend(playout[..n].chunks(ch).map(|c| c[0]));
        flush(&mut ctl, &socket, now, &mut buf);
    }
    report(
        &ctl,
        "receive",
        json,
        serde_json::json!({ "duration_s": duration, "rate": rate }),
    );
    let _ = ctl.stop(now);
    flush(&mut ctl, &socket, now, &mut buf);
    write_wav(
        output,
        &WavAudio {
            sample_rate: rate,
            channels: 1,
            samples: recorded,
        },
    )
    .map_err(|e| format!("{}: {e}", output.display()))
}
