//! The tokio UDP driver: one task per local socket runs one [`RtpSession`] on real sockets.
//!
//! The task owns the socket (and, without rtcp-mux, a second socket for RTCP), the session
//! and its timers. It reads datagrams (draining up to [`DriverConfig::recv_batch`] per
//! wakeup with `try_recv_from`), feeds them to the session, wakes at
//! [`RtpSession::poll_timeout`], and sends what [`RtpSession::poll_transmit`] produces.
//!
//! With the cargo feature `quinn-udp` (on by default) the task batches through the
//! `quinn-udp` crate, which keeps this crate free of `unsafe`:
//!
//! - **send**: RTP packets queued together ([`DriverHandle::send_rtp`] commands drained in
//!   one wakeup) of one size (the last may be shorter) to one destination leave in one
//!   `sendmsg` with UDP GSO (up to 64 datagrams); RTCP and lone packets go one by one.
//!   [`DriverCounters::send_batches`] counts the multi-datagram sends.
//! - **receive**: `recvmmsg` (32 buffers per call) with GRO, so a run of datagrams of one
//!   flow arrives in one buffer and is split by its stride.
//!
//! [`DriverConfig::batched_send`] and [`DriverConfig::batched_recv`] turn them off (plain
//! `tokio::net::UdpSocket` calls, one system call per datagram). Received packets go to the
//! media queue without waking the consumer per packet: one wakeup per receive batch.
//!
//! `examples/udp_pps.rs` measures the modes against raw blocking std sockets (`send_to` /
//! `recv`, one thread each) in the same run. On this project's 2-core machine shared with
//! other builds, median of 5 rounds of 200 000 datagrams of 172 bytes
//! (`cargo run --release -p rtp-core --example udp_pps -- 200000 160 5`): raw 136 kpps and
//! 137 k packets per CPU-second; the driver with GSO/GRO 1.12-1.23 Mpps (823-908% of raw)
//! and 1.15-1.22 M packets per CPU-second (840-894%); without batching 71-80% of raw
//! wall-clock and 76-88% per CPU-second (a current-thread runtime per socket is the lower
//! figure, a shared two-worker runtime the higher). Loopback GRO hands a whole GSO send
//! to the receiver as one buffer, which is where most of the gain comes from; a real peer's
//! packets arrive one by one and gain less. The kernel counts a dropped GRO buffer as one
//! `RcvbufErrors`, however many datagrams it held.
//!
//! The media layer talks to the task through three handles:
//!
//! - [`DriverHandle`]: send RTP (a bounded command queue: [`DriverHandle::send_rtp`] waits
//!   for room — backpressure — while [`DriverHandle::try_send_rtp`] fails fast and counts the
//!   rejection), read statistics, close (BYE).
//! - [`MediaReceiver`]: validated RTP packets. A bounded drop-oldest queue: when the media
//!   layer falls behind, the oldest packet is dropped (a jitter buffer prefers fresh audio)
//!   and counted in [`DriverCounters::media_dropped`].
//! - [`EventReceiver`]: [`SessionEvent`]s. Metric events (reports, estimates) beyond the
//!   capacity are dropped oldest-first and counted; state events are never dropped.
//!
//! Nothing is dropped silently: kernel-level drops aside (socket buffer overflow, visible in
//! `/proc/net/snmp` `RcvbufErrors`), every discard is a counter in [`DriverStats`].
//!
//! SRTP plugs in as a [`Transform`]: the session produces and consumes plain RTP/RTCP, and
//! the driver protects each datagram before sending and unprotects each one before
//! `handle_packet`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::net::UdpSocket;

mod batch;
mod queue;
mod task;

use queue::Queue;
use task::Task;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::rtcp::is_rtcp;
use crate::session::{Received, RtpSession, SessionEvent, SessionStats, TransmitKind};
use crate::{RtpTimestamp, SeqNo, Ssrc};

/// Datagram buffer size: a 1500-byte MTU plus room for an SRTP trailer.
const DATAGRAM_BUF: usize = 2048;

