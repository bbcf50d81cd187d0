//! Instruction-count driver for the oversampler's block path (run under callgrind):
//! `valgrind --tool=callgrind cargo-built resample_cost 48000 default`, then
//! `callgrind_annotate --inclusive=yes` and read `up_block` / `down_block` (Ir per base sample is
//! their inclusive Ir / 48,000).
use loadline::dsp::resample::{Oversampler, Quality, MAX_FACTOR};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let fs: f64 = args.get(1).map_or(48_000.0, |s| s.parse().expect("rate in Hz"));
    let q = match args.get(2).map(String::as_str) {
        Some("high") => Quality::High,
        _ => Quality::Default,
    };
    let mut os = Oversampler::new(fs, q);
    let f = os.factor();
    assert!(f <= MAX_FACTOR);
    let x: Vec<f64> = (0..48_000).map(|n| 0.8 * (2.0 * std::f64::consts::PI * 997.0 * n as f64 / fs).sin()).collect();
    let mut hi = vec![0.0; 64 * f];
    let mut y = vec![0.0; 64];
    let mut acc = 0.0;
    for c in x.chunks_exact(64) {
        os.up_block(c, &mut hi);
        hi.iter_mut().for_each(|v| *v = v.tanh());
        os.down_block(&hi, &mut y);
        acc += y[0];
    }
    println!("fs {fs} {q:?} factor {f}: {acc}");
}
