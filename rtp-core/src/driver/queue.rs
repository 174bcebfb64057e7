//! The bounded queues between a driver task and the media layer.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use tokio::sync::Notify;

/// A bounded queue that evicts instead of blocking the network task.
#[derive(Debug)]
pub(super) struct Queue<T> {
    state: Mutex<QueueState<T>>,
    notify: Notify,
}

#[derive(Debug)]
struct QueueState<T> {
    items: VecDeque<T>,
    capacity: usize,
    dropped: u64,
    closed: bool,
    /// Spare buffers handed back by the consumer.
    spare: Vec<Vec<u8>>,
}

impl<T> Queue<T> {
    pub(super) fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            state: Mutex::new(QueueState {
                items: VecDeque::with_capacity(capacity),
                capacity,
                dropped: 0,
                closed: false,
                spare: Vec::new(),
            }),
            notify: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, QueueState<T>> {
        // A panic while holding this lock cannot leave the queue inconsistent: recover.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Pushes `item`; when full, evicts the oldest item for which `evictable` holds (or drops
    /// `item` itself if it is evictable and none is, or grows if neither is). Returns what
    /// was evicted.
    pub(super) fn push(&self, item: T, evictable: impl Fn(&T) -> bool) -> Option<T> {
        let evicted = self.push_quiet(item, evictable);
        self.notify.notify_one();
        evicted
    }

    /// [`push`](Self::push) without waking the consumer: call [`wake`](Self::wake) once
    /// after a batch (one wakeup per batch instead of one per packet).
    pub(super) fn push_quiet(&self, item: T, evictable: impl Fn(&T) -> bool) -> Option<T> {
        let mut state = self.lock();
        let mut evicted = None;
        if state.items.len() >= state.capacity {
            if let Some(i) = state.items.iter().position(&evictable) {
                evicted = state.items.remove(i);
                state.dropped += 1;
            } else if evictable(&item) {
                state.dropped += 1;
                return Some(item);
            }
        }
        state.items.push_back(item);
        evicted
    }

    /// Wakes the consumer after [`push_quiet`](Self::push_quiet).
    pub(super) fn wake(&self) {
        self.notify.notify_one();
    }

    pub(super) fn close(&self) {
        self.lock().closed = true;
        self.notify.notify_waiters();
        self.notify.notify_one();
    }

    pub(super) fn try_pop(&self) -> Option<T> {
        self.lock().items.pop_front()
    }

    pub(super) async fn pop(&self) -> Option<T> {
        loop {
            {
                let mut state = self.lock();
                if let Some(item) = state.items.pop_front() {
                    return Some(item);
                }
                if state.closed {
                    return None;
                }
            }
            self.notify.notified().await;
        }
    }

    pub(super) fn take_spare(&self) -> Option<Vec<u8>> {
        self.lock().spare.pop()
    }

    pub(super) fn give_spare(&self, mut buf: Vec<u8>) {
        let mut state = self.lock();
        if state.spare.len() < state.capacity {
            buf.clear();
            state.spare.push(buf);
        }
    }

    pub(super) fn dropped(&self) -> u64 {
        self.lock().dropped
    }
}
