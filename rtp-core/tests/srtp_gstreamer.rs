//! Interoperability with libsrtp, through GStreamer's `srtpenc` / `srtpdec`
//! (gstreamer1.0-plugins-bad), over UDP on 127.0.0.1, for every profile:
//!
//! - GStreamer encrypts a PCMU stream (sequence numbers wrapping past 65535) and we decrypt
//!   every packet; the payloads must equal the µ-law bytes GStreamer wrote beside it.
//! - We encrypt a PCMU stream and `srtpdec ! rtppcmudepay ! filesink` must write our payloads.
//! - SRTCP both ways: GStreamer encrypts RTCP we send it in the clear and we decrypt it;
//!   GStreamer decrypts SRTCP we send and returns it in the clear.
//!
//! Without `gst-launch-1.0` (or its srtp plugin) the tests fail, unless
//! `MEDIA_CORE_SKIP_EXTERNAL=1`. Every child process is bounded by a deadline and killed.

use rtp_core::rtcp::{
    CompoundWriter, NtpTime, ReportBlock, SdesItem, SdesWriteChunk, SdesWriter, SenderInfo,
    SenderReportWriter,
};
use rtp_core::srtp::{SrtpProfile, SrtpSession};
use rtp_core::{RtpPacket, RtpTimestamp, RtpWriter, SeqNo, Ssrc};
use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
#[path = "common/gstreamer.rs"]
mod gstreamer;
use gstreamer::gstreamer_present;

const SSRC: u32 = 0x1234_5678;
const MASTER_KEY: [u8; 16] = [
    0xE1, 0xF9, 0x7A, 0x0D, 0x3E, 0x01, 0x8B, 0xE0, 0xD6, 0x4F, 0xA3, 0x2C, 0x06, 0xDE, 0x41, 0x39,
];
const MASTER_SALT: [u8; 14] = [
    0x0E, 0xC6, 0x75, 0xAD, 0x49, 0x8A, 0xFE, 0xEB, 0xB6, 0x96, 0x0B, 0x3A, 0xAB, 0xE6,
];
/// Packets per stream; the first sequence number makes the stream wrap past 65535.
const PACKETS: usize = 50;
const FIRST_SEQ: u16 = 65_510;

/// GStreamer's names for a profile: (rtp cipher, rtp auth, rtcp cipher, rtcp auth).
fn gst_names(profile: SrtpProfile) -> (&'static str, &'static str, &'static str, &'static str) {
    match profile {
        SrtpProfile::AesCm128HmacSha1_80 => {
            ("aes-128-icm", "hmac-sha1-80", "aes-128-icm", "hmac-sha1-80")
        }
        SrtpProfile::AesCm128HmacSha1_32 => {
            ("aes-128-icm", "hmac-sha1-32", "aes-128-icm", "hmac-sha1-80")
        }
        SrtpProfile::AeadAes128Gcm => ("aes-128-gcm", "null", "aes-128-gcm", "null"),
        _ => unreachable!("a profile this test does not know"),
    }
}

fn key_hex(profile: SrtpProfile) -> String {
    MASTER_KEY
        .iter()
        .chain(&MASTER_SALT[..profile.master_salt_len()])
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn session(profile: SrtpProfile) -> SrtpSession {
    SrtpSession::new(
        profile,
        &MASTER_KEY,
        &MASTER_SALT[..profile.master_salt_len()],
    )
    .expect("test key lengths fit the profile")
}

/// srtpenc properties for `profile`.
fn srtpenc_props(profile: SrtpProfile) -> String {
    let (rc, ra, cc, ca) = gst_names(profile);
    format!(
        "key={} rtp-cipher={rc} rtp-auth={ra} rtcp-cipher={cc} rtcp-auth={ca}",
        key_hex(profile)
    )
}

/// The caps fields srtpdec reads the key from.
fn srtpdec_caps(profile: SrtpProfile) -> String {
    let (rc, ra, cc, ca) = gst_names(profile);
    format!(
        "ssrc=(uint){SSRC},srtp-key=(buffer){},srtp-cipher=(string){rc},srtp-auth=(string){ra},\
         srtcp-cipher=(string){cc},srtcp-auth=(string){ca},roc=(uint)0",
        key_hex(profile)
    )
}

/// A scratch directory for one test and profile.
fn scratch(name: &str, profile: SrtpProfile) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "rtp-core-srtp-gst-{}-{name}-{}",
        std::process::id(),
        profile.sdes_name()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch directory");
    dir
}

