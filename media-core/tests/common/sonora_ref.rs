//! WebRTC AEC3 as-is, through `sonora` 0.2 (a pure-Rust port matching C++ libwebrtc): the
//! engine our echo canceller is measured against. Default AEC3 configuration (its high-pass
//! filter on, as WebRTC enforces), no other processing, no stream-delay hint.
#![allow(dead_code)]

use sonora::config::EchoCanceller;
use sonora::{AudioProcessing, Config, StreamConfig};

/// AEC3 over 10 ms mono f32 frames.
pub struct SonoraAec {
    apm: AudioProcessing,
    render_out: Vec<f32>,
}

impl SonoraAec {
    /// AEC3 at `rate` Hz (16000, 32000 or 48000).
    pub fn new(rate: u32) -> Self {
        let apm = AudioProcessing::builder()
            .config(Config {
                echo_canceller: Some(EchoCanceller::default()),
                ..Default::default()
            })
            .capture_config(StreamConfig::new(rate, 1))
            .render_config(StreamConfig::new(rate, 1))
            .build();
        Self {
            apm,
            render_out: vec![0.0; rate as usize / 100],
        }
    }

    /// Feeds one far-end frame, then cancels echo from one capture frame into `out`.
    pub fn process(&mut self, far: &[f32], mic: &[f32], out: &mut [f32]) {
        self.apm
            .process_render_f32(&[far], &mut [&mut self.render_out])
            .expect("sonora render");
        self.apm
            .process_capture_f32(&[mic], &mut [out])
            .expect("sonora capture");
    }
}
