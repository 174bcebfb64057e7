//! Media metrics of one session and direction, combined into a live E-model rating, and the
//! quality monitor that turns the rating into events with hysteresis.
//!
//! [`MediaMetrics`] is fed per 10 ms frame ([`MediaMetrics::on_frame`]: level, clipping,
//! flat-topping, crest factor) and per played packet ([`MediaMetrics::on_packets`]: played,
//! lost, concealed, FEC-recovered), plus the transport's figures (jitter-buffer delay,
//! interarrival jitter, RTT, or the loss a receiver report gives for a send direction). It
//! keeps running totals and a sliding window of [`WINDOW_SECONDS`] one-second buckets, and
//! rates the window with the E-model ([`MediaMetrics::rating`]):
//!
//! - Ppl: the packets the listener did not get (lost, late or discarded, less those
//!   recovered by FEC) over the packets due, in the window; for a send direction without packet counts,
//!   the loss fraction of the last receiver report.
//! - BurstR (G.107 Annex A): the mean length of the loss runs observed, over the mean run
//!   length random loss of the same rate gives, `1 / (1 - p)`; at least 1.
//! - Delay T = Ta: jitter-buffer delay + packet time + the codec's look-ahead + RTT / 2 (the
//!   network's one-way share); Tr = 2T.
//! - Ie/Bpl: the codec's values from [`CodecImpairment::for_codec`].
//! - Distortion: **not part of G.107**. Frames with clipping or flat-topping add
//!   `DISTORTION_IE * fraction of active frames distorted` to Ie (an engineering heuristic
//!   so that a clipping talker shows in the rating; 10 % clipped frames cost 4 R points).
//!
//! Nothing here allocates: buckets are a fixed array, and every call works on `&[i16]`.
//!
//! [`QualityMonitor`] watches the MOS: `Degraded` when it stays below the threshold for
//! `degrade_after`, `Recovered` when it then stays above threshold + margin for
//! `recover_after`, and an alert (once per excursion) when it falls below the floor. A MOS
//! oscillating around the threshold therefore does not flap.

use std::time::{Duration, Instant};

use super::estimation::{rate, CodecImpairment, EModelParams, Rating};
use crate::session::{QualityAlert, QualityMetric};

/// Seconds of history the rating covers.
pub const WINDOW_SECONDS: usize = 5;
/// Frames per bucket (one second of 10 ms frames).
const FRAMES_PER_BUCKET: u32 = 100;
/// Ie added per unit fraction of distorted active frames (heuristic, not G.107).
pub const DISTORTION_IE: f64 = 40.0;
/// A sample at or beyond this magnitude counts as clipped.
const CLIP_LEVEL: i32 = 32_700;
/// Flat tops are only looked for above this magnitude (half scale).
const FLAT_TOP_LEVEL: i32 = 16_384;
/// Frames quieter than this (dBov) are not "active" for distortion and crest figures.
const ACTIVE_DBOV: f32 = -50.0;

/// Counts of one bucket of the window.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Bucket {
    frames: u32,
    active_frames: u32,
    distorted_frames: u32,
    played: u32,
    lost: u32,
    loss_runs: u32,
    concealed: u32,
    fec_recovered: u32,
}

impl Bucket {
    fn add(&mut self, o: &Bucket) {
        self.frames += o.frames;
        self.active_frames += o.active_frames;
        self.distorted_frames += o.distorted_frames;
        self.played += o.played;
        self.lost += o.lost;
        self.loss_runs += o.loss_runs;
        self.concealed += o.concealed;
        self.fec_recovered += o.fec_recovered;
    }
}

/// Packet outcomes at playout since the previous call: `played` decoded normally, `lost` not
/// decoded (lost, late or discarded); `fec_recovered` missing packets rebuilt from FEC and
/// `concealed` synthesised (these two may be counted in a later call than the loss itself,
/// as a jitter buffer declares a gap before its slot is played).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PacketDelta {
    /// Packets decoded.
    pub played: u64,
    /// Packets missing at playout.
    pub lost: u64,
    /// Missing packets concealed (not recovered).
    pub concealed: u64,
    /// Missing packets recovered from FEC.
    pub fec_recovered: u64,
}

