//! Event bus tests: the overflow policy of each priority, ordering, filtering, correlation,
//! fan-out, metrics, and the thread and async edges.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::*;
use crate::session::{HoldMode, SessionEventKind, SessionState};

fn bus(high: usize, normal: usize, low: usize) -> EventBus {
    EventBus::new(EventBusConfig {
        high_capacity: high,
        normal_capacity: normal,
        low_capacity: low,
    })
}

fn state_changed(session: u64, corr: u64, t: Instant) -> Event {
    Event::new(
        SessionId(session),
        CorrelationId(corr),
        t,
        EventKind::Session(SessionEventKind::StateChanged {
            from: SessionState::Active,
            to: SessionState::OnHold(HoldMode::Inactive),
        }),
    )
}

fn level(session: u64, dbov: f32, t: Instant) -> Event {
    Event::new(
        SessionId(session),
        CorrelationId(0),
        t,
        EventKind::Media(MediaEvent::AudioLevel {
            direction: StreamDirection::Receive,
            dbov,
        }),
    )
}

fn quality(session: u64, mos: f32, t: Instant) -> Event {
    Event::new(
        SessionId(session),
        CorrelationId(0),
        t,
        EventKind::Quality(QualityMetrics {
            mos,
            ..QualityMetrics::default()
        }),
    )
}

fn drain(sub: &mut Subscriber) -> Vec<Event> {
    sub.poll_batch(usize::MAX).collect()
}

fn correlations(events: &[Event]) -> Vec<u64> {
    events.iter().map(|e| e.correlation().0).collect()
}

#[test]
fn high_is_never_dropped_under_a_flood() {
    let t = Instant::now();
    let bus = bus(8, 4, 4);
    let mut sub = bus.subscribe(CategoryFilter::ALL);
    let mut refused = Vec::new();
    for i in 0..100 {
        // Normal and Low floods alongside must not push High out.
        bus.publish(level(1, -(i as f32), t)).unwrap();
        bus.publish(quality(1, 4.0, t)).unwrap();
        if let Err(e) = bus.publish(state_changed(1, i, t)) {
            assert!(matches!(
                e,
                PublishError::Backpressure {
                    capacity: 8,
                    subscriber,
                    ..
                } if subscriber == sub.id()
            ));
            refused.push(e.into_event());
        }
    }
    assert_eq!(refused.len(), 92);
    let m = bus.metrics();
    assert_eq!(
        (m.high.published, m.high.rejected, m.high.dropped),
        (8, 92, 0)
    );
    assert_eq!(m.high.high_water, 8);
    // The publisher still holds every refused event intact; retried as the consumer
    // drains, all 100 arrive, in order.
    let mut got = Vec::new();
    let mut retry = refused.into_iter().peekable();
    loop {
        let batch: Vec<Event> = sub.poll_batch(8).collect();
        if batch.is_empty() && retry.peek().is_none() {
            break;
        }
        got.extend(batch.into_iter().filter(|e| e.priority() == Priority::High));
        while let Some(e) = retry.peek().cloned() {
            if bus.publish(e).is_err() {
                break;
            }
            retry.next();
        }
    }
    assert_eq!(correlations(&got), (0..100).collect::<Vec<_>>());
    assert_eq!(bus.metrics().high.delivered, 100);
    assert_eq!(bus.metrics().high.dropped, 0);
}

#[test]
fn high_is_all_or_nothing_across_subscribers() {
    let t = Instant::now();
    let bus = bus(2, 4, 4);
    let mut slow = bus.subscribe(Category::Session);
    let mut fast = bus.subscribe(Category::Session);
    for i in 0..2 {
        bus.publish(state_changed(1, i, t)).unwrap();
    }
    drain(&mut fast);
    let e = bus.publish(state_changed(1, 2, t)).unwrap_err();
    assert!(matches!(e, PublishError::Backpressure { subscriber, .. } if subscriber == slow.id()));
    assert!(e.to_string().contains("high-priority events waiting"));
    assert_eq!(
        fast.pending(),
        0,
        "the fast subscriber must not get it either"
    );
    drain(&mut slow);
    bus.publish(e.into_event()).unwrap();
    assert_eq!(correlations(&drain(&mut fast)), [2]);
    assert_eq!(correlations(&drain(&mut slow)), [2]);
}

