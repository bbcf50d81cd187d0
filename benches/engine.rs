//! `cargo bench`: ns per sample per channel for the ideal, linear-only and full nonlinear model,
//! and the real-time factor for stereo 48 kHz (two engines, one core).
//!
//! Figures, not assertions: timings on shared machines are noisy.

use loadline::dsp::{Engine, Quality, StageParams};
use loadline::library;
use std::time::Instant;

/// Timed runs of one second of audio per case; the fastest counts (shared machines are noisy, and
/// noise only ever adds time). The cases take turns, one run each per round, so a burst of
/// interference on the machine is spread over all of them instead of spoiling one.
const ROUNDS: usize = 60;

/// One benchmark case: a stage into a load at one quality, as one engine (mono) and as a pair.
struct Case {
    name: &'static str,
    load: &'static str,
    mono: Engine,
    a: Engine,
    b: Engine,
    it0: u64,
    ex0: u64,
    best_mono: f64,
    best_pair: f64,
}

const FS: f64 = 48_000.0;
const N: usize = 48_000;

fn signal(phase: f64) -> Vec<f64> {
    (0..N)
        .map(|k| {
            let t = k as f64 / FS;
            0.5 * (2.0 * std::f64::consts::PI * 997.0 * t + phase).sin() + 0.3 * (2.0 * std::f64::consts::PI * 61.0 * t).sin()
        })
        .collect()
}

impl Case {
    fn new(name: &'static str, load: &'static str, p: StageParams, q: Quality, xl: &[f64], xr: &[f64]) -> Self {
        let net = &library::find_load(load).expect("load").network;
        let mut mono = Engine::new(FS, q, net, &p, 1).unwrap();
        let mut buf = xl.to_vec();
        mono.process_block_f64(&mut buf); // warm-up (and the solver table's build)
        let (it0, ex0) = (mono.solver_iterations(), mono.ground_exact_steps());
        let mut a = Engine::new(FS, q, net, &p, 1).unwrap();
        let mut b = Engine::new(FS, q, net, &p, 2).unwrap();
        let (mut l, mut r) = (xl.to_vec(), xr.to_vec());
        Engine::process_block_pair_f64(&mut a, &mut b, &mut l, &mut r);
        Self { name, load, mono, a, b, it0, ex0, best_mono: f64::INFINITY, best_pair: f64::INFINITY }
    }

    /// One timed mono run and one timed pair run.
    fn round(&mut self, xl: &[f64], xr: &[f64], buf: &mut [f64], l: &mut [f64], r: &mut [f64]) {
        buf.copy_from_slice(xl);
        let t0 = Instant::now();
        self.mono.process_block_f64(buf);
        self.best_mono = self.best_mono.min(t0.elapsed().as_secs_f64());
        l.copy_from_slice(xl);
        r.copy_from_slice(xr);
        let t0 = Instant::now();
        Engine::process_block_pair_f64(&mut self.a, &mut self.b, l, r);
        self.best_pair = self.best_pair.min(t0.elapsed().as_secs_f64());
        std::hint::black_box((&buf, &l, &r));
    }

    fn report(&self) {
        let steps = ROUNDS as f64 * N as f64 * self.mono.oversampling() as f64;
        let it_per = (self.mono.solver_iterations() - self.it0) as f64 / steps;
        let ex_per = (self.mono.ground_exact_steps() - self.ex0) as f64 / steps;
        let ns_mono = self.best_mono / N as f64 * 1e9;
        let ns_pair = self.best_pair / (2 * N) as f64 * 1e9;
        let rt_stereo = 1e9 / (ns_pair * 2.0 * FS);
        println!(
            "{:<34} {:<18} {:>2}x OS  mono {ns_mono:6.1} ns/sample  stereo pair {ns_pair:6.1} ns/sample/channel  = {rt_stereo:5.0}x real time stereo 48 kHz  ({it_per:.3} Newton iterations per internal sample after settling{})",
            self.name,
            self.load,
            self.mono.oversampling(),
            if self.ex0 > 0 || ex_per > 0.0 || self.name.contains("ground") { format!(", {ex_per:.4} exact ground solves") } else { String::new() }
        );
    }
}

fn main() {
    bench_oversampler();
    let lib_stage = |id: &str| library::find_stage(id).expect("stage").params;
    let (xl, xr) = (signal(0.0), signal(1.0));
    let (mut buf, mut l, mut r) = (xl.clone(), xl.clone(), xr.clone());
    for q in [Quality::Default, Quality::High] {
        let mut cases = vec![
            Case::new("ideal", "closed-dynamic-32", StageParams::IDEAL, q, &xl, &xr),
            Case::new("linear only (75 Ω + 220 µF)", "closed-dynamic-32", StageParams { r_out_ohm: 75.0, c_block_f: Some(220e-6), ..StageParams::IDEAL }, q, &xl, &xr),
            Case::new("full nonlinear (laptop jack)", "closed-dynamic-32", lib_stage("laptop-jack"), q, &xl, &xr),
            Case::new("full nonlinear (laptop jack)", "multi-ba-dip5", lib_stage("laptop-jack"), q, &xl, &xr),
            Case::new("full nonlinear (NE5532 line out)", "closed-dynamic-32", lib_stage("opamp-line-ne5532"), q, &xl, &xr),
            // The stereo circuit (issue 16): the same stage with a 0.5 Ω shared ground return.
            Case::new("full nonlinear (laptop jack), 0.5 Ω ground", "closed-dynamic-32", StageParams { r_ground_ohm: 0.5, ..lib_stage("laptop-jack") }, q, &xl, &xr),
            Case::new("linear only (75 Ω + 220 µF), 0.5 Ω ground", "closed-dynamic-32", StageParams { r_out_ohm: 75.0, c_block_f: Some(220e-6), r_ground_ohm: 0.5, ..StageParams::IDEAL }, q, &xl, &xr),
        ];
        for _ in 0..ROUNDS {
            for c in cases.iter_mut() {
                c.round(&xl, &xr, &mut buf, &mut l, &mut r);
            }
        }
        println!("quality {q:?}");
        for c in &cases {
            c.report();
        }
    }
}

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
