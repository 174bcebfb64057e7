//! [`ChainConfig`] and the slot and option enums of the processing chain.

use super::super::aec::EchoConfig;
use super::super::agc::AgcConfig;
use super::super::highpass::DEFAULT_CUTOFF_HZ;
use super::super::ns::NsConfig;
use super::super::stage::ProcessError;
use super::super::vad::VadConfig;
#[cfg(doc)]
use super::ProcessingChain;
use crate::frame::SampleRate;

/// A position in the chain, in processing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    /// High-pass filter.
    HighPass,
    /// Acoustic echo cancellation.
    Aec,
    /// Noise suppression.
    Ns,
    /// Automatic gain control.
    Agc,
    /// Voice activity detection.
    Vad,
}

impl Slot {
    /// All slots in processing order.
    pub const ALL: [Slot; 5] = [Slot::HighPass, Slot::Aec, Slot::Ns, Slot::Agc, Slot::Vad];

    pub(super) fn index(self) -> usize {
        match self {
            Slot::HighPass => 0,
            Slot::Aec => 1,
            Slot::Ns => 2,
            Slot::Agc => 3,
            Slot::Vad => 4,
        }
    }
}

/// Chain configuration: which stages the chain holds (each starts enabled) and theirs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChainConfig {
    /// Capture rate: 8, 16, 32 or 48 kHz.
    pub sample_rate: SampleRate,
    /// Whether the high-pass starts enabled.
    pub high_pass: bool,
    /// High-pass corner in Hz.
    pub high_pass_hz: f32,
    /// The echo canceller's configuration, or `None` for no echo canceller. Every stage's rate
    /// must be the chain's.
    pub aec: Option<EchoConfig>,
    /// The noise suppressor's configuration, or `None`.
    pub ns: Option<NsConfig>,
    /// The gain controller's configuration, or `None`.
    pub agc: Option<AgcConfig>,
    /// The voice activity detector's configuration, or `None`.
    pub vad: Option<VadConfig>,
    /// Where the AGC's speech decision comes from (see the module docs).
    pub speech_hint: SpeechHint,
    /// Which signal the VAD judges (see the module docs).
    pub vad_input: VadInput,
}

/// Which signal the chain's VAD judges (see the module docs). It never changes the audio, so
/// its place in the chain is only a matter of what it listens to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VadInput {
    /// The capture after high-pass and echo cancellation, before noise suppression (the
    /// default): the signal the detector was tuned and validated on. Its decision on a frame
    /// comes out the NS latency (about one frame) before that frame's audio
    /// ([`ProcessingChain::vad_latency_samples`]); when the AGC shares it (NS off), each
    /// decision is delayed to line up.
    #[default]
    Capture,
    /// What the chain sends (after NS and AGC; with [`SpeechHint::Vad`], the AGC's input).
    Processed,
}
/// Where the AGC's per-frame speech decision comes from (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpeechHint {
    /// The AGC's own detector.
    None,
    /// The chain's VAD when it judges the AGC's input, else the AGC's own detector (the
    /// default).
    #[default]
    Vad,
    /// The noise suppressor's speech probability.
    Ns,
}

impl ChainConfig {
    /// High-pass at 90 Hz and the echo canceller with its defaults; no NS, AGC or VAD.
    pub fn new(sample_rate: SampleRate) -> Self {
        Self {
            sample_rate,
            high_pass: true,
            high_pass_hz: DEFAULT_CUTOFF_HZ,
            aec: Some(EchoConfig::new(sample_rate)),
            ns: None,
            agc: None,
            vad: None,
            speech_hint: SpeechHint::Vad,
            vad_input: VadInput::Capture,
        }
    }

    /// A softphone's chain: every stage with its defaults (the VAD on the capture before NS).
    pub fn voip(sample_rate: SampleRate) -> Self {
        Self::new(sample_rate)
            .with_ns(Some(NsConfig::at(sample_rate)))
            .with_agc(Some(AgcConfig::at(sample_rate)))
            .with_vad(Some(VadConfig::at(sample_rate)))
    }

    /// Whether the high-pass starts enabled.
    pub fn with_high_pass(mut self, on: bool) -> Self {
        self.high_pass = on;
        self
    }

    /// The echo canceller (`None`: none).
    pub fn with_aec(mut self, aec: Option<EchoConfig>) -> Self {
        self.aec = aec;
        self
    }

    /// The noise suppressor (`None`: none).
    pub fn with_ns(mut self, ns: Option<NsConfig>) -> Self {
        self.ns = ns;
        self
    }

    /// The gain controller (`None`: none).
    pub fn with_agc(mut self, agc: Option<AgcConfig>) -> Self {
        self.agc = agc;
        self
    }

    /// The voice activity detector (`None`: none).
    pub fn with_vad(mut self, vad: Option<VadConfig>) -> Self {
        self.vad = vad;
        self
    }

    /// Which signal the VAD judges.
    pub fn with_vad_input(mut self, input: VadInput) -> Self {
        self.vad_input = input;
        self
    }

    /// Where the AGC's speech decision comes from.
    pub fn with_speech_hint(mut self, hint: SpeechHint) -> Self {
        self.speech_hint = hint;
        self
    }

    pub(super) fn check_rate(&self, what: &str, rate: SampleRate) -> Result<(), ProcessError> {
        if rate == self.sample_rate {
            Ok(())
        } else {
            Err(ProcessError::InvalidConfig(format!(
                "{what} at {rate}, chain at {}",
                self.sample_rate
            )))
        }
    }
}
