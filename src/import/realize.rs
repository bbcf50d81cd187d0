//! Passive residues for fixed poles, and their realisation as an R/L/C network.
//!
//! With the poles fixed, `f(s) = d + s·e + Σ rᵢ/(s + σᵢ) + Σ (aₖ s + bₖ)/(s² + αₖ s + βₖ)` is linear
//! in its coefficients. We constrain every term to be positive real on its own, so the sum is
//! positive real (passive) and each term is one small R/L/C section (Foster's partial-fraction
//! realisation; R. M. Foster, "A reactance theorem", Bell Syst. Tech. J. 3(2):259–267, 1924,
//! extended to lossy sections):
//! - `d ≥ 0`: a resistor; `e ≥ 0`: an inductor (impedance form) or capacitor (admittance form);
//! - `r/(s + σ)`, `r ≥ 0`: R‖C (impedance form) or R+L (admittance form);
//! - `g·s/(s + σ)`, `g ≥ 0`: R‖L (impedance form) or R+C (admittance form);
//! - `(a s + b)/(s² + α s + β)` is positive real iff `a ≥ 0, b ≥ 0, b ≤ a·α` (the biquad condition
//!   `(√(a₀b₂) − √(a₂b₀))² ≤ a₁b₁`; e.g. W.-K. Chen, *Passive, Active and Digital Filters*, 2009,
//!   ch. 2). Writing `u = b`, `v = a·α − b` turns the constraints into `u, v ≥ 0`, so the fit is a
//!   non-negative least-squares problem. The section is `C ‖ (R₁ + L) ‖ R₂` with
//!   `C = 1/a`, `G₂ = v/a²`, `L = a/(β − G₂·b)`, `R₁ = L·b/a` (impedance form) or its dual
//!   `L' + R₂' + (G₁' ‖ C')` (admittance form). `β − G₂b = D(−b/a) > 0` for complex poles.
//! - two more boundary rays of the biquad cone, each one section: `q·(s²/β + s/α)/D` is
//!   `L ‖ (R + C)` and `w·(s²/β + 1)/D` is `R ‖ (L + C)` (duals in the admittance form);
//! - mixed terms `(R_a + L) ‖ (R_b + C)` for fixed ratios ρ = R_b/R_a ∈ [`MIXED_RATIOS`]: per unit
//!   R_a, `[ρ s² + (β(1+ρ)/α + ρα/(1+ρ)) s + β]/D` with `L = R_a(1+ρ)/α`, `C = 1/(βL)`. They cover
//!   biquads with all three numerator coefficients, which crossovers (two branches in parallel)
//!   produce.
//!
//! Not every passive impedance is such a sum (that would need Brune or Bott–Duffin synthesis), but
//! every dynamic-driver, BA and crossover topology we model is, in one of the two forms; the fitter
//! measures the error of what it realises and keeps the better form.
//!
//! The impedance form is a series chain of sections, the admittance form a parallel bank; both are
//! plain series/parallel trees the engine's wave digital filter compiles unchanged.

use super::linalg::{nnls, Mat};
use super::vfit::Poles;
use crate::dsp::network::Network;
use num_complex::Complex64;

/// Which immittance the partial fractions describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Form {
    /// Partial fractions of Z: sections in series (Foster I).
    Impedance,
    /// Partial fractions of Y: branches in parallel (Foster II).
    Admittance,
}

/// Ratios R_b/R_a of the mixed `(R_a + L) ‖ (R_b + C)` terms offered to the fit.
pub const MIXED_RATIOS: [f64; 5] = [0.1, 0.3, 1.0, 3.0, 10.0];

