//! Acoustic echo cancellation.

pub mod sim;