#[test]
fn low_is_coalesced_per_session_and_metric_and_counted() {
    let t = Instant::now();
    let bus = bus(4, 4, 4);
    let mut sub = bus.subscribe(CategoryFilter::ALL);
    // Session 2 reports once, session 1 floods.
    bus.publish(quality(2, 3.0, t)).unwrap();
    for i in 0..10 {
        bus.publish(quality(1, i as f32, t)).unwrap();
    }
    let m = bus.metrics().low;
    assert_eq!((m.published, m.dropped), (11, 0));
    assert!(m.coalesced > 0);
    assert_eq!(
        m.enqueued,
        m.delivered + m.coalesced + m.dropped + m.queued as u64
    );
    let got = drain(&mut sub);
    // Session 2's only value survives; session 1's newest value survives, and what is
    // left is in publication order.
    assert_eq!(got[0].session(), SessionId(2));
    let last = got.last().map(|e| e.kind().clone());
    assert_eq!(
        last,
        Some(EventKind::Quality(QualityMetrics {
            mos: 9.0,
            ..QualityMetrics::default()
        }))
    );
    assert!(got.windows(2).all(|w| w[0].seq() < w[1].seq()));
    assert!(got.len() <= 4);
    let m = bus.metrics().low;
    assert_eq!(m.coalesced + got.len() as u64, 11);

    // Distinct keys cannot coalesce: the oldest is dropped, and counted.
    for s in 10..16 {
        bus.publish(quality(s, 1.0, t)).unwrap();
    }
    let got = drain(&mut sub);
    assert_eq!(
        got.iter().map(|e| e.session().0).collect::<Vec<_>>(),
        [12, 13, 14, 15]
    );
    assert_eq!(bus.metrics().low.dropped, 2);
}

#[test]
fn coalescing_keys_include_the_device() {
    let t = Instant::now();
    let bus = bus(4, 4, 2);
    let mut sub = bus.subscribe(Category::Device);
    let dev = DeviceEventPublisher::new(&bus, SessionId::ENGINE, CorrelationId(1));
    let stats = |d, underruns| DeviceStats {
        device: DeviceId(d),
        overruns: 0,
        underruns,
        latency_ms: 20,
    };
    dev.stats(t, stats(1, 1)).unwrap();
    dev.stats(t, stats(2, 1)).unwrap();
    dev.stats(t, stats(1, 2)).unwrap();
    let got: Vec<_> = drain(&mut sub).into_iter().map(Event::into_kind).collect();
    assert_eq!(
        got,
        [
            EventKind::Device(DeviceEvent::Stats(stats(2, 1))),
            EventKind::Device(DeviceEvent::Stats(stats(1, 2)))
        ]
    );
}

