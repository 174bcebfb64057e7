//! The task that owns the socket and the session: receives datagrams (in batches), runs the
//! session's timers and commands, and sends what the session produces.

use super::*;

pub(super) struct Task {
    pub(super) socket: UdpSocket,
    pub(super) rtcp_socket: Option<UdpSocket>,
    pub(super) session: RtpSession,
    pub(super) transform: Box<dyn Transform>,
    pub(super) commands: mpsc::Receiver<Command>,
    pub(super) counters: Arc<AtomicCounters>,
    pub(super) media: Arc<Queue<MediaPacket>>,
    pub(super) events: Arc<Queue<SessionEvent>>,
    pub(super) pool: Arc<Queue<()>>,
    pub(super) recv_batch: usize,
    pub(super) batched_recv: bool,
    pub(super) batched_send: bool,
    /// RTP gathered for one GSO send.
    pub(super) gso: Option<batch::BatchSend>,
    /// Packets were queued for the media layer without waking it yet.
    pub(super) media_pushed: bool,
    pub(super) send_buf: Vec<u8>,
}

impl Task {
    pub(super) async fn run(mut self) {
        let mut rtp_buf = vec![0u8; DATAGRAM_BUF];
        let mut rtcp_buf = vec![0u8; DATAGRAM_BUF];
        // One timer, re-armed only when the deadline moves (registering a new timer on every
        // wakeup costs more than the rest of a small packet's path).
        let far = || tokio::time::Instant::now() + std::time::Duration::from_secs(3600);
        let sleep = tokio::time::sleep_until(far());
        tokio::pin!(sleep);
        let mut armed: Option<Instant> = None;
        if self.batched_send {
            self.gso = batch::BatchSend::new(&self.socket);
        }
        // quinn-udp's socket setup turns GRO on, and a GRO socket must be read by the
        // GRO-aware batched reader (a plain read would keep only the first datagram of a
        // coalesced run): batched send implies batched receive.
        let mut batch = (self.batched_recv || self.gso.is_some())
            .then(|| batch::BatchRecv::new(&self.socket))
            .flatten();
        let batched = batch.is_some();
        loop {
            let deadline = self.session.poll_timeout();
            if deadline != armed {
                armed = deadline;
                let at = deadline.map_or_else(far, tokio::time::Instant::from_std);
                sleep.as_mut().reset(at);
            }
            let has_rtcp = self.rtcp_socket.is_some();
            let rtcp_socket = self.rtcp_socket.as_ref();
            tokio::select! {
                biased;
                cmd = self.commands.recv() => match cmd {
                    Some(cmd) => {
                        if !self.on_command(cmd).await {
                            break;
                        }
                        // Drain what else is queued before polling the sockets again.
                        for _ in 0..self.recv_batch {
                            match self.commands.try_recv() {
                                Ok(cmd) => if !self.on_command(cmd).await { return self.finish().await },
                                Err(_) => break,
                            }
                        }
                        self.flush_gso().await;
                    }
                    None => {
                        self.session.close();
                        self.flush().await;
                        break;
                    }
                },
                r = self.socket.recv_from(&mut rtp_buf), if !batched => {
                    self.on_recv(r, &mut rtp_buf, false);
                    for _ in 1..self.recv_batch {
                        match self.socket.try_recv_from(&mut rtp_buf) {
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                            r => self.on_recv(r, &mut rtp_buf, false),
                        }
                    }
                }
                r = self.socket.readable(), if batched => {
                    match r {
                        Ok(()) => self.recv_batched(&mut batch),
                        Err(_) => bump(&self.counters.recv_errors),
                    }
                }
                r = async { match rtcp_socket { Some(s) => s.recv_from(&mut rtcp_buf).await, None => std::future::pending().await } }, if has_rtcp => {
                    self.on_recv(r, &mut rtcp_buf, true);
                }
                () = &mut sleep, if deadline.is_some() => {
                    armed = None;
                    self.session.handle_timeout(Instant::now());
                }
            }
            self.flush().await;
            if std::mem::take(&mut self.media_pushed) {
                self.media.wake();
            }
            if self.session.is_closed() {
                break;
            }
        }
        self.finish().await;
    }

