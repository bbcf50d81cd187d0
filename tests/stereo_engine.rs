//! The stereo circuit in the engine (issue 16): a stereo pair whose earpieces share a ground
//! return, measured from rendered audio.
//!
//! * Crosstalk of a left-only multitone equals the analytic two-loop solution `−R_g/(Zs + Z + R_g)`
//!   within 0.1 dB from 20 Hz to 20 kHz, for every library load, `R_g` ∈ {0.05, 0.3, 1, 3} Ω.
//! * Both channels in current limit through 1 Ω: harmonics within ±1 dB of ngspice wherever
//!   ngspice has them above −90 dBc; residual at least 40 dB below the signal.
//! * A mono signal on one engine (its ground folded into its loop as `2·R_g`) equals both channels
//!   of a pair fed the same signal (the coupled solve) to the element table's accuracy.
//! * Automating `R_g` between 0 and its maximum while audio plays makes no click.
//! * `R_g = 0` takes the uncoupled kernels (every existing bit-identity test holds).

mod common;
use common::*;
use loadline::dsp::stereo::crosstalk;
use loadline::dsp::{spice, Engine, Quality, StageParams};
use loadline::library;
use std::f64::consts::PI;

#[test]
fn crosstalk_from_rendered_audio_equals_the_two_loop_solution() {
    let fs = 48_000.0;
    let n = 24_000; // 2 Hz bins
    let bins: Vec<usize> = (0..=30).map(|k| (10.0 * 2f64.powf(k as f64 / 3.0)).round() as usize).filter(|&b| b * 2 <= 20_000).collect();
    let amp = 0.02 / (bins.len() as f64).sqrt();
    let period: Vec<f64> = (0..n).map(|t| bins.iter().enumerate().map(|(j, &b)| amp * (2.0 * PI * (b * t) as f64 / n as f64 + 1.3 * (j * j) as f64).sin()).sum()).collect();
    let stages = [("0.5 Ω", StageParams { r_out_ohm: 0.5, ..StageParams::IDEAL }), ("10 Ω + 220 µF", StageParams { r_out_ohm: 10.0, c_block_f: Some(220e-6), ..StageParams::IDEAL })];
    let (mut worst, mut failures) = (0.0f64, Vec::new());
    for load in library::loads() {
        for (sname, p) in &stages {
            for r_g in [0.05, 0.3, 1.0, 3.0] {
                let q = StageParams { r_ground_ohm: r_g, ..*p };
                let mut a = Engine::new(fs, Quality::Default, &load.network, &q, 1).unwrap();
                let mut b = Engine::new(fs, Quality::Default, &load.network, &q, 2).unwrap();
                let mut l: Vec<f64> = period.iter().chain(&period).copied().collect();
                let mut r = vec![0.0; 2 * n];
                Engine::process_block_pair_f64(&mut a, &mut b, &mut l, &mut r);
                let (sl, sr) = (spectrum(&l[n..]), spectrum(&r[n..]));
                for &k in &bins {
                    let f = 2.0 * k as f64;
                    let want = crosstalk(p.source_impedance(f), load.network.impedance(f), r_g).norm();
                    let got = (sr[k] / sl[k]).norm();
                    let err = 20.0 * (got / want).log10();
                    worst = worst.max(err.abs());
                    if err.abs() > 0.1 {
                        failures.push(format!("{} behind {sname}, R_g {r_g} Ω, {f} Hz: {:.2} dB against {:.2} dB", load.id, db(got), db(want)));
                    }
                }
            }
        }
    }
    println!("worst crosstalk difference, rendered against the two-loop solution: {worst:.4} dB");
    assert!(failures.is_empty(), "{} failures, first: {:?}", failures.len(), &failures[..failures.len().min(5)]);
}

