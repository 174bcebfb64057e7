//! Loopback UDP packets per second: the tokio driver (two `RtpSession` tasks, RTP written by
//! one session and validated by the other, delivered to a consumer task) against raw std
//! sockets (one thread blocking in `send_to`, one in `recv`), in the same run.
//!
//! ```sh
//! cargo run --release -p rtp-core --example udp_pps -- [packets] [payload-bytes] [rounds]
//! ```
//!
//! Each round sends `packets` (default 200000) datagrams of 12 + `payload` (default 160:
//! 20 ms PCMU) bytes as fast as the sender can, and counts what the receiver got between
//! the first send and the last receive. Kernel drops (receive buffer overflow) are read from
//! `/proc/net/snmp` (`Udp: RcvbufErrors`, machine-wide) and printed beside each figure.
//!
//! Two figures per run: wall-clock packets per second delivered, and packets delivered per
//! CPU-second of this process (user + system, from `/proc/self/stat`), which stays meaningful
//! when other processes share the cores.

use std::net::UdpSocket as StdSocket;
use std::time::{Duration, Instant};

use rtp_core::driver::{self, DriverConfig, Plain};
use rtp_core::session::{RtpSession, SessionConfig};
use rtp_core::RtpTimestamp;

/// `Udp: RcvbufErrors` from /proc/net/snmp (0 where unavailable).
fn rcvbuf_errors() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/net/snmp") else {
        return 0;
    };
    let mut lines = text.lines().filter(|l| l.starts_with("Udp:"));
    let (Some(head), Some(vals)) = (lines.next(), lines.next()) else {
        return 0;
    };
    head.split_whitespace()
        .zip(vals.split_whitespace())
        .find(|(h, _)| *h == "RcvbufErrors")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
}

/// CPU time (user + system, all threads) of this process so far, from /proc/self/stat.
fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // Clock ticks are 1/100 s on Linux (USER_HZ).
    Duration::from_millis(10 * (ticks(11) + ticks(12)))
}

struct Run {
    /// CPU time the run consumed (user + system).
    cpu: Duration,
    received: u64,
    elapsed: Duration,
    kernel_drops: u64,
    queue_drops: u64,
}

impl Run {
    fn pps(&self) -> f64 {
        self.received as f64 / self.elapsed.as_secs_f64()
    }

    /// Packets delivered per CPU-second: the cost measure that holds on a shared machine.
    fn per_cpu(&self) -> f64 {
        self.received as f64 / self.cpu.as_secs_f64().max(1e-3)
    }
}

fn raw(packets: u64, payload: usize) -> std::io::Result<Run> {
    let rx = StdSocket::bind("127.0.0.1:0")?;
    let tx = StdSocket::bind("127.0.0.1:0")?;
    let dest = rx.local_addr()?;
    rx.set_read_timeout(Some(Duration::from_millis(300)))?;
    let drops0 = rcvbuf_errors();
    let cpu0 = cpu_time();
    let start = Instant::now();
    let receiver = std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        let mut n = 0u64;
        let mut last = Instant::now();
        while n < packets {
            match rx.recv(&mut buf) {
                Ok(_) => {
                    n += 1;
                    last = Instant::now();
                }
                Err(_) => break,
            }
        }
        (n, last)
    });
    let mut datagram = vec![0x80u8; 12 + payload];
    for i in 0..packets {
        datagram[2..4].copy_from_slice(&(i as u16).to_be_bytes());
        tx.send_to(&datagram, dest)?;
    }
    let (received, last) = receiver
        .join()
        .map_err(|_| std::io::Error::other("receiver panicked"))?;
    Ok(Run {
        cpu: cpu_time().saturating_sub(cpu0),
        received,
        elapsed: last.saturating_duration_since(start),
        kernel_drops: rcvbuf_errors() - drops0,
        queue_drops: 0,
    })
}

fn session(remote: std::net::SocketAddr) -> std::io::Result<RtpSession> {
    let mut c = SessionConfig::new("pps@127.0.0.1", &[(0, 8000)]);
    c.remote_rtp = Some(remote);
    c.probation = 0;
    RtpSession::new(c, Instant::now(), driver::std_random())
        .map_err(|e| std::io::Error::other(e.to_string()))
}

fn config(batched: bool) -> DriverConfig {
    DriverConfig {
        media_queue: 4096,
        batched_recv: batched,
        batched_send: batched,
        ..DriverConfig::default()
    }
}

/// The sending side: a task writing `packets` payloads through driver A.
async fn send_side(
    sa: std::net::UdpSocket,
    remote: std::net::SocketAddr,
    packets: u64,
    payload: usize,
    batched: bool,
) -> std::io::Result<()> {
    let sa = tokio::net::UdpSocket::from_std(sa)?;
    let a = driver::spawn(sa, None, session(remote)?, config(batched), Box::new(Plain));
    let body = vec![0xD5u8; payload];
    for i in 0..packets {
        a.handle
            .send_rtp(0, RtpTimestamp(i as u32 * 160), false, &body)
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?;
    }
    let _ = a.handle.close().await;
    let _ = a.task.await;
    Ok(())
}

/// The receiving side: driver B and a consumer task; returns (delivered, last arrival,
/// queue drops).
async fn receive_side(
    sb: std::net::UdpSocket,
    remote: std::net::SocketAddr,
    packets: u64,
    batched: bool,
) -> std::io::Result<(u64, Instant, u64)> {
    let sb = tokio::net::UdpSocket::from_std(sb)?;
    let mut b = driver::spawn(sb, None, session(remote)?, config(batched), Box::new(Plain));
    let mut n = 0u64;
    let mut last = Instant::now();
    while n < packets {
        match tokio::time::timeout(Duration::from_millis(300), b.media.recv()).await {
            Ok(Some(p)) => {
                n += 1;
                last = Instant::now();
                b.media.recycle(p);
            }
            _ => break,
        }
    }
    let stats = b
        .handle
        .stats()
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let _ = b.handle.close().await;
    Ok((n, last, stats.driver.media_dropped))
}

