//! Active speaker from the participants' VAD decisions and levels, with hysteresis so that the
//! choice does not flicker.
//!
//! Each tick the candidate is the loudest participant (smoothed level) whose VAD says speech.
//! When nobody holds the floor (none yet, or the current speaker has left or gone quiet) a
//! candidate takes it after [`TAKE_MS`] of being the candidate; while the current speaker is
//! still talking another one must be the loudest for [`INTERRUPT_MS`] in a row. When everyone is
//! quiet the last speaker stays active (as conference UIs show it).

use super::mixer::ParticipantId;

/// How long a candidate must lead before it takes a free floor.
pub const TAKE_MS: u32 = 60;
/// How long a candidate must lead before it takes the floor from someone still talking.
pub const INTERRUPT_MS: u32 = 400;

#[derive(Debug, Clone, Default)]
pub(crate) struct SpeakerTracker {
    current: Option<ParticipantId>,
    candidate: Option<ParticipantId>,
    lead_ms: u32,
}

impl SpeakerTracker {
    pub fn current(&self) -> Option<ParticipantId> {
        self.current
    }

    /// Forgets `id` (it left). Returns whether the active speaker changed.
    pub fn remove(&mut self, id: ParticipantId) -> bool {
        if self.candidate == Some(id) {
            self.candidate = None;
            self.lead_ms = 0;
        }
        if self.current == Some(id) {
            self.current = None;
            return true;
        }
        false
    }

    /// One tick: `loudest` is the loudest speaking participant (if any), `current_speaking`
    /// whether the current speaker's VAD says speech. Returns the new speaker on a change.
    pub fn update(
        &mut self,
        loudest: Option<ParticipantId>,
        current_speaking: bool,
        tick_ms: u32,
    ) -> Option<ParticipantId> {
        let Some(l) = loudest else {
            self.candidate = None;
            self.lead_ms = 0;
            return None;
        };
        if Some(l) == self.current {
            self.candidate = None;
            self.lead_ms = 0;
            return None;
        }
        if self.candidate == Some(l) {
            self.lead_ms = self.lead_ms.saturating_add(tick_ms);
        } else {
            self.candidate = Some(l);
            self.lead_ms = tick_ms;
        }
        let needed = if self.current.is_some() && current_speaking {
            INTERRUPT_MS
        } else {
            TAKE_MS
        };
        if self.lead_ms >= needed {
            self.current = Some(l);
            self.candidate = None;
            self.lead_ms = 0;
            return Some(l);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hysteresis() {
        let a = ParticipantId::from_raw(1);
        let b = ParticipantId::from_raw(2);
        let mut t = SpeakerTracker::default();
        // A short blip does not take the floor.
        assert_eq!(t.update(Some(a), false, 20), None);
        assert_eq!(t.update(None, false, 20), None);
        assert_eq!(t.current(), None);
        let mut got = None;
        for _ in 0..3 {
            got = got.or(t.update(Some(a), false, 20));
        }
        assert_eq!(got, Some(a));
        // B louder while A still talks: needs INTERRUPT_MS.
        let mut ticks = 0;
        loop {
            ticks += 1;
            if t.update(Some(b), true, 20).is_some() {
                break;
            }
        }
        assert_eq!(ticks * 20, INTERRUPT_MS);
        assert_eq!(t.current(), Some(b));
        assert!(t.remove(b));
        assert_eq!(t.current(), None);
    }
}
