//! Event bus: events per second through publish + poll with 1 and 4 subscribers, and
//! publish-to-poll latency to a subscriber thread blocked in `wait` (measured per batch with
//! `Instant`, from the publisher's timestamp on the first event to the poll that returns it).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use media_core::events::{
    CategoryFilter, CorrelationId, Event, EventBus, EventKind, MediaEvent, QualityMetrics,
    StreamDirection,
};
use media_core::session::{HoldMode, SessionEventKind, SessionId, SessionState};
use std::hint::black_box;
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BATCH: usize = 100;

/// An audio level of session `1 + i % 10`.
fn level(i: usize, t: Instant) -> Event {
    Event::new(
        SessionId(1 + (i % 10) as u64),
        CorrelationId(i as u64),
        t,
        EventKind::Media(MediaEvent::AudioLevel {
            direction: StreamDirection::Receive,
            dbov: -(i as f32),
        }),
    )
}

/// Frame-rate traffic: 100 audio levels from 10 sessions.
fn levels(t: Instant) -> Vec<Event> {
    (0..BATCH).map(|i| level(i, t)).collect()
}

/// A mix: 80 levels, 15 quality metrics, 5 state changes.
fn mixed(t: Instant) -> Vec<Event> {
    (0..BATCH)
        .map(|i| {
            let session = SessionId(1 + (i % 10) as u64);
            let kind = match i % 20 {
                0 => EventKind::Session(SessionEventKind::StateChanged {
                    from: SessionState::Active,
                    to: SessionState::OnHold(HoldMode::SendOnly),
                }),
                1..=3 => EventKind::Quality(QualityMetrics {
                    mos: 4.1,
                    packet_loss_pct: 1.0,
                    jitter_ms: 12.0,
                    rtt_ms: Some(80.0),
                }),
                _ => EventKind::Media(MediaEvent::AudioLevel {
                    direction: StreamDirection::Send,
                    dbov: -20.0,
                }),
            };
            Event::new(session, CorrelationId(i as u64), t, kind)
        })
        .collect()
}

fn throughput(c: &mut Criterion) {
    let mut g = c.benchmark_group("events/publish_poll_x100");
    g.throughput(Throughput::Elements(BATCH as u64));
    for (name, make) in [
        ("levels", levels as fn(Instant) -> Vec<Event>),
        ("mixed", mixed),
    ] {
        for subscribers in [1usize, 4] {
            let bus = EventBus::default();
            let mut subs: Vec<_> = (0..subscribers)
                .map(|_| bus.subscribe(CategoryFilter::ALL))
                .collect();
            let events = make(Instant::now());
            g.bench_with_input(BenchmarkId::new(name, subscribers), &subscribers, |b, _| {
                b.iter(|| {
                    for e in &events {
                        let _ = black_box(bus.publish(e.clone()));
                    }
                    for s in &mut subs {
                        for e in s.poll_batch(BATCH) {
                            black_box(e);
                        }
                    }
                })
            });
        }
    }
    g.finish();
}

/// Starts a consumer thread that waits, polls a batch and sends back the latency of its
/// first event. Returns the channel of latencies and the thread.
fn consumer(
    bus: &EventBus,
    expect: usize,
) -> (mpsc::Receiver<Duration>, std::thread::JoinHandle<()>) {
    let mut sub = bus.subscribe(CategoryFilter::ALL);
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        let mut got = Vec::with_capacity(expect);
        loop {
            if !sub.wait(Duration::from_millis(200)) {
                return; // the bench is over
            }
            got.clear();
            while got.len() < expect {
                sub.poll_batch_into(expect - got.len(), &mut got);
            }
            let latency = Instant::now().saturating_duration_since(got[0].at());
            if tx.send(latency).is_err() {
                return;
            }
        }
    });
    (rx, handle)
}

fn latency(c: &mut Criterion) {
    let mut g = c.benchmark_group("events/latency_cross_thread");
    for batch in [1usize, 10] {
        let bus = EventBus::default();
        let (rx, handle) = consumer(&bus, batch);
        g.bench_function(BenchmarkId::new("publish_to_poll", batch), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let now = Instant::now();
                    for i in 0..batch {
                        let _ = bus.publish(level(i, now));
                    }
                    total += rx.recv().unwrap_or_default();
                }
                total
            })
        });
        drop(rx);
        let _ = handle.join();

        // Percentiles over a fixed sample, for the report.
        let (rx, handle) = consumer(&bus, batch);
        let mut samples: Vec<Duration> = (0..2000)
            .map(|_| {
                let now = Instant::now();
                for i in 0..batch {
                    let _ = bus.publish(level(i, now));
                }
                rx.recv().unwrap_or_default()
            })
            .collect();
        drop(rx);
        let _ = handle.join();
        samples.sort_unstable();
        let pct = |p: usize| samples[(samples.len() - 1) * p / 100];
        println!(
            "events/latency_cross_thread batch {batch}: p50 {:?} p90 {:?} p99 {:?} max {:?} (2000 batches)",
            pct(50),
            pct(90),
            pct(99),
            pct(100)
        );
    }
    g.finish();
}

criterion_group!(benches, throughput, latency);
criterion_main!(benches);
