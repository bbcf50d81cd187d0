//! Ad-hoc timing of the oversampler's block forms separately (48 kHz, default quality, blocks of
//! 128 base samples): up_block, up_block_f32 and down_block, ns per base sample.
use loadline::dsp::resample::{Oversampler, Quality};
use std::time::Instant;
fn main() {
    let fs: f64 = std::env::var("FS").ok().and_then(|v| v.parse().ok()).unwrap_or(48_000.0);
    let mut os = Oversampler::new(fs, Quality::Default);
    let f = os.factor();
    let n = 128;
    let x: Vec<f64> = (0..48_000).map(|k| 0.5 * (k as f64 * 0.13).sin()).collect();
    let mut hi = vec![0.0; n * f];
    let mut hi32 = vec![0.0f32; n * f];
    let mut y = vec![0.0; n];
    let (mut bu, mut bu32, mut bd) = (f64::INFINITY, f64::INFINITY, f64::INFINITY);
    for _ in 0..40 {
        let mut tu = 0.0;
        let mut tu32 = 0.0;
        let mut td = 0.0;
        for c in x.chunks(n) {
            let t0 = Instant::now();
            os.up_block(c, &mut hi[..c.len() * f]);
            let t1 = Instant::now();
            os.up_block_f32(c, &mut hi32[..c.len() * f]);
            let t2 = Instant::now();
            os.down_block(&hi[..c.len() * f], &mut y[..c.len()]);
            let t3 = Instant::now();
            tu += (t1 - t0).as_secs_f64();
            tu32 += (t2 - t1).as_secs_f64();
            td += (t3 - t2).as_secs_f64();
        }
        bu = bu.min(tu);
        bu32 = bu32.min(tu32);
        bd = bd.min(td);
    }
    let k = 1e9 / x.len() as f64;
    println!("factor {f}: up_block {:.2} ns, up_block_f32 {:.2} ns, down_block {:.2} ns per base sample", bu * k, bu32 * k, bd * k);
    std::hint::black_box(&y);
}
