//! Jitter buffer configuration and its validation.

use std::fmt;
use std::time::Duration;

/// Jitter buffer configuration; [`JitterConfig::new`] gives the defaults for a clock rate.
#[derive(Debug, Clone, PartialEq)]
pub struct JitterConfig {
    /// RTP clock rate (8000 for PCMU and G.722, 48000 for Opus).
    pub clock_rate: u32,
    /// Playout frame: the duration of `NothingYet` and `Expand`, and the packet duration assumed
    /// until timestamps tell (20 ms).
    pub frame_duration: Duration,
    /// Lower bound of the target delay (20 ms).
    pub min_delay: Duration,
    /// Upper bound of the target delay (1 s).
    pub max_delay: Duration,
    /// Target delay before any measurement (60 ms).
    pub initial_delay: Duration,
    /// Most packets held (128).
    pub max_packets: usize,
    /// Most payload bytes held, counted by buffer capacity (256 KiB).
    pub max_bytes: usize,
    /// Largest payload accepted; larger packets are dropped and counted (1500).
    pub max_payload: usize,
    /// Share of packets the target delay should let arrive in time (0.95).
    pub quantile: f64,
    /// Histogram forgetting factor per packet (0.995: about 4 s of 20 ms packets).
    pub forget_factor: f64,
    /// The target is at least this times the RFC 3550 jitter (1.0; 0 disables).
    pub jitter_factor: f64,
    /// How fast the target may fall, per second (20 ms).
    pub target_decay: Duration,
    /// After a late packet the target does not fall for this long (2 s).
    pub late_hold: Duration,
    /// Window of the base-transit minimum (2 s).
    pub base_window: Duration,
    /// Histogram bucket width (2 ms).
    pub histogram_resolution: Duration,
    /// A packet whose relative delay is beyond ± this (a timestamp jump) starts a
    /// resynchronisation, confirmed by the next packet (2 s).
    pub resync_threshold: Duration,
    /// Longest run of underflow concealment before reporting silence (60 ms).
    pub max_conceal: Duration,
    /// Longest packet duration believed; a larger timestamp step is a silence (120 ms).
    pub max_packet_duration: Duration,
    /// The media layer time-stretches (`false`): the buffer then neither inserts
    /// [`MissingKind::Expand`](super::MissingKind::Expand) frames nor drops packets while
    /// packets are flowing, except to shed an excess beyond `stretch_excess` over the target;
    /// the caller accelerates or expands the decoded audio by pitch periods to keep
    /// [`JitterBuffer::current_delay`](super::JitterBuffer::current_delay) near
    /// [`JitterBuffer::target_delay`](super::JitterBuffer::target_delay). Underflow (waiting
    /// for a packet) and silences still adapt as without it.
    pub media_stretch: bool,
    /// With `media_stretch`: the excess over the target delay beyond which whole packets are
    /// dropped anyway (120 ms).
    pub stretch_excess: Duration,
}

impl JitterConfig {
    /// Defaults for an RTP clock rate.
    pub fn new(clock_rate: u32) -> Self {
        Self {
            clock_rate,
            frame_duration: Duration::from_millis(20),
            min_delay: Duration::from_millis(20),
            max_delay: Duration::from_secs(1),
            initial_delay: Duration::from_millis(60),
            max_packets: 128,
            max_bytes: 256 * 1024,
            max_payload: 1500,
            quantile: 0.95,
            forget_factor: 0.995,
            jitter_factor: 1.0,
            target_decay: Duration::from_millis(20),
            late_hold: Duration::from_secs(2),
            base_window: Duration::from_secs(2),
            histogram_resolution: Duration::from_millis(2),
            resync_threshold: Duration::from_secs(2),
            max_conceal: Duration::from_millis(60),
            max_packet_duration: Duration::from_millis(120),
            media_stretch: false,
            stretch_excess: Duration::from_millis(120),
        }
    }

