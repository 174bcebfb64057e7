//! The DTMF tone generator (ITU-T Q.23) and the RFC 4733 bridge.

use rtp_core::{dtmf_event_code, EventSequence, RtpTimestamp, MAX_VOLUME};

use super::{dbm0_to_peak, digit_position, DtmfError, HIGH_GROUP_HZ, LOW_GROUP_HZ};
use crate::frame::SampleRate;

/// How the generator plays digits. [`Default`] is the usual telephone setting.
///
/// Levels are per tone in dBm0 (see the [module docs](super#levels)). The default puts the
/// low-group tone at -10 dBm0 and the high-group tone 2 dB higher (-8 dBm0): that "pre-emphasis"
/// or positive twist is what telephones send so that the high tone, which lines attenuate more,
/// arrives about as strong as the low one. Together the pair is -5.9 dBm0, peaking at 0.49 of
/// full scale, well clear of clipping.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeneratorConfig {
    /// Output rate; 8 kHz or more (the highest tone and its ramps need it).
    pub sample_rate: SampleRate,
    /// Level of the low-group tone, dBm0 (default -10).
    pub low_level_dbm0: f64,
    /// Level of the high-group tone, dBm0 (default -8: +2 dB twist).
    pub high_level_dbm0: f64,
    /// Tone duration in ms, ramps included (default 100).
    pub tone_ms: u32,
    /// Silence after each tone in ms (default 100).
    pub pause_ms: u32,
    /// Length of the raised-cosine ramp at each end of a tone, ms (default 2; 0 switches hard,
    /// with a click).
    pub ramp_ms: f64,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        Self {
            sample_rate: SampleRate::HZ_8000,
            low_level_dbm0: -10.0,
            high_level_dbm0: -8.0,
            tone_ms: 100,
            pause_ms: 100,
            ramp_ms: 2.0,
        }
    }
}

impl GeneratorConfig {
    /// The default configuration at `rate`.
    pub fn at_rate(rate: SampleRate) -> Self {
        Self {
            sample_rate: rate,
            ..Self::default()
        }
    }

    /// The combined power of the two tones in dBm0 (the RFC 4733 volume, with its sign).
    pub fn power_dbm0(&self) -> f64 {
        10.0 * (10f64.powf(self.low_level_dbm0 / 10.0) + 10f64.powf(self.high_level_dbm0 / 10.0))
            .log10()
    }

    fn validate(&self) -> Result<(), DtmfError> {
        let bad = |why: &str| Err(DtmfError::InvalidConfig(why.to_string()));
        if !(8000..=384_000).contains(&self.sample_rate.hz()) {
            return bad("sample rate must be 8000..=384000 Hz");
        }
        for level in [self.low_level_dbm0, self.high_level_dbm0] {
            if !(-90.0..=3.0).contains(&level) {
                return bad("tone levels must be -90..=3 dBm0");
            }
        }
        // Both tones at +3 dBm0 would clip: keep the sum of the peaks within full scale.
        if dbm0_to_peak(self.low_level_dbm0) + dbm0_to_peak(self.high_level_dbm0) > 1.0 {
            return bad("the two tones together exceed full scale");
        }
        if self.tone_ms == 0 || self.tone_ms > 60_000 || self.pause_ms > 60_000 {
            return bad("tone must be 1..=60000 ms, pause 0..=60000 ms");
        }
        if !(0.0..=20.0).contains(&self.ramp_ms) || 2.0 * self.ramp_ms > f64::from(self.tone_ms) {
            return bad("ramps must be 0..=20 ms and fit twice in the tone");
        }
        Ok(())
    }
}

/// One queued digit: keypad position and its timing in samples.
#[derive(Debug, Clone, Copy, Default)]
struct Queued {
    row: u8,
    col: u8,
    tone: u32,
    pause: u32,
}

/// Digits waiting to be played, at most this many.
const QUEUE_LEN: usize = 64;

