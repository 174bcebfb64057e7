//! The quality of one call leg as the [`MediaSessionController`](super::session_core) sees
//! it: [`MediaMetrics`] for each direction, fed from the frames the controller moves and the
//! adapter's counters, and the [`QualityMonitor`] on what we hear.
//!
//! - Receive: every played 10 ms frame (level, clipping, flat tops) and the packet outcomes
//!   of the jitter buffer and decoder since the previous frame (played, lost or discarded,
//!   concealed, FEC-recovered); the jitter buffer's delay and interarrival jitter.
//! - Send: every captured frame, and the loss the remote reports about our stream.
//! - Both: the RTT from RTCP.
//!
//! Once a second of playout the receive direction is rated and the monitor updated; what it
//! finds goes back to the controller, which emits the change (low priority) or the alert
//! (high priority, through the session). Nothing here allocates.

use std::time::Instant;

use super::rtp_core::MediaTransportAdapter;
use crate::quality::metrics::{
    MediaMetrics, MetricsSnapshot, MonitorOutput, PacketDelta, QualityMonitor, QualityMonitorConfig,
};
use rtp_core::session::ReportSummary;

/// Frames between monitor updates (one second).
const EVAL_FRAMES: u32 = 100;

/// The adapter's cumulative figures the deltas are taken from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Totals {
    played: u64,
    lost: u64,
    concealed: u64,
    fec: u64,
}

fn totals(a: &MediaTransportAdapter) -> (Totals, f64, f64) {
    let js = a.jitter_stats();
    let c = a.counters();
    (
        Totals {
            played: js.played,
            lost: js.lost + js.discarded,
            concealed: c.concealed_lost + c.concealed_underflow,
            fec: c.fec_recovered,
        },
        js.current_delay_ms,
        js.jitter_ms,
    )
}

fn codec_delay_ms(a: &MediaTransportAdapter) -> f64 {
    // Opus's look-ahead (6.5 ms); the other codecs add none worth rating.
    if a.codec().name == "opus" {
        6.5
    } else {
        0.0
    }
}

/// Both directions' metrics and the monitor; see the module docs.
#[derive(Debug, Clone)]
pub(crate) struct CallQuality {
    rx: MediaMetrics,
    tx: MediaMetrics,
    monitor: QualityMonitor,
    last: Totals,
    frames: u32,
}

impl CallQuality {
    pub(crate) fn new(a: &MediaTransportAdapter, config: QualityMonitorConfig) -> Self {
        let m = || {
            MediaMetrics::new(
                a.codec().name,
                a.params().sample_rate,
                a.params().ptime_ms,
                codec_delay_ms(a),
            )
        };
        Self {
            rx: m(),
            tx: m(),
            monitor: QualityMonitor::new(config),
            last: totals(a).0,
            frames: 0,
        }
    }

    /// A codec switch: the ratings take the new codec's values; history is kept.
    pub(crate) fn set_codec(&mut self, a: &MediaTransportAdapter) {
        let (name, p, d) = (a.codec().name, a.params(), codec_delay_ms(a));
        self.rx.set_codec(name, p.sample_rate, p.ptime_ms, d);
        self.tx.set_codec(name, p.sample_rate, p.ptime_ms, d);
        self.last = totals(a).0;
    }

    pub(crate) fn on_capture(&mut self, pcm: &[i16]) {
        self.tx.on_frame(pcm);
    }

    /// A played frame; returns what the monitor found when it was its turn.
    pub(crate) fn on_playout(
        &mut self,
        now: Instant,
        pcm: &[i16],
        a: &MediaTransportAdapter,
    ) -> MonitorOutput {
        self.rx.on_frame(pcm);
        let (t, delay, jitter) = totals(a);
        let l = self.last;
        self.rx.on_packets(PacketDelta {
            played: t.played.saturating_sub(l.played),
            lost: t.lost.saturating_sub(l.lost),
            concealed: t.concealed.saturating_sub(l.concealed),
            fec_recovered: t.fec.saturating_sub(l.fec),
        });
        self.last = t;
        self.rx.set_jitter_buffer_delay(delay);
        self.rx.set_network(jitter, None);
        self.frames += 1;
        if self.frames < EVAL_FRAMES {
            return MonitorOutput::default();
        }
        self.frames = 0;
        let mos = self.rx.rating().mos;
        self.monitor.update(now, mos)
    }

    /// A receiver report about our stream.
    pub(crate) fn on_report(&mut self, r: &ReportSummary) {
        let rtt = r.rtt.map(|d| d.as_secs_f64() * 1000.0);
        self.tx.set_reported_loss(r.fraction_lost);
        self.tx.set_network(r.jitter_ms.unwrap_or(0.0), rtt);
        if let Some(rtt) = rtt {
            self.rx.set_rtt(rtt);
        }
    }

    /// What we hear.
    pub(crate) fn receive(&self) -> MetricsSnapshot {
        self.rx.snapshot()
    }

    /// What we send (as the remote reports it).
    pub(crate) fn send(&self) -> MetricsSnapshot {
        self.tx.snapshot()
    }

    pub(crate) fn degraded(&self) -> bool {
        self.monitor.is_degraded()
    }
}
