//! The listener panel's figures (issue 18) against what they measure: the response read from a
//! render equals the circuit's divider, the distortion of a clipped sine equals the bench's THD,
//! and silence gives no figures rather than false ones.

use loadline::bench::Analyser;
use loadline::dsp::Quality;
use loadline::editor::model::deviation_db;
use loadline::panel::analysis::FRAME;
use loadline::panel::render::{render_setup, MixFormat, SetupResult};
use loadline::panel::{self, Setup};
use num_complex::Complex64;

fn setup(stage: &str, headphone: &str) -> Setup {
    let text = format!("[[setup]]\nid = \"t\"\nname = \"T\"\nstage = \"{stage}\"\nheadphone = \"{headphone}\"\n");
    panel::parse(&text).unwrap().remove(0)
}

/// Renders stereo `x` (in memory) through `s` at `spl` and returns the result and the output.
fn render(s: &Setup, spl: f64, x: &[[f32; 2]]) -> (SetupResult, Vec<[f32; 2]>) {
    let mut at = 0;
    let mut out = Vec::with_capacity(x.len());
    let r = render_setup::<()>(
        s,
        spl,
        MixFormat { fs_hz: 48_000.0, channels: 2, quality: Quality::Default },
        |chans, max| {
            let n = max.min(x.len() - at);
            for k in 0..n {
                chans[0][k] = x[at + k][0];
                chans[1][k] = x[at + k][1];
            }
            at += n;
            Ok(n)
        },
        |chans, from, to| {
            out.extend((from..to).map(|k| [chans[0][k], chans[1][k]]));
            Ok(())
        },
        |_| {},
    )
    .unwrap();
    (r, out)
}

/// The same white noise in both channels: a centred source, for which each earpiece sees the
/// stage through twice a shared ground (`StageParams::mono_source_impedance`).
fn noise(n: usize, amp: f32) -> Vec<[f32; 2]> {
    let mut s = 0x1234_5678_9abc_def1u64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        ((s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * amp
    };
    (0..n).map(|_| {
        let x = next();
        [x, x]
    }).collect()
}

/// The divider `Z/(Z+Zs)` averaged over the analysis's 1/6-octave band around `f`, in dB (what a
/// cross-spectral estimate of white noise reads there).
fn model_band_db(s: &Setup, f: f64) -> f64 {
    let bin = 48_000.0 / FRAME as f64;
    let (lo, hi) = (((f * 2f64.powf(-1.0 / 12.0)) / bin).floor() as usize, ((f * 2f64.powf(1.0 / 12.0)) / bin).ceil() as usize);
    let st = &s.stage.params;
    let sum: Complex64 = (lo.max(1)..=hi).map(|k| {
        let z = s.headphone.network.impedance(k as f64 * bin);
        z / (z + st.mono_source_impedance(k as f64 * bin))
    }).sum();
    20.0 * (sum / (hi + 1 - lo.max(1)) as f64).norm().log10()
}

/// White noise, centred, through strongly coloured setups (one through a shared ground), well
/// below their limits: the level at 1 kHz is
/// the divider's within 0.05 dB, and the response relative to 1 kHz (the curve, bass and treble)
/// is the divider's within 0.1 dB everywhere from 20 Hz to 20 kHz.
#[test]
fn the_response_read_from_a_render_is_the_divider() {
    let x = noise(48_000 * 20, 0.05);
    for (stage, hp) in [("laptop-jack", "multi-ba-2way-88"), ("beyerdynamic-a20", "focal-clear"), ("phone-jack", "ba-single")] {
        let s = setup(stage, hp);
        let (r, _) = render(&s, 70.0, &x);
        let f = &r.findings;
        let want_1k = deviation_db(&s.headphone.network, &s.stage.params, 1000.0);
        let l1k = f.level_1k_db.unwrap();
        println!("{stage} → {hp}: level at 1 kHz {l1k:.3} dB (divider {want_1k:.3}), bass {:+.2}, treble {:+.2}", f.bass_db.unwrap(), f.treble_db.unwrap());
        assert!((l1k - want_1k).abs() < 0.05, "{stage}: {l1k} against {want_1k}");
        let mid = model_band_db(&s, 1000.0);
        assert!(f.curve.len() >= 115, "{} points", f.curve.len());
        let mut worst: f64 = 0.0;
        for &(fr, db) in &f.curve {
            let want = model_band_db(&s, fr) - mid;
            worst = worst.max((db - want).abs());
            assert!((db - want).abs() < 0.1, "{stage} at {fr:.0} Hz: {db:.3} dB against {want:.3}");
        }
        assert!((f.bass_db.unwrap() - (model_band_db(&s, 50.0) - mid)).abs() < 0.1);
        assert!((f.treble_db.unwrap() - (model_band_db(&s, 10_000.0) - mid)).abs() < 0.1);
        println!("  worst curve difference {worst:.3} dB; distortion {:.4} %", f.worst_distortion_pct.unwrap());
    }
}

/// A 1 kHz sine clipped by a line out into a 300 Ω headphone: the panel's worst distortion is the
/// bench's THD for the same drive (within 5 %), and the clipping share is reported.
#[test]
fn a_clipped_sine_distorts_as_the_bench_measures() {
    let s = setup("consumer-line-out", "open-dynamic-300");
    let a = 0.5f32;
    let x: Vec<[f32; 2]> = (0..48_000 * 3).map(|k| {
        let v = a * (2.0 * std::f32::consts::PI * 1000.0 * k as f32 / 48_000.0).sin();
        [v, v]
    }).collect();
    // The sine is at −6.02 dBFS RMS, 7.98 dB above the reference sine (−14 dBFS RMS); the stage's
    // onset for the reference is 100.88 dB SPL (tests/listening_level.rs), so this one reaches it at
    // 92.9 dB SPL, and the meters (at 95 % of onset) light from 92.45.
    for spl in [85.0, 91.0, 93.0, 97.0, 104.0] {
        let (r, _) = render(&s, spl, &x);
        let mut stage = s.stage.params;
        stage.level_v = r.level_v_rms;
        let bench = Analyser::default().read_sine(&stage, &s.headphone.network, a as f64 * r.level_v_rms, false);
        let d = r.findings.worst_distortion_pct.unwrap();
        println!("{spl} dB SPL: panel {d:.4} %, bench THD {:.4} %, clipping {:.2} %", 100.0 * bench.thd, r.clipping_pct);
        if bench.thd > 1e-3 {
            assert!((d / (100.0 * bench.thd) - 1.0).abs() < 0.05, "{spl}: {d} % against {} %", 100.0 * bench.thd);
        } else {
            assert!(d < 0.1, "{spl}: {d} %");
        }
        assert_eq!(r.clipping_pct > 0.0, spl > 92.45, "{spl}: clipping {}", r.clipping_pct);
    }
}

/// Silence (and a mix too short for a frame) gives no response or distortion figures, and no NaN.
#[test]
fn silence_gives_no_figures() {
    let s = setup("laptop-jack", "closed-dynamic-32");
    for n in [0, 100, 48_000] {
        let (r, out) = render(&s, 80.0, &vec![[0.0; 2]; n]);
        assert_eq!(out.len(), n);
        assert!(r.findings.level_1k_db.is_none() && r.findings.worst_distortion_pct.is_none() && r.findings.curve.is_empty(), "{n}: {:?}", r.findings);
        assert!(r.measured_spl_db.is_finite() && r.peak_out_dbfs.is_finite());
    }
}
