//! Batched receive (`recvmmsg`, GRO) and send (GSO) for the driver through `quinn-udp` when
//! the feature is on, uninhabited stand-ins when it is off.

#[cfg(feature = "quinn-udp")]
pub(super) use with_quinn::{BatchRecv, BatchSend};
#[cfg(not(feature = "quinn-udp"))]
pub(super) use without::{BatchRecv, BatchSend};
#[cfg(feature = "quinn-udp")]
mod with_quinn {
    //! Batched receive through `quinn-udp` (`recvmmsg`, GRO): safe code over its unsafe core.

    use std::io::{self, IoSliceMut};
    use std::net::SocketAddr;

    use quinn_udp::{RecvMeta, Transmit, UdpSocketState, BATCH_SIZE};
    use tokio::io::Interest;
    use tokio::net::UdpSocket;

    /// Buffers and metadata for one `recvmmsg` call.
    pub(crate) struct BatchRecv {
        state: UdpSocketState,
        bufs: Vec<Vec<u8>>,
        meta: Vec<RecvMeta>,
    }

    impl BatchRecv {
        /// Sets the socket up (GRO, ECN, packet info); `None` if it refuses.
        pub(crate) fn new(socket: &UdpSocket) -> Option<Self> {
            let state = UdpSocketState::new(socket.into()).ok()?;
            // With GRO one buffer may hold several datagrams of one flow.
            let size = (state.gro_segments().max(1) * 1500).max(super::super::DATAGRAM_BUF);
            Some(Self {
                state,
                bufs: (0..BATCH_SIZE).map(|_| vec![0u8; size]).collect(),
                meta: vec![RecvMeta::default(); BATCH_SIZE],
            })
        }

        /// One `recvmmsg`; the number of buffers filled (`WouldBlock` when none).
        pub(crate) fn recv(&mut self, socket: &UdpSocket) -> io::Result<usize> {
            let mut bufs = self.bufs.iter_mut();
            let mut iovs: [IoSliceMut<'_>; BATCH_SIZE] = std::array::from_fn(|_| {
                IoSliceMut::new(bufs.next().map_or(&mut [][..], |b| &mut b[..]))
            });
            let state = &self.state;
            let meta = &mut self.meta;
            socket.try_io(Interest::READABLE, || {
                state.recv(socket.into(), &mut iovs, meta)
            })
        }

        /// Buffer `i` of the last call: sender, datagram stride (GRO) and the bytes.
        pub(crate) fn get(&mut self, i: usize) -> (SocketAddr, usize, &mut [u8]) {
            let meta = self.meta.get(i).copied().unwrap_or_default();
            let buf = self
                .bufs
                .get_mut(i)
                .and_then(|b| b.get_mut(..meta.len))
                .unwrap_or_default();
            (meta.addr, meta.stride, buf)
        }
    }

    /// Datagrams of one size (the last may be shorter) to one destination, gathered to leave
    /// in one `sendmsg` with UDP GSO (segmentation offload) where the kernel offers it.
    pub(crate) struct BatchSend {
        state: UdpSocketState,
        buf: Vec<u8>,
        destination: Option<SocketAddr>,
        segment: usize,
        count: usize,
        max_segments: usize,
        /// A shorter datagram ended the batch (GSO allows only the last one to be shorter).
        closed: bool,
    }

    impl BatchSend {
        /// `None` if the socket refuses the options or the kernel has no GSO.
        pub(crate) fn new(socket: &UdpSocket) -> Option<Self> {
            let state = UdpSocketState::new(socket.into()).ok()?;
            let max_segments = state.max_gso_segments().min(64);
            (max_segments > 1).then(|| Self {
                state,
                buf: Vec::with_capacity(64 * 1500),
                destination: None,
                segment: 0,
                count: 0,
                max_segments,
                closed: false,
            })
        }

        /// Whether `len` bytes to `destination` can join the batch (else flush first).
        pub(crate) fn fits(&self, destination: SocketAddr, len: usize) -> bool {
            self.count == 0
                || (self.destination == Some(destination)
                    && !self.closed
                    && len <= self.segment
                    && self.count < self.max_segments
                    && self.buf.len() + len <= 65_000)
        }

        /// Appends a datagram (after [`fits`](Self::fits) said yes or a flush).
        pub(crate) fn push(&mut self, destination: SocketAddr, datagram: &[u8]) {
            if self.count == 0 {
                self.destination = Some(destination);
                self.segment = datagram.len();
                self.closed = false;
                self.buf.clear();
            } else if datagram.len() < self.segment {
                self.closed = true;
            }
            self.buf.extend_from_slice(datagram);
            self.count += 1;
        }

        /// Datagrams waiting.
        pub(crate) fn len(&self) -> usize {
            self.count
        }

        /// Sends the batch (waiting for the socket to take it); the datagrams it held.
        pub(crate) async fn flush(&mut self, socket: &UdpSocket) -> (usize, io::Result<()>) {
            let count = std::mem::take(&mut self.count);
            let Some(destination) = self.destination.take().filter(|_| count > 0) else {
                return (0, Ok(()));
            };
            let transmit = Transmit {
                destination,
                ecn: None,
                contents: &self.buf,
                segment_size: (count > 1).then_some(self.segment),
                src_ip: None,
            };
            let state = &self.state;
            let r = socket
                .async_io(Interest::WRITABLE, || {
                    state.try_send(socket.into(), &transmit)
                })
                .await;
            (count, r)
        }
    }
}

#[cfg(not(feature = "quinn-udp"))]
mod without {
    //! Without the `quinn-udp` feature there is no batched receive.

    use tokio::net::UdpSocket;

    /// Never constructed.
    pub(crate) enum BatchRecv {}

    impl BatchRecv {
        pub(crate) fn new(_: &UdpSocket) -> Option<Self> {
            None
        }

        pub(crate) fn recv(&mut self, _: &UdpSocket) -> std::io::Result<usize> {
            match *self {}
        }

        pub(crate) fn get(&mut self, _: usize) -> (std::net::SocketAddr, usize, &mut [u8]) {
            match *self {}
        }
    }

    /// Never constructed.
    pub(crate) enum BatchSend {}

    impl BatchSend {
        pub(crate) fn new(_: &UdpSocket) -> Option<Self> {
            None
        }

        pub(crate) fn fits(&self, _: std::net::SocketAddr, _: usize) -> bool {
            match *self {}
        }

        pub(crate) fn push(&mut self, _: std::net::SocketAddr, _: &[u8]) {
            match *self {}
        }

        pub(crate) fn len(&self) -> usize {
            match *self {}
        }

        pub(crate) async fn flush(&mut self, _: &UdpSocket) -> (usize, std::io::Result<()>) {
            match *self {}
        }
    }
}