/// A transform applied to every datagram at the edge of the session (SRTP, or nothing).
pub trait Transform: Send + 'static {
    /// Protects an outgoing datagram in place: `buf[..len]` holds the plain packet; the result
    /// may grow into the rest of `buf`. Returns its length, or `None` to drop it (counted in
    /// [`DriverCounters::transform_failed`]).
    fn protect(&mut self, kind: TransmitKind, buf: &mut [u8], len: usize) -> Option<usize>;
    /// Unprotects an incoming datagram in place; returns the plain length, or `None` to drop
    /// it (authentication failure, replay; counted).
    fn unprotect(&mut self, kind: TransmitKind, buf: &mut [u8], len: usize) -> Option<usize>;
}

/// The identity transform: plain RTP.
#[derive(Debug, Clone, Copy, Default)]
pub struct Plain;

impl Transform for Plain {
    fn protect(&mut self, _: TransmitKind, _: &mut [u8], len: usize) -> Option<usize> {
        Some(len)
    }
    fn unprotect(&mut self, _: TransmitKind, _: &mut [u8], len: usize) -> Option<usize> {
        Some(len)
    }
}

/// Queue sizes and batching of a driver task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DriverConfig {
    /// Received RTP packets buffered for the media layer (drop-oldest beyond).
    pub media_queue: usize,
    /// Events buffered before metric events are dropped.
    pub event_queue: usize,
    /// Send commands buffered (senders wait, or `try_send_rtp` fails, beyond).
    pub command_queue: usize,
    /// Datagrams read per wakeup before timers and commands get a turn.
    pub recv_batch: usize,
    /// Read with `recvmmsg` (and GRO where the kernel offers it) through the `quinn-udp`
    /// crate, 32 datagrams per system call (default on). Needs the cargo feature `quinn-udp`;
    /// without it (or if the socket refuses the options) plain `recv_from` is used.
    pub batched_recv: bool,
    /// Send RTP queued together (one [`DriverHandle`] command after another) in one
    /// `sendmsg` with UDP GSO, when the packets have one size and one destination, through
    /// `quinn-udp` (default on). Needs the cargo feature `quinn-udp` and a kernel with UDP GSO; without
    /// them each packet is sent on its own. Implies [`batched_recv`](Self::batched_recv) (the
    /// socket setup turns GRO on, which only the batched reader handles).
    pub batched_send: bool,
}

impl Default for DriverConfig {
    fn default() -> Self {
        Self {
            media_queue: 512,
            event_queue: 256,
            command_queue: 256,
            recv_batch: 64,
            batched_recv: true,
            batched_send: true,
        }
    }
}

/// What went wrong talking to a driver task.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverError {
    /// The task ended (closed, or its socket failed).
    Closed,
    /// The command queue is full (only from [`DriverHandle::try_send_rtp`]; counted).
    Full,
}

impl std::fmt::Display for DriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Closed => "driver task ended",
            Self::Full => "driver command queue full",
        })
    }
}

impl std::error::Error for DriverError {}

/// An RTP packet received, validated and owned (its buffer can be handed back with
/// [`MediaReceiver::recycle`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaPacket {
    /// The source.
    pub ssrc: Ssrc,
    /// The sequence number.
    pub seq: SeqNo,
    /// The extended sequence number.
    pub extended_seq: u64,
    /// The RTP timestamp.
    pub timestamp: RtpTimestamp,
    /// The payload type.
    pub payload_type: u8,
    /// The marker bit.
    pub marker: bool,
    /// The payload type's clock rate.
    pub clock_rate: u32,
    /// When the datagram was read.
    pub arrival: Instant,
    /// First packet delivered from this source.
    pub first_of_source: bool,
    /// The payload.
    pub payload: Vec<u8>,
}