/// A snapshot of one direction's figures (`Copy`; the live values and the rating).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricsSnapshot {
    /// 10 ms frames seen in total.
    pub frames: u64,
    /// Level of the last frame, dBov (RFC 6464 scale: 0 full scale, -127 silence).
    pub level_dbov: f32,
    /// Mean level of the active frames in the window, dBov.
    pub active_level_dbov: f32,
    /// Crest factor (peak over RMS) of the last active frame, dB.
    pub crest_db: f32,
    /// Clipped samples in total.
    pub clipped_samples: u64,
    /// Clipped samples over all samples.
    pub clipping_ratio: f64,
    /// Distorted (clipped or flat-topped) active frames over active frames, in the window.
    pub distorted_fraction: f64,
    /// Packets concealed over packets due, in the window.
    pub concealed_fraction: f64,
    /// Packets recovered by FEC over packets due, in the window.
    pub fec_fraction: f64,
    /// Loss the rating uses (listener-side loss not recovered), percent.
    pub loss_pct: f64,
    /// Burst ratio the rating uses.
    pub burst_ratio: f64,
    /// Jitter-buffer delay, ms.
    pub jitter_buffer_delay_ms: f64,
    /// Interarrival jitter, ms.
    pub jitter_ms: f64,
    /// Round-trip time, ms, once known.
    pub rtt_ms: Option<f64>,
    /// One-way delay the rating uses, ms.
    pub delay_ms: f64,
    /// Transmission rating R.
    pub r: f64,
    /// MOS-CQE.
    pub mos: f64,
}

/// Per-frame signal figures (for tests and callers that want them directly).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameAnalysis {
    /// Level, dBov.
    pub level_dbov: f32,
    /// Peak over RMS, dB (0 for silence).
    pub crest_db: f32,
    /// Samples at full scale.
    pub clipped: u32,
    /// Runs of identical samples above half scale long enough to be flat tops.
    pub flat_tops: u32,
}

impl FrameAnalysis {
    /// Whether the frame shows clipping or flat-topping.
    pub fn distorted(&self) -> bool {
        self.clipped >= 3 || self.flat_tops > 0
    }
}

/// Level, crest factor, clipping and flat tops of one frame of `rate` Hz (interleaved
/// channels are treated as one stream). A flat top is a run of identical samples above half
/// scale lasting at least `rate / 4000 + 2` samples (4 at 8 kHz, 14 at 48 kHz): far longer
/// than the flat stretch a sine of 80 Hz or more has at its peak.
pub fn analyze_frame(pcm: &[i16], rate: u32) -> FrameAnalysis {
    let min_run = (rate / 4000 + 2) as usize;
    let mut sum = 0f64;
    let mut peak = 0i32;
    let mut clipped = 0u32;
    let mut flat_tops = 0u32;
    let mut run = 0usize;
    let mut prev = i32::MIN;
    for &s in pcm {
        let v = i32::from(s);
        let a = v.abs();
        sum += f64::from(v) * f64::from(v);
        peak = peak.max(a);
        if a >= CLIP_LEVEL {
            clipped += 1;
        }
        if v == prev && a >= FLAT_TOP_LEVEL {
            run += 1;
            if run + 1 == min_run {
                flat_tops += 1;
            }
        } else {
            run = 0;
        }
        prev = v;
    }
    let rms = if pcm.is_empty() {
        0.0
    } else {
        (sum / pcm.len() as f64).sqrt()
    };
    let level_dbov = if rms < 1e-9 {
        -127.0
    } else {
        (20.0 * (rms / 32768.0).log10()).max(-127.0) as f32
    };
    let crest_db = if rms < 1e-9 {
        0.0
    } else {
        (20.0 * (f64::from(peak) / rms).log10()) as f32
    };
    FrameAnalysis {
        level_dbov,
        crest_db,
        clipped,
        flat_tops,
    }
}

