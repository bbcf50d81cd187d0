use loadline::dsp::resample::{Oversampler, Quality, MAX_FACTOR};
fn main() {
    let fs = 44_100.0;
    let mut os = Oversampler::new(fs, Quality::Default);
    let n = 1 << 14;
    let mut buf = [0.0; MAX_FACTOR];
    let y: Vec<f64> = (0..n).map(|k| { os.up(if k == 0 { 1.0 } else { 0.0 }, &mut buf); os.down(&mut buf) }).collect();
    for f in [15000.0, 19000.0, 19500.0, 19750.0, 20000.0] {
        let (mut re, mut im) = (0.0, 0.0);
        for (k, v) in y.iter().enumerate() { let ph = 2.0 * std::f64::consts::PI * f * k as f64 / fs; re += v * ph.cos(); im -= v * ph.sin(); }
        println!("{f}: {:+.4} dB", 10.0 * (re * re + im * im).log10());
    }
}
