//! C reference implementations through FFI. Every function here is safe to call; the unsafe
//! blocks hold the invariants the C APIs need.
#![allow(unsafe_code)]

#[cfg(libfvad)]
pub mod fvad;
pub mod soxr;
pub mod spandsp;
pub mod speex_echo;
pub mod speexdsp;