/// The metrics of one session direction; see the module docs.
#[derive(Debug, Clone)]
pub struct MediaMetrics {
    codec: CodecImpairment,
    rate: u32,
    ptime_ms: f64,
    codec_delay_ms: f64,
    buckets: [Bucket; WINDOW_SECONDS],
    head: usize,
    frames: u64,
    samples: u64,
    clipped_samples: u64,
    level_dbov: f32,
    crest_db: f32,
    active_power: [f64; WINDOW_SECONDS],
    in_loss_run: bool,
    jb_delay_ms: f64,
    jitter_ms: f64,
    rtt_ms: Option<f64>,
    reported_loss: Option<f64>,
}

impl MediaMetrics {
    /// Metrics for a stream of `codec` (its name: E-model values from
    /// [`CodecImpairment::for_codec`], G.711's when unknown) at `rate` Hz with `ptime_ms`
    /// packets and `codec_delay_ms` of look-ahead.
    pub fn new(codec: &str, rate: u32, ptime_ms: u16, codec_delay_ms: f64) -> Self {
        Self {
            codec: CodecImpairment::for_codec(codec)
                .unwrap_or(CodecImpairment { ie: 0.0, bpl: 25.1 }),
            rate: rate.max(1),
            ptime_ms: f64::from(ptime_ms),
            codec_delay_ms,
            buckets: [Bucket::default(); WINDOW_SECONDS],
            head: 0,
            frames: 0,
            samples: 0,
            clipped_samples: 0,
            level_dbov: -127.0,
            crest_db: 0.0,
            active_power: [0.0; WINDOW_SECONDS],
            in_loss_run: false,
            jb_delay_ms: 0.0,
            jitter_ms: 0.0,
            rtt_ms: None,
            reported_loss: None,
        }
    }

    /// Changes the codec (a mid-call switch); history is kept.
    pub fn set_codec(&mut self, codec: &str, rate: u32, ptime_ms: u16, codec_delay_ms: f64) {
        let fresh = Self::new(codec, rate, ptime_ms, codec_delay_ms);
        self.codec = fresh.codec;
        self.rate = fresh.rate;
        self.ptime_ms = fresh.ptime_ms;
        self.codec_delay_ms = codec_delay_ms;
    }

    /// One 10 ms frame of the direction's audio (captured, or played out).
    pub fn on_frame(&mut self, pcm: &[i16]) {
        if self.buckets[self.head].frames >= FRAMES_PER_BUCKET {
            self.head = (self.head + 1) % WINDOW_SECONDS;
            self.buckets[self.head] = Bucket::default();
            self.active_power[self.head] = 0.0;
        }
        let a = analyze_frame(pcm, self.rate);
        self.frames += 1;
        self.samples += pcm.len() as u64;
        self.clipped_samples += u64::from(a.clipped);
        self.level_dbov = a.level_dbov;
        let b = &mut self.buckets[self.head];
        b.frames += 1;
        if a.level_dbov > ACTIVE_DBOV {
            b.active_frames += 1;
            self.crest_db = a.crest_db;
            self.active_power[self.head] += 10f64.powf(f64::from(a.level_dbov) / 10.0);
            if a.distorted() {
                b.distorted_frames += 1;
            }
        }
    }

    /// Packet outcomes at playout (receive direction).
    pub fn on_packets(&mut self, d: PacketDelta) {
        let b = &mut self.buckets[self.head];
        let sat = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        b.played = b.played.saturating_add(sat(d.played));
        b.lost = b.lost.saturating_add(sat(d.lost));
        b.concealed = b.concealed.saturating_add(sat(d.concealed));
        b.fec_recovered = b.fec_recovered.saturating_add(sat(d.fec_recovered));
        // Loss runs (for BurstR) count every missing packet, recovered or not.
        if d.lost > 0 {
            if !self.in_loss_run {
                b.loss_runs += 1;
            }
            // Played packets in the same delta end the run (their order is not known).
            self.in_loss_run = d.played == 0;
        } else if d.played > 0 {
            self.in_loss_run = false;
        }
    }