/// Non-negative coefficients of the positive-real terms (normalised units).
#[derive(Debug, Clone, PartialEq)]
pub struct Sections {
    pub d: f64,
    pub e: f64,
    /// (σ, r, g) of `(r + g·s)/(s + σ)`.
    pub real: Vec<(f64, f64, f64)>,
    /// (α, β, u, v, q, w) of `[u(s/α + 1) + v·s/α + q(s²/β + s/α) + w(s²/β + 1)]/(s² + α s + β)`.
    pub pairs: Vec<[f64; 6]>,
    /// Coefficient (R_a) of each mixed term per pair, in [`MIXED_RATIOS`] order.
    pub mixed: Vec<[f64; 5]>,
}

/// Column values of every unknown at `s`: d, e, then two per real pole, then four per pair.
fn columns(p: &Poles, s: Complex64, with_e: bool) -> Vec<Complex64> {
    let mut v = vec![Complex64::new(1.0, 0.0)];
    if with_e {
        v.push(s);
    }
    for &r in &p.real {
        v.push(1.0 / (s - r));
        v.push(s / (s - r));
    }
    for &q in &p.pairs {
        let (al, be) = (-2.0 * q.re, q.norm_sqr());
        let den = s * s + al * s + be;
        v.push((s / al + 1.0) / den);
        v.push((s / al) / den);
        v.push((s * s / be + s / al) / den);
        v.push((s * s / be + 1.0) / den);
        for rho in MIXED_RATIOS {
            v.push((rho * s * s + (be * (1.0 + rho) / al + rho * al / (1.0 + rho)) * s + be) / den);
        }
    }
    v
}

/// Least-squares passive coefficients for `f ≈ Σ coef·column`, weighted by `w`.
pub fn fit(p: &Poles, s: &[Complex64], f: &[Complex64], w: &[f64], with_e: bool) -> Option<Sections> {
    let cols0 = columns(p, *s.first()?, with_e).len();
    let mut a = Mat::zeros(2 * s.len(), cols0);
    let mut b = vec![0.0; 2 * s.len()];
    for k in 0..s.len() {
        for (c, v) in columns(p, s[k], with_e).into_iter().enumerate() {
            a.set(2 * k, c, w[k] * v.re);
            a.set(2 * k + 1, c, w[k] * v.im);
        }
        b[2 * k] = w[k] * f[k].re;
        b[2 * k + 1] = w[k] * f[k].im;
    }
    let x = nnls(&a, &b)?;
    let mut it = x.into_iter();
    let mut next = || it.next().unwrap_or(0.0);
    let d = next();
    let e = if with_e { next() } else { 0.0 };
    let real = p.real.iter().map(|&r| (-r, next(), next())).collect();
    let mut pairs = Vec::new();
    let mut mixed = Vec::new();
    for &q in &p.pairs {
        pairs.push([-2.0 * q.re, q.norm_sqr(), next(), next(), next(), next()]);
        mixed.push([next(), next(), next(), next(), next()]);
    }
    Some(Sections { d, e, real, pairs, mixed })
}

