//! The detector's settings and the digits it reports.

use super::*;

/// Detector settings. [`Default`] meets ITU-T Q.24 at 8 kHz; the module docs explain the tests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorConfig {
    /// Input rate, 8 to 96 kHz.
    pub sample_rate: SampleRate,
    /// The weakest tone accepted, dBm0 per tone (default -40; Q.24 asks for -3 down to
    /// about -30 and allows rejecting below).
    pub min_level_dbm0: f64,
    /// How much weaker than the low tone the high tone may be ("normal twist"), dB (default
    /// 8.5: Q.24's 8 dB with half a dB of measuring tolerance).
    pub max_normal_twist_db: f64,
    /// How much stronger than the low tone the high tone may be ("reverse twist"), dB
    /// (default 4.5: Q.24's 4 dB plus half a dB).
    pub max_reverse_twist_db: f64,
    /// Largest accepted frequency deviation of either tone, as a fraction (default 0.025).
    pub freq_tolerance: f64,
    /// Smallest share of the window's energy the two tones must carry (default 0.75).
    pub min_tone_ratio: f64,
    /// Largest second harmonic relative to its tone, dB (default -15).
    pub max_harmonic_db: f64,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            sample_rate: SampleRate::HZ_8000,
            min_level_dbm0: -42.0,
            max_normal_twist_db: 8.5,
            max_reverse_twist_db: 4.5,
            freq_tolerance: 0.025,
            min_tone_ratio: 0.75,
            max_harmonic_db: -15.0,
        }
    }
}

impl DetectorConfig {
    /// The default settings at `rate`.
    pub fn at_rate(rate: SampleRate) -> Self {
        Self {
            sample_rate: rate,
            ..Self::default()
        }
    }

    pub(super) fn validate(&self) -> Result<(), DtmfError> {
        let bad = |why: &str| Err(DtmfError::InvalidConfig(why.to_string()));
        if !(8000..=96_000).contains(&self.sample_rate.hz()) {
            return bad("detector sample rate must be 8000..=96000 Hz");
        }
        if !(-80.0..=0.0).contains(&self.min_level_dbm0) {
            return bad("min_level_dbm0 must be -80..=0");
        }
        if !(0.0..=20.0).contains(&self.max_normal_twist_db)
            || !(0.0..=20.0).contains(&self.max_reverse_twist_db)
        {
            return bad("twist limits must be 0..=20 dB");
        }
        if !(0.005..=0.04).contains(&self.freq_tolerance) {
            return bad("freq_tolerance must be 0.005..=0.04");
        }
        if !(0.1..=1.0).contains(&self.min_tone_ratio) {
            return bad("min_tone_ratio must be 0.1..=1");
        }
        if !(-60.0..=0.0).contains(&self.max_harmonic_db) {
            return bad("max_harmonic_db must be -60..=0");
        }
        Ok(())
    }
}

/// One detected digit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DtmfDetection {
    /// The digit: `0`-`9`, `*`, `#`, `A`-`D`.
    pub digit: char,
    /// The estimated first sample of the tone, in samples since the stream start.
    pub start: MediaTime,
    /// The estimated duration of the tone, in samples.
    pub duration: u64,
    /// The rate of `start` and `duration`.
    pub sample_rate: SampleRate,
    /// Level of the low tone as the digit started, dBm0.
    pub low_dbm0: f32,
    /// Level of the high tone as the digit started, dBm0.
    pub high_dbm0: f32,
}

impl DtmfDetection {
    /// The start in milliseconds since the stream start.
    pub fn start_ms(&self) -> f64 {
        self.start.0 as f64 * 1000.0 / f64::from(self.sample_rate.hz().max(1))
    }

    /// The duration in milliseconds.
    pub fn duration_ms(&self) -> f64 {
        self.duration as f64 * 1000.0 / f64::from(self.sample_rate.hz().max(1))
    }

    /// The first sample after the tone.
    pub fn end(&self) -> MediaTime {
        self.start.advanced(self.duration)
    }

    /// The combined power of the two tones, dBm0.
    pub fn power_dbm0(&self) -> f64 {
        10.0 * (10f64.powf(f64::from(self.low_dbm0) / 10.0)
            + 10f64.powf(f64::from(self.high_dbm0) / 10.0))
        .log10()
    }

    /// The RFC 4733 packets that relay this digit out of band: `rtp_at_zero` is the RTP
    /// timestamp of stream sample 0 on a `clock_rate` Hz clock (8000 for
    /// `telephone-event/8000`), with a packet every `packet_ms`.
    pub fn telephone_events(
        &self,
        rtp_at_zero: RtpTimestamp,
        clock_rate: u32,
        packet_ms: u32,
    ) -> Result<EventSequence, DtmfError> {
        let rate = u128::from(self.sample_rate.hz().max(1));
        let ticks = |samples: u64| (u128::from(samples) * u128::from(clock_rate) / rate) as u64;
        let start = rtp_at_zero.advanced(ticks(self.start.0) as u32);
        let duration = u32::try_from(ticks(self.duration).max(1))
            .map_err(|_| DtmfError::InvalidConfig("duration overflows the RTP clock".into()))?;
        let interval = u32::try_from(u64::from(packet_ms) * u64::from(clock_rate) / 1000)
            .map_err(|_| DtmfError::InvalidConfig("packet interval too long".into()))?;
        super::super::telephone_events(self.digit, self.power_dbm0(), start, duration, interval)
    }
}