    /// The jitter buffer's current delay, ms.
    pub fn set_jitter_buffer_delay(&mut self, ms: f64) {
        self.jb_delay_ms = ms.max(0.0);
    }

    /// Interarrival jitter and round-trip time as the transport measured them.
    pub fn set_network(&mut self, jitter_ms: f64, rtt_ms: Option<f64>) {
        self.jitter_ms = jitter_ms.max(0.0);
        if rtt_ms.is_some() {
            self.rtt_ms = rtt_ms;
        }
    }

    /// The round-trip time as RTCP measured it, ms.
    pub fn set_rtt(&mut self, rtt_ms: f64) {
        self.rtt_ms = Some(rtt_ms.max(0.0));
    }

    /// The loss fraction (0..=1) a receiver report gave about this direction (send
    /// direction); used when no packet outcomes are counted here.
    pub fn set_reported_loss(&mut self, fraction: f64) {
        self.reported_loss = Some(fraction.clamp(0.0, 1.0));
    }

    fn window(&self) -> (Bucket, f64) {
        let mut w = Bucket::default();
        let mut power = 0.0;
        for (b, p) in self.buckets.iter().zip(&self.active_power) {
            w.add(b);
            power += p;
        }
        (w, power)
    }

    /// The E-model rating of the window.
    pub fn rating(&self) -> Rating {
        self.snapshot_rating().1
    }

    fn snapshot_rating(&self) -> (Bucket, Rating, f64, f64, f64) {
        let (w, _) = self.window();
        let due = u64::from(w.played) + u64::from(w.lost);
        let (ppl, burst_r) = if due > 0 {
            // FEC-recovered packets reach the listener: they are not loss for the rating.
            let p = f64::from(w.lost.saturating_sub(w.fec_recovered)) / due as f64;
            let missing = f64::from(w.lost) / due as f64;
            let burst = if w.loss_runs > 0 && missing < 1.0 {
                let mean_run = f64::from(w.lost) / f64::from(w.loss_runs);
                (mean_run * (1.0 - missing)).max(1.0)
            } else {
                1.0
            };
            (100.0 * p, burst)
        } else {
            (100.0 * self.reported_loss.unwrap_or(0.0), 1.0)
        };
        let delay = self.jb_delay_ms
            + self.ptime_ms
            + self.codec_delay_ms
            + self.rtt_ms.map_or(0.0, |r| r / 2.0);
        let distorted = if w.active_frames > 0 {
            f64::from(w.distorted_frames) / f64::from(w.active_frames)
        } else {
            0.0
        };
        let mut codec = self.codec;
        codec.ie += DISTORTION_IE * distorted;
        let r = rate(&EModelParams::voip(codec, delay, ppl, burst_r));
        (w, r, ppl, burst_r, delay)
    }

    /// Every figure now, with the rating of the window.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let (w, r, ppl, burst_r, delay) = self.snapshot_rating();
        let (_, power) = self.window();
        let due = (u64::from(w.played) + u64::from(w.lost)) as f64;
        let frac = |n: u32, d: f64| if d > 0.0 { f64::from(n) / d } else { 0.0 };
        let active = f64::from(w.active_frames);
        MetricsSnapshot {
            frames: self.frames,
            level_dbov: self.level_dbov,
            active_level_dbov: if w.active_frames > 0 {
                (10.0 * (power / active).log10()) as f32
            } else {
                -127.0
            },
            crest_db: self.crest_db,
            clipped_samples: self.clipped_samples,
            clipping_ratio: if self.samples > 0 {
                self.clipped_samples as f64 / self.samples as f64
            } else {
                0.0
            },
            distorted_fraction: frac(w.distorted_frames, active),
            concealed_fraction: frac(w.concealed, due),
            fec_fraction: frac(w.fec_recovered, due),
            loss_pct: ppl,
            burst_ratio: burst_r,
            jitter_buffer_delay_ms: self.jb_delay_ms,
            jitter_ms: self.jitter_ms,
            rtt_ms: self.rtt_ms,
            delay_ms: delay,
            r: r.r,
            mos: r.mos,
        }
    }
}