/// Counters of the driver itself (the session's are in [`SessionStats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DriverCounters {
    /// Datagrams read from the sockets.
    pub datagrams_in: u64,
    /// Datagrams sent.
    pub datagrams_out: u64,
    /// GSO sends that carried more than one datagram (batched send).
    pub send_batches: u64,
    /// Receive errors (ICMP port unreachable on Linux, ...).
    pub recv_errors: u64,
    /// Send errors.
    pub send_errors: u64,
    /// Datagrams the transform rejected (either direction).
    pub transform_failed: u64,
    /// Received packets dropped because the media queue was full (oldest first).
    pub media_dropped: u64,
    /// Metric events dropped because the event queue was full.
    pub events_dropped: u64,
    /// `try_send_rtp` calls refused because the command queue was full.
    pub commands_rejected: u64,
    /// Send commands the session refused (closed, no remote address, unknown payload type).
    pub send_rejected: u64,
}

/// A snapshot of a driver task.
#[derive(Debug, Clone, PartialEq)]
pub struct DriverStats {
    /// The session's statistics.
    pub session: SessionStats,
    /// The driver's counters.
    pub driver: DriverCounters,
}

#[derive(Debug, Default)]
struct AtomicCounters {
    datagrams_in: AtomicU64,
    datagrams_out: AtomicU64,
    send_batches: AtomicU64,
    recv_errors: AtomicU64,
    send_errors: AtomicU64,
    transform_failed: AtomicU64,
    commands_rejected: AtomicU64,
    send_rejected: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

enum Command {
    Rtp {
        payload_type: u8,
        timestamp: RtpTimestamp,
        marker: bool,
        payload: Vec<u8>,
    },
    Stats(oneshot::Sender<DriverStats>),
    SetRemote(SocketAddr, Option<SocketAddr>),
    Close,
}

/// Sends RTP through a driver task and queries it. Cloneable.
#[derive(Debug, Clone)]
pub struct DriverHandle {
    commands: mpsc::Sender<Command>,
    counters: Arc<AtomicCounters>,
    /// Payload buffers coming back from the task.
    pool: Arc<Queue<()>>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Rtp { .. } => "Rtp",
            Self::Stats(_) => "Stats",
            Self::SetRemote(..) => "SetRemote",
            Self::Close => "Close",
        })
    }
}

impl DriverHandle {
    fn command(
        &self,
        payload_type: u8,
        timestamp: RtpTimestamp,
        marker: bool,
        payload: &[u8],
    ) -> Command {
        let mut buf = self.pool.take_spare().unwrap_or_default();
        buf.extend_from_slice(payload);
        Command::Rtp {
            payload_type,
            timestamp,
            marker,
            payload: buf,
        }
    }

    /// Queues an RTP packet (`timestamp` counts from the start of the stream, as in
    /// [`RtpSession::send_rtp`]); waits while the command queue is full.
    pub async fn send_rtp(
        &self,
        payload_type: u8,
        timestamp: RtpTimestamp,
        marker: bool,
        payload: &[u8],
    ) -> Result<(), DriverError> {
        let cmd = self.command(payload_type, timestamp, marker, payload);
        self.commands
            .send(cmd)
            .await
            .map_err(|_| DriverError::Closed)
    }

    /// Queues an RTP packet without waiting; a full queue is an error (and counted).
    pub fn try_send_rtp(
        &self,
        payload_type: u8,
        timestamp: RtpTimestamp,
        marker: bool,
        payload: &[u8],
    ) -> Result<(), DriverError> {
        let cmd = self.command(payload_type, timestamp, marker, payload);
        self.commands.try_send(cmd).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => {
                bump(&self.counters.commands_rejected);
                DriverError::Full
            }
            mpsc::error::TrySendError::Closed(_) => DriverError::Closed,
        })
    }

    /// A statistics snapshot.
    pub async fn stats(&self) -> Result<DriverStats, DriverError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Stats(tx))
            .await
            .map_err(|_| DriverError::Closed)?;
        rx.await.map_err(|_| DriverError::Closed)
    }

    /// New remote addresses (a new SDP answer).
    pub async fn set_remote(
        &self,
        rtp: SocketAddr,
        rtcp: Option<SocketAddr>,
    ) -> Result<(), DriverError> {
        self.commands
            .send(Command::SetRemote(rtp, rtcp))
            .await
            .map_err(|_| DriverError::Closed)
    }

    /// Sends BYE and ends the task (the receivers then return `None`).
    pub async fn close(&self) -> Result<(), DriverError> {
        self.commands
            .send(Command::Close)
            .await
            .map_err(|_| DriverError::Closed)
    }
}

