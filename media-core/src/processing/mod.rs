//! Signal processing: audio stages (concealment, noise suppression, gain control, voice
//! activity) and format conversion.

pub mod audio;
pub mod format;