    /// Checks the values against each other.
    pub fn validate(&self) -> Result<(), JitterConfigError> {
        use JitterConfigError as E;
        if self.clock_rate == 0 || self.clock_rate > 1_000_000 {
            return Err(E::ClockRate(self.clock_rate));
        }
        let tick = Duration::from_secs(1) / self.clock_rate;
        if self.frame_duration < tick.max(Duration::from_micros(100))
            || self.frame_duration > Duration::from_secs(1)
        {
            return Err(E::FrameDuration);
        }
        if self.min_delay > self.initial_delay
            || self.initial_delay > self.max_delay
            || self.max_delay > Duration::from_secs(60)
        {
            return Err(E::DelayBounds);
        }
        if self.max_packets == 0 || self.max_packets > 32_768 {
            return Err(E::MaxPackets(self.max_packets));
        }
        if self.max_payload == 0 || self.max_payload > self.max_bytes {
            return Err(E::MaxBytes);
        }
        let unit = |x: f64| x.is_finite() && x > 0.0 && x < 1.0;
        if !unit(self.quantile) {
            return Err(E::Quantile);
        }
        if !unit(self.forget_factor) {
            return Err(E::ForgetFactor);
        }
        if !(self.jitter_factor.is_finite() && (0.0..=100.0).contains(&self.jitter_factor)) {
            return Err(E::JitterFactor);
        }
        if self.histogram_resolution < Duration::from_micros(100)
            || self.histogram_resolution > Duration::from_secs(1)
            || self.base_window < Duration::from_millis(10)
            || self.base_window > Duration::from_secs(600)
        {
            return Err(E::Window);
        }
        if self.resync_threshold < Duration::from_millis(100)
            || self.resync_threshold > Duration::from_secs(3600)
        {
            return Err(E::ResyncThreshold);
        }
        if self.max_packet_duration < self.frame_duration
            || self.max_packet_duration > Duration::from_secs(10)
            || self.max_conceal > Duration::from_secs(60)
            || self.target_decay > Duration::from_secs(60)
            || self.late_hold > Duration::from_secs(600)
            || self.stretch_excess > Duration::from_secs(60)
        {
            return Err(E::Durations);
        }
        Ok(())
    }
}

impl Default for JitterConfig {
    /// 8 kHz (PCMU/PCMA/G.722), 20 ms frames.
    fn default() -> Self {
        Self::new(8000)
    }
}

/// An invalid [`JitterConfig`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JitterConfigError {
    /// The clock rate is 0 or above 1 MHz.
    ClockRate(u32),
    /// The frame duration is below one tick or 100 µs, or above 1 s.
    FrameDuration,
    /// Not `min_delay <= initial_delay <= max_delay <= 60 s`.
    DelayBounds,
    /// `max_packets` is 0 or above 32768.
    MaxPackets(usize),
    /// `max_payload` is 0 or above `max_bytes`.
    MaxBytes,
    /// `quantile` is not in (0, 1).
    Quantile,
    /// `forget_factor` is not in (0, 1).
    ForgetFactor,
    /// `jitter_factor` is not in [0, 100].
    JitterFactor,
    /// Histogram resolution outside [100 µs, 1 s] or base window outside [10 ms, 600 s].
    Window,
    /// Resynchronisation threshold outside [100 ms, 1 h].
    ResyncThreshold,
    /// `max_packet_duration` below the frame or above 10 s, `max_conceal` / `target_decay` /
    /// `stretch_excess` above 60 s, or `late_hold` above 600 s.
    Durations,
}

impl fmt::Display for JitterConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ClockRate(r) => write!(f, "jitter buffer: clock rate {r} Hz out of range"),
            Self::FrameDuration => write!(f, "jitter buffer: frame duration out of range"),
            Self::DelayBounds => {
                write!(f, "jitter buffer: need min <= initial <= max delay <= 60 s")
            }
            Self::MaxPackets(n) => write!(f, "jitter buffer: max_packets {n} out of range"),
            Self::MaxBytes => write!(f, "jitter buffer: need 0 < max_payload <= max_bytes"),
            Self::Quantile => write!(f, "jitter buffer: quantile must be in (0, 1)"),
            Self::ForgetFactor => write!(f, "jitter buffer: forget factor must be in (0, 1)"),
            Self::JitterFactor => write!(f, "jitter buffer: jitter factor must be in [0, 100]"),
            Self::Window => write!(
                f,
                "jitter buffer: histogram resolution or window out of range"
            ),
            Self::ResyncThreshold => write!(f, "jitter buffer: resync threshold out of range"),
            Self::Durations => write!(
                f,
                "jitter buffer: packet/conceal/decay duration out of range"
            ),
        }
    }
}

impl std::error::Error for JitterConfigError {}
