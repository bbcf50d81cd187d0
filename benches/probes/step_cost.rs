//! Per-step cost without oversampling (base rate 192 kHz, factor 1): isolates the circuit step
//! and the per-sample bookkeeping from the resampler.
use loadline::dsp::{Engine, Quality, StageParams};
use loadline::library;
use std::time::Instant;
fn main() {
    let fs = 192_000.0;
    let net = &library::find_load("closed-dynamic-32").unwrap().network;
    for (name, p) in [("ideal", StageParams::IDEAL), ("laptop", library::find_stage("laptop-jack").unwrap().params), ("ne5532", library::find_stage("opamp-line-ne5532").unwrap().params)] {
        let mut a = Engine::new(fs, Quality::Default, net, &p, 1).unwrap();
        let mut b = Engine::new(fs, Quality::Default, net, &p, 2).unwrap();
        let n = 400_000;
        let xl: Vec<f64> = (0..n).map(|k| 0.5 * (k as f64 * 0.03).sin()).collect();
        let (mut l, mut r) = (xl.clone(), xl.clone());
        Engine::process_block_pair_f64(&mut a, &mut b, &mut l, &mut r);
        let mut best = f64::INFINITY;
        for _ in 0..5 {
            l.copy_from_slice(&xl);
            r.copy_from_slice(&xl);
            let t0 = Instant::now();
            Engine::process_block_pair_f64(&mut a, &mut b, &mut l, &mut r);
            best = best.min(t0.elapsed().as_secs_f64());
        }
        println!("{name}: factor {} {:.1} ns per channel-sample", a.oversampling(), best / (2 * n) as f64 * 1e9);
    }
}
