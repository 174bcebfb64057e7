//! The E-model (ITU-T G.107): transmission rating R and estimated MOS (MOS-CQE) from the
//! parameters of a connection. Codec impairments come from ITU-T G.113 Appendix I.
//!
//! With every parameter at its G.107 default, R = 93.2 and MOS = 4.41. Packet loss enters
//! through the effective equipment impairment
//! `Ie,eff = Ie + (95 - Ie) * Ppl / (Ppl / BurstR + Bpl)`; jitter-buffer discards are loss too,
//! so callers add them to `Ppl`. Delay enters through Id (echo-free talker and listener echo
//! terms from T, Tr, and the absolute delay term from Ta).

/// Equipment impairment of a codec (ITU-T G.113 Appendix I, provisional planning values).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CodecImpairment {
    /// Equipment impairment factor Ie with no loss.
    pub ie: f64,
    /// Packet-loss robustness factor Bpl.
    pub bpl: f64,
}

impl CodecImpairment {
    /// The impairment values for a codec, by name (case-blind), with where each comes from:
    ///
    /// | name | Ie | Bpl | source |
    /// |---|---|---|---|
    /// | `pcmu`, `pcma`, `g711`, `l16` | 0 | 25.1 | G.113 Appendix I, G.711 with Appendix I PLC (our decoders always conceal with it; L16 has no coding distortion and the same concealment) |
    /// | `g711-noplc` | 0 | 4.3 | G.113 Appendix I, G.711 without PLC |
    /// | `g729a`, `g729` | 11 | 19.0 | G.113 Appendix I, G.729A + VAD |
    /// | `g723.1` | 15 | 16.1 | G.113 Appendix I, G.723.1 6.3 kbit/s + VAD |
    /// | `ilbc` | 17 | 16 | **estimate**, ours: ITU-T P.834 method (Ie from instrumental scores) applied to our PESQ figures of iLBC 30 ms (README table: 3.85 at 0 % vs G.711 4.40); Bpl fitted to the 5/10/20 % figures, scaled so that the same fit of G.711 gives G.113's 25.1. G.113 has no iLBC entry |
    /// | `g722` | 0 | 5 | **estimate** on the narrowband scale (see below); Bpl fitted to our wideband PESQ figures of G.722 with its concealment, scaled as for iLBC |
    /// | `opus` | 0 | 27 | **estimate** on the narrowband scale; no G.113 value exists; Bpl fitted as above to our PESQ figures of Opus 24 kbit/s with in-band FEC told the loss rate (the adaptation does that) |
    ///
    /// Wideband codecs (G.722, Opus at 16 kHz and up) belong on the wideband E-model of
    /// G.107.1 (R up to 129, Ie,wb from G.113 Appendix IV). This module is the narrowband
    /// G.107 only, so they are rated as if band-limited to telephone band with Ie = 0 (a
    /// vendor planning guide that maps G.113 Appendix IV's Ie,wb of G.722 at 64 kbit/s to the
    /// narrowband scale gets Ie of about -1): their wideband advantage is not credited, and
    /// their MOS tops out at G.711's 4.41.
    pub fn for_codec(name: &str) -> Option<Self> {
        // Case-blind without allocating (the quality monitor calls this during calls).
        let is = |names: &[&str]| names.iter().any(|n| n.eq_ignore_ascii_case(name));
        let (ie, bpl) = if is(&["pcmu", "pcma", "g711", "l16"]) {
            (0.0, 25.1)
        } else if is(&["g711-noplc"]) {
            (0.0, 4.3)
        } else if is(&["g729a", "g729"]) {
            (11.0, 19.0)
        } else if is(&["g723.1", "g7231"]) {
            (15.0, 16.1)
        } else if is(&["ilbc"]) {
            (17.0, 16.0)
        } else if is(&["g722"]) {
            (0.0, 5.0)
        } else if is(&["opus"]) {
            (0.0, 27.0)
        } else {
            return None;
        };
        Some(Self { ie, bpl })
    }
}

/// The E-model's input parameters. `Default` gives G.107's default values (Table 3).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EModelParams {
    /// Send loudness rating SLR, dB.
    pub slr: f64,
    /// Receive loudness rating RLR, dB.
    pub rlr: f64,
    /// Sidetone masking rating STMR, dB.
    pub stmr: f64,
    /// Listener sidetone rating LSTR, dB.
    pub lstr: f64,
    /// D-value of the telephone, send side.
    pub ds: f64,
    /// D-value of the telephone, receive side.
    pub dr: f64,
    /// Talker echo loudness rating TELR, dB.
    pub telr: f64,
    /// Weighted echo path loss WEPL, dB.
    pub wepl: f64,
    /// Mean one-way delay of the echo path T, ms.
    pub t: f64,
    /// Round-trip delay in a 4-wire loop Tr, ms.
    pub tr: f64,
    /// Absolute delay in echo-free connections Ta, ms.
    pub ta: f64,
    /// Number of quantisation distortion units qdu.
    pub qdu: f64,
    /// Equipment impairment factor Ie.
    pub ie: f64,
    /// Packet-loss robustness factor Bpl.
    pub bpl: f64,
    /// Random packet-loss probability Ppl, percent.
    pub ppl: f64,
    /// Burst ratio BurstR (1 = random loss, > 1 = bursty).
    pub burst_r: f64,
    /// Circuit noise referred to the 0 dBr point Nc, dBm0p.
    pub nc: f64,
    /// Noise floor at the receive side Nfor, dBmp.
    pub nfor: f64,
    /// Room noise at the send side Ps, dB(A).
    pub ps: f64,
    /// Room noise at the receive side Pr, dB(A).
    pub pr: f64,
    /// Advantage factor A.
    pub a: f64,
}

