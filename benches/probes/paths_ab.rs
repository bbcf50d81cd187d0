//! The speed-only paths against what they replace, side by side in one run (stereo pair, 48 kHz,
//! full model, rounds alternating, the fastest round counts): everything on; the tabulated solve's
//! assembly loop off (the Rust AVX2 loop instead); the rails' AVX2 form off (the scalar rails).
//! A path stays if it saves at least its share of the total: 10 % for the assembly, 5 % for the
//! others.
use loadline::dsp::{set_fast_paths, Engine, Quality};
use loadline::library;
use std::time::Instant;
fn main() {
    let fs = 48_000.0;
    let q = if std::env::var("HIGH").is_ok() { Quality::High } else { Quality::Default };
    let cases = [("laptop-jack", "closed-dynamic-32"), ("laptop-jack", "multi-ba-dip5"), ("opamp-line-ne5532", "closed-dynamic-32")];
    let variants = [("all fast paths", true, true), ("no assembly", false, true), ("no AVX2 rails", true, false)];
    let n = 48_000;
    let sig = |ph: f64| -> Vec<f64> { (0..n).map(|k| { let t = k as f64 / fs; 0.5 * (2.0 * std::f64::consts::PI * 997.0 * t + ph).sin() + 0.3 * (2.0 * std::f64::consts::PI * 61.0 * t).sin() }).collect() };
    let (xl, xr) = (sig(0.0), sig(1.0));
    let mut engines: Vec<(Engine, Engine)> = cases.iter().map(|(s, l)| {
        let p = library::find_stage(s).unwrap().params;
        let net = &library::find_load(l).unwrap().network;
        (Engine::new(fs, q, net, &p, 1).unwrap(), Engine::new(fs, q, net, &p, 2).unwrap())
    }).collect();
    let (mut l, mut r) = (xl.clone(), xr.clone());
    let mut best = vec![[f64::INFINITY; 3]; cases.len()];
    for round in 0..61 {
        for (k, (a, b)) in engines.iter_mut().enumerate() {
            for (j, &(_, asm, rails)) in variants.iter().enumerate() {
                set_fast_paths(asm, rails);
                l.copy_from_slice(&xl); r.copy_from_slice(&xr);
                let t0 = Instant::now();
                Engine::process_block_pair_f64(a, b, &mut l, &mut r);
                if round > 0 { best[k][j] = best[k][j].min(t0.elapsed().as_secs_f64()); }
            }
        }
    }
    set_fast_paths(true, true);
    let ns = |x: f64| x / (2 * n) as f64 * 1e9;
    // Stereo real-time factor: one second of two channels over the time it takes.
    let rt = |x: f64| 1e9 / (ns(x) * 2.0 * fs);
    for ((s, ld), t) in cases.iter().zip(best) {
        println!("{s} into {ld}:");
        for (j, (name, _, _)) in variants.iter().enumerate() {
            let saved = if j == 0 { String::new() } else { format!("; the path saves {:.1} %", 100.0 * (1.0 - t[0] / t[j])) };
            println!("  {name:<16} {:5.1} ns per channel-sample ({:.0}x stereo){saved}", ns(t[j]), rt(t[j]));
        }
    }
}