/// What the generator is doing.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Idle,
    /// Sample `at` of a tone of `len` samples.
    Tone {
        at: u32,
        len: u32,
    },
    /// Sample `at` of a pause of `len` samples.
    Pause {
        at: u32,
        len: u32,
    },
}

/// Plays queued DTMF digits as in-band tones, streaming into caller buffers.
///
/// ```
/// use media_core::processing::audio::dtmf::{DtmfGenerator, GeneratorConfig};
///
/// let mut gen = DtmfGenerator::new(GeneratorConfig::default())?;
/// gen.push_str("12#")?;
/// let mut frame = [0i16; 80]; // 10 ms at 8 kHz
/// let mut frames = 0;
/// while !gen.is_idle() {
///     gen.fill_i16(&mut frame);
///     frames += 1;
/// }
/// assert_eq!(frames, 60); // 3 x (100 ms tone + 100 ms pause)
/// # Ok::<(), media_core::processing::audio::dtmf::DtmfError>(())
/// ```
#[derive(Debug, Clone)]
pub struct DtmfGenerator {
    config: GeneratorConfig,
    amp_low: f64,
    amp_high: f64,
    ramp: u32,
    queue: [Queued; QUEUE_LEN],
    head: usize,
    len: usize,
    current: Queued,
    phase: Phase,
    /// Phase increments and accumulators of the two oscillators, in cycles.
    step_low: f64,
    step_high: f64,
    ph_low: f64,
    ph_high: f64,
}

