//! Pole identification by vector fitting.
//!
//! Fits `f(s) ≈ d + s·e + Σ cₖ/(s − pₖ)` to samples on the jω axis by iterated pole relocation:
//! B. Gustavsen, A. Semlyen, "Rational approximation of frequency domain responses by vector
//! fitting", IEEE Trans. Power Delivery 14(3):1052–1061, 1999, with the relaxed non-triviality
//! constraint of B. Gustavsen, "Improving the pole relocating properties of vector fitting",
//! IEEE Trans. Power Delivery 21(3):1587–1592, 2006. Unstable poles are flipped into the left
//! half-plane each iteration. Only the poles are kept; the residues are refitted under passivity
//! constraints in [`super::realize`].
//!
//! Everything here works in normalised units (s/ω_n, f/f_ref) chosen by the caller so the numbers
//! are O(1).

// Index loops mirror the textbook algorithms cited above; iterator rewrites would obscure them.
#![allow(clippy::needless_range_loop)]

use super::linalg::{eigenvalues, lstsq, Mat};
use num_complex::Complex64;

/// A stable pole set: real poles `−σ` and complex pairs `−σ ± jω` (stored with ω > 0).
#[derive(Debug, Clone, PartialEq)]
pub struct Poles {
    pub real: Vec<f64>,
    pub pairs: Vec<Complex64>,
}

impl Poles {
    /// Number of poles counting both members of a pair.
    pub fn order(&self) -> usize {
        self.real.len() + 2 * self.pairs.len()
    }

    /// Starting poles: `n` poles over the band [w_lo, w_hi] (normalised rad/s), as complex pairs
    /// with imaginary parts log-spaced and real parts 1/100 of them (Gustavsen–Semlyen §4), plus
    /// one real pole at the geometric centre if `n` is odd.
    pub fn start(n: usize, w_lo: f64, w_hi: f64) -> Self {
        let np = n / 2;
        let pairs = (0..np)
            .map(|k| {
                let w = if np == 1 { (w_lo * w_hi).sqrt() } else { w_lo * (w_hi / w_lo).powf(k as f64 / (np - 1) as f64) };
                Complex64::new(-w / 100.0, w)
            })
            .collect();
        let real = if n % 2 == 1 { vec![-(w_lo * w_hi).sqrt()] } else { Vec::new() };
        Self { real, pairs }
    }
}

/// Basis columns φ(s) for the poles: one per real pole, two per pair (`1/(s−p) + 1/(s−p*)` and
/// `j/(s−p) − j/(s−p*)`), so real coefficients give conjugate-symmetric residues.
fn basis(p: &Poles, s: Complex64) -> Vec<Complex64> {
    let mut v = Vec::with_capacity(p.order());
    for &a in &p.real {
        v.push(1.0 / (s - a));
    }
    let j = Complex64::new(0.0, 1.0);
    for &a in &p.pairs {
        let (u, w) = (1.0 / (s - a), 1.0 / (s - a.conj()));
        v.push(u + w);
        v.push(j * u - j * w);
    }
    v
}

