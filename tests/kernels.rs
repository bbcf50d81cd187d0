//! The kernel contract: every inner loop the engine runs — the portable lane, the native path
//! (AVX2 vector kernels, the assembly loop for tabulated solves), alone and as a stereo pair — is
//! held to the literal reference of the circuit (`circuit::Reference`: exact knee, exact Newton
//! solve, the modal load stepped as fitted) for every library stage preset and load (both port
//! forms), every solve kind (linear, tabulated, exact), internal rates 1× to 8× from 44.1 to
//! 192 kHz, with a parameter change every block and bursts 20 dB past onset.
//!
//! Both what the kernels hand out are checked: the load voltage (the sound) and the loop current
//! (what the meters read).
//!
//! Tolerance: the largest error of any sample, relative to the block's peak load voltage (and
//! the current's to its peak current), [`TOL_DB`] (the element table is accurate to −120 dB, the rails' `f32` series to −155 dB, the
//! rest is rounding). A one-coefficient mistake — the reference's output resistance 0.1 % off —
//! is shown to break it (`a_one_coefficient_mistake_fails`).

use loadline::dsp::circuit::Reference;
use loadline::dsp::stereo::StereoReference;
use loadline::dsp::{CircuitKernel, Engine, Kernel, Network, Quality, StageParams};
use loadline::library;

/// Largest sample error allowed, dB re the peak load voltage of the block.
const TOL_DB: f64 = -120.0;
/// Internal-rate samples per block; a parameter change between blocks.
const BLOCK: usize = 3000;

/// The open-circuit voltage for `n` internal samples: two tones (110 Hz and 3.1 kHz) under an
/// envelope rising from −40 dB to +20 dB re `onset_v` (peak volts).
fn drive(n: usize, fs: f64, onset_v: f64, offset: usize) -> Vec<f64> {
    (0..n)
        .map(|k| {
            let t = (k + offset) as f64 / fs;
            let env_db = -40.0 + 60.0 * k as f64 / n as f64;
            let a = onset_v * 10f64.powf(env_db / 20.0);
            a * (0.7 * (2.0 * std::f64::consts::PI * 110.0 * t).sin() + 0.3 * (2.0 * std::f64::consts::PI * 3100.0 * t).sin())
        })
        .collect()
}

/// The voltage where the stage starts to limit: the rails' onset, or the open-circuit voltage
/// that drives Max Current into the load, whichever is lower (else the 0 dBFS peak).
fn onset_v(p: &StageParams, load: &Network) -> f64 {
    let rails = p.v_max_v.map_or(f64::INFINITY, |v| v * std::f64::consts::SQRT_2);
    let current = p.i_max_a.map_or(f64::INFINITY, |i| i * (p.r_out_ohm + load.min_magnitude(20.0, 20_000.0)));
    let o = rails.min(current);
    if o.is_finite() { o } else { p.level_v * std::f64::consts::SQRT_2 }
}

/// The parameter sets a case steps through, one per block: the preset, then changes to every
/// element the kernels carry.
fn variants(p: &StageParams) -> Vec<StageParams> {
    vec![
        *p,
        StageParams { r_out_ohm: p.r_out_ohm * 1.5 + 2.0, ..*p },
        StageParams { c_block_f: p.c_block_f.map(|c| c * 0.5), l_out_h: 20e-6, ..*p },
        StageParams { i_max_a: p.i_max_a.map(|i| i * 0.7), xo_v: 0.004, bias: 0.2, r_mod_ohm: 1.0, ..*p },
    ]
}

/// Worst error of `got` against `want`, dB re the peak of `want` (+∞ for a value not written:
/// the outputs start as NaN).
fn error_db(got: &[f64], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len());
    let peak = want.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-12);
    let err = got.iter().zip(want).fold(0.0f64, |m, (a, b)| {
        let d = (a - b).abs();
        if d.is_nan() { f64::INFINITY } else { m.max(d) }
    });
    20.0 * (err / peak).max(1e-30).log10()
}

/// Runs `k` over the drive `x`: its load voltages and loop currents (NaN where not written).
fn run(k: &mut impl CircuitKernel, x: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (mut v, mut i) = (x.to_vec(), vec![f64::NAN; x.len()]);
    k.run(&mut v, Some(&mut i));
    (v, i)
}

/// One engine and its reference, stepped together through the variants.
struct Case {
    name: String,
    engine: Engine,
    reference: Reference,
    params: Vec<StageParams>,
    onset_v: f64,
}

impl Case {
    fn new(fs: f64, q: Quality, stage: &str, p: &StageParams, load_id: &str, load: &Network, table: bool) -> Self {
        let mut engine = Engine::new(fs, q, load, p, 1).unwrap();
        engine.set_table_enabled(table);
        engine.complete_table();
        let reference = engine.reference();
        Self { name: format!("{stage} into {load_id} at {fs} Hz {q:?} ({}×, table {table})", engine.oversampling()), engine, reference, params: variants(p), onset_v: onset_v(p, load) }
    }

