//! Levenberg–Marquardt refinement of a fitted network's element values.
//!
//! The Foster realisations in [`super::realize`] are exact only when the curve is a sum of
//! individually positive-real terms; otherwise they are a good starting point. Here we keep the
//! topology and adjust every element, parametrised as `ln(value)` so values stay positive (and the
//! network passive) whatever the step, to minimise `Σ w·|ln Z_fit − ln Z|²` (the log-magnitude error
//! plus the phase error in radians). K. Levenberg, Q. Appl. Math. 2:164–168, 1944;
//! D. W. Marquardt, J. SIAM 11(2):431–441, 1963 (diagonal scaling as in Marquardt §3).

// Index loops mirror the textbook algorithms cited above; iterator rewrites would obscure them.
#![allow(clippy::needless_range_loop)]

use super::linalg::{lstsq, Mat};
use crate::dsp::network::Network;
use num_complex::Complex64;

/// Refines `net` against samples (hertz, ohms) for at most `iters` accepted or rejected steps.
/// Returns the refined network if it lowered the cost, else `None`.
pub fn refine(net: &Network, f: &[f64], z: &[Complex64], iters: usize) -> Option<Network> {
    let mut theta: Vec<f64> = leaves(net).into_iter().map(f64::ln).collect();
    let n = theta.len();
    if n == 0 || f.is_empty() {
        return None;
    }
    let lnz: Vec<Complex64> = z.iter().map(|z| z.ln()).collect();
    let resid = |th: &[f64]| -> Option<Vec<f64>> {
        let m = with_leaves(net, th);
        let mut r = Vec::with_capacity(2 * f.len());
        for (k, &fk) in f.iter().enumerate() {
            let d = m.impedance(fk).ln() - lnz[k];
            // Wrap the phase difference into (−π, π].
            let im = (d.im + std::f64::consts::PI).rem_euclid(2.0 * std::f64::consts::PI) - std::f64::consts::PI;
            r.push(d.re);
            r.push(im);
        }
        r.iter().all(|v| v.is_finite()).then_some(r)
    };
    let cost = |r: &[f64]| r.iter().map(|v| v * v).sum::<f64>();
    let mut r = resid(&theta)?;
    let c0 = cost(&r);
    let mut c = c0;
    let mut lambda = 1e-3;
    let h = 1e-6;
    for _ in 0..iters {
        // Forward-difference Jacobian in ln(value).
        let mut jac = Mat::zeros(r.len() + n, n);
        for j in 0..n {
            let mut t = theta.clone();
            t[j] += h;
            let rj = resid(&t)?;
            for i in 0..r.len() {
                jac.set(i, j, (rj[i] - r[i]) / h);
            }
        }
        let diag: Vec<f64> = (0..n).map(|j| (0..r.len()).map(|i| jac.at(i, j).powi(2)).sum::<f64>().max(1e-12)).collect();
        let mut improved = false;
        for _ in 0..8 {
            let mut a = jac.clone();
            for j in 0..n {
                for i in 0..n {
                    a.set(r.len() + i, j, if i == j { (lambda * diag[j]).sqrt() } else { 0.0 });
                }
            }
            let mut b: Vec<f64> = r.iter().map(|v| -v).collect();
            b.extend(std::iter::repeat_n(0.0, n));
            let Some(step) = lstsq(&a, &b) else { break };
            let t: Vec<f64> = theta.iter().zip(&step).map(|(t, s)| t + s.clamp(-3.0, 3.0)).collect();
            if let Some(rn) = resid(&t) {
                let cn = cost(&rn);
                if cn < c {
                    theta = t;
                    r = rn;
                    c = cn;
                    lambda = (lambda * 0.3).max(1e-12);
                    improved = true;
                    break;
                }
            }
            lambda *= 10.0;
        }
        if !improved || c < 1e-20 {
            break;
        }
    }
    let out = with_leaves(net, &theta);
    (c < c0 && out.validate().is_ok()).then_some(out)
}

/// Leaf values in pre-order.
fn leaves(net: &Network) -> Vec<f64> {
    match net {
        Network::R(v) | Network::L(v) | Network::C(v) => vec![*v],
        Network::Series(k) | Network::Parallel(k) => k.iter().flat_map(leaves).collect(),
    }
}

/// A copy of `net` with leaf values `exp(theta)` in pre-order.
fn with_leaves(net: &Network, theta: &[f64]) -> Network {
    fn go(n: &Network, th: &[f64], i: &mut usize) -> Network {
        let mut next = || {
            let v = th.get(*i).map_or(1.0, |t| t.exp());
            *i += 1;
            v
        };
        match n {
            Network::R(_) => Network::R(next()),
            Network::L(_) => Network::L(next()),
            Network::C(_) => Network::C(next()),
            Network::Series(k) => Network::Series(k.iter().map(|c| go(c, th, i)).collect()),
            Network::Parallel(k) => Network::Parallel(k.iter().map(|c| go(c, th, i)).collect()),
        }
    }
    go(net, theta, &mut 0)
}
