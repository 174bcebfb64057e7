fn main() {
    use sonora::{config::EchoCanceller, AudioProcessing, Config, StreamConfig};
    let mk = || {
        AudioProcessing::builder()
            .config(Config {
                echo_canceller: Some(EchoCanceller::default()),
                ..Default::default()
            })
            .capture_config(StreamConfig::new(16000, 1))
            .render_config(StreamConfig::new(16000, 1))
            .build()
    };
    let mut apm = mk();
    let mut rng = media_core::signal::SplitMix64(1);
    let mut rout = vec![0f32; 160];
    let mut out = vec![0f32; 160];
    let mut nan_out = 0;
    for i in 0..300 {
        let far: Vec<f32> = (0..160).map(|_| (rng.unit() as f32 - 0.5) * 0.2).collect();
        let mut near: Vec<f32> = far.iter().map(|x| x * 0.3).collect();
        if i == 100 {
            near[5] = f32::NAN;
        }
        apm.process_render_f32(&[&far], &mut [&mut rout]).unwrap();
        apm.process_capture_f32(&[&near], &mut [&mut out]).unwrap();
        if i > 100 && out.iter().any(|x| x.is_nan()) {
            nan_out += 1;
        }
    }
    println!("one NaN in capture frame 100 -> {nan_out} of the next 199 output frames hold NaN");
    let mut apm = mk();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let near = vec![0.1f32; 100];
        let mut o = vec![0f32; 100];
        apm.process_capture_f32(&[&near], &mut [&mut o])
    }));
    println!(
        "capture slice of 100 samples (10 ms = 160): {:?}",
        r.as_ref().map(|x| x.is_ok()).map_err(|_| "panicked")
    );
}
