//! The coupled circuit's cost against the uncoupled one, per step without oversampling (base rate
//! 192 kHz, factor 1) so the circuit dominates: a stereo pair and a mono channel, the laptop jack
//! (table kind) and a linear stage, separate returns against a 0.5 Ω ground, with the assembly
//! loop on and off (the grounded kernel runs the intrinsics loop).
use loadline::dsp::{set_fast_paths, Engine, Quality, StageParams};
use loadline::library;
use std::time::Instant;

/// ns per channel-step, and the share of steps solved exactly.
fn time(p: &StageParams, pair: bool, amp: f64) -> (f64, f64) {
    let fs = 192_000.0;
    let net = &library::find_load("closed-dynamic-32").unwrap().network;
    let mut a = Engine::new(fs, Quality::Default, net, p, 1).unwrap();
    let mut b = Engine::new(fs, Quality::Default, net, p, 2).unwrap();
    let n = 400_000;
    let xl: Vec<f64> = (0..n).map(|k| amp * (k as f64 * 0.03).sin()).collect();
    let (mut l, mut r) = (xl.clone(), xl.clone());
    Engine::process_block_pair_f64(&mut a, &mut b, &mut l, &mut r);
    a.process_block_f64(&mut l);
    let mut best = f64::INFINITY;
    for _ in 0..7 {
        l.copy_from_slice(&xl);
        r.copy_from_slice(&xl);
        let t0 = Instant::now();
        if pair {
            Engine::process_block_pair_f64(&mut a, &mut b, &mut l, &mut r);
        } else {
            a.process_block_f64(&mut l);
        }
        best = best.min(t0.elapsed().as_secs_f64());
    }
    let exact = a.ground_exact_steps() as f64 / (9 * n) as f64;
    (best / ((if pair { 2 } else { 1 }) * n) as f64 * 1e9, exact)
}

fn main() {
    let laptop = library::find_stage("laptop-jack").unwrap().params;
    let linear = StageParams { r_out_ohm: 75.0, c_block_f: Some(220e-6), ..StageParams::IDEAL };
    for asm in [true, false] {
        set_fast_paths(asm, true);
        // "limited": the laptop jack driven 12 dB hotter, into its current limit every cycle.
        for (name, p, amp) in [("laptop", laptop, 0.5), ("limited", laptop, 2.0), ("linear", linear, 0.5)] {
            for pair in [true, false] {
                let (sep, _) = time(&p, pair, amp);
                let (gnd, exact) = time(&StageParams { r_ground_ohm: 0.5, ..p }, pair, amp);
                println!("asm {asm:5} {name:7} {}: separate {sep:5.1} ns, 0.5 Ω ground {gnd:5.1} ns per channel-step: {:.2}× ({:.5} of steps exact)", if pair { "pair" } else { "mono" }, gnd / sep, exact);
            }
        }
    }
}
