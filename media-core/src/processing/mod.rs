//! Signal processing: audio stages (concealment so far) and format conversion.

pub mod audio;
pub mod format;
