//! Linear accuracy and transparency of the circuit engine, measured from rendered audio.
//!
//! Issue 2: at −40 dBFS the rendered magnitude response is within ±0.1 dB of
//! `20·log10|Z/(Z+Zs)|` (complex Z and Zs, with the coupling capacitor) from 20 Hz to 20 kHz, at
//! 44.1, 48, 96 and 192 kHz, for every library load and Zs ∈ {0.1, 10, 120, 600, 10 000} Ω; the
//! ideal stage into a resistive load is flat within ±0.01 dB and adds no latency beyond what it
//! reports.

mod common;
use common::*;
use loadline::dsp::{Engine, Network, Quality, StageParams};
use loadline::library;

const RATES: [f64; 4] = [44_100.0, 48_000.0, 96_000.0, 192_000.0];
const ZS: [f64; 5] = [0.1, 10.0, 120.0, 600.0, 10_000.0];

/// Impulse response at −40 dBFS, returned as a complex frequency response. The latency is a pure
/// delay (linear phase), so the whole output frame is transformed: cutting the samples before the
/// peak would cut the filters' symmetric pre-ringing.
fn measured_response(fs: f64, load: &Network, p: &StageParams) -> (Vec<num_complex::Complex64>, usize) {
    let n = if fs > 100_000.0 { 1 << 18 } else { 1 << 16 };
    let amp = 0.01; // −40 dBFS
    let mut e = Engine::new(fs, Quality::Default, load, p, 1).unwrap();
    let lat = e.latency();
    let mut x = vec![0.0; n + lat];
    x[0] = amp;
    e.process_block_f64(&mut x);
    let ir: Vec<f64> = x[..n].iter().map(|v| v / amp).collect();
    (spectrum(&ir), n)
}

/// Worst |dB error| between the rendered and analytic response over 20 Hz–20 kHz.
fn worst_error_db(fs: f64, load: &Network, p: &StageParams) -> (f64, f64) {
    let (h, n) = measured_response(fs, load, p);
    let mut worst = (0.0f64, 0.0);
    for (k, hk) in h.iter().enumerate() {
        let f = k as f64 * fs / n as f64;
        if !(20.0..=20_000.0).contains(&f) {
            continue;
        }
        let err = db(hk.norm()) - db(divider(load, p, f).norm());
        if err.abs() > worst.0.abs() {
            worst = (err, f);
        }
    }
    worst
}

#[test]
fn every_library_load_matches_the_divider_within_0_1_db() {
    let mut report = vec![];
    let mut overall: f64 = 0.0;
    for &fs in &RATES {
        for load in library::loads() {
            for &zs in &ZS {
                for cap in [None, Some(100e-6)] {
                    let p = StageParams { r_out_ohm: zs, c_block_f: cap, ..StageParams::IDEAL };
                    let (err, f) = worst_error_db(fs, &load.network, &p);
                    overall = overall.max(err.abs());
                    if err.abs() > 0.1 {
                        report.push(format!("{} @ {fs} Hz, Zs {zs} Ω, cap {cap:?}: {err:+.3} dB at {f:.0} Hz", load.id));
                    }
                }
            }
        }
    }
    println!("worst linear error over all cases: {overall:.4} dB");
    assert!(report.is_empty(), "{} cases outside ±0.1 dB:\n{}", report.len(), report.join("\n"));
}

#[test]
fn ideal_stage_is_transparent_and_adds_no_unreported_latency() {
    for &fs in &RATES {
        for load in [Network::R(32.0), Network::R(10_000.0)] {
            for q in [Quality::Default, Quality::High] {
                let mut e = Engine::new(fs, q, &load, &StageParams::IDEAL, 1).unwrap();
                let lat = e.latency();
                let n = 1 << 15;
                let mut x = vec![0.0; n + lat];
                x[0] = 0.5;
                e.process_block_f64(&mut x);
                // The impulse comes out exactly `latency` samples later.
                let peak = x.iter().enumerate().fold((0, 0.0), |b, (i, v)| if v.abs() > b.1 { (i, v.abs()) } else { b });
                assert_eq!(peak.0, lat, "fs {fs} {q:?}");
                let h = spectrum(&x[..n].iter().map(|v| v / 0.5).collect::<Vec<_>>());
                for (k, hk) in h.iter().enumerate() {
                    let f = k as f64 * fs / n as f64;
                    if (20.0..=20_000.0).contains(&f) {
                        let d = db(hk.norm());
                        assert!(d.abs() <= 0.01, "fs {fs} {q:?}: {d:+.4} dB at {f:.0} Hz");
                    }
                }
            }
        }
    }
}