impl DtmfGenerator {
    /// A generator with `config`, validated.
    pub fn new(config: GeneratorConfig) -> Result<Self, DtmfError> {
        config.validate()?;
        let rate = f64::from(config.sample_rate.hz());
        Ok(Self {
            config,
            amp_low: dbm0_to_peak(config.low_level_dbm0),
            amp_high: dbm0_to_peak(config.high_level_dbm0),
            ramp: (config.ramp_ms * rate / 1000.0).round() as u32,
            queue: [Queued::default(); QUEUE_LEN],
            head: 0,
            len: 0,
            current: Queued::default(),
            phase: Phase::Idle,
            step_low: 0.0,
            step_high: 0.0,
            ph_low: 0.0,
            ph_high: 0.0,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &GeneratorConfig {
        &self.config
    }

    fn ms_to_samples(&self, ms: u32) -> u32 {
        (u64::from(ms) * u64::from(self.config.sample_rate.hz()) / 1000) as u32
    }

    /// Queues `digit` with the configured tone and pause durations.
    pub fn push(&mut self, digit: char) -> Result<(), DtmfError> {
        self.push_timed(digit, self.config.tone_ms, self.config.pause_ms)
    }

    /// Queues `digit` for `tone_ms` (at least twice the ramp) followed by `pause_ms` of
    /// silence: for playing out received RFC 4733 events with their own durations.
    pub fn push_timed(
        &mut self,
        digit: char,
        tone_ms: u32,
        pause_ms: u32,
    ) -> Result<(), DtmfError> {
        let (row, col) = digit_position(digit).ok_or(DtmfError::InvalidDigit(digit))?;
        if self.len == QUEUE_LEN {
            return Err(DtmfError::QueueFull);
        }
        let tone = self
            .ms_to_samples(tone_ms.min(60_000))
            .max(2 * self.ramp)
            .max(1);
        let pause = self.ms_to_samples(pause_ms.min(60_000));
        self.queue[(self.head + self.len) % QUEUE_LEN] = Queued {
            row: row as u8,
            col: col as u8,
            tone,
            pause,
        };
        self.len += 1;
        Ok(())
    }

    /// Queues every digit of `digits` (whitespace is skipped). Checks them all first: on an
    /// invalid digit nothing is queued. Returns the number queued; on a full queue the digits
    /// before it stay queued and the error says so.
    pub fn push_str(&mut self, digits: &str) -> Result<usize, DtmfError> {
        if let Some(c) = digits
            .chars()
            .find(|c| !c.is_whitespace() && digit_position(*c).is_none())
        {
            return Err(DtmfError::InvalidDigit(c));
        }
        let mut n = 0;
        for c in digits.chars().filter(|c| !c.is_whitespace()) {
            self.push(c)?;
            n += 1;
        }
        Ok(n)
    }

    /// True when nothing is playing or queued.
    pub fn is_idle(&self) -> bool {
        self.phase == Phase::Idle && self.len == 0
    }

    /// Digits queued and not yet started.
    pub fn pending(&self) -> usize {
        self.len
    }

    /// Drops the queue and stops at once (the next sample is silence).
    pub fn cancel(&mut self) {
        self.len = 0;
        self.phase = Phase::Idle;
    }

    /// The next sample (full scale ±1), or `None` when idle.
    #[inline]
    fn next_sample(&mut self) -> Option<f64> {
        loop {
            match self.phase {
                Phase::Idle => {
                    if self.len == 0 {
                        return None;
                    }
                    let q = self.queue[self.head];
                    self.head = (self.head + 1) % QUEUE_LEN;
                    self.len -= 1;
                    self.current = q;
                    let rate = f64::from(self.config.sample_rate.hz());
                    self.step_low = LOW_GROUP_HZ[usize::from(q.row)] / rate;
                    self.step_high = HIGH_GROUP_HZ[usize::from(q.col)] / rate;
                    self.ph_low = 0.0;
                    self.ph_high = 0.0;
                    self.phase = Phase::Tone { at: 0, len: q.tone };
                }
                Phase::Tone { at, len } => {
                    if at >= len {
                        self.phase = Phase::Pause {
                            at: 0,
                            len: self.current.pause,
                        };
                        continue;
                    }
                    let env = self.envelope(at, len);
                    let tau = std::f64::consts::TAU;
                    let s = self.amp_low * (tau * self.ph_low).sin()
                        + self.amp_high * (tau * self.ph_high).sin();
                    self.ph_low = (self.ph_low + self.step_low).fract();
                    self.ph_high = (self.ph_high + self.step_high).fract();
                    self.phase = Phase::Tone { at: at + 1, len };
                    self.settle();
                    return Some(env * s);
                }
                Phase::Pause { at, len } => {
                    if at >= len {
                        self.phase = Phase::Idle;
                        continue;
                    }
                    self.phase = Phase::Pause { at: at + 1, len };
                    self.settle();
                    return Some(0.0);
                }
            }
        }
    }

    /// Moves past a finished tone or pause at once, so that [`is_idle`](Self::is_idle) is
    /// true right after the last sample of the last digit.
    fn settle(&mut self) {
        if let Phase::Tone { at, len } = self.phase {
            if at >= len {
                self.phase = Phase::Pause {
                    at: 0,
                    len: self.current.pause,
                };
            }
        }
        if let Phase::Pause { at, len } = self.phase {
            if at >= len {
                self.phase = Phase::Idle;
            }
        }
    }

    /// The raised-cosine on/off envelope at sample `at` of a tone of `len` samples.
    fn envelope(&self, at: u32, len: u32) -> f64 {
        let r = self.ramp;
        let from_edge = at.min(len - 1 - at);
        if from_edge >= r {
            return 1.0;
        }
        let x = (f64::from(from_edge) + 0.5) / f64::from(r);
        0.5 - 0.5 * (std::f64::consts::PI * x).cos()
    }

    /// Writes the next `out.len()` samples (16-bit). Returns how many belong to digits (tones
    /// and their pauses); the rest of `out`, once the queue runs dry, is silence.
    pub fn fill_i16(&mut self, out: &mut [i16]) -> usize {
        let mut n = 0;
        for o in out.iter_mut() {
            match self.next_sample() {
                Some(s) => {
                    *o = (s * 32768.0).round().clamp(-32768.0, 32767.0) as i16;
                    n += 1;
                }
                None => *o = 0,
            }
        }
        n
    }

    /// Writes the next `out.len()` samples (f32, full scale ±1). Returns how many belong to
    /// digits; the rest is silence.
    pub fn fill_f32(&mut self, out: &mut [f32]) -> usize {
        let mut n = 0;
        for o in out.iter_mut() {
            match self.next_sample() {
                Some(s) => {
                    *o = s as f32;
                    n += 1;
                }
                None => *o = 0.0,
            }
        }
        n
    }

    /// The RFC 4733 packets announcing `digit` as this generator plays it: the configured tone
    /// duration and power, starting at `start`, on a `clock_rate` Hz RTP clock (8000 for
    /// `telephone-event/8000`) with a packet every `packet_ms`. A sequence of digits starts
    /// one [`digit_period_ticks`](Self::digit_period_ticks) apart.
    pub fn telephone_events(
        &self,
        digit: char,
        start: RtpTimestamp,
        clock_rate: u32,
        packet_ms: u32,
    ) -> Result<EventSequence, DtmfError> {
        telephone_events(
            digit,
            self.config.power_dbm0(),
            start,
            ms_to_ticks(self.config.tone_ms, clock_rate)?,
            ms_to_ticks(packet_ms, clock_rate)?,
        )
    }

    /// Ticks of a `clock_rate` RTP clock from one digit's start to the next (tone + pause).
    pub fn digit_period_ticks(&self, clock_rate: u32) -> u32 {
        let ms = u64::from(self.config.tone_ms) + u64::from(self.config.pause_ms);
        (ms * u64::from(clock_rate) / 1000).min(u64::from(u32::MAX)) as u32
    }
}

fn ms_to_ticks(ms: u32, clock_rate: u32) -> Result<u32, DtmfError> {
    u32::try_from(u64::from(ms) * u64::from(clock_rate) / 1000)
        .map_err(|_| DtmfError::InvalidConfig("duration overflows the RTP clock".into()))
}

/// The RFC 4733 packets for one digit: event code from `digit`, volume from `power_dbm0` (the
/// combined power of the two tones; RFC 4733 carries it as 0..=63 with the sign dropped, so it
/// is rounded and clamped), `duration` and `interval` in RTP clock ticks (e.g. 800 and 160 for
/// 100 ms with 20 ms packets on an 8 kHz clock).
///
/// ```
/// use media_core::processing::audio::dtmf::telephone_events;
/// use rtp_core::RtpTimestamp;
///
/// let packets: Vec<_> = telephone_events('#', -5.9, RtpTimestamp(1000), 800, 160)?.collect();
/// assert_eq!(packets[0].event.event, 11);
/// assert_eq!(packets[0].event.volume, 6);
/// assert!(packets[0].marker);
/// assert_eq!(packets.last().map(|p| (p.event.duration, p.event.end)), Some((800, true)));
/// # Ok::<(), media_core::processing::audio::dtmf::DtmfError>(())
/// ```
pub fn telephone_events(
    digit: char,
    power_dbm0: f64,
    start: RtpTimestamp,
    duration: u32,
    interval: u32,
) -> Result<EventSequence, DtmfError> {
    let code = dtmf_event_code(digit).ok_or(DtmfError::InvalidDigit(digit))?;
    let volume = if power_dbm0.is_finite() {
        (-power_dbm0).round().clamp(0.0, f64::from(MAX_VOLUME)) as u8
    } else {
        MAX_VOLUME
    };
    let interval = u16::try_from(interval)
        .map_err(|_| DtmfError::InvalidConfig("packet interval over 65535 ticks".into()))?;
    Ok(EventSequence::new(code, volume, start, duration, interval)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone_rms_and_peak(x: &[f32]) -> (f64, f64) {
        let e: f64 = x.iter().map(|&s| f64::from(s) * f64::from(s)).sum::<f64>() / x.len() as f64;
        let p = x.iter().fold(0f32, |m, &s| m.max(s.abs()));
        (e.sqrt(), f64::from(p))
    }

    #[test]
    fn levels_timing_and_ramps() {
        for rate in [8000, 16000, 48000] {
            let mut g = DtmfGenerator::new(GeneratorConfig::at_rate(SampleRate(rate))).unwrap();
            g.push_str("5 D").unwrap();
            assert_eq!(g.pending(), 2);
            let n = rate as usize / 5; // 200 ms: tone + pause
            let mut buf = vec![0f32; 2 * n + 100];
            assert_eq!(g.fill_f32(&mut buf), 2 * n);
            assert!(g.is_idle());
            let tone = &buf[..n / 2];
            // Ramps: starts and ends near zero; no sample jump larger than the sines allow.
            assert!(tone[0].abs() < 0.01 && tone[n / 2 - 1].abs() < 0.01);
            let max_step = buf.windows(2).fold(0f32, |m, w| m.max((w[1] - w[0]).abs()));
            let bound = std::f64::consts::TAU * 1633.0 / f64::from(rate) * 0.5;
            assert!(f64::from(max_step) < bound, "{rate}: step {max_step}");
            // Power of the pair: -10 and -8 dBm0 = -5.88 dBm0.
            let (rms, peak) = tone_rms_and_peak(&tone[n / 10..n / 2 - n / 10]);
            let dbm0 = 20.0 * rms.log10() - super::super::DBM0_TO_DBOV;
            assert!((dbm0 + 5.88).abs() < 0.1, "{rate}: {dbm0}");
            assert!(peak < 0.5);
            assert!(buf[n / 2..n].iter().all(|&s| s == 0.0));
            assert!(buf[2 * n..].iter().all(|&s| s == 0.0));
        }
    }

    #[test]
    fn queue_and_errors() {
        let mut g = DtmfGenerator::new(GeneratorConfig::default()).unwrap();
        assert_eq!(g.push_str("12x3"), Err(DtmfError::InvalidDigit('x')));
        assert_eq!(g.pending(), 0);
        for _ in 0..QUEUE_LEN {
            g.push('1').unwrap();
        }
        assert_eq!(g.push('1'), Err(DtmfError::QueueFull));
        g.cancel();
        assert!(g.is_idle());
        let mut b = [1i16; 10];
        assert_eq!(g.fill_i16(&mut b), 0);
        assert_eq!(b, [0; 10]);
        let bad = GeneratorConfig {
            low_level_dbm0: 3.0,
            high_level_dbm0: 3.0,
            ..GeneratorConfig::default()
        };
        assert!(DtmfGenerator::new(bad).is_err());
        let bad = GeneratorConfig {
            sample_rate: SampleRate(4000),
            ..GeneratorConfig::default()
        };
        assert!(DtmfGenerator::new(bad).is_err());
    }

    #[test]
    fn rfc4733_plan() {
        let g = DtmfGenerator::new(GeneratorConfig::default()).unwrap();
        let p: Vec<_> = g
            .telephone_events('7', RtpTimestamp(100), 8000, 20)
            .unwrap()
            .collect();
        // 100 ms = 800 ticks in 160-tick packets, then two more end packets.
        assert_eq!(p.len(), 7);
        assert!(p.iter().all(|p| p.event.event == 7 && p.event.volume == 6));
        assert_eq!(p[4].event.duration, 800);
        assert_eq!(g.digit_period_ticks(8000), 1600);
        assert!(g.telephone_events('x', RtpTimestamp(0), 8000, 20).is_err());
        assert!(telephone_events('1', -100.0, RtpTimestamp(0), 10, 70_000).is_err());
        let quiet = telephone_events('1', -100.0, RtpTimestamp(0), 10, 10).unwrap();
        assert!(quiet.clone().all(|p| p.event.volume == 63));
    }
}
