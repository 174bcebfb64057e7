use super::*;
use crate::signal::speech_like;

fn cfg(rate: u32, vad: bool) -> MixerConfig {
    MixerConfig {
        sample_rate: SampleRate(rate),
        tick_ms: 20,
        max_participants: 8,
        vad,
    }
}

/// A deterministic, distinct signal per participant and tick.
fn signal(k: usize, tick: usize, n: usize) -> Vec<i16> {
    (0..n)
        .map(|i| {
            let t = (tick * n + i) as u64;
            let h = (t.wrapping_mul(2654435761).wrapping_add(k as u64 * 97)) % 16001;
            (h as i64 - 8000) as i16 / (k as i16 + 1)
        })
        .collect()
}

#[test]
fn everyone_hears_everyone_else_exactly() {
    let mut m = AudioMixer::new(cfg(16000, false)).unwrap();
    let ids: Vec<_> = (0..5)
        .map(|_| m.join(ParticipantConfig::pcm(16000)).unwrap())
        .collect();
    for tick in 0..10 {
        let inputs: Vec<_> = (0..5).map(|k| signal(k, tick, 320)).collect();
        for (id, x) in ids.iter().zip(&inputs) {
            m.push_pcm(*id, x).unwrap();
        }
        m.tick();
        for (k, id) in ids.iter().enumerate() {
            let out = m.output(*id).unwrap();
            for i in 0..320 {
                let want: i32 = (0..5)
                    .filter(|&j| j != k)
                    .map(|j| i32::from(inputs[j][i]))
                    .sum();
                assert_eq!(i32::from(out[i]), want, "participant {k} sample {i}");
            }
        }
        for i in 0..320 {
            let all: i32 = inputs.iter().map(|x| i32::from(x[i])).sum();
            assert_eq!(i32::from(m.mix_all()[i]), all);
        }
    }
    assert_eq!(m.stats().limited_frames, 0);
}

#[test]
fn commands_apply_at_the_tick_boundary() {
    let mut m = AudioMixer::new(cfg(8000, false)).unwrap();
    let a = m.join(ParticipantConfig::pcm(8000)).unwrap();
    let b = m.join(ParticipantConfig::pcm(8000)).unwrap();
    let one = vec![100i16; 160];
    m.push_pcm(a, &one).unwrap();
    m.push_pcm(b, &one).unwrap();
    // Nothing is mixed before the first tick.
    assert_eq!(m.stats().participants, 0);
    assert_eq!(m.output(b).unwrap(), &[0i16; 160][..]);
    m.tick();
    assert_eq!(m.poll_event(), Some(MixerEvent::Joined(a)));
    assert_eq!(m.poll_event(), Some(MixerEvent::Joined(b)));
    assert_eq!(m.output(b).unwrap()[0], 100);
    // Mute is queued: the output already made is unchanged until the next tick.
    m.mute(a).unwrap();
    assert_eq!(m.output(b).unwrap()[0], 100);
    m.push_pcm(a, &one).unwrap();
    m.push_pcm(b, &one).unwrap();
    m.tick();
    assert_eq!(m.output(b).unwrap()[0], 0);
    assert_eq!(m.output(a).unwrap()[0], 100, "a muted still hears b");
    m.unmute(a).unwrap();
    m.set_volume(a, 0.5).unwrap();
    m.push_pcm(a, &one).unwrap();
    m.tick();
    assert_eq!(m.output(b).unwrap()[0], 50);
    // Leave: effective at the tick; the handle is then stale.
    m.leave(a).unwrap();
    assert!(m.output(a).is_ok());
    m.tick();
    assert_eq!(m.poll_event(), Some(MixerEvent::Left(a)));
    assert_eq!(m.output(a), Err(MixerError::UnknownParticipant(a)));
    assert_eq!(m.stats().participants, 1);
    // A new participant may reuse the slot but not the handle.
    let c = m.join(ParticipantConfig::pcm(8000)).unwrap();
    assert_ne!(c, a);
    assert!(m.push_pcm(a, &one).is_err());
    m.push_pcm(c, &one).unwrap();
    m.tick();
    assert_eq!(m.output(b).unwrap()[0], 100);
    assert_eq!(m.output(c).unwrap()[0], 0);
}

