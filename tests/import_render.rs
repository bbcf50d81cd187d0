//! Imported curves through the engine (issue 3): a curve produced by a passive R/L/C network of up
//! to 12 elements is written as a ZMA file, imported and fitted, and the *rendered* response of the
//! engine driving the fitted load is within ±0.25 dB of `20·log10|Z/(Z+Zs)|` computed directly
//! from the file's own samples, 20 Hz–20 kHz, for Zs up to 1 kΩ.

use loadline::dsp::network::{build::*, log_grid, Network};
use loadline::dsp::{Engine, Quality, StageParams};
use loadline::import::import_impedance;
use loadline::library;
use num_complex::Complex64;

fn curves() -> Vec<(String, Network)> {
    let mut v: Vec<(String, Network)> = library::loads()
        .iter()
        .filter(|l| l.network.element_count() <= 12)
        .map(|l| (l.id.clone(), l.network.clone()))
        .collect();
    // A 12-element dynamic driver with a DC-blocking-like series C and a Zobel.
    v.push((
        "12-element dynamic + zobel".into(),
        parallel(vec![
            series(vec![r(32.0), l(40e-6), parallel(vec![l(120e-6), r(30.0)]), parallel(vec![r(60.0), l(30e-3), c(90e-6)])]),
            series(vec![r(68.0), c(2.2e-6), l(10e-6)]),
        ]),
    ));
    v
}

#[test]
fn rendered_response_of_imported_curves_matches_the_files_own_divider() {
    let fs = 48_000.0;
    let freqs: Vec<f64> = log_grid(20.0, 20_000.0, 241).collect(); // 1/24 octave
    let mut failures = vec![];
    let mut worst: f64 = 0.0;
    for (name, net) in curves() {
        let zma = library::write_zma(&net, &freqs);
        let curve = import_impedance(zma.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
        for zs in [0.1, 10.0, 120.0, 1000.0] {
            let p = StageParams { r_out_ohm: zs, ..StageParams::IDEAL };
            let mut e = Engine::new(fs, Quality::Default, &curve.network, &p, 1).unwrap();
            let n = 1 << 16;
            let mut x = vec![0.0; n];
            x[0] = 0.01;
            e.process_block_f64(&mut x);
            for s in &curve.samples {
                let f = s.freq_hz;
                if !(20.0..=20_000.0).contains(&f) {
                    continue;
                }
                // Rendered response at f by direct DFT (latency is a pure delay: |H| unaffected).
                let w = -2.0 * std::f64::consts::PI * f / fs;
                let h: Complex64 = x.iter().enumerate().map(|(k, v)| v / 0.01 * Complex64::from_polar(1.0, w * k as f64)).sum();
                let file = (s.z / (s.z + zs)).norm();
                let err = 20.0 * h.norm().log10() - 20.0 * file.log10();
                worst = worst.max(err.abs());
                if err.abs() > 0.25 {
                    failures.push(format!("{name}, Zs {zs} Ω: {err:+.3} dB at {f:.0} Hz"));
                }
            }
        }
    }
    println!("worst rendered-vs-file divider error: {worst:.3} dB");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