    /// Moves both to block `b`'s parameters; returns the block's drive.
    fn block(&mut self, b: usize) -> Vec<f64> {
        let p = self.params[b % self.params.len()];
        if b > 0 {
            self.engine.set_params(&p);
            self.engine.snap_params();
            self.engine.complete_table();
            let fs = self.engine.internal_rate_hz();
            self.reference.retune(&self.engine.output_stage(), fs);
        }
        drive(BLOCK, self.engine.internal_rate_hz(), self.onset_v, b * BLOCK)
    }

    /// The reference's load voltages and loop currents for the drive `x`.
    fn reference_block(&mut self, x: &[f64]) -> (Vec<f64>, Vec<f64>) {
        run(&mut self.reference, x)
    }

    /// The worst of the voltage's and the current's errors against the reference for the drive `x`.
    fn error_db(&mut self, x: &[f64], v: &[f64], i: &[f64]) -> f64 {
        let (want_v, want_i) = self.reference_block(x);
        error_db(v, &want_v).max(error_db(i, &want_i))
    }
}

/// Runs `kernel` on every case alone, then in pairs (case k beside case k+1), against the
/// reference; returns the worst error and its case.
fn check(cases: &mut [Case], kernel: Kernel) -> (f64, String) {
    let mut worst = (f64::NEG_INFINITY, String::new());
    let blocks = 4;
    for b in 0..blocks {
        let mut i = 0;
        while i < cases.len() {
            let pair = i + 1 < cases.len() && cases[i].engine.internal_rate_hz() == cases[i + 1].engine.internal_rate_hz();
            if pair {
                let (l, r) = cases.split_at_mut(i + 1);
                let (a, c) = (&mut l[i], &mut r[0]);
                let (xa, xc) = (a.block(b), c.block(b));
                let (mut ya, mut yc) = (xa.clone(), xc.clone());
                let (mut ia, mut ic) = (vec![f64::NAN; xa.len()], vec![f64::NAN; xc.len()]);
                Engine::run_steps_pair(&mut a.engine, &mut c.engine, kernel, &mut ya, &mut yc, Some((&mut ia, &mut ic)));
                for (case, x, y, i) in [(a, xa, ya, ia), (c, xc, yc, ic)] {
                    let e = case.error_db(&x, &y, &i);
                    if e > worst.0 {
                        worst = (e, format!("{} block {b} (pair)", case.name));
                    }
                }
                i += 2;
            } else {
                let case = &mut cases[i];
                let x = case.block(b);
                let (y, cur) = run(&mut case.engine.kernel(kernel), &x);
                let e = case.error_db(&x, &y, &cur);
                if e > worst.0 {
                    worst = (e, format!("{} block {b}", case.name));
                }
                i += 1;
            }
        }
    }
    worst
}

fn cases(fs: f64, q: Quality, every_load: usize, table: bool) -> Vec<Case> {
    let mut v = Vec::new();
    for s in library::stages() {
        // Separate returns (a preset's shared ground is the grounded contract's, below).
        let p = StageParams { r_ground_ohm: 0.0, ..s.params };
        for l in library::loads().iter().step_by(every_load) {
            v.push(Case::new(fs, q, &s.id, &p, &l.id, &l.network, table));
        }
    }
    v
}

#[test]
fn every_kernel_matches_the_reference_for_every_preset_and_load_at_48_khz() {
    for kernel in [Kernel::Portable, Kernel::Native] {
        for table in [true, false] {
            let mut c = cases(48_000.0, Quality::Default, 1, table);
            let (e, at) = check(&mut c, kernel);
            println!("{kernel:?}, table {table}: worst {e:.1} dB ({at})");
            assert!(e < TOL_DB, "{kernel:?}: {e:.1} dB at {at}");
        }
    }
}

#[test]
fn every_kernel_matches_the_reference_at_every_rate_and_quality() {
    for (fs, q) in [(44_100.0, Quality::Default), (96_000.0, Quality::Default), (192_000.0, Quality::Default), (48_000.0, Quality::High), (192_000.0, Quality::High)] {
        for kernel in [Kernel::Portable, Kernel::Native] {
            let mut c = cases(fs, q, 3, true);
            let (e, at) = check(&mut c, kernel);
            println!("{kernel:?} at {fs} Hz {q:?}: worst {e:.1} dB ({at})");
            assert!(e < TOL_DB, "{kernel:?}: {e:.1} dB at {at}");
        }
    }
}

/// The stereo reference over the drives `xa` and `xb`: each channel's load voltages and loop
/// currents.
fn stereo_run(r: &mut StereoReference, xa: &[f64], xb: &[f64]) -> [(Vec<f64>, Vec<f64>); 2] {
    let mut out = [(Vec::new(), Vec::new()), (Vec::new(), Vec::new())];
    for (a, b) in xa.iter().zip(xb) {
        let v = r.step([*a, *b]);
        let i = r.currents_a();
        for c in 0..2 {
            out[c].0.push(v[c]);
            out[c].1.push(i[c]);
        }
    }
    out
}

