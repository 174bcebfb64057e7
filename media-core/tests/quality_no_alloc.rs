//! The quality path allocates nothing per frame or per report (DESIGN principle 3):
//! `MediaMetrics` (frame analysis, packet outcomes, rating, snapshot), `QualityMonitor` and
//! `AudioAdaptation`, under a counting allocator.

use media_core::quality::adaptation::{AdaptationConfig, AudioAdaptation};
use media_core::quality::metrics::{
    MediaMetrics, PacketDelta, QualityMonitor, QualityMonitorConfig,
};
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations;
use std::time::{Duration, Instant};

#[test]
fn metrics_monitor_and_adaptation_do_not_allocate() {
    assert_eq!(allocations(|| drop(std::hint::black_box(vec![0u8; 64]))), 1);

    let frame: Vec<i16> = (0..480)
        .map(|i| ((i as f64 * 0.13).sin() * 40000.0).clamp(-32768.0, 32767.0) as i16)
        .collect();
    let mut m = MediaMetrics::new("opus", 48000, 20, 6.5);
    let mut mon = QualityMonitor::new(QualityMonitorConfig::default());
    let mut ad = AudioAdaptation::new(AdaptationConfig::new(32_000, 20));
    let t0 = Instant::now();
    let mut mos_sum = 0.0;
    let mut decisions = 0;
    let n = allocations(|| {
        for f in 0..6000u64 {
            let now = t0 + Duration::from_millis(10 * f);
            m.on_frame(&frame);
            m.on_packets(PacketDelta {
                played: u64::from(!f.is_multiple_of(7)),
                lost: u64::from(f.is_multiple_of(7)),
                concealed: u64::from(f.is_multiple_of(14)),
                fec_recovered: u64::from(f % 14 == 7),
            });
            m.set_jitter_buffer_delay(40.0);
            m.set_network(12.0, Some(80.0));
            if f.is_multiple_of(100) {
                let s = m.snapshot();
                mos_sum += s.mos;
                let _ = mon.update(now, s.mos);
                let loss = if (f / 1000).is_multiple_of(2) {
                    0.0
                } else {
                    0.1
                };
                ad.on_receiver_report(now, loss, Some(10.0), Some(Duration::from_millis(80)));
                ad.on_bandwidth_estimate(now, 20_000 + f * 10);
                if ad.poll_decision().is_some() {
                    decisions += 1;
                }
            }
        }
    });
    assert!(mos_sum > 0.0 && decisions > 0);
    assert_eq!(n, 0, "{n} allocations in 60 s of frames");
}
