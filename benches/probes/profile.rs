//! Profiling driver: 4 s of stereo 48 kHz through the full nonlinear model (for `perf record`).
use loadline::dsp::{Engine, Quality};
use loadline::library;
fn main() {
    let load = &library::find_load("closed-dynamic-32").unwrap().network;
    let mut p = library::find_stage(&std::env::var("STAGE").unwrap_or("laptop-jack".into())).unwrap().params;
    // `NORAILS=1`: the same stage without rail clipping; `NONOISE=1`: without its noise floor.
    if std::env::var("NORAILS").is_ok() {
        p.v_max_v = None;
    }
    if std::env::var("NONOISE").is_ok() {
        p.noise_dbv = None;
    }
    let mut a = Engine::new(48_000.0, Quality::Default, load, &p, 1).unwrap();
    let mut b = Engine::new(48_000.0, Quality::Default, load, &p, 2).unwrap();
    let mut l: Vec<f64> = (0..192_000).map(|k| 0.5 * (k as f64 * 0.13).sin()).collect();
    let mut r: Vec<f64> = (0..192_000).map(|k| 0.5 * (k as f64 * 0.11).sin()).collect();
    for _ in 0..std::env::var("REPS").ok().and_then(|v| v.parse().ok()).unwrap_or(3) {
        Engine::process_block_pair_f64(&mut a, &mut b, &mut l, &mut r);
    }
    println!("{}", l.iter().sum::<f64>() + r.iter().sum::<f64>());
}