#[test]
fn missing_input_is_silence_and_bad_lengths_are_refused() {
    let mut m = AudioMixer::new(cfg(16000, false)).unwrap();
    let a = m.join(ParticipantConfig::pcm(16000)).unwrap();
    let b = m.join(ParticipantConfig::pcm(16000)).unwrap();
    assert_eq!(
        m.push_pcm(a, &[0; 100]),
        Err(MixerError::BadLength {
            got: 100,
            expected: 320
        })
    );
    m.push_pcm(a, &[7; 320]).unwrap();
    m.tick();
    assert_eq!(m.output(b).unwrap()[5], 7);
    m.tick();
    assert_eq!(m.output(b).unwrap()[5], 0);
    let mut small = [0i16; 10];
    assert!(m.pull_pcm(b, &mut small).is_err());
}

#[test]
fn full_and_invalid() {
    let mut m = AudioMixer::new(MixerConfig {
        max_participants: 2,
        ..cfg(16000, false)
    })
    .unwrap();
    m.join(ParticipantConfig::pcm(16000)).unwrap();
    m.join(ParticipantConfig::pcm(48000)).unwrap();
    assert_eq!(m.join(ParticipantConfig::pcm(16000)), Err(MixerError::Full));
    assert!(AudioMixer::new(cfg(44100, false)).is_err());
    assert!(AudioMixer::new(MixerConfig {
        tick_ms: 30,
        ..cfg(16000, false)
    })
    .is_err());
    let mut m = AudioMixer::new(cfg(16000, false)).unwrap();
    assert!(m.join(ParticipantConfig::pcm(11025)).is_err());
    let mut bad = ParticipantConfig::pcm(16000);
    bad.volume = f32::NAN;
    assert!(m.join(bad).is_err());
}

#[test]
fn levels_are_kept_and_the_limiter_only_acts_on_overload() {
    let mut m = AudioMixer::new(cfg(16000, false)).unwrap();
    let ids: Vec<_> = (0..3)
        .map(|_| m.join(ParticipantConfig::pcm(16000)).unwrap())
        .collect();
    let tone = |amp: f32, tick: usize| -> Vec<i16> {
        (0..320)
            .map(|i| {
                let t = (tick * 320 + i) as f32 / 16000.0;
                (amp * (2.0 * std::f32::consts::PI * 300.0 * t).sin()) as i16
            })
            .collect()
    };
    for tick in 0..100 {
        // Loud for 0.5 s (the sum reaches 2.4x full scale), then quiet.
        let amp = if tick < 25 { 26000.0 } else { 5000.0 };
        let x = tone(amp, tick);
        for id in &ids {
            m.push_pcm(*id, &x).unwrap();
        }
        m.tick();
        let out = m.output(ids[0]).unwrap();
        assert!(out.iter().all(|&v| f32::from(v).abs() <= 32112.0));
        if tick == 99 {
            // Released: exactly the sum of the other two again.
            for (o, &s) in out.iter().zip(&x) {
                assert_eq!(i32::from(*o), 2 * i32::from(s));
            }
        }
    }
    assert!(m.stats().limited_frames > 25 * 4);
}

#[test]
fn participants_at_other_rates_are_resampled_both_ways() {
    let mut m = AudioMixer::new(cfg(16000, false)).unwrap();
    let a = m.join(ParticipantConfig::pcm(8000)).unwrap();
    let b = m.join(ParticipantConfig::pcm(48000)).unwrap();
    let hz = 440.0;
    let mut energy = 0.0f64;
    for tick in 0..50 {
        let x: Vec<i16> = (0..160)
            .map(|i| {
                let t = (tick * 160 + i) as f32 / 8000.0;
                (8000.0 * (2.0 * std::f32::consts::PI * hz * t).sin()) as i16
            })
            .collect();
        m.push_pcm(a, &x).unwrap();
        m.tick();
        let out = m.output(b).unwrap();
        assert_eq!(out.len(), 960);
        assert_eq!(m.output(a).unwrap().len(), 160);
        if tick > 10 {
            energy += out.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / 960.0;
        }
    }
    // The tone arrives at its level (RMS 8000 / sqrt 2).
    let rms = (energy / 39.0).sqrt();
    assert!((rms - 8000.0 / 2f64.sqrt()).abs() < 100.0, "{rms}");
}

