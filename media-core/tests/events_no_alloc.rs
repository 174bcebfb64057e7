//! A counting global allocator proves that steady-state publish and poll on the event bus
//! allocate nothing, including the overflow paths (Normal drop-oldest, Low coalescing) and
//! fan-out to several subscribers. Only allocations on the measuring thread are counted, so
//! the test harness's own threads cannot disturb the count.

use media_core::events::{
    Category, CategoryFilter, CorrelationId, Event, EventBus, EventBusConfig, EventKind,
    MediaEvent, QualityMetrics, StreamDirection,
};
use media_core::session::{SessionEventKind, SessionId, SessionState};
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations;
use std::time::Instant;

fn round(bus: &EventBus, t: Instant, i: u64) {
    let session = SessionId(1 + i % 3);
    let high = EventKind::Session(SessionEventKind::StateChanged {
        from: SessionState::Active,
        to: SessionState::Paused,
    });
    bus.publish(Event::new(session, CorrelationId(i), t, high))
        .unwrap();
    for k in 0..20 {
        let level = EventKind::Media(MediaEvent::AudioLevel {
            direction: StreamDirection::Send,
            dbov: -(k as f32),
        });
        bus.publish(Event::new(session, CorrelationId(i), t, level))
            .unwrap();
    }
    for k in 0..10u64 {
        let metrics = EventKind::Quality(QualityMetrics {
            mos: 4.0,
            ..QualityMetrics::default()
        });
        bus.publish(Event::new(SessionId(k % 2), CorrelationId(i), t, metrics))
            .unwrap();
    }
}

#[test]
fn publish_and_poll_do_not_allocate_in_steady_state() {
    let bus = EventBus::new(EventBusConfig {
        high_capacity: 64,
        normal_capacity: 16,
        low_capacity: 8,
    });
    let mut all = bus.subscribe(CategoryFilter::ALL);
    let mut media = bus.subscribe(Category::Media);
    let mut into = Vec::with_capacity(64);
    let t = Instant::now();
    let mut polled = 0;
    let mut run = |from: u64, to: u64, polled: &mut usize| {
        for i in from..to {
            round(&bus, t, i);
            *polled += all.poll_batch(usize::MAX).count();
            into.clear();
            *polled += media.poll_batch_into(64, &mut into);
        }
    };
    // Warm up: queues and batch buffers grow to their high-water marks.
    run(0, 10, &mut polled);
    let n = allocations(|| run(10, 1010, &mut polled));
    assert_eq!(n, 0, "{n} allocations in 1000 rounds");
    let m = bus.metrics();
    assert!(m.normal.dropped > 0 && m.low.coalesced > 0, "{m:?}");
    assert!(polled > 1000 * 20);
}
