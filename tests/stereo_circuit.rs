//! The stereo circuit's reference (issue 16, `dsp::stereo`): both channels returning through one
//! shared ground resistance, solved as one coupled circuit.
//!
//! * `R_g = 0` is the two mono references, bit for bit, for a nonlinear stage.
//! * Small-signal crosstalk (left driven alone) equals the analytic two-loop solution
//!   `−R_g/(Zs + Z + R_g)` within 0.1 dB from 20 Hz to 20 kHz for every library load and
//!   `R_g` ∈ {0.05, 0.3, 1, 3} Ω.
//! * Both channels driven into their current limit through a 1 Ω ground: each channel's
//!   harmonics agree with ngspice within ±1 dB wherever ngspice has them above −90 dBc, and the
//!   waveform residual is at least 40 dB below the signal (ngspice on PATH; scripts/test.sh
//!   installs it).

mod common;
use common::*;
use loadline::dsp::circuit::{OutputStage, Reference};
use loadline::dsp::modal::ModalLoad;
use loadline::dsp::stereo::{crosstalk, StereoReference};
use loadline::dsp::{spice, StageParams};
use loadline::library;
use std::f64::consts::PI;

#[test]
fn a_zero_ground_is_two_mono_circuits_bit_for_bit() {
    let load = library::find_load("multi-ba-dip5").unwrap().network.clone();
    let p = StageParams { level_v: 1.0, v_max_v: Some(0.8), i_max_a: Some(0.03), r_mod_ohm: 1.0, xo_v: 0.002, bias: 0.3, r_out_ohm: 0.5, c_block_f: Some(220e-6), ..StageParams::IDEAL };
    let fs = 192_000.0;
    let stage = OutputStage::new(&p, &load);
    let modal = ModalLoad::fit(&load, fs).unwrap();
    let mut st = StereoReference::new(&stage, &modal, fs, 0.0);
    let (mut l, mut r) = (Reference::new(&stage, &modal, fs), Reference::new(&stage, &modal, fs));
    for k in 0..40_000 {
        let t = k as f64 / fs;
        let e = [1.4 * (2.0 * PI * 300.0 * t).sin(), 0.9 * (2.0 * PI * 2_100.0 * t).sin() + 0.3 * (2.0 * PI * 57.0 * t).sin()];
        let v = st.step(e);
        assert_eq!([v[0].to_bits(), v[1].to_bits()], [l.step(e[0]).to_bits(), r.step(e[1]).to_bits()], "step {k}");
    }
}

/// Tones on exact bins `bin_hz` apart: 1/3-octave from 20 Hz to 20 kHz.
fn tone_bins(bin_hz: f64) -> Vec<usize> {
    (0..=30).map(|k| (20.0 * 2f64.powf(k as f64 / 3.0) / bin_hz).round() as usize).filter(|&b| b as f64 * bin_hz <= 20_000.0).collect()
}