/// A loopback port free a moment ago (for a udpsrc to bind).
fn free_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind loopback");
    s.local_addr().expect("local address").port()
}

/// A gst-launch-1.0 child, killed when dropped.
struct Gst {
    child: std::process::Child,
    lines: mpsc::Receiver<String>,
}

impl Gst {
    /// Starts `gst-launch-1.0` with the pipeline description split on whitespace (caps
    /// strings must not contain spaces).
    fn launch(pipeline: &str) -> Self {
        let mut child = Command::new("gst-launch-1.0")
            .args(pipeline.split_whitespace())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn gst-launch-1.0");
        let (tx, lines) = mpsc::channel();
        for out in [
            child
                .stdout
                .take()
                .map(|o| Box::new(o) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|e| Box::new(e) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        Self { child, lines }
    }

    /// Waits until the pipeline says it is playing (its sockets are bound by then).
    fn wait_playing(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains("Setting pipeline to PLAYING") => {
                    // Let the state change finish.
                    std::thread::sleep(Duration::from_millis(200));
                    return;
                }
                Ok(line) => seen.push(line),
                Err(_) => break,
            }
        }
        panic!("gst-launch-1.0 did not start playing: {seen:?}");
    }

    /// Waits (bounded) for the process to exit by itself, e.g. after EOS, so that
    /// its file sinks are flushed and closed.
    fn wait_exit(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.exited() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the process has exited.
    fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Everything it printed so far (for failure messages).
    fn output(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }
}

impl Drop for Gst {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Receives datagrams until `done` says enough, the sender exited and went quiet, or the
/// deadline passes.
fn receive(
    socket: &UdpSocket,
    gst: &mut Gst,
    deadline: Duration,
    mut done: impl FnMut(&[u8]) -> bool,
) {
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("socket timeout");
    let end = Instant::now() + deadline;
    let mut quiet_since_exit = 0;
    let mut buf = [0u8; 2048];
    while Instant::now() < end {
        match socket.recv(&mut buf) {
            Ok(n) => {
                if done(&buf[..n]) {
                    return;
                }
            }
            Err(_) if gst.exited() => {
                quiet_since_exit += 1;
                if quiet_since_exit > 5 {
                    return;
                }
            }
            Err(_) => {}
        }
    }
}

#[test]
fn gstreamer_encrypts_srtp_we_decrypt() {
    if !gstreamer_present("srtpenc", "gstreamer1.0-tools gstreamer1.0-plugins-bad") {
        return;
    }
    for profile in SrtpProfile::ALL {
        let dir = scratch("enc", profile);
        let reference = dir.join("ref.ul");
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind loopback");
        let port = socket.local_addr().expect("address").port();
        let mut gst = Gst::launch(&format!(
            "-q audiotestsrc num-buffers={PACKETS} samplesperbuffer=160 wave=sine freq=700 \
             ! audio/x-raw,rate=8000,channels=1 ! mulawenc ! tee name=t \
             t. ! queue ! filesink location={} buffer-mode=unbuffered \
             t. ! queue ! rtppcmupay ssrc={SSRC} seqnum-offset={FIRST_SEQ} \
             ! srtpenc {} ! udpsink host=127.0.0.1 port={port} sync=false",
            reference.display(),
            srtpenc_props(profile)
        ));
        let mut rx = session(profile);
        let mut payloads = Vec::new();
        let mut seqs = Vec::new();
        receive(&socket, &mut gst, Duration::from_secs(20), |datagram| {
            assert_eq!(datagram.len(), 172 + profile.rtp_tag_len());
            let mut buf = datagram.to_vec();
            let n = rx
                .unprotect_rtp(&mut buf)
                .unwrap_or_else(|e| panic!("{profile}: unprotect failed: {e}"));
            let p = RtpPacket::parse(&buf[..n]).expect("decrypted RTP parses");
            assert_eq!(p.ssrc(), Ssrc(SSRC));
            seqs.push(p.sequence_number().0);
            payloads.extend_from_slice(p.payload());
            seqs.len() == PACKETS
        });
        // The reference file is complete only once the pipeline reached EOS and exited.
        gst.wait_exit(Duration::from_secs(10));
        let out = gst.output();
        drop(gst);
        assert_eq!(
            seqs.len(),
            PACKETS,
            "{profile}: packets received; gst said {out:?}"
        );
        let want: Vec<u16> = (0..PACKETS as u16)
            .map(|i| FIRST_SEQ.wrapping_add(i))
            .collect();
        assert_eq!(seqs, want, "{profile}: sequence numbers");
        assert_eq!(rx.roc(Ssrc(SSRC)), Some(1), "{profile}: wrapped once");
        let reference = std::fs::read(&reference).expect("GStreamer's reference µ-law file");
        assert_eq!(reference.len(), PACKETS * 160);
        assert!(
            payloads == reference,
            "{profile}: payloads differ from the reference"
        );
        assert_eq!(rx.stats().rtp_unprotected, PACKETS as u64);
        let _ = std::fs::remove_dir_all(&dir);
        eprintln!("{profile}: libsrtp -> rtp-core: {PACKETS} SRTP packets decrypted, ROC 0 -> 1");
    }
}

/// The payload of our packet `i`: a pattern no two packets share.
fn our_payload(i: usize) -> Vec<u8> {
    (0..160).map(|j| (i * 7 + j * 13) as u8).collect()
}

#[test]
fn we_encrypt_srtp_gstreamer_decrypts() {
    if !gstreamer_present("srtpenc", "gstreamer1.0-tools gstreamer1.0-plugins-bad") {
        return;
    }
    for profile in SrtpProfile::ALL {
        let dir = scratch("dec", profile);
        let output = dir.join("out.ul");
        let port = free_port();
        let mut gst = Gst::launch(&format!(
            "udpsrc address=127.0.0.1 port={port} \
             caps=application/x-srtp,media=(string)audio,clock-rate=(int)8000,\
             encoding-name=(string)PCMU,payload=(int)0,{} \
             ! srtpdec ! rtppcmudepay ! filesink location={} buffer-mode=unbuffered",
            srtpdec_caps(profile),
            output.display()
        ));
        gst.wait_playing(Duration::from_secs(10));

        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind loopback");
        let mut tx = session(profile);
        let mut want = Vec::new();
        for i in 0..PACKETS {
            let payload = our_payload(i);
            let seq = FIRST_SEQ.wrapping_add(i as u16);
            let mut buf = [0u8; 256];
            let w = RtpWriter::new(
                0,
                SeqNo(seq),
                RtpTimestamp(160 * i as u32),
                Ssrc(SSRC),
                &payload,
            );
            let len = w.write(&mut buf).expect("write RTP");
            let n = tx.protect_rtp(&mut buf, len).expect("protect");
            socket
                .send_to(&buf[..n], ("127.0.0.1", port))
                .expect("send to loopback");
            want.extend_from_slice(&payload);
            std::thread::sleep(Duration::from_millis(2));
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut got = Vec::new();
        while Instant::now() < deadline {
            got = std::fs::read(&output).unwrap_or_default();
            if got.len() >= want.len() || gst.exited() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let out = gst.output();
        drop(gst);
        assert_eq!(
            got.len(),
            want.len(),
            "{profile}: bytes depayloaded; gst said {out:?}"
        );
        assert!(
            got == want,
            "{profile}: depayloaded bytes differ from what we sent"
        );
        let _ = std::fs::remove_dir_all(&dir);
        eprintln!("{profile}: rtp-core -> libsrtp: {PACKETS} SRTP packets decrypted, ROC 0 -> 1");
    }
}

/// An SR (with one report block) and SDES CNAME from `SSRC`, numbered `i`.
fn rtcp_packet(i: u32, buf: &mut [u8]) -> usize {
    let info = SenderInfo {
        ntp_time: NtpTime::from_parts(0xE5B1_0000 + i, 0x8000_0000),
        rtp_timestamp: RtpTimestamp(160 * i),
        packet_count: i,
        octet_count: 160 * i,
    };
    let block = ReportBlock {
        ssrc: Ssrc(0xABCD_0000 + i),
        fraction_lost: 3,
        cumulative_lost: 17,
        extended_highest_seq: 0x0001_1267,
        jitter: 42,
        last_sr: 0xB123_4000,
        delay_since_last_sr: 0x8000,
    };
    let items = [SdesItem::cname(b"rtp-core@127.0.0.1")];
    let chunks = [SdesWriteChunk {
        ssrc: Ssrc(SSRC),
        items: &items,
    }];
    let mut w = CompoundWriter::new(buf);
    w.push(&SenderReportWriter::new(Ssrc(SSRC), info, &[block]))
        .and_then(|w| w.push(&SdesWriter { chunks: &chunks }))
        .expect("write RTCP");
    w.len()
}

#[test]
fn srtcp_both_ways_through_gstreamer() {
    if !gstreamer_present("srtpenc", "gstreamer1.0-tools gstreamer1.0-plugins-bad") {
        return;
    }
    const DATAGRAMS: u32 = 10;
    for profile in SrtpProfile::ALL {
        // GStreamer encrypts what arrives on `enc_in` and sends it to `from_enc`; it decrypts
        // what arrives on `dec_in` and sends it to `from_dec`.
        let (enc_in, dec_in) = (free_port(), free_port());
        let from_enc = UdpSocket::bind("127.0.0.1:0").expect("bind loopback");
        let from_dec = UdpSocket::bind("127.0.0.1:0").expect("bind loopback");
        let mut gst = Gst::launch(&format!(
            "srtpenc name=enc {} srtpdec name=dec \
             udpsrc address=127.0.0.1 port={enc_in} caps=application/x-rtcp ! enc.rtcp_sink_0 \
             enc.rtcp_src_0 ! udpsink host=127.0.0.1 port={} sync=false async=false \
             udpsrc address=127.0.0.1 port={dec_in} caps=application/x-srtcp,{} ! dec.rtcp_sink \
             dec.rtcp_src ! udpsink host=127.0.0.1 port={} sync=false async=false",
            srtpenc_props(profile),
            from_enc.local_addr().expect("address").port(),
            srtpdec_caps(profile),
            from_dec.local_addr().expect("address").port(),
        ));
        gst.wait_playing(Duration::from_secs(10));

        let sender = UdpSocket::bind("127.0.0.1:0").expect("bind loopback");
        let mut tx = session(profile);
        let mut rx = session(profile);
        for i in 0..DATAGRAMS {
            let mut buf = [0u8; 512];
            let len = rtcp_packet(i, &mut buf);
            let plain = buf[..len].to_vec();

            // Clear to GStreamer; SRTCP back, which we decrypt.
            sender.send_to(&plain, ("127.0.0.1", enc_in)).expect("send");
            let mut got = None;
            receive(&from_enc, &mut gst, Duration::from_secs(5), |d| {
                got = Some(d.to_vec());
                true
            });
            let mut srtcp = got.unwrap_or_else(|| {
                panic!(
                    "{profile}: no SRTCP from srtpenc; gst said {:?}",
                    gst.output()
                )
            });
            assert_eq!(srtcp.len(), len + profile.rtcp_overhead(), "{profile}");
            let n = rx
                .unprotect_rtcp(&mut srtcp)
                .unwrap_or_else(|e| panic!("{profile}: unprotect SRTCP failed: {e}"));
            assert!(
                srtcp[..n] == plain[..],
                "{profile}: SRTCP {i} decrypted wrong"
            );

            // SRTCP to GStreamer; clear back.
            let n = tx.protect_rtcp(&mut buf, len).expect("protect RTCP");
            sender
                .send_to(&buf[..n], ("127.0.0.1", dec_in))
                .expect("send");
            let mut got = None;
            receive(&from_dec, &mut gst, Duration::from_secs(5), |d| {
                got = Some(d.to_vec());
                true
            });
            let clear = got.unwrap_or_else(|| {
                panic!(
                    "{profile}: nothing from srtpdec; gst said {:?}",
                    gst.output()
                )
            });
            assert!(
                clear == plain,
                "{profile}: srtpdec returned other bytes for {i}"
            );
        }
        assert_eq!(rx.stats().rtcp_unprotected, u64::from(DATAGRAMS));
        drop(gst);
        eprintln!("{profile}: SRTCP both ways: {DATAGRAMS} datagrams each");
    }
}
