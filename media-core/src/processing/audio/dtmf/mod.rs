//! DTMF (dual-tone multi-frequency) signalling in the audio: a tone generator per ITU-T Q.23
//! and a detector that meets ITU-T Q.24, plus the bridge to RFC 4733 telephone events.
//!
//! A DTMF digit is the sum of one tone of the low group (697, 770, 852, 941 Hz: the keypad row)
//! and one of the high group (1209, 1336, 1477, 1633 Hz: the column):
//!
//! ```text
//!            1209  1336  1477  1633 Hz
//!     697     1     2     3     A
//!     770     4     5     6     B
//!     852     7     8     9     C
//!     941     *     0     #     D
//! ```
//!
//! * [`DtmfGenerator`] writes digits as in-band tones into caller buffers at any rate from
//!   8 kHz, with raised-cosine on/off ramps, and plans the matching RFC 4733 packets through
//!   `rtp-core`'s [`EventSequence`](rtp_core::EventSequence).
//! * [`DtmfDetector`] finds digits in a stream (any call length; 10 ms frames through
//!   [`AudioStage`](super::AudioStage)) and reports each as a [`DtmfDetection`] pulled with
//!   [`DtmfDetector::poll`].
//!
//! # Levels
//!
//! Levels are in dBm0 per tone. As in RFC 3389 and G.711, 0 dBm0 is 6.18 dB below the
//! overload point of the linear scale (0 dBov, a full-scale square wave), so a 0 dBm0 sine has
//! a peak of 0.694 of full scale (22 748 in 16-bit samples) and the largest sine is +3.17 dBm0.
//! [`dbm0_to_peak`] and [`peak_to_dbm0`] convert.
//!
//! Nothing here allocates after construction.

mod detect;
mod generate;

pub use detect::{DetectorConfig, DtmfDetection, DtmfDetector};
pub use generate::{telephone_events, DtmfGenerator, GeneratorConfig};

use std::fmt;

/// The low-group (row) frequencies of ITU-T Q.23, in Hz.
pub const LOW_GROUP_HZ: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
/// The high-group (column) frequencies of ITU-T Q.23, in Hz.
pub const HIGH_GROUP_HZ: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];

/// The keypad: `KEYPAD[row][column]`.
const KEYPAD: [[char; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];

/// The level difference between dBm0 and dBov: 0 dBm0 = -6.18 dBov (RFC 3389 §3.1, G.711).
pub const DBM0_TO_DBOV: f64 = -6.18;

/// The peak amplitude, as a fraction of full scale, of a sine at `dbm0`.
pub fn dbm0_to_peak(dbm0: f64) -> f64 {
    // RMS of the sine relative to a full-scale square wave, times sqrt(2).
    10f64.powf((dbm0 + DBM0_TO_DBOV) / 20.0) * std::f64::consts::SQRT_2
}

/// The level in dBm0 of a sine of `peak` (a fraction of full scale).
pub fn peak_to_dbm0(peak: f64) -> f64 {
    20.0 * (peak / std::f64::consts::SQRT_2).max(1e-12).log10() - DBM0_TO_DBOV
}

/// The (row, column) of a DTMF character (`0`-`9`, `*`, `#`, `A`-`D`, case-blind).
pub fn digit_position(digit: char) -> Option<(usize, usize)> {
    let d = digit.to_ascii_uppercase();
    KEYPAD
        .iter()
        .enumerate()
        .find_map(|(r, row)| row.iter().position(|&c| c == d).map(|col| (r, col)))
}

/// The DTMF character at (row, column), both `0..4`.
pub fn digit_at(row: usize, col: usize) -> Option<char> {
    KEYPAD.get(row).and_then(|r| r.get(col)).copied()
}

/// The low and high frequency of a DTMF character, in Hz.
pub fn digit_frequencies(digit: char) -> Option<(f64, f64)> {
    digit_position(digit).map(|(r, c)| (LOW_GROUP_HZ[r], HIGH_GROUP_HZ[c]))
}

/// What went wrong with a DTMF request.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DtmfError {
    /// The character is not a DTMF digit (`0`-`9`, `*`, `#`, `A`-`D`).
    InvalidDigit(char),
    /// The generator's queue of pending digits is full; nothing was queued from this call on.
    QueueFull,
    /// A configuration value is out of range.
    InvalidConfig(String),
    /// `rtp-core` refused the telephone-event parameters.
    Rtp(rtp_core::PacketError),
}

impl fmt::Display for DtmfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidDigit(c) => write!(f, "'{c}' is not a DTMF digit (0-9 * # A-D)"),
            Self::QueueFull => write!(f, "the DTMF generator's digit queue is full"),
            Self::InvalidConfig(why) => write!(f, "invalid DTMF configuration: {why}"),
            Self::Rtp(e) => write!(f, "telephone-event: {e}"),
        }
    }
}

impl std::error::Error for DtmfError {}

impl From<rtp_core::PacketError> for DtmfError {
    fn from(e: rtp_core::PacketError) -> Self {
        Self::Rtp(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keypad_and_levels() {
        for (i, c) in "123A456B789C*0#D".chars().enumerate() {
            assert_eq!(digit_position(c), Some((i / 4, i % 4)));
            assert_eq!(digit_at(i / 4, i % 4), Some(c));
        }
        assert_eq!(digit_position('a'), Some((0, 3)));
        assert_eq!(digit_position('E'), None);
        assert_eq!(digit_frequencies('0'), Some((941.0, 1336.0)));
        // 0 dBm0: peak 22 748 of 32 768; the largest sine is +3.17 dBm0.
        assert!((dbm0_to_peak(0.0) * 32768.0 - 22748.0).abs() < 5.0);
        assert!((peak_to_dbm0(1.0) - 3.17).abs() < 0.01);
        assert!((peak_to_dbm0(dbm0_to_peak(-23.5)) + 23.5).abs() < 1e-9);
    }
}
