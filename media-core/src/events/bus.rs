//! The bus itself: a cloneable handle over one mutex-protected set of subscriber queues.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use super::queue::{Pushed, Queues};
use super::{Event, Priority, SubscriptionFilter};

/// Queue capacities per subscriber. Zero is taken as one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventBusConfig {
    /// High-priority events a subscriber may have waiting before publishers get
    /// [`PublishError::Backpressure`].
    pub high_capacity: usize,
    /// Normal-priority events kept per subscriber; older ones are dropped beyond it.
    pub normal_capacity: usize,
    /// Low-priority events kept per subscriber; coalesced beyond it.
    pub low_capacity: usize,
}

impl Default for EventBusConfig {
    fn default() -> Self {
        Self {
            high_capacity: 1024,
            normal_capacity: 1024,
            low_capacity: 256,
        }
    }
}

impl EventBusConfig {
    fn capacity(&self, priority: Priority) -> usize {
        match priority {
            Priority::High => self.high_capacity,
            Priority::Normal => self.normal_capacity,
            Priority::Low => self.low_capacity,
        }
        .max(1)
    }
}

/// Identifies a subscriber (in errors and logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SubscriberId(pub u64);

impl fmt::Display for SubscriberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "subscriber {}", self.0)
    }
}

/// Why a publish was refused. The event is handed back; no subscriber received it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PublishError {
    /// A matching subscriber's high-priority queue is full: it has stopped polling. Retry
    /// later with [`PublishError::into_event`], or report the stuck consumer.
    Backpressure {
        /// The first full subscriber found.
        subscriber: SubscriberId,
        /// Its high-priority capacity.
        capacity: usize,
        /// The event, undelivered.
        event: Box<Event>,
    },
}

impl PublishError {
    /// The undelivered event, for a retry.
    pub fn into_event(self) -> Event {
        match self {
            Self::Backpressure { event, .. } => *event,
        }
    }
}

impl fmt::Display for PublishError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Backpressure {
                subscriber,
                capacity,
                event,
            } => write!(
                f,
                "{subscriber} has {capacity} high-priority events waiting; not delivered: {event}"
            ),
        }
    }
}

impl std::error::Error for PublishError {}

/// Counts for one priority, over all subscribers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PriorityMetrics {
    /// Events accepted by publish (each counted once, however many subscribers got it).
    pub published: u64,
    /// Copies placed in subscriber queues.
    pub enqueued: u64,
    /// Copies handed to subscribers by a poll.
    pub delivered: u64,
    /// Queued copies removed because a newer value of the same metric arrived (Low only).
    pub coalesced: u64,
    /// Queued copies dropped to make room (Normal, and Low when nothing could coalesce).
    pub dropped: u64,
    /// Publishes refused with backpressure (High only); those events were handed back.
    pub rejected: u64,
    /// Copies waiting in subscriber queues now.
    pub queued: usize,
    /// The longest any one subscriber's queue of this priority has been.
    pub high_water: usize,
}

/// Bus-wide counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BusMetrics {
    /// High priority.
    pub high: PriorityMetrics,
    /// Normal priority.
    pub normal: PriorityMetrics,
    /// Low priority.
    pub low: PriorityMetrics,
    /// Published events no subscriber wanted.
    pub unrouted: u64,
    /// Subscribers now.
    pub subscribers: usize,
}

impl BusMetrics {
    /// The counts of one priority.
    pub fn priority(&self, priority: Priority) -> &PriorityMetrics {
        match priority {
            Priority::High => &self.high,
            Priority::Normal => &self.normal,
            Priority::Low => &self.low,
        }
    }

    fn priority_mut(&mut self, priority: Priority) -> &mut PriorityMetrics {
        match priority {
            Priority::High => &mut self.high,
            Priority::Normal => &mut self.normal,
            Priority::Low => &mut self.low,
        }
    }
}

struct Slot {
    id: SubscriberId,
    filter: SubscriptionFilter,
    queues: Queues,
    waker: Option<Waker>,
}

struct State {
    config: EventBusConfig,
    slots: Vec<Slot>,
    next_subscriber: u64,
    next_seq: u64,
    metrics: BusMetrics,
    waiting_threads: usize,
}

impl State {
    fn slot_mut(&mut self, id: SubscriberId) -> Option<&mut Slot> {
        self.slots.iter_mut().find(|s| s.id == id)
    }

    fn pending(&self, id: SubscriberId) -> usize {
        self.slots
            .iter()
            .find(|s| s.id == id)
            .map_or(0, |s| s.queues.total())
    }

    /// Moves up to `max` events of subscriber `id` into `out`, highest priority first.
    fn drain(&mut self, id: SubscriberId, max: usize, out: &mut Vec<Event>) -> usize {
        let State { slots, metrics, .. } = self;
        let Some(slot) = slots.iter_mut().find(|s| s.id == id) else {
            return 0;
        };
        let mut n = 0;
        while n < max {
            let Some(event) = slot.queues.pop() else {
                break;
            };
            let m = metrics.priority_mut(event.priority());
            m.delivered += 1;
            m.queued -= 1;
            out.push(event);
            n += 1;
        }
        n
    }
}

