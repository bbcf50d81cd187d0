//! Wall-clock split of the engine's cost (stereo 48 kHz, default quality): the oversampler alone
//! (up and down, both channels) against the whole engine, in interleaved rounds, fastest round
//! of each. `STAGE` picks the library stage (default laptop-jack).
use loadline::dsp::resample::{Oversampler, Quality as OsQuality};
use loadline::dsp::{Engine, Quality};
use loadline::library;
use std::time::Instant;
fn main() {
    let fs = 48_000.0;
    let st = std::env::var("STAGE").unwrap_or("laptop-jack".into());
    let p = library::find_stage(&st).unwrap().params;
    let net = &library::find_load("closed-dynamic-32").unwrap().network;
    let n = 24_000;
    let sig = |ph: f64| -> Vec<f64> { (0..n).map(|k| { let t = k as f64 / fs; 0.5 * (2.0 * std::f64::consts::PI * 997.0 * t + ph).sin() + 0.3 * (2.0 * std::f64::consts::PI * 61.0 * t).sin() }).collect() };
    let (xl, xr) = (sig(0.0), sig(1.0));
    let (mut a, mut b) = (Engine::new(fs, Quality::Default, net, &p, 1).unwrap(), Engine::new(fs, Quality::Default, net, &p, 2).unwrap());
    let (mut oa, mut ob) = (Oversampler::new(fs, OsQuality::Default), Oversampler::new(fs, OsQuality::Default));
    let f = oa.factor();
    let (mut ha, mut hb) = (vec![0.0; 64 * f], vec![0.0; 64 * f]);
    let (mut l, mut r) = (xl.clone(), xr.clone());
    let mut best = [f64::INFINITY; 2];
    for round in 0..41 {
        l.copy_from_slice(&xl);
        r.copy_from_slice(&xr);
        let t0 = Instant::now();
        Engine::process_block_pair_f64(&mut a, &mut b, &mut l, &mut r);
        let t1 = Instant::now();
        for (cl, cr) in l.chunks_exact_mut(64).zip(r.chunks_exact_mut(64)) {
            oa.up_block(cl, &mut ha);
            ob.up_block(cr, &mut hb);
            oa.down_block(&ha, cl);
            ob.down_block(&hb, cr);
        }
        let t2 = Instant::now();
        if round > 0 {
            best[0] = best[0].min((t1 - t0).as_secs_f64());
            best[1] = best[1].min((t2 - t1).as_secs_f64());
        }
    }
    let ns = |t: f64| t / (2 * n) as f64 * 1e9;
    println!("{st}: engine {:.1} ns/ch-sample, oversampler alone {:.1} ns, the rest {:.1} ns", ns(best[0]), ns(best[1]), ns(best[0] - best[1]));
}
