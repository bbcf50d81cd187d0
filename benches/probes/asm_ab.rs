//! The assembly loop against the Rust AVX2 loop for the tabulated solve, side by side in one run
//! (stereo pair, 48 kHz, full model): rounds alternate the two, fastest round counts.
use loadline::dsp::{set_assembly_kernel, Engine, Quality};
use loadline::library;
use std::time::Instant;
fn main() {
    let fs = 48_000.0;
    let q = if std::env::var("HIGH").is_ok() { Quality::High } else { Quality::Default };
    let cases = [("laptop-jack", "closed-dynamic-32"), ("laptop-jack", "multi-ba-dip5"), ("opamp-line-ne5532", "closed-dynamic-32")];
    let n = 48_000;
    let sig = |ph: f64| -> Vec<f64> { (0..n).map(|k| { let t = k as f64 / fs; 0.5 * (2.0 * std::f64::consts::PI * 997.0 * t + ph).sin() + 0.3 * (2.0 * std::f64::consts::PI * 61.0 * t).sin() }).collect() };
    let (xl, xr) = (sig(0.0), sig(1.0));
    let mut engines: Vec<(Engine, Engine)> = cases.iter().map(|(s, l)| {
        let p = library::find_stage(s).unwrap().params;
        let net = &library::find_load(l).unwrap().network;
        (Engine::new(fs, q, net, &p, 1).unwrap(), Engine::new(fs, q, net, &p, 2).unwrap())
    }).collect();
    let (mut l, mut r) = (xl.clone(), xr.clone());
    let mut best = vec![[f64::INFINITY; 2]; cases.len()];
    for round in 0..61 {
        for (k, (a, b)) in engines.iter_mut().enumerate() {
            for (j, asm) in [true, false].into_iter().enumerate() {
                set_assembly_kernel(asm);
                l.copy_from_slice(&xl); r.copy_from_slice(&xr);
                let t0 = Instant::now();
                Engine::process_block_pair_f64(a, b, &mut l, &mut r);
                if round > 0 { best[k][j] = best[k][j].min(t0.elapsed().as_secs_f64()); }
            }
        }
    }
    for ((s, ld), t) in cases.iter().zip(best) {
        let ns = |x: f64| x / (2 * n) as f64 * 1e9;
        // Stereo real-time factor: one second of two channels over the time it takes.
        let rt = |x: f64| 1e9 / (ns(x) * 2.0 * fs);
        println!("{s} into {ld}: assembly {:.1} ns/ch-sample ({:.0}x stereo), Rust AVX2 {:.1} ns ({:.0}x); assembly saves {:.1} %", ns(t[0]), rt(t[0]), ns(t[1]), rt(t[1]), 100.0 * (1.0 - t[0] / t[1]));
    }
}
