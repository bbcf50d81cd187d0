//! Ad-hoc timing of stage variants (stereo pair, 48 kHz, default quality): the variants take turns,
//! 40 rounds of 0.5 s of audio each, and the fastest round of each counts.
use loadline::dsp::{Engine, Quality, StageParams};
use loadline::library;
use std::time::Instant;
fn main() {
    let lap = library::find_stage("laptop-jack").unwrap().params;
    let ne = library::find_stage("opamp-line-ne5532").unwrap().params;
    let vars: Vec<(&str, StageParams)> = vec![
        ("linear 75R+220u", StageParams { r_out_ohm: 75.0, c_block_f: Some(220e-6), ..StageParams::IDEAL }),
        ("laptop", lap),
        ("laptop no noise", StageParams { noise_dbv: None, ..lap }),
        ("laptop no noise, no rails", StageParams { noise_dbv: None, v_max_v: None, ..lap }),
        ("ne5532", ne),
        ("ideal", StageParams::IDEAL),
        ("ideal + rails at laptop's", StageParams { v_max_v: lap.v_max_v, level_v: lap.level_v, ..StageParams::IDEAL }),
        ("ideal at laptop's level", StageParams { level_v: lap.level_v, ..StageParams::IDEAL }),
        ("laptop, rails x10", StageParams { noise_dbv: None, v_max_v: lap.v_max_v.map(|v| v * 10.0), ..lap }),
        ("laptop, 0.5 Ω ground", StageParams { r_ground_ohm: 0.5, ..lap }),
        ("linear 75R+220u, 0.5 Ω ground", StageParams { r_out_ohm: 75.0, c_block_f: Some(220e-6), r_ground_ohm: 0.5, ..StageParams::IDEAL }),
    ];
    // `ONLY=text`: the variants whose name contains it (for `perf record`).
    let only = std::env::var("ONLY").unwrap_or_default();
    let vars: Vec<_> = vars.into_iter().filter(|(name, _)| name.contains(only.as_str())).collect();
    let fs = 48_000.0;
    // `HIGH=1`: the offline render quality.
    let q = if std::env::var("HIGH").is_ok() { Quality::High } else { Quality::Default };
    // `BLOCK=64`: the buffer in host-sized blocks (default: one call).
    let block: usize = std::env::var("BLOCK").ok().and_then(|v| v.parse().ok()).unwrap_or(usize::MAX);
    let net = &library::find_load(&std::env::var("LOAD").unwrap_or("closed-dynamic-32".into())).unwrap().network;
    let n = 24_000;
    let sig = |ph: f64| -> Vec<f64> { (0..n).map(|k| { let t = k as f64 / fs; 0.5 * (2.0 * std::f64::consts::PI * 997.0 * t + ph).sin() + 0.3 * (2.0 * std::f64::consts::PI * 61.0 * t).sin() }).collect() };
    let (xl, xr) = (sig(0.0), sig(1.0));
    let mut engines: Vec<(Engine, Engine)> = vars.iter().map(|(_, p)| (Engine::new(fs, q, net, p, 1).unwrap(), Engine::new(fs, q, net, p, 2).unwrap())).collect();
    let (mut l, mut r) = (xl.clone(), xr.clone());
    let mut best = vec![f64::INFINITY; vars.len()];
    for round in 0..41 {
        for (k, (a, b)) in engines.iter_mut().enumerate() {
            l.copy_from_slice(&xl); r.copy_from_slice(&xr);
            let t0 = Instant::now();
            for (cl, cr) in l.chunks_mut(block).zip(r.chunks_mut(block)) {
                Engine::process_block_pair_f64(a, b, cl, cr);
            }
            if round > 0 { best[k] = best[k].min(t0.elapsed().as_secs_f64()); }
        }
    }
    for ((name, _), t) in vars.iter().zip(best) {
        println!("{name:<40} {:6.1} ns/ch-sample", t / (2 * n) as f64 * 1e9);
    }
}