/// Runs `iters` pole-relocation iterations from `start`. `s` are the (normalised) sample points
/// jω, `f` the responses, `w` the weights (use 1/|f| for relative accuracy). Returns `None` if
/// the numbers went bad (the caller then tries another order).
pub fn identify(s: &[Complex64], f: &[Complex64], w: &[f64], start: Poles, iters: usize) -> Option<Poles> {
    let mut poles = start;
    let ns = s.len();
    let (w_min, w_max) = s.iter().fold((f64::INFINITY, 0.0f64), |(a, b), s| (a.min(s.im.abs()), b.max(s.im.abs())));
    if !(w_min > 0.0 && w_max.is_finite()) {
        return None;
    }
    for _ in 0..iters {
        let n = poles.order();
        // Unknowns: c (n), d, e, c̃ (n), d̃.
        let cols = 2 * n + 3;
        let mut a = Mat::zeros(2 * ns + 1, cols);
        let mut b = vec![0.0; 2 * ns + 1];
        let mut sum_sigma = vec![0.0; n + 1];
        for k in 0..ns {
            let phi = basis(&poles, s[k]);
            let row = |c: usize, v: Complex64, a: &mut Mat| {
                a.set(2 * k, c, w[k] * v.re);
                a.set(2 * k + 1, c, w[k] * v.im);
            };
            for (i, &p) in phi.iter().enumerate() {
                row(i, p, &mut a);
                row(n + 2 + i, -f[k] * p, &mut a);
                sum_sigma[i] += p.re;
            }
            row(n, Complex64::new(1.0, 0.0), &mut a);
            row(n + 1, s[k], &mut a);
            row(2 * n + 2, -f[k], &mut a);
            sum_sigma[n] += 1.0;
        }
        // Relaxation row: Re Σₖ σ(sₖ) = Ns, scaled like the data rows.
        let scale = (0..ns).map(|k| (w[k] * f[k].norm()).powi(2)).sum::<f64>().sqrt() / ns as f64;
        for i in 0..n {
            a.set(2 * ns, n + 2 + i, scale * sum_sigma[i]);
        }
        a.set(2 * ns, 2 * n + 2, scale * sum_sigma[n]);
        b[2 * ns] = scale * ns as f64;
        let x = lstsq(&a, &b)?;
        let ct = &x[n + 2..2 * n + 2];
        let mut dt = x[2 * n + 2];
        if dt.abs() < 1e-8 {
            dt = 1e-8f64.copysign(dt);
        }
        // New poles: eigenvalues of A − b·c̃ᵀ/d̃ (block-diagonal real form of the old poles).
        let mut h = Mat::zeros(n, n);
        let mut bv = vec![0.0; n];
        let mut i = 0;
        for &r in &poles.real {
            h.set(i, i, r);
            bv[i] = 1.0;
            i += 1;
        }
        for &p in &poles.pairs {
            h.set(i, i, p.re);
            h.set(i, i + 1, p.im);
            h.set(i + 1, i, -p.im);
            h.set(i + 1, i + 1, p.re);
            bv[i] = 2.0;
            i += 2;
        }
        for r in 0..n {
            for c in 0..n {
                let v = h.at(r, c) - bv[r] * ct[c] / dt;
                h.set(r, c, v);
            }
        }
        let Some(eig) = eigenvalues(&h) else { break };
        let Some(next) = stabilise(&eig, w_min, w_max) else { break };
        poles = next;
    }
    Some(poles)
}

/// Sorts eigenvalues into real poles and pairs, flipping right-half-plane ones to the left and
/// giving undamped ones a little damping (a pole on the jω axis would be a lossless resonance).
/// Poles are confined to |p| ∈ [10⁻⁴·ω_min, 10³·ω_max] of the samples: beyond that a pole has no
/// effect in band but ruins the conditioning of the next iteration.
fn stabilise(eig: &[Complex64], w_min: f64, w_max: f64) -> Option<Poles> {
    let mut real = Vec::new();
    let mut pairs = Vec::new();
    for &e in eig {
        let mag = e.norm();
        if !mag.is_finite() {
            return None;
        }
        let (lo, hi) = (1e-4 * w_min, 1e3 * w_max);
        let e = if mag > hi { e * (hi / mag) } else if mag < lo { if mag > 0.0 { e * (lo / mag) } else { Complex64::new(-lo, 0.0) } } else { e };
        let mag = e.norm();
        let re = -e.re.abs().max(1e-6 * mag);
        if e.im.abs() <= 1e-9 * mag {
            real.push(re);
        } else if e.im > 0.0 {
            pairs.push(Complex64::new(re, e.im));
        }
    }
    // A lone complex eigenvalue (its partner came out real from round-off) keeps its pair anyway.
    Some(Poles { real, pairs })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_poles_of_a_rational_function() {
        // f(s) = 2 + 1/(s+0.5) + (1+2j)/(s+0.1−3j) + conj.
        let p = Complex64::new(-0.1, 3.0);
        let c = Complex64::new(1.0, 2.0);
        let s: Vec<Complex64> = (0..200).map(|k| Complex64::new(0.0, 0.05 * 1.03f64.powi(k))).collect();
        let f: Vec<Complex64> = s.iter().map(|&s| 2.0 + 1.0 / (s + 0.5) + c / (s - p) + c.conj() / (s - p.conj())).collect();
        let w: Vec<f64> = f.iter().map(|f| 1.0 / f.norm()).collect();
        let got = identify(&s, &f, &w, Poles::start(3, 0.05, 20.0), 10).unwrap();
        assert_eq!(got.real.len(), 1);
        assert!((got.real[0] + 0.5).abs() < 1e-8, "{got:?}");
        assert!((got.pairs[0] - p).norm() < 1e-8, "{got:?}");
    }
}
