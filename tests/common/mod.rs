//! Shared measurement helpers for the engine tests: rendering, spectra, harmonics.
#![allow(dead_code)]

use loadline::dsp::network::build::{c, l, parallel, r, series};
use loadline::dsp::{Engine, Network, Quality, StageParams};
use num_complex::Complex64;
use realfft::RealFftPlanner;
use std::f64::consts::PI;

/// Renders `x` through a fresh engine and returns the output.
pub fn render(fs: f64, q: Quality, load: &Network, p: &StageParams, x: &[f64]) -> Vec<f64> {
    let mut e = Engine::new(fs, q, load, p, 1).unwrap();
    let mut y = x.to_vec();
    e.process_block_f64(&mut y);
    y
}

/// Complex spectrum of `x` (no window), bins 0..=N/2.
pub fn spectrum(x: &[f64]) -> Vec<Complex64> {
    let mut planner = RealFftPlanner::<f64>::new();
    let fft = planner.plan_fft_forward(x.len());
    let mut inp = x.to_vec();
    let mut out = fft.make_output_vec();
    fft.process(&mut inp, &mut out).unwrap();
    out
}

/// A sine of `amp` at `f` for `n` samples.
pub fn sine(f: f64, fs: f64, amp: f64, n: usize) -> Vec<f64> {
    (0..n).map(|k| amp * (2.0 * PI * f * k as f64 / fs).sin()).collect()
}

/// A frequency on an exact FFT bin of an `n`-point frame near `f`.
pub fn bin_freq(f: f64, fs: f64, n: usize) -> (f64, usize) {
    let k = (f * n as f64 / fs).round() as usize;
    (k as f64 * fs / n as f64, k)
}

/// Magnitudes of harmonics 1..=h_max (index 0 unused) of a coherent frame whose fundamental is on
/// bin `k0`, and the RMS of all non-harmonic bins (excluding DC), both as linear amplitudes.
pub fn harmonics(frame: &[f64], k0: usize, h_max: usize) -> (Vec<f64>, Vec<(usize, f64)>) {
    let s = spectrum(frame);
    let n = frame.len() as f64;
    let amp: Vec<f64> = s.iter().map(|c| 2.0 * c.norm() / n).collect();
    let mut h = vec![0.0; h_max + 1];
    for (j, hj) in h.iter_mut().enumerate().skip(1) {
        if j * k0 < amp.len() {
            *hj = amp[j * k0];
        }
    }
    let others: Vec<(usize, f64)> = amp.iter().enumerate().skip(1).filter(|(k, _)| k % k0 != 0).map(|(k, &a)| (k, a)).collect();
    (h, others)
}

/// THD (ratio) from harmonic amplitudes 2..=h_max.
pub fn thd(h: &[f64]) -> f64 {
    (h[2..].iter().map(|a| a * a).sum::<f64>()).sqrt() / h[1]
}

/// Analytic divider response `Z/(Z + Zs)` with `Zs = R + jωL + 1/(jωC)`.
pub fn divider(load: &Network, p: &StageParams, f: f64) -> Complex64 {
    let z = load.impedance(f);
    let w = 2.0 * PI * f;
    let mut zs = Complex64::new(p.r_out_ohm, w * p.l_out_h);
    if let Some(c) = p.c_block_f {
        zs += 1.0 / Complex64::new(0.0, w * c);
    }
    z / (z + zs)
}

pub fn db(x: f64) -> f64 {
    20.0 * x.log10()
}

/// A load with more than eight modes (several motional resonances and a crossover), so the engine
/// runs its modes in place rather than in the register-resident copy.
pub fn many_mode_load() -> Network {
    let res = |r0: f64, l0: f64, c0: f64| parallel(vec![r(r0), l(l0), c(c0)]);
    series(vec![
        r(12.0),
        l(30e-6),
        parallel(vec![l(80e-6), r(20.0)]),
        res(40.0, 20e-3, 120e-6),
        res(15.0, 1.2e-3, 60e-6),
        res(8.0, 0.3e-3, 20e-6),
        res(5.0, 0.05e-3, 4e-6),
        res(3.0, 0.02e-3, 1e-6),
        res(2.0, 5e-6, 0.5e-6),
        parallel(vec![series(vec![r(6.0), c(10e-6)]), series(vec![r(9.0), l(0.4e-3)])]),
    ])
}

/// Runs an ngspice batch deck (its output file written where the deck says `@OUT@`) and returns
/// the columns after the time column. Panics with ngspice's own output when it wrote nothing.
pub fn ngspice(deck: &str, tag: &str) -> Vec<Vec<f64>> {
    let dir = std::env::temp_dir().join(format!("loadline-spice-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (out, cir) = (dir.join("out.txt"), dir.join("deck.cir"));
    std::fs::write(&cir, deck.replace("@OUT@", out.to_str().unwrap())).unwrap();
    let r = std::process::Command::new("ngspice").arg("-b").arg(&cir).output().expect("ngspice must be installed (scripts/test.sh installs it)");
    let text = std::fs::read_to_string(&out)
        .unwrap_or_else(|_| panic!("ngspice wrote no output:\n{}\n{}", String::from_utf8_lossy(&r.stdout), String::from_utf8_lossy(&r.stderr)));
    let _ = std::fs::remove_dir_all(&dir);
    let rows: Vec<Vec<f64>> = text.lines().map(|l| l.split_whitespace().filter_map(|v| v.parse().ok()).collect()).filter(|v: &Vec<f64>| v.len() >= 2).collect();
    let cols = rows.iter().map(|r| r.len()).min().unwrap_or(1);
    (1..cols).map(|c| rows.iter().map(|r| r[c]).collect()).collect()
}

/// `y` against ngspice's `s` (the same frame, fundamental on bin `k0`, rate `fs`): each harmonic
/// H2–H9 within ±1 dB wherever ngspice has it above −90 dBc, and the residual, band-limited to
/// 20 kHz, at least 40 dB below the signal. Failures go to `failures`; returns the line to print.
pub fn against_spice(label: &str, y: &[f64], s: &[f64], k0: usize, fs: f64, failures: &mut Vec<String>) -> String {
    let (hy, _) = harmonics(y, k0, 9);
    let (hs, _) = harmonics(s, k0, 9);
    let mut line = format!("{label}:");
    for h in 2..=9 {
        let (ds, dy) = (db(hs[h] / hs[1]), db(hy[h] / hy[1]));
        line += &format!(" H{h} {ds:6.1}/{dy:6.1}");
        if ds > -90.0 && (ds - dy).abs() > 1.0 {
            failures.push(format!("{label}: H{h} ngspice {ds:.2} dBc, here {dy:.2} dBc"));
        }
    }
    let band = |x: &[f64]| {
        let mut sp = spectrum(x);
        let n = x.len() as f64;
        sp.iter_mut().enumerate().filter(|(k, _)| *k as f64 * fs / n > 20_000.0).for_each(|(_, b)| *b = Complex64::new(0.0, 0.0));
        sp
    };
    let (sy, ss) = (band(y), band(s));
    let sig: f64 = ss.iter().map(|c| c.norm_sqr()).sum();
    let res: f64 = sy.iter().zip(&ss).map(|(a, b)| (a - b).norm_sqr()).sum();
    let res_db = 10.0 * (res / sig).log10();
    line += &format!("  residual {res_db:.1} dB");
    if res_db > -40.0 {
        failures.push(format!("{label}: residual {res_db:.1} dB"));
    }
    line
}
