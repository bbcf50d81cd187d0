//! The state-space form of a wave digital filter seen from its root, read off the filter itself.
//!
//! With the root's incident wave `a` as input, the WDF is a linear system in the states `x` of its
//! reactive leaves:
//!
//! ```text
//! b  = c·x            (wave reflected to the root, before the root answers)
//! x' = A·x + B·a      (next states)
//! ```
//!
//! The matrices are read off the WDF by driving it with unit states and a unit input (`n + 1`
//! passes), so the two are the same discrete-time system. `modal.rs` closes the root port with a
//! short or an open circuit (`a = ∓b`) and takes the eigenvalues of `A ± B·cᵀ` to find the load's
//! analog poles.

use super::wdf::Wdf;

/// `A` (row-major `n×n`), `B` and `c` of a [`Wdf`] seen from its root.
#[derive(Debug, Clone)]
pub struct StateSpace {
    pub n: usize,
    pub a: Vec<f64>,
    pub b: Vec<f64>,
    pub c: Vec<f64>,
}

impl StateSpace {
    /// Reads the matrices off `wdf`, whose states are clobbered and then cleared (allocates: off
    /// the audio thread).
    pub fn extract(wdf: &mut Wdf) -> Self {
        let n = wdf.reactive_count();
        let mut ss = Self { n, a: vec![0.0; n * n], b: vec![0.0; n], c: vec![0.0; n] };
        for j in 0..=n {
            // Column j: unit state j (or, for j = n, unit input with zero states).
            wdf.set_reactive_states(|k| if k == j { 1.0 } else { 0.0 });
            let b = wdf.reflected();
            wdf.incident(if j == n { 1.0 } else { 0.0 });
            for i in 0..n {
                let x = wdf.reactive_state(i);
                if j < n {
                    ss.a[i * n + j] = x;
                } else {
                    ss.b[i] = x;
                }
            }
            if j < n {
                ss.c[j] = b;
            }
        }
        wdf.set_reactive_states(|_| 0.0);
        ss
    }
}

#[cfg(test)]
mod tests {
    use super::super::network::build::*;
    use super::*;

    #[test]
    fn matches_the_wdf_sample_for_sample() {
        let net = series(vec![
            r(2.0),
            c(100e-6),
            series(vec![r(30.0), l(20e-6), parallel(vec![l(60e-6), r(25.0)]), parallel(vec![r(30.0), l(35e-3), c(88e-6)])]),
        ]);
        let (mut w, _) = Wdf::build(&net, 384_000.0).unwrap();
        let ss = StateSpace::extract(&mut w.clone());
        let n = ss.n;
        let mut x = vec![0.0; n];
        for k in 0..5000 {
            let e = (k as f64 * 0.01).sin() + if k == 10 { 1.0 } else { 0.0 };
            // Ideal source at the root: a = 2e − b.
            let b1 = w.reflected();
            w.incident(2.0 * e - b1);
            let b2: f64 = ss.c.iter().zip(&x).map(|(c, x)| c * x).sum();
            let a = 2.0 * e - b2;
            x = (0..n).map(|i| (0..n).map(|j| ss.a[i * n + j] * x[j]).sum::<f64>() + ss.b[i] * a).collect();
            assert!((b1 - b2).abs() < 1e-9, "sample {k}: {b1} {b2}");
            for (i, xi) in x.iter().enumerate() {
                assert!((w.reactive_state(i) - xi).abs() < 1e-9, "sample {k}, state {i}");
            }
        }
    }
}
