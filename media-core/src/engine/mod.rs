//! The engine: what runs on the media clock between the codecs and the devices. So far the
//! audio conference mixer and the call recorder ([`audio`]).

pub mod audio;
