//! The linear network's wave digital filter, flattened into an equivalent state-space form for speed.
//!
//! With the root's incident wave `a` as input, the WDF is a linear system in the states `x` of its
//! reactive leaves:
//!
//! ```text
//! b      = c·x                 (wave reflected to the root, before the root answers)
//! x'     = A·x + B·a           (next states)
//! v_load = c₂·x + d₂·a         (voltage at the probed node)
//! ```
//!
//! The matrices are read off the WDF itself by driving it with unit states and a unit input, so
//! the two are the same discrete-time system (same bilinear transform and pre-warping), but one
//! sample costs one dense `(n+2)×n` matrix-vector product instead of a walk over every node.
//! Rebuilding (while a source parameter smooths) costs `n+1` WDF passes and never allocates.

use super::simd::matvec;
use super::wdf::Wdf;

/// State-space realisation of a [`Wdf`] seen from its root, with scratch space sized at build.
#[derive(Debug, Clone)]
pub struct StateSpace {
    n: usize,
    /// Row length: `n` rounded up to a multiple of 8 (zero padding, for the vector kernel).
    cols: usize,
    /// Rows `0..n` are `A`, row `n` is `c`, row `n+1` is `c₂`; row-major, `cols` columns.
    m: Vec<f64>,
    b_in: Vec<f64>,
    d2: f64,
    r_port: f64,
    x: Vec<f64>,
    y: Vec<f64>,
}

impl StateSpace {
    /// Allocates for `wdf` (call off the audio thread).
    pub fn new(wdf: &Wdf) -> Self {
        let n = wdf.reactive_count();
        let cols = n.div_ceil(8) * 8;
        Self { n, cols, m: vec![0.0; (n + 2) * cols], b_in: vec![0.0; n], d2: 0.0, r_port: 0.0, x: vec![0.0; cols], y: vec![0.0; n + 2] }
    }

    /// Reads the matrices off `wdf` (whose own states are clobbered and then cleared) for the
    /// node `probe`. No allocation.
    pub fn extract(&mut self, wdf: &mut Wdf, probe: usize) {
        let (n, cols) = (self.n, self.cols);
        self.r_port = wdf.port_resistance();
        for j in 0..=n {
            // Column j: unit state j (or, for j = n, unit input with zero states).
            wdf.set_reactive_states(|k| if k == j { 1.0 } else { 0.0 });
            let b = wdf.reflected();
            let a = if j == n { 1.0 } else { 0.0 };
            wdf.incident(a);
            let v = wdf.voltage(probe);
            if j < n {
                self.m[n * cols + j] = b;
                self.m[(n + 1) * cols + j] = v;
                for i in 0..n {
                    self.m[i * cols + j] = wdf.reactive_state(i);
                }
            } else {
                self.d2 = v;
                for i in 0..n {
                    self.b_in[i] = wdf.reactive_state(i);
                }
            }
        }
        wdf.set_reactive_states(|_| 0.0);
    }

    /// The extracted matrices as plain arrays: `(A` row-major `n×n`, `B`, `c)` with `b = c·x` and
    /// `x' = A·x + B·a`. For analysis off the audio thread (allocates).
    pub fn matrices(&self) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let (n, cols) = (self.n, self.cols);
        let a = (0..n * n).map(|k| self.m[(k / n) * cols + k % n]).collect();
        let c = (0..n).map(|j| self.m[n * cols + j]).collect();
        (a, self.b_in.clone(), c)
    }

    /// Port resistance seen by the root, ohms.
    #[inline]
    pub fn port_resistance(&self) -> f64 {
        self.r_port
    }

    /// First half of a sample: computes `A·x`, `c·x` and `c₂·x`; returns `b = c·x`.
    #[inline]
    pub fn reflected(&mut self) -> f64 {
        matvec(&self.m, &self.x, &mut self.y, self.cols);
        self.y[self.n]
    }

    /// Second half: with the root's incident wave `a`, advances the states and returns `v_load`.
    #[inline]
    pub fn incident(&mut self, a: f64) -> f64 {
        let n = self.n;
        for ((x, y), b) in self.x.iter_mut().zip(&self.y[..n]).zip(&self.b_in) {
            *x = y + b * a;
        }
        self.y[n + 1] + self.d2 * a
    }

    /// Clears the states.
    pub fn reset(&mut self) {
        self.x.iter_mut().for_each(|x| *x = 0.0);
    }

    /// Flushes tiny states to zero (no subnormals in the recursion).
    #[inline]
    pub fn flush_denormals(&mut self) {
        for x in self.x.iter_mut() {
            if x.abs() < 1e-30 {
                *x = 0.0;
            }
        }
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
        let (mut w, top) = Wdf::build(&net, 384_000.0).unwrap();
        let mut ss = StateSpace::new(&w);
        let mut w2 = w.clone();
        ss.extract(&mut w2, top[2]);
        for k in 0..5000 {
            let e = (k as f64 * 0.01).sin() + if k == 10 { 1.0 } else { 0.0 };
            // Ideal source at the root: a = 2e − b.
            let b1 = w.reflected();
            w.incident(2.0 * e - b1);
            let v1 = w.voltage(top[2]);
            let b2 = ss.reflected();
            let v2 = ss.incident(2.0 * e - b2);
            assert!((b1 - b2).abs() < 1e-9 && (v1 - v2).abs() < 1e-9, "sample {k}: {b1} {b2} {v1} {v2}");
        }
    }
}