/// The worst error of `kernel` through a shared ground of `r_g_ohm` for one stage and load:
/// as a stereo pair (two different drives) and as one channel played into both earpieces (a mono
/// signal, the reference driven with it on both sides), over two blocks with the states carried.
fn grounded_error(kernel: Kernel, fs: f64, p: &StageParams, load: &Network, r_g_ohm: f64, table: bool) -> f64 {
    let p = StageParams { r_ground_ohm: r_g_ohm, ..*p };
    let engine = || {
        let mut e = Engine::new(fs, Quality::Default, load, &p, 1).unwrap();
        e.set_table_enabled(table);
        e.complete_table();
        e
    };
    let (mut a, mut b, mut m) = (engine(), engine(), engine());
    let (mut pair_ref, mut mono_ref) = (a.stereo_reference(), a.stereo_reference());
    let fs_int = a.internal_rate_hz();
    let onset = onset_v(&p, load);
    let mut worst = f64::NEG_INFINITY;
    for blk in 0..2 {
        let xa = drive(BLOCK, fs_int, onset, blk * BLOCK);
        let xb: Vec<f64> = drive(BLOCK, fs_int, 0.6 * onset, blk * BLOCK + 777).iter().map(|v| -v).collect();
        let (mut ya, mut yb) = (xa.clone(), xb.clone());
        let (mut ia, mut ib) = (vec![f64::NAN; BLOCK], vec![f64::NAN; BLOCK]);
        Engine::run_steps_pair(&mut a, &mut b, kernel, &mut ya, &mut yb, Some((&mut ia, &mut ib)));
        let [wa, wb] = stereo_run(&mut pair_ref, &xa, &xb);
        let (ym, im) = run(&mut m.kernel(kernel), &xa);
        let [wm, _] = stereo_run(&mut mono_ref, &xa, &xa);
        for ((y, i), (wv, wi)) in [((&ya, &ia), wa), ((&yb, &ib), wb), ((&ym, &im), wm)] {
            worst = worst.max(error_db(y, &wv)).max(error_db(i, &wi));
        }
    }
    worst
}

/// Every kernel, as a pair and for a mono signal, matches the stereo reference through a shared
/// ground (`dsp::stereo`) for every stage preset and every other library load, with the table
/// and with the exact solve, bursts 20 dB past onset: the coupled solve is held to the same
/// tolerance as the rest of the circuit.
#[test]
fn every_kernel_matches_the_stereo_reference_through_a_shared_ground() {
    for kernel in [Kernel::Portable, Kernel::Native] {
        for table in [true, false] {
            let mut worst = (f64::NEG_INFINITY, String::new());
            for s in library::stages() {
                for l in library::loads().iter().step_by(2) {
                    for r_g in [0.3, 3.0] {
                        let e = grounded_error(kernel, 48_000.0, &s.params, &l.network, r_g, table);
                        if e > worst.0 {
                            worst = (e, format!("{} into {} through {r_g} Ω", s.id, l.id));
                        }
                    }
                }
            }
            println!("{kernel:?}, table {table}, grounded: worst {:.1} dB ({})", worst.0, worst.1);
            assert!(worst.0 < TOL_DB, "{kernel:?}, table {table}: {:.1} dB at {}", worst.0, worst.1);
        }
    }
}

/// The grounded contract is tight enough to see the ground: a reference whose ground return is
/// 1 % off fails it.
#[test]
fn a_ground_one_percent_off_fails_the_contract() {
    let s = library::find_stage("phone-dongle").unwrap();
    let l = library::find_load("dynamic-iem-16").unwrap();
    let p = StageParams { r_ground_ohm: 0.3, ..s.params };
    let mut e = Engine::new(48_000.0, Quality::Default, &l.network, &p, 1).unwrap();
    e.complete_table();
    let mut wrong = e.stereo_reference();
    wrong.set_ground(0.303);
    let x = drive(BLOCK, e.internal_rate_hz(), onset_v(&p, &l.network), 0);
    let mut y = x.clone();
    e.run_steps(Kernel::Native, &mut y, None);
    let err = error_db(&y, &stereo_run(&mut wrong, &x, &x)[0].0);
    println!("R_g 1 % off: {err:.1} dB");
    assert!(err > TOL_DB + 20.0, "a 1 % error in R_g gives only {err:.1} dB");
}

/// The tolerance is tight enough to catch a one-coefficient mistake: a reference whose output
/// resistance is 0.1 % off fails it.
#[test]
fn a_one_coefficient_mistake_fails() {
    let s = library::find_stage("laptop-jack").unwrap();
    let l = library::find_load("closed-dynamic-32").unwrap();
    let mut case = Case::new(48_000.0, Quality::Default, &s.id, &s.params, &l.id, &l.network, true);
    let mut wrong = case.engine.output_stage();
    wrong.r_out_ohm *= 1.001;
    let fs = case.engine.internal_rate_hz();
    case.reference.retune(&wrong, fs);
    let x = drive(BLOCK, fs, case.onset_v, 0);
    let mut y = x.clone();
    case.engine.run_steps(Kernel::Native, &mut y, None);
    let e = error_db(&y, &case.reference_block(&x).0);
    println!("R_out 0.1 % off: {e:.1} dB");
    assert!(e > TOL_DB + 20.0, "a 0.1 % error in R_out gives only {e:.1} dB");
}
