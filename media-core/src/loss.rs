//! Packet loss models for offline runs (`transcode --loss`, `--loss-pattern`): seeded random
//! loss and ITU-T G.192 frame-erasure patterns.

use crate::signal::SplitMix64;
use std::fmt;

/// G.192 word marking a good frame.
pub const G192_GOOD: u16 = 0x6b21;
/// G.192 word marking an erased frame.
pub const G192_ERASED: u16 = 0x6b20;

/// An error reading a G.192 erasure pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PatternError {
    /// The file holds no whole 16-bit word.
    Empty,
    /// The file's length is odd.
    OddLength(usize),
    /// A word is neither 0x6B21 (good) nor 0x6B20 (erased).
    BadWord {
        /// Index of the word.
        index: usize,
        /// Its value.
        value: u16,
    },
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "empty G.192 pattern"),
            Self::OddLength(n) => write!(f, "G.192 pattern has odd length {n} bytes"),
            Self::BadWord { index, value } => write!(
                f,
                "G.192 word {index} is {value:#06x}, expected 0x6b21 (good) or 0x6b20 (erased)"
            ),
        }
    }
}

impl std::error::Error for PatternError {}

/// Parses a G.192 frame-erasure pattern: little-endian 16-bit words, one per frame;
/// `true` means erased.
pub fn parse_g192(bytes: &[u8]) -> Result<Vec<bool>, PatternError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(PatternError::OddLength(bytes.len()));
    }
    if bytes.is_empty() {
        return Err(PatternError::Empty);
    }
    bytes
        .chunks_exact(2)
        .enumerate()
        .map(|(index, w)| match u16::from_le_bytes([w[0], w[1]]) {
            G192_GOOD => Ok(false),
            G192_ERASED => Ok(true),
            value => Err(PatternError::BadWord { index, value }),
        })
        .collect()
}

/// Which packets to drop.
#[derive(Debug, Clone)]
pub enum LossModel {
    /// Drop none.
    None,
    /// Drop each packet independently with probability `percent / 100`, from a seeded PRNG, so
    /// the same seed drops the same packets.
    Random {
        /// Loss percentage, 0-100.
        percent: f64,
        /// PRNG seed.
        seed: u64,
    },
    /// Follow a pattern (`true` = drop), applied cyclically.
    Pattern(Vec<bool>),
}

impl LossModel {
    /// The long-run loss rate in percent.
    pub fn mean_percent(&self) -> f64 {
        match self {
            Self::None => 0.0,
            Self::Random { percent, .. } => percent.clamp(0.0, 100.0),
            Self::Pattern(p) if p.is_empty() => 0.0,
            Self::Pattern(p) => 100.0 * p.iter().filter(|&&x| x).count() as f64 / p.len() as f64,
        }
    }
}

/// Decides packet by packet whether a packet is lost.
#[derive(Debug, Clone)]
pub struct LossGenerator {
    model: LossModel,
    rng: SplitMix64,
    index: usize,
}

impl LossGenerator {
    /// A generator for `model`.
    pub fn new(model: LossModel) -> Self {
        let seed = match &model {
            LossModel::Random { seed, .. } => *seed,
            _ => 0,
        };
        Self {
            model,
            rng: SplitMix64(seed),
            index: 0,
        }
    }

    /// Whether the next packet is lost.
    pub fn next_lost(&mut self) -> bool {
        let i = self.index;
        self.index += 1;
        match &self.model {
            LossModel::None => false,
            LossModel::Random { percent, .. } => self.rng.unit() * 100.0 < *percent,
            LossModel::Pattern(p) if p.is_empty() => false,
            LossModel::Pattern(p) => p[i % p.len()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g192_parses_and_rejects() {
        let bytes = [0x21, 0x6b, 0x20, 0x6b];
        assert_eq!(parse_g192(&bytes), Ok(vec![false, true]));
        assert_eq!(parse_g192(&bytes[..3]), Err(PatternError::OddLength(3)));
        assert_eq!(parse_g192(&[]), Err(PatternError::Empty));
        assert!(matches!(
            parse_g192(&[1, 2]),
            Err(PatternError::BadWord { index: 0, .. })
        ));
    }

    #[test]
    fn random_loss_rate_and_determinism() {
        let run = |seed| {
            let mut g = LossGenerator::new(LossModel::Random {
                percent: 10.0,
                seed,
            });
            (0..100_000).map(|_| g.next_lost()).collect::<Vec<_>>()
        };
        let a = run(7);
        assert_eq!(a, run(7));
        assert_ne!(a, run(8));
        let lost = a.iter().filter(|&&x| x).count();
        assert!((9_500..10_500).contains(&lost), "{lost}");
    }

    #[test]
    fn pattern_is_cyclic() {
        let mut g = LossGenerator::new(LossModel::Pattern(vec![false, false, true]));
        let v: Vec<bool> = (0..7).map(|_| g.next_lost()).collect();
        assert_eq!(v, [false, false, true, false, false, true, false]);
    }
}