/// Receives validated RTP packets from a driver task.
#[derive(Debug)]
pub struct MediaReceiver {
    queue: Arc<Queue<MediaPacket>>,
}

impl MediaReceiver {
    /// The next packet; `None` once the task ended and the queue is empty.
    pub async fn recv(&mut self) -> Option<MediaPacket> {
        self.queue.pop().await
    }

    /// The next packet if one is queued.
    pub fn try_recv(&mut self) -> Option<MediaPacket> {
        self.queue.try_pop()
    }

    /// Hands a packet's buffer back for reuse (saves an allocation per packet).
    pub fn recycle(&self, packet: MediaPacket) {
        self.queue.give_spare(packet.payload);
    }

    /// Packets dropped so far because this receiver fell behind.
    pub fn dropped(&self) -> u64 {
        self.queue.dropped()
    }
}

/// Receives session events from a driver task.
#[derive(Debug)]
pub struct EventReceiver {
    queue: Arc<Queue<SessionEvent>>,
}

impl EventReceiver {
    /// The next event; `None` once the task ended and the queue is empty.
    pub async fn recv(&mut self) -> Option<SessionEvent> {
        self.queue.pop().await
    }

    /// The next event if one is queued.
    pub fn try_recv(&mut self) -> Option<SessionEvent> {
        self.queue.try_pop()
    }
}

/// A running driver task and its handles.
#[derive(Debug)]
pub struct Driver {
    /// Send RTP, query, close.
    pub handle: DriverHandle,
    /// Received RTP.
    pub media: MediaReceiver,
    /// Session events.
    pub events: EventReceiver,
    /// The task; it ends after `close`, when every handle is dropped, or on a socket error
    /// other than a per-datagram one.
    pub task: JoinHandle<()>,
}

/// Spawns the task for `session` on `socket` (and `rtcp_socket` without rtcp-mux) on the
/// current tokio runtime.
pub fn spawn(
    socket: UdpSocket,
    rtcp_socket: Option<UdpSocket>,
    session: RtpSession,
    config: DriverConfig,
    transform: Box<dyn Transform>,
) -> Driver {
    let (tx, rx) = mpsc::channel(config.command_queue.max(1));
    let counters = Arc::new(AtomicCounters::default());
    let media = Arc::new(Queue::new(config.media_queue));
    let events = Arc::new(Queue::new(config.event_queue));
    let pool = Arc::new(Queue::new(config.command_queue));
    let task = Task {
        socket,
        rtcp_socket,
        session,
        transform,
        commands: rx,
        counters: counters.clone(),
        media: media.clone(),
        events: events.clone(),
        pool: pool.clone(),
        recv_batch: config.recv_batch.max(1),
        batched_recv: config.batched_recv,
        batched_send: config.batched_send,
        gso: None,
        media_pushed: false,
        send_buf: vec![0; DATAGRAM_BUF],
    };
    let task = tokio::spawn(task.run());
    Driver {
        handle: DriverHandle {
            commands: tx,
            counters,
            pool,
        },
        media: MediaReceiver { queue: media },
        events: EventReceiver { queue: events },
        task,
    }
}

/// A seed source for [`RtpSession::new`] without an RNG crate: std's randomly keyed SipHash
/// over a counter. Unpredictable enough for SSRCs and timer jitter; SRTP keys must come from
/// a real CSPRNG.
pub fn std_random() -> Box<dyn crate::session::RandomSource> {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let state = RandomState::new();
    let mut counter = 0u64;
    Box::new(move || {
        counter = counter.wrapping_add(1);
        let mut h = state.build_hasher();
        h.write_u64(counter);
        (h.finish() >> 32) as u32
    })
}
