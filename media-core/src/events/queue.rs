//! One subscriber's three queues and the overflow policy of each priority.

use std::collections::VecDeque;

use super::{Event, Priority};

/// What happened to an event pushed into a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pushed {
    /// Appended; the queue grew by one.
    Queued,
    /// Appended after dropping the oldest event of the same priority.
    DroppedOldest,
    /// Appended after removing the queued events (this many, at least one) with the same
    /// metric key.
    Coalesced(usize),
}

/// A subscriber's queues, highest priority first.
#[derive(Debug, Default)]
pub(super) struct Queues {
    queues: [VecDeque<Event>; 3],
}

impl Queues {
    pub(super) fn len(&self, priority: Priority) -> usize {
        self.queues[priority.index()].len()
    }

    pub(super) fn total(&self) -> usize {
        self.queues.iter().map(VecDeque::len).sum()
    }

    /// Appends `event` to its priority's queue of capacity `capacity` (at least 1), applying
    /// that priority's overflow policy. High must be checked for room first: it is never
    /// dropped here, only allowed past capacity by a caller that did not check.
    pub(super) fn push(&mut self, event: Event, capacity: usize) -> Pushed {
        let priority = event.priority();
        let q = &mut self.queues[priority.index()];
        if q.len() < capacity || priority == Priority::High {
            q.push_back(event);
            return Pushed::Queued;
        }
        let outcome = match priority {
            Priority::Low => {
                // Every queued value of this metric is stale beside the new one: remove them
                // all, so the queue holds one value per key and regains room for a while.
                let key = event.metric_key();
                let before = q.len();
                if key.is_some() {
                    q.retain(|e| e.metric_key() != key);
                }
                match before - q.len() {
                    0 => {
                        q.pop_front();
                        Pushed::DroppedOldest
                    }
                    n => Pushed::Coalesced(n),
                }
            }
            _ => {
                q.pop_front();
                Pushed::DroppedOldest
            }
        };
        q.push_back(event);
        outcome
    }

    /// The next event: High, then Normal, then Low.
    pub(super) fn pop(&mut self) -> Option<Event> {
        self.queues.iter_mut().find_map(VecDeque::pop_front)
    }
}