#[test]
fn active_speaker_follows_the_talker_with_one_vad_each() {
    let mut m = AudioMixer::new(cfg(16000, true)).unwrap();
    let ids: Vec<_> = (0..3)
        .map(|_| m.join(ParticipantConfig::pcm(16000)).unwrap())
        .collect();
    let speech = speech_like(6.0, 16000);
    let quiet: Vec<i16> = (0..speech.len())
        .map(|i| ((i as u64 * 2654435761 % 61) as i16) - 30)
        .collect();
    // 0-3 s participant 1 talks, 3-6 s participant 2; participant 0 stays near silent.
    let mut changes = Vec::new();
    let mut speaker_at = Vec::new();
    for tick in 0..300 {
        let r = tick * 320..(tick + 1) * 320;
        let (one, two) = if tick < 150 {
            (&speech[r.clone()], &quiet[r.clone()])
        } else {
            (&quiet[r.clone()], &speech[r.clone()])
        };
        m.push_pcm(ids[0], &quiet[r.clone()]).unwrap();
        m.push_pcm(ids[1], one).unwrap();
        m.push_pcm(ids[2], two).unwrap();
        m.tick();
        while let Some(e) = m.poll_event() {
            if let MixerEvent::ActiveSpeaker(s) = e {
                changes.push((tick, s));
            }
        }
        speaker_at.push(m.active_speaker());
    }
    assert!(!m.is_speaking(ids[0]).unwrap());
    assert_eq!(speaker_at[140], Some(ids[1]), "{changes:?}");
    assert_eq!(speaker_at[299], Some(ids[2]), "{changes:?}");
    // Never the silent one, and no flicker: one change per talker.
    assert!(changes.iter().all(|(_, s)| *s != Some(ids[0])));
    assert_eq!(changes.len(), 2, "{changes:?}");
}

#[test]
fn codec_participants_are_transcoded() {
    use crate::codec::CodecRegistry;
    let reg = CodecRegistry::with_builtin();
    let mut m = AudioMixer::new(cfg(16000, false)).unwrap();
    let pcmu = reg.find("pcmu").unwrap().descriptor;
    let g722 = reg.find("g722").unwrap().descriptor;
    let mut pu = CodecParams::defaults(pcmu);
    pu.ptime_ms = 20;
    let mut pg = CodecParams::defaults(g722);
    pg.ptime_ms = 20;
    let a = m
        .join(ParticipantConfig::codec("pcmu", pu.clone()))
        .unwrap();
    let b = m
        .join(ParticipantConfig::codec("g722", pg.clone()))
        .unwrap();
    let mut enc = reg.encoder("pcmu", &pu).unwrap();
    let mut dec = reg.decoder("g722", &pg).unwrap();
    let mut enc_b = reg.encoder("g722", &pg).unwrap();
    let mut silence = vec![0u8; 1500];
    let speech = speech_like(2.0, 8000);
    let mut heard = Vec::new();
    let mut bytes = vec![0u8; 1500];
    for tick in 0..100 {
        let n = enc
            .encode(&speech[tick * 160..(tick + 1) * 160], &mut bytes)
            .unwrap();
        m.push_packet(a, &bytes[..n]).unwrap();
        // b sends silence (encoded each tick, so its encoder and the mixer's decoder agree).
        let k = enc_b.encode(&[0; 320], &mut silence).unwrap();
        m.push_packet(b, &silence[..k]).unwrap();
        m.tick();
        let pkt = m.packet(b).unwrap().to_vec();
        assert_eq!(pkt.len(), 160, "G.722 20 ms");
        let mut pcm = vec![0i16; 320];
        let k = dec.decode(&pkt, &mut pcm).unwrap();
        heard.extend_from_slice(&pcm[..k]);
        assert!(m.packet(a).unwrap().len() == 160);
    }
    // The other way: G.722 at the mixer's rate (no resampler) to PCMU; a's packets are
    // missing now and concealed.
    let mut dec_a = reg.decoder("pcmu", &pu).unwrap();
    let speech16 = speech_like(2.0, 16000);
    let mut heard_a = Vec::new();
    for tick in 0..100 {
        let n = enc_b
            .encode(&speech16[tick * 320..(tick + 1) * 320], &mut bytes)
            .unwrap();
        m.push_packet(b, &bytes[..n]).unwrap();
        m.tick();
        let mut pcm = vec![0i16; 160];
        let k = dec_a.decode(m.packet(a).unwrap(), &mut pcm).unwrap();

        heard_a.extend_from_slice(&pcm[..k]);
    }
    let e_b: f64 = speech16.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / 32000.0;
    let e_a: f64 = heard_a.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / 16000.0;
    let db = 10.0 * (e_a / e_b).log10();
    assert!(
        db.abs() < 1.5,
        "level through g722 -> mixer -> pcmu: {db} dB"
    );
    assert_eq!(m.push_pcm(a, &[0; 160]), Err(MixerError::CodecParticipant));
    assert!(m.push_packet(a, &[0; 5000]).is_err());
    let e_in: f64 = speech.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / 2.0;
    let e_out: f64 = heard.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / 4.0;
    let ratio_db = 10.0 * (e_out / e_in).log10();
    assert!(
        ratio_db.abs() < 1.5,
        "level through pcmu -> mixer -> g722: {ratio_db} dB"
    );
}