/// The sections as a network in SI units. `z_ref` (ohms) and `w_ref` (rad/s) undo the
/// normalisation: R = R̂·z_ref, L = L̂·z_ref/w_ref, C = Ĉ/(z_ref·w_ref).
///
/// Each section is first described in the impedance form by normalised values; the admittance
/// form uses the dual (every R ↔ conductance, L ↔ C, series ↔ parallel), since a term of Y with the
/// same coefficients is the same expression.
pub fn to_network(sec: &Sections, form: Form, z_ref: f64, w_ref: f64) -> Option<Network> {
    let ok = |v: f64| v.is_finite() && v > 0.0;
    let mut parts: Vec<Dual> = Vec::new();
    if ok(sec.d) {
        parts.push(Dual::R(sec.d));
    }
    if ok(sec.e) {
        parts.push(Dual::L(sec.e));
    }
    for &(sig, r, g) in &sec.real {
        if ok(sig) && ok(r) {
            parts.push(Dual::P(vec![Dual::R(r / sig), Dual::C(1.0 / r)]));
        }
        if ok(sig) && ok(g) {
            parts.push(Dual::P(vec![Dual::R(g), Dual::L(g / sig)]));
        }
    }
    for (&[al, be, u, v, q, w], mixed) in sec.pairs.iter().zip(&sec.mixed) {
        if !(ok(al) && ok(be)) {
            continue;
        }
        for (&ra, rho) in mixed.iter().zip(MIXED_RATIOS) {
            if ok(ra) {
                let lv = ra * (1.0 + rho) / al;
                parts.push(Dual::P(vec![Dual::S(vec![Dual::R(ra), Dual::L(lv)]), Dual::S(vec![Dual::R(rho * ra), Dual::C(1.0 / (be * lv))])]));
            }
        }
        if ok(u) || ok(v) {
            // C ‖ (R₁ + L) ‖ R₂ with a = (u+v)/α, b = u.
            let a = (u + v) / al;
            let g2 = v / (a * a);
            let den = be - g2 * u;
            if ok(den) {
                let lv = a / den;
                let r1 = lv * u / a;
                let mut p = vec![Dual::C(1.0 / a), if ok(r1) { Dual::S(vec![Dual::R(r1), Dual::L(lv)]) } else { Dual::L(lv) }];
                if ok(g2) {
                    p.push(Dual::R(1.0 / g2));
                }
                parts.push(Dual::P(p));
            }
        }
        if ok(q) {
            // L ‖ (R + C): a₂ = R = q/β, a₁ = 1/C = q/α, L = R/α.
            parts.push(Dual::P(vec![Dual::L(q / (al * be)), Dual::S(vec![Dual::R(q / be), Dual::C(al / q)])]));
        }
        if ok(w) {
            // R ‖ (L + C): R = w/β, L = w/(αβ), C = α/w.
            parts.push(Dual::P(vec![Dual::R(w / be), Dual::S(vec![Dual::L(w / (al * be)), Dual::C(al / w)])]));
        }
    }
    if parts.is_empty() {
        return None;
    }
    let top = Dual::S(parts);
    let net = match form {
        Form::Impedance => top.build(z_ref, w_ref),
        Form::Admittance => top.dual().build(z_ref, w_ref),
    };
    net.validate().ok()?;
    Some(net)
}

/// A network in normalised values, before choosing the form.
#[derive(Debug, Clone)]
enum Dual {
    R(f64),
    L(f64),
    C(f64),
    /// Resistor given by its conductance (appears when dualising a resistor).
    G(f64),
    S(Vec<Dual>),
    P(Vec<Dual>),
}

impl Dual {
    /// The dual network: impedance ↔ admittance with the same numbers.
    fn dual(self) -> Dual {
        match self {
            Dual::R(v) => Dual::G(v),
            Dual::G(v) => Dual::R(v),
            Dual::L(v) => Dual::C(v),
            Dual::C(v) => Dual::L(v),
            Dual::S(k) => Dual::P(k.into_iter().map(Dual::dual).collect()),
            Dual::P(k) => Dual::S(k.into_iter().map(Dual::dual).collect()),
        }
    }

    /// SI network; single-child groups collapse.
    fn build(self, z_ref: f64, w_ref: f64) -> Network {
        match self {
            Dual::R(v) => Network::R(v * z_ref),
            Dual::G(v) => Network::R(z_ref / v),
            Dual::L(v) => Network::L(v * z_ref / w_ref),
            Dual::C(v) => Network::C(v / (z_ref * w_ref)),
            Dual::S(mut k) | Dual::P(mut k) if k.len() == 1 => k.pop().map(|n| n.build(z_ref, w_ref)).unwrap_or(Network::R(z_ref)),
            Dual::S(k) => Network::Series(k.into_iter().map(|n| n.build(z_ref, w_ref)).collect()),
            Dual::P(k) => Network::Parallel(k.into_iter().map(|n| n.build(z_ref, w_ref)).collect()),
        }
    }
}
