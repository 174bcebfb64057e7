//! A counting global allocator proves that the jitter buffer's steady state (take_buffer,
//! insert, poll, recycle) allocates nothing, with reordering, loss, duplicates and late packets.

use rtp_core::jitter::{JitterBuffer, JitterConfig, JitterPacket, Playout};
use rtp_core::{RtpTimestamp, SeqNo, Ssrc};
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations;
use std::time::{Duration, Instant};

/// One 20 ms step: maybe send (with a pseudo-random extra delay, loss, duplicate), deliver
/// what is due, poll once.
struct Driver {
    t0: Instant,
    k: u64,
    rng: u64,
    /// (arrival µs, seq) in flight; fixed capacity, used as a small unsorted set.
    in_flight: [(u64, u64); 64],
    n: usize,
}

impl Driver {
    fn rand(&mut self) -> u64 {
        self.rng = self
            .rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.rng >> 33
    }

    fn step(&mut self, jb: &mut JitterBuffer) {
        let now_us = self.k * 20_000;
        let r = self.rand();
        if !r.is_multiple_of(20) && self.n + 2 <= self.in_flight.len() {
            let extra = self.rand() % 50_000; // 0-50 ms jitter: reorders
            self.in_flight[self.n] = (now_us + extra, self.k);
            self.n += 1;
            if r.is_multiple_of(17) {
                self.in_flight[self.n] = (now_us + extra + 5_000, self.k); // duplicate
                self.n += 1;
            }
        }
        let mut i = 0;
        while i < self.n {
            let (at, seq) = self.in_flight[i];
            if at <= now_us {
                let mut payload = jb.take_buffer();
                payload.extend_from_slice(&[0x55; 160]);
                jb.insert(
                    self.t0 + Duration::from_micros(at),
                    JitterPacket {
                        ssrc: Ssrc(9),
                        seq: SeqNo(seq as u16),
                        timestamp: RtpTimestamp((seq as u32).wrapping_mul(160)),
                        marker: false,
                        payload,
                    },
                );
                self.n -= 1;
                self.in_flight[i] = self.in_flight[self.n];
            } else {
                i += 1;
            }
        }
        if let Playout::Packet(p) = jb.poll(self.t0 + Duration::from_micros(now_us)) {
            jb.recycle(p.payload);
        }
        let _ = jb.stats();
        self.k += 1;
    }
}

#[test]
fn steady_state_allocates_nothing() {
    // The counter sees this thread's allocations.
    assert_eq!(allocations(|| drop(std::hint::black_box(vec![0u8; 64]))), 1);
    let mut jb = JitterBuffer::new(JitterConfig::new(8000)).expect("config");
    let mut d = Driver {
        t0: Instant::now(),
        k: 0,
        rng: 1,
        in_flight: [(0, 0); 64],
        n: 0,
    };
    for _ in 0..500 {
        d.step(&mut jb);
    }
    let n = allocations(|| {
        for _ in 0..5000 {
            d.step(&mut jb);
        }
    });
    let s = jb.stats();
    assert!(s.played > 4000 && s.duplicate > 100, "{s:?}");
    assert_eq!(n, 0, "{n} allocations in 5000 packets; {s:?}");
}