#[test]
fn normal_drops_oldest_and_counts() {
    let t = Instant::now();
    let bus = bus(4, 3, 4);
    let mut sub = bus.subscribe(Category::Media);
    for i in 0..10 {
        bus.publish(level(1, i as f32, t)).unwrap();
    }
    let got: Vec<f32> = drain(&mut sub)
        .iter()
        .map(|e| match e.kind() {
            EventKind::Media(MediaEvent::AudioLevel { dbov, .. }) => *dbov,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(got, [7.0, 8.0, 9.0]);
    let m = bus.metrics().normal;
    assert_eq!(
        (m.published, m.dropped, m.delivered, m.queued),
        (10, 7, 3, 0)
    );
    assert_eq!(m.high_water, 3);
}

#[test]
fn order_is_by_priority_then_publication() {
    let t = Instant::now();
    let bus = EventBus::default();
    let mut sub = bus.subscribe(SubscriptionFilter::ALL);
    bus.publish(quality(1, 1.0, t)).unwrap();
    bus.publish(level(1, -1.0, t)).unwrap();
    bus.publish(state_changed(1, 1, t)).unwrap();
    bus.publish(level(1, -2.0, t)).unwrap();
    bus.publish(state_changed(1, 2, t)).unwrap();
    bus.publish(quality(2, 2.0, t)).unwrap();
    let got = drain(&mut sub);
    let order: Vec<(Priority, u64)> = got.iter().map(|e| (e.priority(), e.seq())).collect();
    assert_eq!(
        order,
        [
            (Priority::High, 3),
            (Priority::High, 5),
            (Priority::Normal, 2),
            (Priority::Normal, 4),
            (Priority::Low, 1),
            (Priority::Low, 6),
        ]
    );
}

#[test]
fn subscribers_filter_by_category_and_session() {
    let t = Instant::now();
    let bus = EventBus::default();
    let mut codec_only = bus.subscribe(Category::Codec);
    let mut device_only = bus.subscribe(Category::Device);
    let mut quality_and_session = bus.subscribe([Category::Quality, Category::Session]);
    let mut call_2 = bus.subscribe(SubscriptionFilter::for_session(
        CategoryFilter::ALL,
        SessionId(2),
    ));

    let media = MediaEventPublisher::new(&bus, SessionId(1), CorrelationId(10));
    let codec = CodecEventPublisher::new(&bus, SessionId(2), CorrelationId(20));
    let device = DeviceEventPublisher::new(&bus, SessionId::ENGINE, CorrelationId(30));
    media.audio_level(t, StreamDirection::Send, -20.0).unwrap();
    media.quality(t, QualityMetrics::default()).unwrap();
    codec.bitrate_changed(t, None, 24000).unwrap();
    codec
        .error(t, "opus", crate::error::CodecError::InvalidPayload("short"))
        .unwrap();
    device
        .added(
            t,
            DeviceInfo {
                id: DeviceId(1),
                kind: DeviceKind::Capture,
                name: "USB headset".into(),
            },
        )
        .unwrap();
    media
        .session_event(crate::session::SessionEvent {
            session: SessionId(2),
            correlation: CorrelationId(40),
            at: t,
            kind: SessionEventKind::Started,
        })
        .unwrap();

    let cats =
        |s: &mut Subscriber| -> Vec<Category> { drain(s).iter().map(Event::category).collect() };
    assert_eq!(cats(&mut codec_only), [Category::Codec, Category::Codec]);
    assert_eq!(cats(&mut device_only), [Category::Device]);
    assert_eq!(
        cats(&mut quality_and_session),
        [Category::Session, Category::Quality]
    );
    let for_2 = drain(&mut call_2);
    assert_eq!(for_2.len(), 3);
    assert!(for_2.iter().all(|e| e.session() == SessionId(2)));
    assert_eq!(bus.metrics().unrouted, 1, "the level: nobody wants Media");
}

#[test]
fn correlation_ids_survive_from_session_to_subscriber() {
    use crate::codec::CodecRegistry;
    use crate::session::{MediaSession, MediaSessionConfig};
    let t = Instant::now();
    let bus = EventBus::default();
    let mut sub = bus.subscribe(CategoryFilter::ALL);
    let config = MediaSessionConfig::narrowband_call(
        "127.0.0.1:4000".parse().unwrap(),
        "127.0.0.1:5000".parse().unwrap(),
    )
    .call_id("c")
    .local_uri("sip:a@h")
    .remote_uri("sip:b@h")
    .build(&CodecRegistry::with_builtin())
    .unwrap();
    let mut session = MediaSession::new(SessionId(5), config, t);
    let mut publisher = MediaEventPublisher::new(&bus, session.id(), CorrelationId(0));
    session.start(t).unwrap();
    let started = session.on_started(t).unwrap();
    while let Some(e) = session.poll_event() {
        publisher.session_event(e).unwrap();
    }
    // Levels measured under the started stream carry the start's correlation.
    publisher.set_correlation(started);
    publisher
        .audio_level(t, StreamDirection::Receive, -30.0)
        .unwrap();
    let got = drain(&mut sub);
    assert_eq!(got.len(), 4);
    assert!(got.iter().all(|e| e.session() == SessionId(5)));
    assert_eq!(
        got.iter().map(|e| e.correlation()).collect::<Vec<_>>(),
        [CorrelationId(1), started, started, started]
    );
    assert_eq!(
        got[2].kind(),
        &EventKind::Session(SessionEventKind::Started)
    );
    let line = got[2].to_string();
    assert!(line.contains("sess-5") && line.contains("corr-2") && line.contains("high/session"));
}

#[test]
fn fan_out_counts_copies_and_batches_respect_max() {
    let t = Instant::now();
    let bus = EventBus::default();
    let mut subs: Vec<Subscriber> = (0..4).map(|_| bus.subscribe(CategoryFilter::ALL)).collect();
    for i in 0..10 {
        bus.publish(state_changed(1, i, t)).unwrap();
    }
    let m = bus.metrics();
    assert_eq!(
        (m.high.published, m.high.enqueued, m.high.queued),
        (10, 40, 40)
    );
    let mut out = Vec::new();
    for s in &mut subs {
        assert_eq!(s.poll_batch(3).count(), 3);
        assert_eq!(s.poll_batch_into(100, &mut out), 7);
        assert_eq!(s.poll(), None);
    }
    assert_eq!(out.len(), 28);
    assert_eq!(bus.metrics().high.delivered, 40);
    // Dropping a subscriber discards its queue from the counts.
    bus.publish(state_changed(1, 99, t)).unwrap();
    subs.truncate(1);
    let m = bus.metrics();
    assert_eq!((m.subscribers, m.high.queued), (1, 1));
    assert_eq!(subs[0].pending_at(Priority::High), 1);
}

#[test]
fn wait_wakes_a_blocked_thread() {
    let bus = EventBus::default();
    let sub = bus.subscribe(CategoryFilter::ALL);
    assert!(!sub.wait(Duration::from_millis(1)));
    let publisher = bus.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        publisher
            .publish(state_changed(1, 1, Instant::now()))
            .unwrap();
    });
    assert!(sub.wait(Duration::from_secs(10)));
    t.join().unwrap();
}

struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn ready_future_is_woken_by_publish() {
    let bus = EventBus::default();
    let mut sub = bus.subscribe(Category::Session);
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = Waker::from(Arc::clone(&counter));
    let mut cx = Context::from_waker(&waker);
    {
        let mut fut = std::pin::pin!(sub.ready());
        assert_eq!(fut.as_mut().poll(&mut cx), Poll::Pending);
        // An event the subscriber does not want wakes nothing.
        bus.publish(level(1, 0.0, Instant::now())).unwrap();
        assert_eq!(counter.0.load(Ordering::SeqCst), 0);
        bus.publish(state_changed(1, 1, Instant::now())).unwrap();
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert_eq!(fut.as_mut().poll(&mut cx), Poll::Ready(()));
    }
    assert!(sub.poll().is_some());
}

#[cfg(feature = "async")]
#[test]
fn stream_yields_events_and_waits() {
    use futures_core::Stream;
    let bus = EventBus::default();
    let mut stream = bus.subscribe(CategoryFilter::ALL).into_stream();
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = Waker::from(Arc::clone(&counter));
    let mut cx = Context::from_waker(&waker);
    let mut s = std::pin::Pin::new(&mut stream);
    assert!(s.as_mut().poll_next(&mut cx).is_pending());
    bus.publish(state_changed(1, 7, Instant::now())).unwrap();
    assert_eq!(counter.0.load(Ordering::SeqCst), 1);
    match s.as_mut().poll_next(&mut cx) {
        Poll::Ready(Some(e)) => assert_eq!(e.correlation(), CorrelationId(7)),
        other => panic!("{other:?}"),
    }
}

#[derive(Debug, Clone)]
enum BusOp {
    High(u64),
    Normal(u64),
    Low(u64),
    Poll(usize, usize),
}