impl Default for EModelParams {
    fn default() -> Self {
        Self {
            slr: 8.0,
            rlr: 2.0,
            stmr: 15.0,
            lstr: 18.0,
            ds: 3.0,
            dr: 3.0,
            telr: 65.0,
            wepl: 110.0,
            t: 0.0,
            tr: 0.0,
            ta: 0.0,
            qdu: 1.0,
            ie: 0.0,
            bpl: 4.3,
            ppl: 0.0,
            burst_r: 1.0,
            nc: -70.0,
            nfor: -64.0,
            ps: 35.0,
            pr: 35.0,
            a: 0.0,
        }
    }
}

impl EModelParams {
    /// Defaults with a codec's Ie/Bpl, a one-way delay (T = Ta = `delay_ms`, Tr = 2T), a loss
    /// percentage and a burst ratio.
    pub fn voip(codec: CodecImpairment, delay_ms: f64, loss_pct: f64, burst_r: f64) -> Self {
        Self {
            ie: codec.ie,
            bpl: codec.bpl,
            t: delay_ms,
            ta: delay_ms,
            tr: 2.0 * delay_ms,
            ppl: loss_pct,
            burst_r,
            ..Self::default()
        }
    }
}

/// The terms of the rating, for inspection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rating {
    /// Basic signal-to-noise ratio Ro.
    pub ro: f64,
    /// Simultaneous impairment Is.
    pub is: f64,
    /// Delay impairment Id = Idte + Idle + Idd.
    pub id: f64,
    /// Talker echo impairment Idte (Idtes when STMR > 20 dB).
    pub idte: f64,
    /// Listener echo impairment Idle.
    pub idle: f64,
    /// Impairment of too-long absolute delay Idd.
    pub idd: f64,
    /// Effective equipment impairment Ie,eff.
    pub ie_eff: f64,
    /// Transmission rating R = Ro - Is - Id - Ie,eff + A.
    pub r: f64,
    /// Estimated conversational MOS (MOS-CQE).
    pub mos: f64,
}

fn db_sum(levels: &[f64]) -> f64 {
    10.0 * levels
        .iter()
        .map(|l| 10f64.powf(l / 10.0))
        .sum::<f64>()
        .log10()
}

