//! Batched receive for the driver: `recvmmsg` (and GRO) through `quinn-udp` when the
//! feature is on, an uninhabited stand-in when it is off.

#[cfg(feature = "quinn-udp")]
pub(super) use with_quinn::BatchRecv;
#[cfg(not(feature = "quinn-udp"))]
pub(super) use without::BatchRecv;
#[cfg(feature = "quinn-udp")]
mod with_quinn {
    //! Batched receive through `quinn-udp` (`recvmmsg`, GRO): safe code over its unsafe core.

    use std::io::{self, IoSliceMut};
    use std::net::SocketAddr;

    use quinn_udp::{RecvMeta, UdpSocketState, BATCH_SIZE};
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
}
