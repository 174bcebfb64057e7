//! A counting global allocator proves that the per-frame calls of the DTMF generator and
//! detector, comfort noise analysis and synthesis and the P.56 level meter allocate nothing
//! once built. Only allocations on the measuring thread are counted.

use media_core::frame::{AudioFormat, AudioFrame, SampleFormat};
use media_core::processing::audio::cng::{CnEncoder, CnGenerator, CnPayload};
use media_core::processing::audio::dtmf::{
    DetectorConfig, DtmfDetector, DtmfGenerator, GeneratorConfig,
};
use media_core::processing::audio::level::ActiveLevelMeter;
use media_core::processing::audio::AudioStage;
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations;
use media_core::SampleRate;

#[test]
fn dtmf_cng_and_level_frames_allocate_nothing() {
    for rate in [8000u32, 16000, 48000] {
        let sr = SampleRate(rate);
        let n = sr.samples_in_ms(10);
        let mut gen = DtmfGenerator::new(GeneratorConfig::at_rate(sr)).unwrap();
        let mut gen_f32 = DtmfGenerator::new(GeneratorConfig::at_rate(sr)).unwrap();
        let mut det = DtmfDetector::new(DetectorConfig::at_rate(sr)).unwrap();
        let mut stage = DtmfDetector::new(DetectorConfig::at_rate(sr)).unwrap();
        let mut enc = CnEncoder::new(sr, 12).unwrap();
        let mut cng = CnGenerator::new(sr, 1).unwrap();
        let mut meter = ActiveLevelMeter::new(rate);
        let fmt = AudioFormat {
            sample_rate: sr,
            channels: 1,
            sample_format: SampleFormat::F32,
        };
        let mut frame = AudioFrame::silent(fmt, n);
        let mut pcm = vec![0i16; n];
        let mut f32s = vec![0f32; n];
        let mut digits = 0;
        let mut bytes = [0u8; 13];
        let mut run = |frames: usize, digits: &mut usize| {
            for i in 0..frames {
                if gen.is_idle() {
                    gen.push_str("1234567890*#ABCD").unwrap();
                }
                if gen_f32.is_idle() {
                    gen_f32.push_str("D").unwrap();
                }
                gen.fill_i16(&mut pcm);
                det.process_i16(&pcm);
                while det.poll().is_some() {
                    *digits += 1;
                }
                gen_f32.fill_f32(&mut f32s);
                if let Some(s) = frame.as_f32_mut() {
                    s.copy_from_slice(&f32s);
                }
                stage.process(&mut frame).unwrap();
                while stage.poll().is_some() {}
                meter.process_i16(&pcm);
                meter.process_f32(&f32s);
                if i % 10 == 0 {
                    let sid = enc.analyze_i16(&pcm);
                    let len = sid.write(&mut bytes).unwrap();
                    cng.update(&CnPayload::parse(&bytes[..len]).unwrap());
                    let _ = meter.result();
                }
                cng.fill_i16(&mut pcm);
                cng.fill_f32(&mut f32s);
            }
        };
        // Warm up, then count.
        run(50, &mut digits);
        let allocated = allocations(|| run(1000, &mut digits));
        assert_eq!(
            allocated, 0,
            "{rate} Hz: {allocated} allocations in 1000 frames"
        );
        assert!(digits > 40, "{rate} Hz: only {digits} digits detected");
    }
}
