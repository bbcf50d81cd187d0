//! The engine against ngspice (issue 2): the same documented equations, netlisted by
//! `dsp::spice::netlist`, simulated by ngspice's own integrator and Newton solver.
//!
//! For a voltage-limited case (high-impedance load) and a current-limited case (32 Ω dynamic load
//! with a resonance), at drive levels from 20 dB below to 12 dB above clipping onset:
//! harmonics H2–H9 agree within ±1 dB wherever ngspice has them above −90 dBc, and the
//! time-aligned waveform residual is at least 40 dB below the signal.
//!
//! The literal reference (`circuit::Reference`, which `tests/kernels.rs` holds every fast kernel
//! to) is checked against the same ngspice runs with the same limits.
//!
//! Requires `ngspice` on PATH (scripts/test.sh installs it); the test fails without it.

mod common;
use common::*;
use loadline::dsp::circuit::{OutputStage, Reference};
use loadline::dsp::modal::ModalLoad;
use loadline::dsp::{spice, Engine, Network, Quality, StageParams};
use loadline::library;

const FS: f64 = 96_000.0;

struct Case {
    name: &'static str,
    load: Network,
    p: StageParams,
    f: f64,
}

/// Linear peak input (full scale) at which the stage reaches its limit, as in the clipping test.
fn onset(c: &Case) -> f64 {
    let z = (c.load.impedance(c.f) + c.p.r_out_ohm).norm();
    let a_i = c.p.i_max_a.map_or(f64::INFINITY, |i| i * z / (std::f64::consts::SQRT_2 * c.p.level_v));
    let a_v = c.p.v_max_v.map_or(f64::INFINITY, |v| v / c.p.level_v);
    a_i.min(a_v)
}

#[test]
fn engine_matches_ngspice_from_minus_20_to_plus_12_db_re_onset() {
    let cases = [
        Case {
            name: "voltage-limited",
            load: library::find_load("open-dynamic-300").unwrap().network.clone(),
            p: StageParams { level_v: 1.0, v_max_v: Some(2.0), i_max_a: Some(0.5), r_mod_ohm: 0.5, r_out_ohm: 10.0, ..StageParams::IDEAL },
            f: 1000.0,
        },
        Case {
            name: "current-limited",
            load: library::find_load("closed-dynamic-32").unwrap().network.clone(),
            p: StageParams { level_v: 1.0, v_max_v: Some(10.0), i_max_a: Some(0.02), r_mod_ohm: 2.0, r_out_ohm: 2.0, c_block_f: Some(470e-6), ..StageParams::IDEAL },
            f: 200.0,
        },
    ];
    let mut failures = vec![];
    for c in &cases {
        let a_on = onset(c);
        for rel_db in [-20.0, -6.0, 0.0, 6.0, 12.0] {
            let amp = a_on * 10f64.powf(rel_db / 20.0);
            let n = (FS / c.f) as usize * 20; // 20 periods, coherent
            let settle = (0.12 * FS) as usize;
            let k0 = 20;
            // Engine.
            let mut e = Engine::new(FS, Quality::Default, &c.load, &c.p, 1).unwrap();
            let lat = e.latency();
            let mut y = sine(c.f, FS, amp, settle + n + lat);
            e.process_block_f64(&mut y);
            let y = &y[settle + lat..settle + lat + n];
            // ngspice, same circuit and element law (including the knee voltage the engine uses).
            let el = e.output_element();
            let t_stop = (settle + n + 4) as f64 / FS;
            let deck = spice::netlist(&c.load, &c.p, &el, amp * std::f64::consts::SQRT_2 * c.p.level_v, c.f, t_stop, FS, "@OUT@");
            let v = ngspice(&deck, &format!("{}-{rel_db}", c.name)).swap_remove(0);
            assert!(v.len() >= settle + n, "ngspice returned {} samples", v.len());
            let s: Vec<f64> = v[settle..settle + n].iter().map(|x| x / (std::f64::consts::SQRT_2 * c.p.level_v)).collect();
            // The literal reference (`circuit::Reference`), stepped at four times the rate with the
            // same fitted load and element, and read at the engine's rate.
            let stage = OutputStage::new(&c.p, &c.load);
            assert!((stage.element.v_knee_v - el.v_knee_v).abs() <= 1e-12 * el.v_knee_v, "the reference and the engine build the same element");
            let modal = ModalLoad::fit(&c.load, 4.0 * FS).unwrap();
            let mut reference = Reference::new(&stage, &modal, 4.0 * FS);
            let e_pk = amp * std::f64::consts::SQRT_2 * c.p.level_v;
            let r: Vec<f64> = (0..4 * (settle + n))
                .map(|k| reference.step(e_pk * (2.0 * std::f64::consts::PI * c.f * k as f64 / (4.0 * FS)).sin()))
                .step_by(4)
                .map(|v| v / (std::f64::consts::SQRT_2 * c.p.level_v))
                .collect();
            for (who, out) in [("engine", y), ("reference", &r[settle..settle + n])] {
                let line = against_spice(&format!("{} {who} {rel_db:+5.0} dB re onset", c.name), out, &s, k0, FS, &mut failures);
                println!("{line}");
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
