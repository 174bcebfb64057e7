//! The mixer's tick, its per-participant input and output calls, and the recorder's tap never
//! allocate, with participants at several rates, codec participants, VAD on, and topology
//! changes applied at the tick (counting global allocator).

use media_core::codec::CodecRegistry;
use media_core::engine::audio::{
    recorder, AudioMixer, MixerConfig, ParticipantConfig, ParticipantId, RecorderConfig,
};
use media_core::frame::SampleRate;
use media_core::signal::speech_like;
use media_core::CodecParams;
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations;

#[test]
fn mixer_tick_and_recorder_tap_do_not_allocate() {
    const N: usize = 24;
    let reg = CodecRegistry::with_builtin();
    let mut m = AudioMixer::new(MixerConfig {
        sample_rate: SampleRate::HZ_16000,
        tick_ms: 20,
        max_participants: N + 4,
        vad: true,
    })
    .unwrap();
    let rates = [8000u32, 16000, 32000, 44100, 48000];
    let mut ids = Vec::new();
    for k in 0..N - 2 {
        let r = rates[k % rates.len()];
        let mut c = ParticipantConfig::pcm(r);
        c.output_rate = rates[(k + 2) % rates.len()];
        c.input_delay = k % 3 * 7;
        ids.push((m.join(c).unwrap(), r));
    }
    let mut codecs = Vec::new();
    for name in ["pcmu", "g722"] {
        let mut p = CodecParams::defaults(reg.find(name).unwrap().descriptor);
        p.ptime_ms = 20;
        let mut enc = reg.encoder(name, &p).unwrap();
        let pcm: Vec<i16> = speech_like(1.0, p.sample_rate);
        let frame = enc.frame_samples();
        let mut bytes = vec![0u8; enc.max_payload_bytes()];
        let n = enc.encode(&pcm[frame..2 * frame], &mut bytes).unwrap();
        bytes.truncate(n);
        codecs.push((m.join(ParticipantConfig::codec(name, p)).unwrap(), bytes));
    }
    let speech: Vec<Vec<i16>> = rates.iter().map(|&r| speech_like(2.0, r)).collect();
    let (mut tap, _writer) = recorder(RecorderConfig {
        sample_rate: 16000,
        ring_ms: 60_000,
        ..RecorderConfig::default()
    })
    .unwrap();
    tap.start();
    let mut out = vec![0i16; 960];
    let mut run =
        |m: &mut AudioMixer, ids: &[(ParticipantId, u32)], ticks: std::ops::Range<usize>| {
            for t in ticks {
                for (k, (id, r)) in ids.iter().enumerate() {
                    let n = (*r as usize) / 50;
                    let s = &speech[rates.iter().position(|x| x == r).unwrap()];
                    let at = (t * n + k * 97) % (s.len() - n);
                    m.push_pcm(*id, &s[at..at + n]).unwrap();
                }
                for (i, (id, bytes)) in codecs.iter().enumerate() {
                    if (t + i) % 7 != 3 {
                        m.push_packet(*id, bytes).unwrap();
                    }
                }
                m.tick();
                for (id, _) in ids {
                    m.pull_pcm(*id, &mut out).unwrap();
                }
                for (id, _) in &codecs {
                    assert!(!m.packet(*id).unwrap().is_empty());
                }
                let all = m.mix_all();
                tap.push(all, &[]);
                while m.poll_event().is_some() {}
            }
        };
    // Warm up (first calls of codecs and detectors).
    run(&mut m, &ids, 0..20);
    let n = allocations(|| run(&mut m, &ids, 20..80));
    assert_eq!(n, 0, "{n} allocations in 60 ticks");
    // Topology changes: queued outside the tick (join allocates there), applied inside.
    let newcomer = m.join(ParticipantConfig::pcm(16000)).unwrap();
    m.mute(ids[0].0).unwrap();
    m.set_volume(ids[1].0, 0.5).unwrap();
    m.leave(ids[2].0).unwrap();
    ids.remove(2);
    let n = allocations(|| {
        m.tick();
        run(&mut m, &ids, 80..100)
    });
    assert_eq!(
        n, 0,
        "{n} allocations in ticks applying join/leave/mute/volume"
    );
    assert!(m.output(newcomer).is_ok());
    assert_eq!(m.stats().participants, N);
}
