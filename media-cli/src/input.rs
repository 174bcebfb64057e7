//! Reading the input of a command: a WAV file or a built-in signal.

use media_core::wav::{read_wav, WavAudio};

/// The name that selects the built-in test signal.
pub const BUILTIN_SPEECH: &str = "builtin:speech";

/// Loads `name`: `builtin:speech` (10 s of a speech-like test signal at 16 kHz) or a WAV path.
pub fn load(name: &str) -> Result<WavAudio, String> {
    if name == BUILTIN_SPEECH {
        return Ok(WavAudio {
            sample_rate: 16000,
            channels: 1,
            samples: media_core::signal::speech_like(10.0, 16000),
        });
    }
    if let Some(other) = name.strip_prefix("builtin:") {
        return Err(format!("unknown built-in signal '{other}' (known: speech)"));
    }
    read_wav(name).map_err(|e| format!("{name}: {e}"))
}