/// Thresholds of the [`QualityMonitor`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QualityMonitorConfig {
    /// Below this MOS (for `degrade_after`) quality is degraded.
    pub threshold: f64,
    /// Above threshold + margin (for `recover_after`) it has recovered.
    pub margin: f64,
    /// How long the MOS must stay below the threshold.
    pub degrade_after: Duration,
    /// How long the MOS must stay above threshold + margin.
    pub recover_after: Duration,
    /// Below this MOS a high-priority alert is raised (once, until the MOS is back above
    /// floor + margin).
    pub floor: f64,
}

impl Default for QualityMonitorConfig {
    /// Degraded below MOS 3.6 (G.109's "some users dissatisfied", R 70) for 3 s, recovered
    /// above 3.8 for 5 s, alert below 3.1 (R 60, "many users dissatisfied").
    fn default() -> Self {
        Self {
            threshold: 3.6,
            margin: 0.2,
            degrade_after: Duration::from_secs(3),
            recover_after: Duration::from_secs(5),
            floor: 3.1,
        }
    }
}

/// Quality crossed the monitor's threshold (with hysteresis). Low priority on the bus.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum QualityChange {
    /// The MOS stayed below the threshold for the configured time.
    Degraded {
        /// The MOS now.
        mos: f32,
        /// The threshold.
        threshold: f32,
    },
    /// The MOS stayed above threshold + margin for the configured time.
    Recovered {
        /// The MOS now.
        mos: f32,
        /// The threshold.
        threshold: f32,
    },
}

/// What one [`QualityMonitor::update`] found.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MonitorOutput {
    /// A change of state, if any.
    pub change: Option<QualityChange>,
    /// An alert (MOS below the floor), if one is due.
    pub alert: Option<QualityAlert>,
}

/// Degraded / recovered with hysteresis, and floor alerts; see the module docs.
#[derive(Debug, Clone)]
pub struct QualityMonitor {
    config: QualityMonitorConfig,
    degraded: bool,
    since: Option<Instant>,
    alerted: bool,
}

impl QualityMonitor {
    /// A monitor that starts in the good state.
    pub fn new(config: QualityMonitorConfig) -> Self {
        Self {
            config,
            degraded: false,
            since: None,
            alerted: false,
        }
    }

    /// The thresholds.
    pub fn config(&self) -> &QualityMonitorConfig {
        &self.config
    }

    /// Whether quality is degraded now.
    pub fn is_degraded(&self) -> bool {
        self.degraded
    }

    /// A new MOS at `now` (call it regularly, e.g. once a second).
    pub fn update(&mut self, now: Instant, mos: f64) -> MonitorOutput {
        let c = self.config;
        let mut out = MonitorOutput::default();
        // The condition that would move us out of the current state.
        let leaving = if self.degraded {
            mos > c.threshold + c.margin
        } else {
            mos < c.threshold
        };
        if leaving {
            let since = *self.since.get_or_insert(now);
            let hold = if self.degraded {
                c.recover_after
            } else {
                c.degrade_after
            };
            if now.saturating_duration_since(since) >= hold {
                self.degraded = !self.degraded;
                self.since = None;
                let (mos, threshold) = (mos as f32, c.threshold as f32);
                out.change = Some(if self.degraded {
                    QualityChange::Degraded { mos, threshold }
                } else {
                    QualityChange::Recovered { mos, threshold }
                });
            }
        } else {
            self.since = None;
        }
        if mos < c.floor && !self.alerted {
            self.alerted = true;
            out.alert = Some(QualityAlert {
                metric: QualityMetric::Mos,
                value: mos as f32,
                threshold: c.floor as f32,
            });
        } else if mos >= c.floor + c.margin {
            self.alerted = false;
        }
        out
    }
}

#[cfg(test)]
mod tests;