fn bus_op() -> impl Strategy<Value = BusOp> {
    prop_oneof![
        (0u64..3).prop_map(BusOp::High),
        (0u64..3).prop_map(BusOp::Normal),
        (0u64..3).prop_map(BusOp::Low),
        (0usize..3, 0usize..6).prop_map(|(s, n)| BusOp::Poll(s, n)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the mix: every accepted High event reaches every matching subscriber exactly
    /// once and in order, and the counters balance for each priority.
    #[test]
    fn counters_balance_and_high_is_exact(ops in prop::collection::vec(bus_op(), 0..300)) {
        let t = Instant::now();
        let bus = bus(5, 3, 2);
        let mut subs = [
            bus.subscribe(CategoryFilter::ALL),
            bus.subscribe(Category::Session),
            bus.subscribe(SubscriptionFilter::for_session(CategoryFilter::ALL, SessionId(1))),
        ];
        let mut accepted: Vec<(u64, u64)> = Vec::new();
        let mut seen: [Vec<(u64, u64)>; 3] = Default::default();
        let mut next_corr = 0;
        let record = |i: usize, events: Vec<Event>, seen: &mut [Vec<(u64, u64)>; 3]| {
            for e in events.into_iter().filter(|e| e.priority() == Priority::High) {
                seen[i].push((e.session().0, e.correlation().0));
            }
        };
        for op in ops {
            match op {
                BusOp::High(s) => {
                    next_corr += 1;
                    if bus.publish(state_changed(s, next_corr, t)).is_ok() {
                        accepted.push((s, next_corr));
                    }
                }
                BusOp::Normal(s) => { bus.publish(level(s, 0.0, t)).unwrap(); }
                BusOp::Low(s) => { bus.publish(quality(s, 0.0, t)).unwrap(); }
                BusOp::Poll(i, n) => {
                    let got: Vec<Event> = subs[i].poll_batch(n).collect();
                    record(i, got, &mut seen);
                }
            }
            let m = bus.metrics();
            for p in Priority::ALL {
                let pm = m.priority(p);
                prop_assert_eq!(
                    pm.enqueued,
                    pm.delivered + pm.dropped + pm.coalesced + pm.queued as u64,
                    "{}", p
                );
            }
            prop_assert_eq!(m.high.dropped + m.high.coalesced, 0);
        }
        for (i, sub) in subs.iter_mut().enumerate() {
            let rest = drain(sub);
            record(i, rest, &mut seen);
        }
        prop_assert_eq!(&seen[0], &accepted);
        prop_assert_eq!(&seen[1], &accepted);
        let only_1: Vec<_> = accepted.iter().copied().filter(|(s, _)| *s == 1).collect();
        prop_assert_eq!(&seen[2], &only_1);
    }
}

#[test]
fn handles_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<EventBus>();
    send_sync::<Event>();
    send_sync::<MediaEventPublisher>();
    send_sync::<CodecEventPublisher>();
    send_sync::<DeviceEventPublisher>();
    send::<Subscriber>();
    send::<crate::session::MediaSession>();
}

#[test]
fn quality_changes_are_low_priority_and_coalesce_apart_from_metrics() {
    use crate::quality::metrics::QualityChange;
    let t = Instant::now();
    let bus = bus(4, 4, 2);
    let mut sub = bus.subscribe(CategoryFilter::only(Category::Quality));
    let change = |mos: f32| {
        Event::new(
            SessionId(1),
            CorrelationId(0),
            t,
            EventKind::QualityChange(if mos < 3.6 {
                QualityChange::Degraded {
                    mos,
                    threshold: 3.6,
                }
            } else {
                QualityChange::Recovered {
                    mos,
                    threshold: 3.6,
                }
            }),
        )
    };
    let e = change(3.0);
    assert_eq!(e.priority(), Priority::Low);
    assert_eq!(e.category(), Category::Quality);
    assert_eq!(
        e.metric_key(),
        Some((SessionId(1), MetricKind::QualityState))
    );
    // A full Low queue: the newest state replaces the older one, and metrics keep theirs.
    bus.publish(quality(1, 3.0, t)).unwrap();
    bus.publish(change(3.0)).unwrap();
    bus.publish(change(4.0)).unwrap();
    let got = drain(&mut sub);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(matches!(got[0].kind(), EventKind::Quality(_)));
    assert!(matches!(
        got[1].kind(),
        EventKind::QualityChange(QualityChange::Recovered { .. })
    ));
}
