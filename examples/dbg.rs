use loadline::dsp::{Engine, Quality};
use loadline::library;
fn main() {
    let fs = 48_000.0;
    let load = &library::find_load("closed-dynamic-32").unwrap().network;
    let mut p0 = library::find_stage("opamp-line-ne5532").unwrap().params;
    p0.r_out_ohm = 10_000.0;
    let mut p1 = p0; p1.r_out_ohm = 0.1;
    let mut e = Engine::new(fs, Quality::Default, load, &p0, 1).unwrap();
    let mut y: Vec<f64> = (0..96000).map(|k| 0.25 * (2.0 * std::f64::consts::PI * 1000.0 * k as f64 / fs).sin()).collect();
    e.process_block_f64(&mut y[..48000]);
    e.set_params(&p1);
    e.process_block_f64(&mut y[48000..]);
    for k in (47000..60000).step_by(500) { let m = y[k..k+500].iter().fold(0.0f64, |a, b| a.max(b.abs())); println!("{k}: {m:e}"); }
    println!("{:?}", e.output_element());
}
