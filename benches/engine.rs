//! `cargo bench`: ns per sample per channel for the ideal, linear-only and full nonlinear model,
//! and the real-time factor for stereo 48 kHz (two engines, one core).
//!
//! Figures, not assertions: timings on shared machines are noisy.

use loadline::dsp::{Engine, Quality, StageParams};
use loadline::library;
use std::time::Instant;

/// Timed runs of one second of audio; the fastest counts (shared machines are noisy, and noise only
/// ever adds time).
const REPEATS: usize = 25;

fn bench(name: &str, load: &str, p: StageParams, q: Quality) {
    let fs = 48_000.0;
    let net = &library::find_load(load).expect("load").network;
    let n = 48_000;
    let signal = |phase: f64| -> Vec<f64> {
        (0..n)
            .map(|k| {
                let t = k as f64 / fs;
                0.5 * (2.0 * std::f64::consts::PI * 997.0 * t + phase).sin() + 0.3 * (2.0 * std::f64::consts::PI * 61.0 * t).sin()
            })
            .collect()
    };
    let (xl, xr) = (signal(0.0), signal(1.0));
    // One engine (one channel).
    let mut e = Engine::new(fs, q, net, &p, 1).unwrap();
    let mut buf = xl.clone();
    e.process_block_f64(&mut buf); // warm-up (and the solver table's build)
    let it0 = e.solver_iterations();
    let mut mono = f64::INFINITY;
    for _ in 0..REPEATS {
        buf.copy_from_slice(&xl);
        let t0 = Instant::now();
        e.process_block_f64(&mut buf);
        mono = mono.min(t0.elapsed().as_secs_f64());
    }
    let it_per = (e.solver_iterations() - it0) as f64 / (REPEATS as f64 * n as f64 * e.oversampling() as f64);
    // A stereo pair (two engines, interleaved), as the plugin runs them.
    let mut a = Engine::new(fs, q, net, &p, 1).unwrap();
    let mut b = Engine::new(fs, q, net, &p, 2).unwrap();
    let (mut l, mut r) = (xl.clone(), xr.clone());
    Engine::process_block_pair_f64(&mut a, &mut b, &mut l, &mut r);
    let mut pair = f64::INFINITY;
    for _ in 0..REPEATS {
        l.copy_from_slice(&xl);
        r.copy_from_slice(&xr);
        let t0 = Instant::now();
        Engine::process_block_pair_f64(&mut a, &mut b, &mut l, &mut r);
        pair = pair.min(t0.elapsed().as_secs_f64());
    }
    let ns_mono = mono / n as f64 * 1e9;
    let ns_pair = pair / (2 * n) as f64 * 1e9;
    let rt_stereo = 1e9 / (ns_pair * 2.0 * fs);
    println!(
        "{name:<34} {load:<18} {:>2}x OS  mono {ns_mono:6.1} ns/sample  stereo pair {ns_pair:6.1} ns/sample/channel  = {rt_stereo:5.0}x real time stereo 48 kHz  ({it_per:.3} Newton iterations per internal sample after settling)",
        e.oversampling()
    );
    std::hint::black_box((&buf, &l, &r));
}

fn main() {
    bench_oversampler();
    let lib_stage = |id: &str| library::find_stage(id).expect("stage").params;
    for q in [Quality::Default, Quality::High] {
        println!("quality {q:?}");
        bench("ideal", "closed-dynamic-32", StageParams::IDEAL, q);
        bench("linear only (75 Ω + 220 µF)", "closed-dynamic-32", StageParams { r_out_ohm: 75.0, c_block_f: Some(220e-6), ..StageParams::IDEAL }, q);
        bench("full nonlinear (laptop jack)", "closed-dynamic-32", lib_stage("laptop-jack"), q);
        bench("full nonlinear (laptop jack)", "multi-ba-dip5", lib_stage("laptop-jack"), q);
        bench("full nonlinear (NE5532 line out)", "closed-dynamic-32", lib_stage("opamp-line-ne5532"), q);
    }
}

#[allow(dead_code)]
pub fn bench_oversampler() {
    use loadline::dsp::resample::{Oversampler, MAX_FACTOR};
    // Input computed outside the timed loops; best of several short runs (shared machines).
    let n = 48_000;
    let x: Vec<f64> = (0..n).map(|k| (k as f64 * 0.01).sin()).collect();
    for fs in [44_100.0, 48_000.0] {
        for q in [Quality::Default, Quality::High] {
            let mut os = Oversampler::new(fs, q);
            let f = os.factor();
            let mut buf = [0.0; MAX_FACTOR];
            let mut acc = 0.0;
            let mut best = f64::INFINITY;
            for _ in 0..30 {
                let t0 = Instant::now();
                for &v in &x {
                    os.up(v, &mut buf);
                    acc += os.down(&mut buf);
                }
                best = best.min(t0.elapsed().as_secs_f64() / n as f64 * 1e9);
            }
            // Block form: a 64-sample block up, then back down.
            let mut hi = vec![0.0; 64 * f];
            let mut y = [0.0; 64];
            let mut best_blk = f64::INFINITY;
            for _ in 0..30 {
                let t0 = Instant::now();
                for c in x.chunks_exact(64) {
                    os.up_block(c, &mut hi);
                    os.down_block(&hi, &mut y);
                    acc += y[0];
                }
                best_blk = best_blk.min(t0.elapsed().as_secs_f64() / n as f64 * 1e9);
            }
            println!(
                "oversampler alone {fs} Hz {q:?} {f}x: {best:.1} ns/sample, {best_blk:.1} ns/sample in blocks of 64 (latency {} samples) {}",
                os.latency(),
                acc > 1e300
            );
        }
    }
}
