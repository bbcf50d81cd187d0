//! Profiling driver: 0.2 s of 48 kHz through the full nonlinear model (for callgrind).
use loadline::dsp::{Engine, Quality};
use loadline::library;
fn main() {
    let load = &library::find_load("closed-dynamic-32").unwrap().network;
    let p = library::find_stage("laptop-jack").unwrap().params;
    let mut e = Engine::new(48_000.0, Quality::Default, load, &p, 1).unwrap();
    let mut x: Vec<f64> = (0..9600).map(|k| 0.5 * (k as f64 * 0.13).sin()).collect();
    e.process_block_f64(&mut x);
    println!("{}", x.iter().sum::<f64>());
}