#[test]
fn crosstalk_equals_the_two_loop_solution() {
    // The engine's internal rate at 48 kHz (4× oversampling); 2 Hz bins.
    let fs = 192_000.0;
    let n = (fs / 2.0) as usize;
    let bins = tone_bins(2.0);
    let amp = 0.05 / (bins.len() as f64).sqrt();
    let period: Vec<f64> = (0..n).map(|t| bins.iter().enumerate().map(|(j, &b)| amp * (2.0 * PI * (b * t) as f64 / n as f64 + 1.7 * (j * j) as f64).sin()).sum()).collect();
    let stages = [("0.5 Ω", StageParams { r_out_ohm: 0.5, ..StageParams::IDEAL }), ("10 Ω + 220 µF", StageParams { r_out_ohm: 10.0, c_block_f: Some(220e-6), ..StageParams::IDEAL })];
    let mut worst: f64 = 0.0;
    let mut failures = Vec::new();
    for load in library::loads() {
        let modal = ModalLoad::fit(&load.network, fs).unwrap();
        for (sname, p) in &stages {
            let stage = OutputStage::new(p, &load.network);
            for r_g in [0.05, 0.3, 1.0, 3.0] {
                let mut st = StereoReference::new(&stage, &modal, fs, r_g);
                let mut out = [vec![0.0; n], vec![0.0; n]];
                // Two periods: the second is the steady state.
                for rep in 0..2 {
                    for (k, &e) in period.iter().enumerate() {
                        let v = st.step([e, 0.0]);
                        if rep == 1 {
                            out[0][k] = v[0];
                            out[1][k] = v[1];
                        }
                    }
                }
                let (sl, sr) = (spectrum(&out[0]), spectrum(&out[1]));
                for &b in &bins {
                    let f = 2.0 * b as f64;
                    let want = crosstalk(p.source_impedance(f), load.network.impedance(f), r_g);
                    let got = sr[b] / sl[b];
                    let err = 20.0 * (got.norm() / want.norm()).log10();
                    worst = worst.max(err.abs());
                    if err.abs() > 0.1 {
                        failures.push(format!("{} behind {sname}, R_g {r_g} Ω, {f} Hz: {:.2} dB against {:.2} dB", load.id, 20.0 * got.norm().log10(), 20.0 * want.norm().log10()));
                    }
                }
            }
        }
    }
    println!("worst crosstalk difference from the two-loop solution: {worst:.4} dB");
    assert!(failures.is_empty(), "{} failures, first: {:?}", failures.len(), &failures[..failures.len().min(5)]);
}

#[test]
fn both_channels_in_current_limit_through_a_shared_ground_match_ngspice() {
    const FS: f64 = 96_000.0;
    let load = library::find_load("dynamic-iem-16").unwrap().network.clone();
    let p = StageParams { level_v: 1.0, v_max_v: Some(5.0), i_max_a: Some(0.03), r_mod_ohm: 1.0, r_out_ohm: 1.0, ..StageParams::IDEAL };
    let r_g = 1.0;
    let stage = OutputStage::new(&p, &load);
    // Left at 1 kHz and right at 1.3 kHz: their harmonics H2–H9 fall on different bins.
    let (f, n, settle) = ([1000.0, 1300.0], 9600usize, 4800usize);
    let k0 = [100usize, 130];
    let z = (load.impedance(1000.0) + p.r_out_ohm + r_g).norm();
    let e_onset = p.i_max_a.unwrap() * z;
    let mut failures = Vec::new();
    for rel_db in [0.0, 6.0] {
        let e = e_onset * 10f64.powf(rel_db / 20.0);
        let deck = spice::netlist_stereo(&load, &p, &stage.element, [(e, f[0]), (e, f[1])], r_g, (settle + n + 4) as f64 / FS, FS, "@OUT@");
        let v = ngspice(&deck, &format!("stereo-{rel_db}"));
        let modal = ModalLoad::fit(&load, 4.0 * FS).unwrap();
        let mut st = StereoReference::new(&stage, &modal, 4.0 * FS, r_g);
        let mut r = [Vec::new(), Vec::new()];
        let mut peak_i: f64 = 0.0;
        for k in 0..4 * (settle + n) {
            let t = k as f64 / (4.0 * FS);
            let y = st.step([e * (2.0 * PI * f[0] * t).sin(), e * (2.0 * PI * f[1] * t).sin()]);
            peak_i = peak_i.max(st.currents_a()[0].abs());
            if k % 4 == 0 {
                r[0].push(y[0]);
                r[1].push(y[1]);
            }
        }
        assert!(peak_i > 0.9 * p.i_max_a.unwrap(), "the current limit is engaged: {peak_i} A");
        for c in 0..2 {
            let label = format!("{:+} dB, {}", rel_db, ["left", "right"][c]);
            println!("{}", against_spice(&label, &r[c][settle..settle + n], &v[c][settle..settle + n], k0[c], FS, &mut failures));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