/// Computes R and MOS per ITU-T G.107.
pub fn rate(p: &EModelParams) -> Rating {
    let olr = p.slr + p.rlr;
    // Basic signal-to-noise ratio.
    let nos = p.ps - p.slr - p.ds - 100.0 + 0.004 * (p.ps - olr - p.ds - 14.0).powi(2);
    let pre = p.pr + 10.0 * (1.0 + 10f64.powf((10.0 - p.lstr) / 10.0)).log10();
    let nor = p.rlr - 121.0 + pre + 0.008 * (pre - 35.0).powi(2);
    let nfo = p.nfor + p.rlr;
    let no = db_sum(&[p.nc, nos, nor, nfo]);
    let ro = 15.0 - 1.5 * (p.slr + no);

    // Simultaneous impairments.
    let xolr = olr + 0.2 * (64.0 + no - p.rlr);
    let iolr = 20.0 * ((1.0 + (xolr / 8.0).powi(8)).powf(1.0 / 8.0) - xolr / 8.0);
    let stmro = -10.0
        * (10f64.powf(-p.stmr / 10.0) + (-p.t / 4.0).exp() * 10f64.powf(-p.telr / 10.0)).log10();
    let ist = 12.0 * (1.0 + ((stmro - 13.0) / 6.0).powi(8)).powf(1.0 / 8.0)
        - 28.0 * (1.0 + ((stmro + 1.0) / 19.4).powi(35)).powf(1.0 / 35.0)
        - 13.0 * (1.0 + ((stmro - 3.0) / 33.0).powi(13)).powf(1.0 / 13.0)
        + 29.0;
    let q = 37.0 - 15.0 * p.qdu.max(1e-9).log10();
    let g = 1.07 + 0.258 * q + 0.0602 * q * q;
    let y = (ro - 100.0) / 15.0 + 46.0 / 8.4 - g / 9.0;
    let z = 46.0 / 30.0 - g / 40.0;
    let iq = 15.0 * (1.0 + 10f64.powf(y) + 10f64.powf(z)).log10();
    let is = iolr + ist + iq;

    // Delay impairments.
    let terv0 = p.telr - 40.0 * ((1.0 + p.t / 10.0) / (1.0 + p.t / 150.0)).log10()
        + 6.0 * (-0.3 * p.t * p.t).exp();
    let terv = if p.stmr < 9.0 {
        terv0 + ist / 2.0
    } else {
        terv0
    };
    let roe = -1.5 * (no - p.rlr);
    let re = 80.0 + 2.5 * (terv - 14.0);
    let idte =
        ((roe - re) / 2.0 + ((roe - re).powi(2) / 4.0 + 100.0).sqrt() - 1.0) * (1.0 - (-p.t).exp());
    let idte = if p.stmr > 20.0 {
        // G.107 7.3: for STMR above 20 dB, Idte is replaced by Idtes.
        (idte * idte + ist * ist).sqrt()
    } else {
        idte
    };
    let rle = 10.5 * (p.wepl + 7.0) * (p.tr + 1.0).powf(-0.25);
    let idle = (ro - rle) / 2.0 + ((ro - rle).powi(2) / 4.0 + 169.0).sqrt();
    let idd = if p.ta <= 100.0 {
        0.0
    } else {
        let x = (p.ta / 100.0).log10() / 2f64.log10();
        25.0 * ((1.0 + x.powi(6)).powf(1.0 / 6.0) - 3.0 * (1.0 + (x / 3.0).powi(6)).powf(1.0 / 6.0)
            + 2.0)
    };
    let id = idte + idle + idd;

    // Equipment impairment with loss.
    let ppl = p.ppl.clamp(0.0, 100.0);
    let burst_r = p.burst_r.max(1e-9);
    let ie_eff = p.ie + (95.0 - p.ie) * ppl / (ppl / burst_r + p.bpl);

    let r = ro - is - id - ie_eff + p.a;
    Rating {
        ro,
        is,
        id,
        idte,
        idle,
        idd,
        ie_eff,
        r,
        mos: mos_from_r(r),
    }
}

/// MOS-CQE from R (G.107 Annex B).
pub fn mos_from_r(r: f64) -> f64 {
    if r <= 0.0 {
        1.0
    } else if r >= 100.0 {
        4.5
    } else {
        1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6
    }
}

/// The burst ratio of a Gilbert-Elliott loss process with p = P(good -> bad) and
/// q = P(bad -> good) when the bad state loses every packet: BurstR = 1 / (p + q)
/// (G.107 Annex A note; equals 1 for random loss).
pub fn burst_ratio(p: f64, q: f64) -> f64 {
    if p + q <= 0.0 {
        1.0
    } else {
        1.0 / (p + q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_give_93_2_and_4_41() {
        let r = rate(&EModelParams::default());
        assert!((r.r - 93.2).abs() < 0.05, "R = {}", r.r);
        assert!((r.mos - 4.41).abs() < 0.005, "MOS = {}", r.mos);
    }

    #[test]
    fn mos_mapping_matches_annex_b() {
        assert_eq!(mos_from_r(-5.0), 1.0);
        assert_eq!(mos_from_r(120.0), 4.5);
        assert!((mos_from_r(50.0) - 2.58).abs() < 0.01);
        assert!((mos_from_r(80.0) - 4.024).abs() < 0.001);
    }

    #[test]
    fn loss_and_delay_lower_quality_monotonically() {
        let g711 = CodecImpairment::for_codec("pcmu").unwrap();
        let mut last = f64::INFINITY;
        for loss in [0.0, 1.0, 2.0, 5.0, 10.0, 20.0] {
            let r = rate(&EModelParams::voip(g711, 20.0, loss, 1.0)).r;
            assert!(r < last);
            last = r;
        }
        let mut last = f64::INFINITY;
        for d in [0.0, 50.0, 100.0, 150.0, 200.0, 300.0, 500.0] {
            let r = rate(&EModelParams::voip(g711, d, 0.0, 1.0)).r;
            assert!(r <= last + 1e-9, "delay {d}");
            last = r;
        }
    }

    #[test]
    fn burstiness_hurts() {
        let g711 = CodecImpairment::for_codec("pcmu").unwrap();
        let random = rate(&EModelParams::voip(g711, 0.0, 5.0, 1.0)).r;
        let bursty = rate(&EModelParams::voip(g711, 0.0, 5.0, 2.0)).r;
        assert!(bursty < random);
        assert_eq!(burst_ratio(0.0, 0.0), 1.0);
        // Random loss at rate p is Gilbert-Elliott with q = 1 - p.
        assert!((burst_ratio(0.1, 0.9) - 1.0).abs() < 1e-12);
    }
}
