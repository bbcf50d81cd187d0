//! Minimum-phase reconstruction of an impedance's phase from its magnitude.
//!
//! A passive one-port's impedance is a positive-real function: it has no poles or zeros in the
//! right half-plane, so it is minimum phase and its phase follows from ln|Z| by the Bode gain–phase
//! relation (H. W. Bode, *Network Analysis and Feedback Amplifier Design*, 1945, ch. 14, eq. 14-8):
//!
//! ```text
//! φ(ω₀) = (1/π) ∫ (d ln|Z| / du) · ln coth(|u|/2) du,   u = ln(ω/ω₀)
//! ```
//!
//! We take ln|Z| as piecewise linear in ln f between the samples, so the slope is constant on each
//! segment and every segment's contribution is exact: with `G(u) = ∫₀ᵘ ln coth(t/2) dt`
//! `= π²/4 − 2·χ₂(e^{−u})` (u ≥ 0, odd in u; χ₂ is Legendre's chi function, evaluated by its
//! series after the Landen-type identity `χ₂(e^{−u}) = π²/8 + (u/2)·ln tanh(u/2) − χ₂(tanh(u/2))`
//! for small u; L. Lewin, *Polylogarithms and Associated Functions*, 1981, §1.8).
//!
//! **Beyond the file's range** the magnitude's log-log slope at each edge (fitted over the last
//! third of an octave, clamped to ±1, the steepest a passive impedance can have) is continued with
//! an exponential taper that halves it every ~0.7 decade (e-folding over one decade), so the curve
//! levels off instead of running away. The reconstructed phase is least reliable near the edges.

use std::f64::consts::PI;

/// E-folding length of the edge-slope taper, in natural-log frequency units (one decade).
const TAPER: f64 = std::f64::consts::LN_10;
/// Width of the synthetic extrapolation segments, ln-frequency units.
const EXT_STEP: f64 = 0.1;
/// How far the extrapolation reaches on each side, in tapers.
const EXT_TAPERS: f64 = 5.0;

/// Phase in degrees at each `freq_hz` for the magnitudes `mag_ohm` (both of the same length,
/// frequencies strictly increasing, magnitudes positive).
pub fn reconstruct_phase_deg(freq_hz: &[f64], mag_ohm: &[f64]) -> Vec<f64> {
    let n = freq_hz.len();
    if n < 2 {
        return vec![0.0; n];
    }
    // Integrand knots: ln f and ln|Z| (decimated to ≤ 2000 for speed on dense files).
    let step = n.div_ceil(2000).max(1);
    let mut x: Vec<f64> = Vec::new();
    let mut a: Vec<f64> = Vec::new();
    for i in (0..n).step_by(step).chain(std::iter::once(n - 1)) {
        if x.last().is_none_or(|&l| freq_hz[i].ln() > l) {
            x.push(freq_hz[i].ln());
            a.push(mag_ohm[i].ln());
        }
    }
    let lo_slope = edge_slope(&x, &a, false);
    let hi_slope = edge_slope(&x, &a, true);
    // Segments (x0, x1, slope).
    let mut seg: Vec<(f64, f64, f64)> = Vec::with_capacity(x.len() + 200);
    let ext = (EXT_TAPERS * TAPER / EXT_STEP).ceil() as usize;
    for k in (0..ext).rev() {
        let (x1, x0) = (x[0] - k as f64 * EXT_STEP, x[0] - (k + 1) as f64 * EXT_STEP);
        seg.push((x0, x1, lo_slope * (-(x[0] - 0.5 * (x0 + x1)) / TAPER).exp()));
    }
    for i in 0..x.len() - 1 {
        seg.push((x[i], x[i + 1], (a[i + 1] - a[i]) / (x[i + 1] - x[i])));
    }
    let xe = x[x.len() - 1];
    for k in 0..ext {
        let (x0, x1) = (xe + k as f64 * EXT_STEP, xe + (k + 1) as f64 * EXT_STEP);
        seg.push((x0, x1, hi_slope * (-(0.5 * (x0 + x1) - xe) / TAPER).exp()));
    }
    freq_hz
        .iter()
        .map(|f| {
            let x0 = f.ln();
            let phi: f64 = seg.iter().map(|&(s0, s1, sl)| sl * (big_g(s1 - x0) - big_g(s0 - x0))).sum::<f64>() / PI;
            phi.clamp(-PI / 2.0, PI / 2.0).to_degrees()
        })
        .collect()
}

