//! The call path allocates nothing in steady state (DESIGN principle 3): two controllers
//! exchange RTP (with loss, so concealment runs) and RTCP under a counting allocator.

use media_core::integration::session_core::MediaSessionController;
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations;
#[path = "common/virtual_call.rs"]
mod virtual_call;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use virtual_call::controller;

/// Runs `seconds` of a call; returns this thread's allocations during it.
#[allow(clippy::too_many_arguments)]
fn run(
    a: &mut MediaSessionController,
    b: &mut MediaSessionController,
    addrs: (SocketAddr, SocketAddr),
    t: &mut Instant,
    ms: u64,
    n: &mut u64,
    buf: &mut [u8],
    pcm: &mut [i16],
) -> usize {
    allocations(|| {
        for _ in 0..ms / 10 {
            let now = *t;
            for (i, s) in pcm.iter_mut().enumerate() {
                *s = (((*n as usize * 80 + i) as f64 * 0.07).sin() * 8000.0) as i16;
            }
            for (from, to) in [(0, 1), (1, 0)] {
                let (src, dst) = if from == 0 {
                    (&mut *a, &mut *b)
                } else {
                    (&mut *b, &mut *a)
                };
                let k = src.frame_samples();
                src.push_capture_frame(now, &pcm[..k]);
                let k = src.pull_playout_frame(now, &mut pcm[..k]);
                assert!(k > 0);
                if src.poll_timeout().is_some_and(|d| d <= now) {
                    src.handle_timeout(now);
                }
                while let Some((_, len)) = src.poll_transmit(now, buf) {
                    *n += 1;
                    // Every 10th datagram is lost.
                    if !(*n).is_multiple_of(10) {
                        let from_addr = if to == 1 { addrs.0 } else { addrs.1 };
                        dst.handle_datagram(now, from_addr, &buf[..len]);
                    }
                }
                while src.poll_event().is_some() {}
            }
            *t += Duration::from_millis(10);
        }
    })
}

fn steady_state_allocations(codec: &str, srtp: bool) -> usize {
    let a_addr: SocketAddr = "10.0.0.1:4000".parse().unwrap();
    let b_addr: SocketAddr = "10.0.0.2:5000".parse().unwrap();
    let mut a = controller(a_addr, codec, srtp, 1);
    let mut b = controller(b_addr, codec, srtp, 2);
    let mut t = Instant::now();
    let offer = a.create_offer();
    let answer = b.accept_offer(t, offer.as_bytes()).unwrap();
    a.apply_answer(t, answer.as_bytes()).unwrap();
    a.start(t).unwrap();
    b.start(t).unwrap();
    let mut buf = vec![0u8; 2048];
    let mut pcm = vec![0i16; 960];
    let mut n = 0;
    // Warm up: sources validated, first reports exchanged, buffers grown.
    run(
        &mut a,
        &mut b,
        (a_addr, b_addr),
        &mut t,
        20_000,
        &mut n,
        &mut buf,
        &mut pcm,
    );
    let allocs = run(
        &mut a,
        &mut b,
        (a_addr, b_addr),
        &mut t,
        30_000,
        &mut n,
        &mut buf,
        &mut pcm,
    );
    assert!(b.stats().unwrap().packets_concealed > 100);
    assert!(b.stats().unwrap().packets_received > 2000);
    allocs
}

#[test]
fn call_path_does_not_allocate_in_steady_state() {
    // The counter sees this thread's allocations.
    assert_eq!(allocations(|| drop(std::hint::black_box(vec![0u8; 64]))), 1);
    let mut cases = vec![("pcmu", false), ("pcmu", true), ("g722", false)];
    // Opus: the adaptation policy and the quality metrics run on every report and frame
    // (libopus's own C allocations are not counted here; tests/opus_alloc.rs does that).
    if cfg!(feature = "opus") {
        cases.push(("opus", false));
    }
    for (codec, srtp) in cases {
        let n = steady_state_allocations(codec, srtp);
        assert_eq!(
            n, 0,
            "{codec} srtp {srtp}: {n} allocations in 30 s of steady state"
        );
    }
}
