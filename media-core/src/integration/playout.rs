//! Receive-side delay control for the [`MediaTransportAdapter`](super::rtp_core::MediaTransportAdapter):
//! decides, packet by packet, whether the decoded audio is time-stretched so that the playout
//! delay follows the jitter buffer's target (NetEq's accelerate / preemptive expand decision).
//!
//! The jitter buffer runs with [`JitterConfig::media_stretch`](rtp_core::jitter::JitterConfig):
//! it no longer inserts or drops whole frames while packets flow. Here:
//!
//! - **Level**: at each decoded packet, the delay at which its first sample will be heard:
//!   the buffer's current delay at the poll ([`JitterBuffer::current_delay`]) plus the audio
//!   still queued before it. That sample is noisy (the poll instant carries the scheduler's
//!   wake-up jitter, and the base transit moves as its window slides), so it is smoothed by an
//!   exponential filter (time constant 16 packets). The filter restarts from the target at
//!   every talkspurt, where the buffer re-anchors the delay on it, and is moved by what each
//!   stretch changed, as NetEq's buffer-level filter is.
//! - **Decision**: accelerate when the smoothed level is above the target by more than
//!   [`ACCELERATE_MARGIN_US`], expand when it is below the target by more than
//!   [`EXPAND_MARGIN_US`]. Inside that band nothing happens, so noise does not cause
//!   adjustments. Just outside it only quiet blocks (pauses) are stretched, where a change of
//!   timing costs nothing; beyond [`URGENT_HIGH_US`] above, or a quarter of the target below
//!   (NetEq's low limit), voiced speech is stretched as well, by whole pitch periods where the
//!   correlation shows the splice will not be heard. The stretcher declines other blocks (the
//!   next packet is tried).
//!
//! Nothing allocates after construction.

use rtp_core::jitter::JitterBuffer;

use crate::processing::audio::time_stretch::{StretchMode, TimeStretcher};

/// Accelerate in pauses when the smoothed level exceeds the target by more than this, µs.
pub(crate) const ACCELERATE_MARGIN_US: i64 = 30_000;
/// Expand in pauses when the smoothed level is below the target by more than this, µs.
pub(crate) const EXPAND_MARGIN_US: i64 = 5_000;
/// Beyond these the correction is urgent: voiced speech is stretched too, µs (above the
/// target; below it, a quarter of the target as NetEq's low limit, at least this).
pub(crate) const URGENT_HIGH_US: i64 = 60_000;
const URGENT_LOW_US: i64 = 10_000;
/// RMS (16-bit scale) below which a block counts as a pause.
const QUIET_RMS: f32 = 100.0;
/// Weight of a new level sample in the smoothed level (1/16).
const FILTER_SHIFT: i64 = 4;

/// What [`PlayoutControl::after_decode`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stretched {
    /// Nothing: play the decoded block as it is.
    No,
    /// The block was shortened; the result is in [`PlayoutControl::output`].
    Accelerated(usize),
    /// The block was lengthened; the result is in [`PlayoutControl::output`].
    Expanded(usize),
}

/// The time-stretcher with its decision state; one per adapter.
#[derive(Debug)]
pub(crate) struct PlayoutControl {
    stretcher: TimeStretcher,
    out: Vec<i16>,
    rate: u32,
    channels: usize,
    level_us: Option<i64>,
    talkspurts: u64,
}

impl PlayoutControl {
    /// For decoded audio at `rate` with `channels`, in blocks of at most `max_block` interleaved
    /// samples.
    pub(crate) fn new(rate: u32, channels: u16, max_block: usize) -> Self {
        let ch = usize::from(channels.max(1));
        let ms = (max_block / ch * 1000 / rate.max(1) as usize).max(1) as u32;
        let mut stretcher = TimeStretcher::new(rate, channels, ms);
        // "Quiet" here means a pause (-50 dBFS): a speech judge such as PESQ realigns timing
        // at pauses, while a change of timing inside an utterance costs it.
        stretcher.set_quiet_rms(QUIET_RMS);
        let out = vec![0; max_block + stretcher.max_period()];
        Self {
            stretcher,
            out,
            rate: rate.max(1),
            channels: ch,
            level_us: None,
            talkspurts: 0,
        }
    }

    fn samples_to_us(&self, samples: usize) -> i64 {
        (samples / self.channels) as i64 * 1_000_000 / i64::from(self.rate)
    }

    /// After a packet was decoded into `block`, with `queued` interleaved samples still to
    /// play before it and `room` interleaved samples free in the playout queue: stretches it
    /// (into [`Self::output`]) when the level is off target.
    pub(crate) fn after_decode(
        &mut self,
        jitter: &JitterBuffer,
        block: &[i16],
        queued: usize,
        room: usize,
    ) -> Stretched {
        let level = i64::try_from(jitter.current_delay().as_micros())
            .unwrap_or(i64::MAX / 2)
            .saturating_add(self.samples_to_us(queued));
        let target = i64::try_from(jitter.target_delay().as_micros()).unwrap_or(i64::MAX / 2);
        let spurts = jitter.talkspurts();
        // At a talkspurt the buffer has just anchored the delay at the target, whatever this
        // first sample says (a late wake-up of the playout thread reads as delay).
        let f = match self.level_us {
            Some(f) if spurts == self.talkspurts => f,
            _ => target,
        };
        let filtered = f + ((level - f) >> FILTER_SHIFT);
        self.talkspurts = spurts;
        self.level_us = Some(filtered);
        let excess = filtered - target;
        let (mode, urgent) = if excess > ACCELERATE_MARGIN_US {
            (StretchMode::Accelerate, excess > URGENT_HIGH_US)
        } else if excess < -EXPAND_MARGIN_US {
            (StretchMode::Expand, -excess > URGENT_LOW_US.max(target / 4))
        } else {
            return Stretched::No;
        };
        self.stretcher.set_voiced(urgent);
        if room < block.len() + self.stretcher.max_period() {
            return Stretched::No;
        }
        let Ok(r) = self.stretcher.process(mode, block, &mut self.out) else {
            return Stretched::No;
        };
        if r.period == 0 {
            return Stretched::No;
        }
        let change = self.samples_to_us(r.period * self.channels);
        match mode {
            StretchMode::Accelerate => {
                self.level_us = Some(filtered - change);
                Stretched::Accelerated(r.written)
            }
            StretchMode::Expand => {
                self.level_us = Some(filtered + change);
                Stretched::Expanded(r.written)
            }
        }
    }

    /// The stretched block of the last [`Self::after_decode`].
    pub(crate) fn output(&self, len: usize) -> &[i16] {
        &self.out[..len.min(self.out.len())]
    }

    /// Forgets the level (new stream or codec).
    pub(crate) fn reset(&mut self) {
        self.level_us = None;
    }
}