struct Shared {
    state: Mutex<State>,
    ready: Condvar,
}

impl Shared {
    /// The state. No code of ours panics while holding the lock and no user code runs under
    /// it, so a poisoned lock still guards consistent queues: carry on.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `id` has events; if not, `waker` is woken on the next event for it.
    fn ready_or_register(&self, id: SubscriberId, waker: &Waker) -> bool {
        let mut st = self.lock();
        match st.slot_mut(id) {
            Some(slot) if slot.queues.total() == 0 => {
                if !slot.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
                    slot.waker = Some(waker.clone());
                }
                false
            }
            _ => true,
        }
    }
}

/// The event bus. A cheap, cloneable, `Send + Sync` handle: clones share the same
/// subscribers. See the [module docs](super) for the delivery policy.
#[derive(Clone)]
pub struct EventBus {
    shared: Arc<Shared>,
}

impl fmt::Debug for EventBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventBus")
            .field("metrics", &self.metrics())
            .finish()
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new(EventBusConfig::default())
    }
}

impl EventBus {
    /// A bus with these queue capacities.
    pub fn new(config: EventBusConfig) -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    config,
                    slots: Vec::new(),
                    next_subscriber: 1,
                    next_seq: 1,
                    metrics: BusMetrics::default(),
                    waiting_threads: 0,
                }),
                ready: Condvar::new(),
            }),
        }
    }

    /// A new subscriber receiving the events `filter` lets through, from now on. Dropping
    /// it unsubscribes and discards what it had not polled.
    pub fn subscribe(&self, filter: impl Into<SubscriptionFilter>) -> Subscriber {
        let mut st = self.shared.lock();
        let id = SubscriberId(st.next_subscriber);
        st.next_subscriber += 1;
        st.slots.push(Slot {
            id,
            filter: filter.into(),
            queues: Queues::default(),
            waker: None,
        });
        st.metrics.subscribers = st.slots.len();
        Subscriber {
            shared: Arc::clone(&self.shared),
            id,
            buf: Vec::new(),
        }
    }

    /// Copies `event` into the queue of every subscriber whose filter matches, and returns
    /// the sequence number it was given. Normal and Low events always succeed (applying
    /// their overflow policy). A High event is refused with [`PublishError::Backpressure`]
    /// when any matching subscriber's High queue is full, and then no subscriber gets it.
    pub fn publish(&self, mut event: Event) -> Result<u64, PublishError> {
        let priority = event.priority();
        let mut wakers: Vec<Waker> = Vec::new();
        let (seq, notify_threads) = {
            let mut guard = self.shared.lock();
            let State {
                config,
                slots,
                next_seq,
                metrics,
                waiting_threads,
                ..
            } = &mut *guard;
            let capacity = config.capacity(priority);
            if priority == Priority::High {
                if let Some(full) = slots
                    .iter()
                    .find(|s| s.filter.matches(&event) && s.queues.len(priority) >= capacity)
                {
                    metrics.high.rejected += 1;
                    return Err(PublishError::Backpressure {
                        subscriber: full.id,
                        capacity,
                        event: Box::new(event),
                    });
                }
            }
            let seq = *next_seq;
            *next_seq += 1;
            event.set_seq(seq);
            let m = metrics.priority_mut(priority);
            m.published += 1;
            match slots.iter().rposition(|s| s.filter.matches(&event)) {
                None => metrics.unrouted += 1,
                Some(last) => {
                    let (before, rest) = slots.split_at_mut(last);
                    for slot in before.iter_mut().filter(|s| s.filter.matches(&event)) {
                        deliver(slot, event.clone(), capacity, m, &mut wakers);
                    }
                    if let Some(slot) = rest.first_mut() {
                        deliver(slot, event, capacity, m, &mut wakers);
                    }
                }
            }
            (seq, *waiting_threads > 0)
        };
        // Outside the lock: whatever the wakers run cannot deadlock against the bus.
        if notify_threads {
            self.shared.ready.notify_all();
        }
        for w in wakers {
            w.wake();
        }
        Ok(seq)
    }

    /// A snapshot of the counters.
    pub fn metrics(&self) -> BusMetrics {
        self.shared.lock().metrics
    }

    /// The queue capacities.
    pub fn config(&self) -> EventBusConfig {
        self.shared.lock().config
    }
}