#[test]
fn both_channels_in_current_limit_through_a_shared_ground_match_ngspice() {
    const FS: f64 = 96_000.0;
    let load = library::find_load("dynamic-iem-16").unwrap().network.clone();
    let p = StageParams { level_v: 1.0, v_max_v: Some(5.0), i_max_a: Some(0.03), r_mod_ohm: 1.0, r_out_ohm: 1.0, r_ground_ohm: 1.0, ..StageParams::IDEAL };
    let (f, n, settle) = ([1000.0, 1300.0], 9600usize, 4800usize);
    let k0 = [100usize, 130];
    let e_onset = p.i_max_a.unwrap() * (load.impedance(1000.0) + p.r_out_ohm + p.r_ground_ohm).norm();
    let mut failures = Vec::new();
    for rel_db in [0.0, 6.0] {
        let e = e_onset * 10f64.powf(rel_db / 20.0);
        let amp = e / (std::f64::consts::SQRT_2 * p.level_v);
        let mut a = Engine::new(FS, Quality::Default, &load, &p, 1).unwrap();
        let mut b = Engine::new(FS, Quality::Default, &load, &p, 2).unwrap();
        let lat = a.latency();
        let mut y = [sine(f[0], FS, amp, settle + n + lat), sine(f[1], FS, amp, settle + n + lat)];
        let [yl, yr] = &mut y;
        Engine::process_block_pair_f64(&mut a, &mut b, yl, yr);
        let deck = spice::netlist_stereo(&load, &p, &a.output_element(), [(e, f[0]), (e, f[1])], p.r_ground_ohm, (settle + n + 4) as f64 / FS, FS, "@OUT@");
        let v = ngspice(&deck, &format!("engine-stereo-{rel_db}"));
        for c in 0..2 {
            let yc = &y[c][settle + lat..settle + lat + n];
            let s: Vec<f64> = v[c][settle..settle + n].iter().map(|x| x / (std::f64::consts::SQRT_2 * p.level_v)).collect();
            let label = format!("{rel_db:+} dB, {}", ["left", "right"][c]);
            println!("{}", against_spice(&label, yc, &s, k0[c], FS, &mut failures));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn a_mono_signal_is_both_channels_of_the_pair() {
    let load = library::find_load("multi-ba-dip5").unwrap().network.clone();
    let p = StageParams { level_v: 1.0, v_max_v: Some(0.9), i_max_a: Some(0.04), r_mod_ohm: 1.0, xo_v: 0.001, bias: 0.5, r_out_ohm: 0.33, r_ground_ohm: 0.8, ..StageParams::IDEAL };
    let x: Vec<f64> = (0..20_000).map(|k| 0.9 * (2.0 * PI * 440.0 * k as f64 / 48_000.0).sin() + 0.3 * (2.0 * PI * 5_100.0 * k as f64 / 48_000.0).sin()).collect();
    let mut mono = Engine::new(48_000.0, Quality::Default, &load, &p, 7).unwrap();
    let mut m = x.clone();
    mono.process_block_f64(&mut m);
    let mut a = Engine::new(48_000.0, Quality::Default, &load, &p, 7).unwrap();
    let mut b = Engine::new(48_000.0, Quality::Default, &load, &p, 7).unwrap();
    let (mut l, mut r) = (x.clone(), x.clone());
    Engine::process_block_pair_f64(&mut a, &mut b, &mut l, &mut r);
    assert_eq!(l, r, "identical inputs give identical channels");
    // Two ways to the same circuit (one loop with `Zs + 2R_g`, or two loops and a ground solve):
    // they agree to the solvers' accuracy (the table's is 1e-7 of its full-scale current), far
    // below anything audible, in the settled part and in the first steps alike.
    let worst = m.iter().zip(&l).map(|(u, v)| (u - v).abs()).fold(0.0, f64::max);
    let peak = l.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let db = 20.0 * (worst / peak).log10();
    println!("mono against the pair: worst difference {worst:e} ({db:.1} dB of the peak {peak:.3})");
    assert!(db < -120.0, "{db:.1} dB");
    // And the shared ground is heard: against separate returns the output differs.
    let mut sep = Engine::new(48_000.0, Quality::Default, &load, &StageParams { r_ground_ohm: 0.0, ..p }, 7).unwrap();
    let mut s = x.clone();
    sep.process_block_f64(&mut s);
    assert!(s.iter().zip(&m).any(|(u, v)| (u - v).abs() > 1e-3));
}

#[test]
fn automating_the_ground_return_makes_no_click() {
    let load = library::find_load("dynamic-iem-16").unwrap().network.clone();
    let base = StageParams { level_v: 1.0, r_out_ohm: 0.5, ..StageParams::IDEAL };
    let fs = 48_000.0;
    let mut a = Engine::new(fs, Quality::Default, &load, &base, 1).unwrap();
    let mut b = Engine::new(fs, Quality::Default, &load, &base, 2).unwrap();
    let block = 256;
    let (mut left, mut right) = (Vec::new(), Vec::new());
    for k in 0..200 {
        // 0 Ω, then 10 Ω (the range's top) at block 60, back to 0 at block 130.
        let r_g = if (60..130).contains(&k) { 10.0 } else { 0.0 };
        if k == 60 || k == 130 {
            for e in [&mut a, &mut b] {
                e.set_params(&StageParams { r_ground_ohm: r_g, ..base });
            }
        }
        let mut l: Vec<f64> = (0..block).map(|j| 0.5 * (2.0 * PI * 1000.0 * (k * block + j) as f64 / fs).sin()).collect();
        let mut r = vec![0.0; block];
        Engine::process_block_pair_f64(&mut a, &mut b, &mut l, &mut r);
        left.extend(l);
        right.extend(r);
    }
    let slope = |x: &[f64]| x.windows(2).map(|w| (w[1] - w[0]).abs()).fold(0.0, f64::max);
    // The steady slopes: left at 0 Ω, right (the crosstalk) at 10 Ω.
    let (left_steady, right_steady) = (slope(&left[20 * block..60 * block]), slope(&right[100 * block..130 * block]));
    let (left_all, right_all) = (slope(&left[20 * block..]), slope(&right[20 * block..]));
    println!("largest step: left {left_all:.5} (steady {left_steady:.5}), right {right_all:.5} (steady at 10 Ω {right_steady:.5})");
    assert!(right_steady > 1e-3, "the crosstalk is heard at 10 Ω");
    assert!(left_all <= 1.05 * left_steady && right_all <= 1.05 * right_steady, "a click");
    let tail = right[180 * block..].iter().fold(0.0f64, |m, v| m.max(v.abs()));
    // What is left is the right loop's own decay, below −100 dBFS within a quarter second.
    assert!(tail < 1e-5, "back to separate returns: the right channel falls silent, not {tail:e}");
}

/// The ground return does not enter the element's loop equation, so automating it keeps the
/// element table in use throughout (no rebuild, no exact solves while it moves); moving the
/// output resistance does rebuild it.
#[test]
fn moving_only_the_ground_keeps_the_element_table() {
    let load = library::find_load("closed-dynamic-32").unwrap().network.clone();
    let p = library::find_stage("laptop-jack").unwrap().params;
    let fs = 48_000.0;
    let mut a = Engine::new(fs, Quality::Default, &load, &p, 1).unwrap();
    let mut b = Engine::new(fs, Quality::Default, &load, &p, 2).unwrap();
    let play = |a: &mut Engine, b: &mut Engine, k: usize| {
        let mut l: Vec<f64> = (0..512).map(|j| 0.5 * (2.0 * PI * 1000.0 * (k * 512 + j) as f64 / fs).sin()).collect();
        let mut r = l.clone();
        Engine::process_block_pair_f64(a, b, &mut l, &mut r);
    };
    for k in 0..100 {
        play(&mut a, &mut b, k);
    }
    assert!(a.table_in_use() && b.table_in_use(), "the table is built after two seconds");
    let it0 = a.solver_iterations();
    for (n, r_g) in [0.5, 3.0, 0.0, 10.0, 0.05].into_iter().enumerate() {
        for e in [&mut a, &mut b] {
            e.set_params(&StageParams { r_ground_ohm: r_g, ..p });
        }
        for k in 0..20 {
            play(&mut a, &mut b, 100 + 20 * n + k);
            assert!(a.table_in_use() && b.table_in_use(), "the table was dropped moving the ground to {r_g} Ω");
        }
    }
    assert_eq!(a.solver_iterations(), it0, "no exact solves while the ground moves");
    a.set_params(&StageParams { r_out_ohm: 2.0 * p.r_out_ohm, r_ground_ohm: 0.05, ..p });
    play(&mut a, &mut b, 300);
    assert!(!a.table_in_use(), "a new output resistance rebuilds the table");
}