fn sockets() -> std::io::Result<(StdSocket, StdSocket)> {
    let sa = StdSocket::bind("127.0.0.1:0")?;
    let sb = StdSocket::bind("127.0.0.1:0")?;
    sa.set_nonblocking(true)?;
    sb.set_nonblocking(true)?;
    Ok((sa, sb))
}

/// Both sides on one multi-thread runtime with two workers.
fn driver_shared(packets: u64, payload: usize, batched: bool) -> std::io::Result<Run> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (sa, sb) = sockets()?;
    let (aa, ab) = (sa.local_addr()?, sb.local_addr()?);
    let drops0 = rcvbuf_errors();
    let cpu0 = cpu_time();
    let start = Instant::now();
    let (n, last, queue_drops) = runtime.block_on(async move {
        let rx = tokio::spawn(receive_side(sb, aa, packets, batched));
        send_side(sa, ab, packets, payload, batched).await?;
        rx.await.map_err(std::io::Error::other)?
    })?;
    Ok(Run {
        cpu: cpu_time().saturating_sub(cpu0),
        received: n,
        elapsed: last.saturating_duration_since(start),
        kernel_drops: rcvbuf_errors() - drops0,
        queue_drops,
    })
}

/// Each side on its own current-thread runtime in its own thread (thread per socket, as the
/// raw benchmark has a thread per socket).
fn driver_per_thread(packets: u64, payload: usize, batched: bool) -> std::io::Result<Run> {
    let (sa, sb) = sockets()?;
    let (aa, ab) = (sa.local_addr()?, sb.local_addr()?);
    let drops0 = rcvbuf_errors();
    let cpu0 = cpu_time();
    let start = Instant::now();
    let receiver = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(receive_side(sb, aa, packets, batched))
    });
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(send_side(sa, ab, packets, payload, batched))?;
    let (n, last, queue_drops) = receiver
        .join()
        .map_err(|_| std::io::Error::other("receiver panicked"))??;
    Ok(Run {
        cpu: cpu_time().saturating_sub(cpu0),
        received: n,
        elapsed: last.saturating_duration_since(start),
        kernel_drops: rcvbuf_errors() - drops0,
        queue_drops,
    })
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let packets: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let payload: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(160);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    println!(
        "{packets} datagrams of {} bytes per round, {rounds} rounds, loopback",
        12 + payload
    );
    let show = |name: &str, r: &Run, raw: &Run| {
        println!(
            "  {name:<36} {:>7.0} pps {:>4.0}% | {:>7.0} pkt/CPU-s {:>4.0}% | {} delivered, \
             {} kernel drops, {} queue drops",
            r.pps(),
            100.0 * r.pps() / raw.pps(),
            r.per_cpu(),
            100.0 * r.per_cpu() / raw.per_cpu(),
            r.received,
            r.kernel_drops,
            r.queue_drops,
        );
    };
    // Modes: (label, threads-per-side, batched send and receive). Batching (GSO send,
    // recvmmsg + GRO receive) needs the `quinn-udp` feature.
    let mut modes = vec![
        ("driver, current-thread rt per side", true, false),
        ("driver, multi-thread rt (2 workers)", false, false),
    ];
    if cfg!(feature = "quinn-udp") {
        modes.push(("driver + GSO/GRO, rt per side", true, true));
        modes.push(("driver + GSO/GRO, multi-thread rt", false, true));
    }
    // UDP_PPS_ONLY=text keeps the driver modes whose label contains it (for profiling).
    if let Ok(only) = std::env::var("UDP_PPS_ONLY") {
        modes.retain(|(label, _, _)| label.contains(only.as_str()));
    }
    let mut pps = vec![Vec::new(); modes.len() + 1];
    let mut per_cpu = vec![Vec::new(); modes.len() + 1];
    for round in 1..=rounds {
        println!("round {round}");
        let r = raw(packets, payload)?;
        show("raw std sockets, 2 threads", &r, &r);
        pps[0].push(r.pps());
        per_cpu[0].push(r.per_cpu());
        for (i, &(label, per_thread, batched)) in modes.iter().enumerate() {
            let d = if per_thread {
                driver_per_thread(packets, payload, batched)?
            } else {
                driver_shared(packets, payload, batched)?
            };
            show(label, &d, &r);
            pps[i + 1].push(d.pps());
            per_cpu[i + 1].push(d.per_cpu());
        }
    }
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    println!("median of {rounds} rounds (pps, pkt/CPU-s, each as % of raw sendto/recv):");
    let (raw_pps, raw_cpu) = (median(&pps[0]), median(&per_cpu[0]));
    println!(
        "  {:<36} {raw_pps:>8.0} pps        {raw_cpu:>8.0} pkt/CPU-s",
        "raw std sockets"
    );
    for (i, (label, _, _)) in modes.iter().enumerate() {
        let (p, c) = (median(&pps[i + 1]), median(&per_cpu[i + 1]));
        println!(
            "  {label:<36} {p:>8.0} pps {:>4.0}%  {c:>8.0} pkt/CPU-s {:>4.0}%",
            100.0 * p / raw_pps,
            100.0 * c / raw_cpu
        );
    }
    Ok(())
}