/// Least-squares log-log slope over the last third of an octave at one edge, clamped to ±1.
fn edge_slope(x: &[f64], a: &[f64], high: bool) -> f64 {
    let n = x.len();
    let span = std::f64::consts::LN_2 / 3.0;
    let idx: Vec<usize> = if high {
        (0..n).rev().take_while(|&i| x[n - 1] - x[i] <= span).collect()
    } else {
        (0..n).take_while(|&i| x[i] - x[0] <= span).collect()
    };
    let idx = if idx.len() >= 2 { idx } else if high { vec![n - 2, n - 1] } else { vec![0, 1] };
    let m = idx.len() as f64;
    let (mx, ma) = (idx.iter().map(|&i| x[i]).sum::<f64>() / m, idx.iter().map(|&i| a[i]).sum::<f64>() / m);
    let sxx: f64 = idx.iter().map(|&i| (x[i] - mx).powi(2)).sum();
    let sxa: f64 = idx.iter().map(|&i| (x[i] - mx) * (a[i] - ma)).sum();
    if sxx > 0.0 { (sxa / sxx).clamp(-1.0, 1.0) } else { 0.0 }
}

/// `G(u) = ∫₀ᵘ ln coth(|t|/2) dt`, odd in u, `G(±∞) = ±π²/4`.
fn big_g(u: f64) -> f64 {
    let s = u.signum();
    let u = u.abs();
    if u == 0.0 {
        return 0.0;
    }
    s * (PI * PI / 4.0 - 2.0 * chi2_exp_neg(u))
}

/// χ₂(e^{−u}) for u > 0.
fn chi2_exp_neg(u: f64) -> f64 {
    let y = (-u).exp();
    if y <= std::f64::consts::SQRT_2 - 1.0 {
        chi2_series(y)
    } else {
        let t = (0.5 * u).tanh();
        PI * PI / 8.0 + 0.5 * u * t.ln() - chi2_series(t)
    }
}

/// χ₂(y) = Σ_{k odd} y^k/k² for 0 ≤ y ≤ √2 − 1 (converges to 1e-16 within ~22 terms).
fn chi2_series(y: f64) -> f64 {
    let y2 = y * y;
    let mut p = y;
    let mut s: f64 = 0.0;
    let mut k = 1.0;
    while p > 1e-18 * s.max(1e-300) && k < 200.0 {
        s += p / (k * k);
        p *= y2;
        k += 2.0;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::network::{build::*, log_grid};

    #[test]
    fn g_limits_and_identity() {
        assert!((big_g(50.0) - PI * PI / 4.0).abs() < 1e-12);
        assert!(big_g(1e-9).abs() < 1e-6);
        // Both branches agree at the switch point.
        let u = -(std::f64::consts::SQRT_2 - 1.0).ln();
        let t = (0.5 * u).tanh();
        let via = PI * PI / 8.0 + 0.5 * u * t.ln() - chi2_series(t);
        assert!((via - chi2_series((-u).exp())).abs() < 1e-12);
    }

    #[test]
    fn recovers_rl_phase() {
        // Series R-L: phase atan(ωL/R), corner 1 kHz; sampled 10 Hz-100 kHz.
        let net = series(vec![r(10.0), l(10.0 / (2.0 * PI * 1000.0))]);
        let f: Vec<f64> = log_grid(10.0, 100_000.0, 400).collect();
        let m: Vec<f64> = f.iter().map(|&f| net.impedance(f).norm()).collect();
        let p = reconstruct_phase_deg(&f, &m);
        for (i, &fi) in f.iter().enumerate() {
            if (100.0..10_000.0).contains(&fi) {
                let want = net.impedance(fi).arg().to_degrees();
                assert!((p[i] - want).abs() < 1.5, "{fi} Hz: {} vs {want}", p[i]);
            }
        }
    }
}
