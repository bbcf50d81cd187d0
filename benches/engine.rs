//! `cargo bench`: ns per sample per channel for the ideal, linear-only and full nonlinear model,
//! and the real-time factor for stereo 48 kHz (two engines, one core).
//!
//! Figures, not assertions: timings on shared machines are noisy.

use loadline::dsp::{Engine, Quality, StageParams};
use loadline::library;
use std::time::Instant;

fn bench(name: &str, load: &str, p: StageParams, q: Quality) {
    let fs = 48_000.0;
    let net = &library::find_load(load).expect("load").network;
    let mut e = Engine::new(fs, q, net, &p, 1).unwrap();
    let n = 48_000 * 4;
    let x: Vec<f64> = (0..n)
        .map(|k| {
            let t = k as f64 / fs;
            0.5 * (2.0 * std::f64::consts::PI * 997.0 * t).sin() + 0.3 * (2.0 * std::f64::consts::PI * 61.0 * t).sin()
        })
        .collect();
    let mut buf = x.clone();
    e.process_block_f64(&mut buf); // warm-up
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        buf.copy_from_slice(&x);
        let t0 = Instant::now();
        e.process_block_f64(&mut buf);
        best = best.min(t0.elapsed().as_secs_f64());
    }
    let ns = best / n as f64 * 1e9;
    let it_per = e.solver_iterations() as f64 / (4.0 * n as f64 * e.oversampling() as f64);
    let rt_stereo = 1e9 / (ns * 2.0 * fs);
    println!(
        "{name:<34} {load:<22} {:>2}x OS  {ns:7.1} ns/sample/channel   stereo 48 kHz: {rt_stereo:6.0}x real time  ({it_per:.2} solver iterations per internal sample)",
        e.oversampling()
    );
    std::hint::black_box(&buf);
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
    for q in [Quality::Default, Quality::High] {
        let mut os = Oversampler::new(48_000.0, q);
        let n = 192_000;
        let mut buf = [0.0; MAX_FACTOR];
        let t0 = Instant::now();
        let mut acc = 0.0;
        for k in 0..n {
            os.up((k as f64 * 0.01).sin(), &mut buf);
            acc += os.down(&mut buf);
        }
        let ns = t0.elapsed().as_secs_f64() / n as f64 * 1e9;
        println!("oversampler alone {q:?} {}x: {ns:.1} ns/sample (latency {} samples) {}", os.factor(), os.latency(), acc > 1e300);
    }
}