fn deliver(
    slot: &mut Slot,
    event: Event,
    capacity: usize,
    m: &mut PriorityMetrics,
    wakers: &mut Vec<Waker>,
) {
    let priority = event.priority();
    match slot.queues.push(event, capacity) {
        Pushed::Queued => m.queued += 1,
        Pushed::DroppedOldest => m.dropped += 1,
        Pushed::Coalesced(n) => {
            m.coalesced += n as u64;
            m.queued -= n - 1;
        }
    }
    m.enqueued += 1;
    m.high_water = m.high_water.max(slot.queues.len(priority));
    if let Some(w) = slot.waker.take() {
        wakers.push(w);
    }
}

/// A subscription: its own queues on the bus, pulled by its owner. Dropping it unsubscribes.
pub struct Subscriber {
    shared: Arc<Shared>,
    id: SubscriberId,
    buf: Vec<Event>,
}

impl fmt::Debug for Subscriber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscriber")
            .field("id", &self.id)
            .field("pending", &self.pending())
            .finish()
    }
}

impl Subscriber {
    /// This subscriber's id.
    pub fn id(&self) -> SubscriberId {
        self.id
    }

    /// The next event: any High before any Normal before any Low, oldest first within each.
    pub fn poll(&mut self) -> Option<Event> {
        let mut st = self.shared.lock();
        let State { slots, metrics, .. } = &mut *st;
        let event = slots.iter_mut().find(|s| s.id == self.id)?.queues.pop()?;
        let m = metrics.priority_mut(event.priority());
        m.delivered += 1;
        m.queued -= 1;
        Some(event)
    }

    /// Up to `max` events, in [`Self::poll`] order, taken under one lock. The iterator
    /// borrows a buffer the subscriber keeps, so steady-state batches do not allocate; the
    /// lock is already released when it is returned.
    pub fn poll_batch(&mut self, max: usize) -> std::vec::Drain<'_, Event> {
        self.buf.clear();
        self.shared.lock().drain(self.id, max, &mut self.buf);
        self.buf.drain(..)
    }

    /// Appends up to `max` events to `out`, in [`Self::poll`] order, under one lock; returns
    /// how many.
    pub fn poll_batch_into(&mut self, max: usize, out: &mut Vec<Event>) -> usize {
        self.shared.lock().drain(self.id, max, out)
    }

    /// Events waiting.
    pub fn pending(&self) -> usize {
        self.shared.lock().pending(self.id)
    }

    /// Events of one priority waiting.
    pub fn pending_at(&self, priority: Priority) -> usize {
        let st = self.shared.lock();
        st.slots
            .iter()
            .find(|s| s.id == self.id)
            .map_or(0, |s| s.queues.len(priority))
    }

    /// Blocks the calling thread until an event is waiting or `timeout` has passed; returns
    /// whether one is waiting. For driver threads; the core never calls it.
    pub fn wait(&self, timeout: Duration) -> bool {
        let mut st = self.shared.lock();
        if st.pending(self.id) > 0 {
            return true;
        }
        st.waiting_threads += 1;
        let (mut st, _) = self
            .shared
            .ready
            .wait_timeout_while(st, timeout, |st| st.pending(self.id) == 0)
            .unwrap_or_else(PoisonError::into_inner);
        st.waiting_threads -= 1;
        st.pending(self.id) > 0
    }

    /// A future that completes when an event is waiting (at once if one already is). Then
    /// poll or batch as usual. One task should wait per subscriber: each registration
    /// replaces the previous waker.
    pub fn ready(&self) -> Ready<'_> {
        Ready { subscriber: self }
    }

    /// This subscriber as a `futures_core::Stream` of events.
    #[cfg(feature = "async")]
    pub fn into_stream(self) -> EventStream {
        EventStream { subscriber: self }
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        let State { slots, metrics, .. } = &mut *st;
        if let Some(i) = slots.iter().position(|s| s.id == self.id) {
            let slot = slots.swap_remove(i);
            for p in Priority::ALL {
                metrics.priority_mut(p).queued -= slot.queues.len(p);
            }
        }
        metrics.subscribers = slots.len();
    }
}

/// Completes when its subscriber has an event waiting. See [`Subscriber::ready`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Ready<'a> {
    subscriber: &'a Subscriber,
}

impl Future for Ready<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let s = self.subscriber;
        if s.shared.ready_or_register(s.id, cx.waker()) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// A subscriber as a never-ending `futures_core::Stream` of events (cargo feature `async`).
#[cfg(feature = "async")]
#[derive(Debug)]
pub struct EventStream {
    subscriber: Subscriber,
}

#[cfg(feature = "async")]
impl EventStream {
    /// The subscriber back, for batch polling.
    pub fn into_inner(self) -> Subscriber {
        self.subscriber
    }
}

#[cfg(feature = "async")]
impl futures_core::Stream for EventStream {
    type Item = Event;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        let s = &mut self.get_mut().subscriber;
        loop {
            if let Some(event) = s.poll() {
                return Poll::Ready(Some(event));
            }
            if !s.shared.ready_or_register(s.id, cx.waker()) {
                return Poll::Pending;
            }
        }
    }
}