    /// Drains the socket with `recvmmsg` (up to `recv_batch` datagrams).
    fn recv_batched(&mut self, batch: &mut Option<batch::BatchRecv>) {
        let Some(batch) = batch.as_mut() else {
            return;
        };
        let mut got = 0;
        // One clock read per system call: the datagrams of a batch arrived together.
        while got < self.recv_batch {
            let n = match batch.recv(&self.socket) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    bump(&self.counters.recv_errors);
                    break;
                }
            };
            let now = Instant::now();
            for i in 0..n {
                let (from, stride, buf) = batch.get(i);
                for datagram in buf.chunks_mut(stride.max(1)) {
                    self.on_datagram(now, from, datagram, false);
                    got += 1;
                }
            }
            if n == 0 {
                break;
            }
        }
    }

    async fn finish(&mut self) {
        self.flush_gso().await;
        self.flush().await;
        self.media.wake();
        self.media.close();
        self.events.close();
    }

    /// Handles one command; `false` ends the task.
    async fn on_command(&mut self, cmd: Command) -> bool {
        match cmd {
            Command::Rtp {
                payload_type,
                timestamp,
                marker,
                payload,
            } => {
                let now = Instant::now();
                let sent = self.session.send_rtp(
                    now,
                    payload_type,
                    timestamp,
                    marker,
                    &payload,
                    &mut self.send_buf,
                );
                let target = sent.map(|t| (t.destination, t.contents.len()));
                self.pool.give_spare(payload);
                match target {
                    Ok((dest, len)) => self.send_rtp(dest, len).await,
                    Err(_) => bump(&self.counters.send_rejected),
                }
                true
            }
            Command::Stats(reply) => {
                let _ = reply.send(self.stats());
                true
            }
            Command::SetRemote(rtp, rtcp) => {
                self.session.set_remote(rtp, rtcp);
                true
            }
            Command::Close => {
                self.flush_gso().await;
                self.session.close();
                self.flush().await;
                false
            }
        }
    }

    fn stats(&self) -> DriverStats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        DriverStats {
            session: self.session.stats(),
            driver: DriverCounters {
                datagrams_in: get(&c.datagrams_in),
                datagrams_out: get(&c.datagrams_out),
                send_batches: get(&c.send_batches),
                recv_errors: get(&c.recv_errors),
                send_errors: get(&c.send_errors),
                transform_failed: get(&c.transform_failed),
                media_dropped: self.media.dropped(),
                events_dropped: self.events.dropped(),
                commands_rejected: get(&c.commands_rejected),
                send_rejected: get(&c.send_rejected),
            },
        }
    }

    fn on_recv(
        &mut self,
        r: std::io::Result<(usize, SocketAddr)>,
        buf: &mut [u8],
        rtcp_port: bool,
    ) {
        let (len, from) = match r {
            Ok(x) => x,
            Err(_) => {
                bump(&self.counters.recv_errors);
                return;
            }
        };
        if let Some(datagram) = buf.get_mut(..len) {
            self.on_datagram(Instant::now(), from, datagram, rtcp_port);
        }
    }

    /// One datagram read from a socket (`rtcp_port`: the separate RTCP socket).
    fn on_datagram(
        &mut self,
        now: Instant,
        from: SocketAddr,
        datagram: &mut [u8],
        rtcp_port: bool,
    ) {
        bump(&self.counters.datagrams_in);
        let len = datagram.len();
        let kind = if rtcp_port || is_rtcp(datagram) {
            TransmitKind::Rtcp
        } else {
            TransmitKind::Rtp
        };
        let Some(len) = self.transform.unprotect(kind, datagram, len) else {
            bump(&self.counters.transform_failed);
            return;
        };
        let plain = datagram.get(..len).unwrap_or_default();
        // Errors (malformed datagrams) are counted by the session.
        if let Ok(Some(Received::Rtp(rtp))) = self.session.handle_packet(now, from, plain) {
            let p = rtp.packet;
            let mut payload = self.media.take_spare().unwrap_or_default();
            payload.extend_from_slice(p.payload());
            let packet = MediaPacket {
                ssrc: p.ssrc(),
                seq: p.sequence_number(),
                extended_seq: rtp.extended_seq,
                timestamp: p.timestamp(),
                payload_type: p.payload_type(),
                marker: p.marker(),
                clock_rate: rtp.clock_rate,
                arrival: now,
                first_of_source: rtp.first_of_source,
                payload,
            };
            if let Some(old) = self.media.push_quiet(packet, |_| true) {
                self.media.give_spare(old.payload);
            }
            self.media_pushed = true;
        }
    }

    /// Sends RTCP and events the session has pending.
    async fn flush(&mut self) {
        let now = Instant::now();
        while let Some(t) = self.session.poll_transmit(now) {
            let (dest, kind, len) = (t.destination, t.kind, t.contents.len());
            match self.send_buf.get_mut(..len) {
                Some(dst) => dst.copy_from_slice(t.contents),
                None => continue,
            }
            self.send(kind, dest, len).await;
        }
        while let Some(event) = self.session.poll_event() {
            self.events.push(event, SessionEvent::is_metric);
        }
    }

    /// Protects the RTP packet in `send_buf[..len]` and sends it, or adds it to the GSO batch.
    async fn send_rtp(&mut self, dest: SocketAddr, len: usize) {
        if self.gso.is_none() {
            return self.send(TransmitKind::Rtp, dest, len).await;
        }
        let Some(len) = self
            .transform
            .protect(TransmitKind::Rtp, &mut self.send_buf, len)
        else {
            bump(&self.counters.transform_failed);
            return;
        };
        if self.gso.as_ref().is_some_and(|g| !g.fits(dest, len)) {
            self.flush_gso().await;
        }
        if let (Some(gso), Some(bytes)) = (self.gso.as_mut(), self.send_buf.get(..len)) {
            gso.push(dest, bytes);
        }
    }

    /// Sends the RTP gathered for GSO, if any.
    async fn flush_gso(&mut self) {
        let Some(gso) = self.gso.as_mut().filter(|g| g.len() > 0) else {
            return;
        };
        let (count, result) = gso.flush(&self.socket).await;
        if count > 1 && result.is_ok() {
            bump(&self.counters.send_batches);
        }
        let counter = match result {
            Ok(()) => &self.counters.datagrams_out,
            Err(_) => &self.counters.send_errors,
        };
        counter.fetch_add(count as u64, Ordering::Relaxed);
    }

    /// Protects `send_buf[..len]` and sends it on the socket for `kind`.
    async fn send(&mut self, kind: TransmitKind, dest: SocketAddr, len: usize) {
        // Keep the order of what was queued before.
        self.flush_gso().await;
        let Some(len) = self.transform.protect(kind, &mut self.send_buf, len) else {
            bump(&self.counters.transform_failed);
            return;
        };
        let socket = match (kind, &self.rtcp_socket) {
            (TransmitKind::Rtcp, Some(s)) => s,
            _ => &self.socket,
        };
        let bytes = self.send_buf.get(..len).unwrap_or_default();
        match socket.send_to(bytes, dest).await {
            Ok(_) => bump(&self.counters.datagrams_out),
            Err(_) => bump(&self.counters.send_errors),
        }
    }
}
