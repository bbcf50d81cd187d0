//! The small dense linear algebra the fitter needs: least squares by Householder QR, non-negative
//! least squares (Lawson–Hanson) and eigenvalues of a real matrix (Hessenberg reduction plus the
//! Francis double-shift QR iteration).
//!
//! Sizes are tiny (a few hundred rows, at most ~60 columns), so plain `Vec<f64>` row-major storage
//! is enough and keeps the crate free of a linear-algebra dependency. Every routine returns `None`
//! instead of panicking when the numbers go bad, because the fitter runs on user data.
//!
//! References: G. H. Golub, C. F. Van Loan, *Matrix Computations*, 4th ed., §5.2 (Householder QR),
//! §7.4–7.5 (Hessenberg form, Francis QR step); C. L. Lawson, R. J. Hanson, *Solving Least Squares
//! Problems*, 1974, ch. 23 (NNLS); W. H. Press et al., *Numerical Recipes*, 3rd ed., §11.6
//! (`hqr`, whose control flow the eigenvalue routine follows).

// Index loops mirror the textbook algorithms cited above; iterator rewrites would obscure them.
#![allow(clippy::needless_range_loop)]

use num_complex::Complex64;

/// A dense row-major matrix.
#[derive(Debug, Clone)]
pub struct Mat {
    pub rows: usize,
    pub cols: usize,
    pub a: Vec<f64>,
}

impl Mat {
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Self { rows, cols, a: vec![0.0; rows * cols] }
    }
    #[inline]
    pub fn at(&self, r: usize, c: usize) -> f64 {
        self.a[r * self.cols + c]
    }
    #[inline]
    pub fn set(&mut self, r: usize, c: usize, v: f64) {
        self.a[r * self.cols + c] = v;
    }
    /// The columns listed in `keep`, in that order.
    pub fn select_cols(&self, keep: &[usize]) -> Mat {
        let mut m = Mat::zeros(self.rows, keep.len());
        for r in 0..self.rows {
            for (j, &c) in keep.iter().enumerate() {
                m.set(r, j, self.at(r, c));
            }
        }
        m
    }
}

/// Minimises ‖A·x − b‖₂ by Householder QR with column scaling. Columns that are numerically
/// dependent (pivot below `1e-13` of the largest) get a zero coefficient instead of a huge one.
pub fn lstsq(a: &Mat, b: &[f64]) -> Option<Vec<f64>> {
    let (m, n) = (a.rows, a.cols);
    if n == 0 {
        return Some(Vec::new());
    }
    if m < n || b.len() != m {
        return None;
    }
    // Scale every column to unit norm: the fitter's basis functions differ by orders of magnitude.
    let mut q = a.clone();
    let mut scale = vec![1.0; n];
    for (j, s) in scale.iter_mut().enumerate() {
        let nrm = (0..m).map(|r| q.at(r, j).powi(2)).sum::<f64>().sqrt();
        if !nrm.is_finite() {
            return None;
        }
        if nrm > 0.0 {
            *s = 1.0 / nrm;
            for r in 0..m {
                let v = q.at(r, j) * *s;
                q.set(r, j, v);
            }
        }
    }
    let mut y = b.to_vec();
    let mut diag = vec![0.0; n];
    for k in 0..n {
        let nrm = (k..m).map(|r| q.at(r, k).powi(2)).sum::<f64>().sqrt();
        if nrm == 0.0 {
            continue;
        }
        let alpha = if q.at(k, k) > 0.0 { -nrm } else { nrm };
        // Householder vector v = x − α·e₁ stored in column k (rows k..m).
        let v0 = q.at(k, k) - alpha;
        q.set(k, k, v0);
        let vnorm2 = v0 * v0 + (k + 1..m).map(|r| q.at(r, k).powi(2)).sum::<f64>();
        diag[k] = alpha;
        if vnorm2 == 0.0 {
            continue;
        }
        for j in k + 1..n {
            let dot: f64 = (k..m).map(|r| q.at(r, k) * q.at(r, j)).sum();
            let f = 2.0 * dot / vnorm2;
            for r in k..m {
                let v = q.at(r, j) - f * q.at(r, k);
                q.set(r, j, v);
            }
        }
        let dot: f64 = (k..m).map(|r| q.at(r, k) * y[r]).sum();
        let f = 2.0 * dot / vnorm2;
        for r in k..m {
            y[r] -= f * q.at(r, k);
        }
    }
    // Back substitution on R (diagonal in `diag`, upper part in q).
    let dmax = diag.iter().fold(0.0f64, |a, d| a.max(d.abs()));
    let mut x = vec![0.0; n];
    for k in (0..n).rev() {
        if diag[k].abs() <= 1e-13 * dmax {
            x[k] = 0.0;
            continue;
        }
        let s: f64 = (k + 1..n).map(|j| q.at(k, j) * x[j]).sum();
        x[k] = (y[k] - s) / diag[k];
    }
    for (xi, s) in x.iter_mut().zip(&scale) {
        *xi *= s;
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// Minimises ‖A·x − b‖₂ subject to x ≥ 0 (Lawson–Hanson active-set method).
pub fn nnls(a: &Mat, b: &[f64]) -> Option<Vec<f64>> {
    let (m, n) = (a.rows, a.cols);
    if b.len() != m {
        return None;
    }
    // Column scaling keeps the gradient test meaningful; x ≥ 0 is unchanged by positive scaling.
    let mut s = a.clone();
    let mut scale = vec![1.0; n];
    for (j, sc) in scale.iter_mut().enumerate() {
        let nrm = (0..m).map(|r| s.at(r, j).powi(2)).sum::<f64>().sqrt();
        if !nrm.is_finite() {
            return None;
        }
        if nrm > 0.0 {
            *sc = 1.0 / nrm;
            for r in 0..m {
                let v = s.at(r, j) * *sc;
                s.set(r, j, v);
            }
        }
    }
    let bnorm = b.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-300);
    let tol = 1e-12 * bnorm;
    let mut x = vec![0.0; n];
    let mut passive = vec![false; n];
    let residual = |x: &[f64]| -> Vec<f64> {
        (0..m).map(|r| b[r] - (0..n).map(|j| s.at(r, j) * x[j]).sum::<f64>()).collect()
    };
    for _outer in 0..3 * n + 10 {
        let res = residual(&x);
        let w: Vec<f64> = (0..n).map(|j| (0..m).map(|r| s.at(r, j) * res[r]).sum()).collect();
        let pick = (0..n).filter(|&j| !passive[j] && w[j] > tol).max_by(|&i, &j| w[i].total_cmp(&w[j]));
        let Some(t) = pick else { break };
        passive[t] = true;
        for _inner in 0..3 * n + 10 {
            let idx: Vec<usize> = (0..n).filter(|&j| passive[j]).collect();
            let z = lstsq(&s.select_cols(&idx), b)?;
            if z.iter().all(|&v| v > 0.0) {
                x.iter_mut().for_each(|v| *v = 0.0);
                for (k, &j) in idx.iter().enumerate() {
                    x[j] = z[k];
                }
                break;
            }
            // Step from x towards z until the first passive variable hits zero.
            let mut alpha = f64::INFINITY;
            for (k, &j) in idx.iter().enumerate() {
                if z[k] <= 0.0 {
                    let d = x[j] - z[k];
                    if d > 0.0 {
                        alpha = alpha.min(x[j] / d);
                    } else {
                        alpha = 0.0;
                    }
                }
            }
            if !alpha.is_finite() {
                alpha = 0.0;
            }
            for (k, &j) in idx.iter().enumerate() {
                x[j] += alpha * (z[k] - x[j]);
                if x[j] <= 1e-15 * (1.0 + z[k].abs()) {
                    x[j] = 0.0;
                    passive[j] = false;
                }
            }
            if !passive.iter().any(|&p| p) {
                break;
            }
        }
    }
    for (xi, sc) in x.iter_mut().zip(&scale) {
        *xi *= sc;
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// Eigenvalues of a real square matrix (any order; complex ones come in conjugate pairs).
/// `None` when the QR iteration does not converge or the matrix holds non-finite numbers.
pub fn eigenvalues(m: &Mat) -> Option<Vec<Complex64>> {
    let n = m.rows;
    if m.cols != n || m.a.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let mut a: Vec<Vec<f64>> = (0..n).map(|r| (0..n).map(|c| m.at(r, c)).collect()).collect();
    hessenberg(&mut a);
    hqr(&mut a)
}

/// Reduces `a` to upper Hessenberg form by Householder similarity transforms (Golub–Van Loan
/// Alg. 7.4.2). Eigenvalues are unchanged.
fn hessenberg(a: &mut [Vec<f64>]) {
    let n = a.len();
    for k in 0..n.saturating_sub(2) {
        let nrm = (k + 1..n).map(|r| a[r][k].powi(2)).sum::<f64>().sqrt();
        if nrm == 0.0 {
            continue;
        }
        let alpha = if a[k + 1][k] > 0.0 { -nrm } else { nrm };
        let mut v: Vec<f64> = (k + 1..n).map(|r| a[r][k]).collect();
        v[0] -= alpha;
        let vn2: f64 = v.iter().map(|x| x * x).sum();
        if vn2 == 0.0 {
            continue;
        }
        // A ← (I − 2vvᵀ/vᵀv) A (I − 2vvᵀ/vᵀv)
        for j in 0..n {
            let dot: f64 = (0..v.len()).map(|i| v[i] * a[k + 1 + i][j]).sum();
            let f = 2.0 * dot / vn2;
            for i in 0..v.len() {
                a[k + 1 + i][j] -= f * v[i];
            }
        }
        for row in a.iter_mut() {
            let dot: f64 = (0..v.len()).map(|i| row[k + 1 + i] * v[i]).sum();
            let f = 2.0 * dot / vn2;
            for i in 0..v.len() {
                row[k + 1 + i] -= f * v[i];
            }
        }
    }
}

/// Eigenvalues of an upper Hessenberg matrix by the Francis double-shift QR iteration, following
/// the structure of *Numerical Recipes* `hqr` (0-based here).
fn hqr(a: &mut [Vec<f64>]) -> Option<Vec<Complex64>> {
    let n = a.len();
    let mut wr = vec![0.0; n];
    let mut wi = vec![0.0; n];
    let anorm: f64 = (0..n).flat_map(|i| (i.saturating_sub(1)..n).map(move |j| (i, j))).map(|(i, j)| a[i][j].abs()).sum();
    let mut nn = n as isize - 1;
    let mut t = 0.0;
    let (mut p, mut q, mut r);
    while nn >= 0 {
        let mut its = 0;
        loop {
            // Look for a single small subdiagonal element.
            let mut l = nn;
            while l >= 1 {
                let (lu, lm) = (l as usize, l as usize - 1);
                let s = a[lm][lm].abs() + a[lu][lu].abs();
                let s = if s == 0.0 { anorm } else { s };
                if a[lu][lm].abs() <= f64::EPSILON * s {
                    a[lu][lm] = 0.0;
                    break;
                }
                l -= 1;
            }
            let nu = nn as usize;
            let x = a[nu][nu];
            if l == nn {
                wr[nu] = x + t;
                wi[nu] = 0.0;
                nn -= 1;
                break;
            }
            let y = a[nu - 1][nu - 1];
            let w = a[nu][nu - 1] * a[nu - 1][nu];
            if l == nn - 1 {
                p = 0.5 * (y - x);
                q = p * p + w;
                let z = q.abs().sqrt();
                let xx = x + t;
                if q >= 0.0 {
                    let z = p + z.copysign(p);
                    wr[nu - 1] = xx + z;
                    wr[nu] = if z != 0.0 { xx - w / z } else { xx + z };
                    wi[nu - 1] = 0.0;
                    wi[nu] = 0.0;
                } else {
                    wr[nu - 1] = xx + p;
                    wr[nu] = xx + p;
                    wi[nu - 1] = -z;
                    wi[nu] = z;
                }
                nn -= 2;
                break;
            }
            if its == 60 {
                return None;
            }
            let (mut x, mut y, mut w) = (x, y, w);
            if its == 10 || its == 20 {
                // Exceptional shift.
                t += x;
                for i in 0..=nu {
                    a[i][i] -= x;
                }
                let s = a[nu][nu - 1].abs() + a[nu - 1][nu - 2.min(nu - 1)].abs();
                x = 0.75 * s;
                y = x;
                w = -0.4375 * s * s;
            }
            its += 1;
            // Form the shift and look for two consecutive small subdiagonal elements.
            let mut m = nn - 2;
            let lu = l as usize;
            loop {
                let mu = m as usize;
                let z = a[mu][mu];
                let rr = x - z;
                let ss = y - z;
                p = (rr * ss - w) / a[mu + 1][mu] + a[mu][mu + 1];
                q = a[mu + 1][mu + 1] - z - rr - ss;
                r = a[mu + 2][mu + 1];
                let s = p.abs() + q.abs() + r.abs();
                if s == 0.0 || !s.is_finite() {
                    return None;
                }
                p /= s;
                q /= s;
                r /= s;
                if m == l {
                    break;
                }
                let u = a[mu][mu - 1].abs() * (q.abs() + r.abs());
                let v = p.abs() * (a[mu - 1][mu - 1].abs() + z.abs() + a[mu + 1][mu + 1].abs());
                if u <= f64::EPSILON * v {
                    break;
                }
                m -= 1;
            }
            let mu = m as usize;
            for i in mu + 2..=nu {
                a[i][i - 2] = 0.0;
                if i != mu + 2 {
                    a[i][i - 3] = 0.0;
                }
            }
            // Double QR step on rows l..nn and columns m..nn.
            let mut k = mu;
            while k < nu {
                if k != mu {
                    p = a[k][k - 1];
                    q = a[k + 1][k - 1];
                    r = if k + 1 != nu { a[k + 2][k - 1] } else { 0.0 };
                    x = p.abs() + q.abs() + r.abs();
                    if x != 0.0 {
                        p /= x;
                        q /= x;
                        r /= x;
                    }
                }
                let s = (p * p + q * q + r * r).sqrt().copysign(p);
                if s != 0.0 {
                    if k == mu {
                        if l != m {
                            a[k][k - 1] = -a[k][k - 1];
                        }
                    } else {
                        a[k][k - 1] = -s * x;
                    }
                    p += s;
                    x = p / s;
                    y = q / s;
                    let z = r / s;
                    q /= p;
                    r /= p;
                    for j in k..=nu {
                        let mut pp = a[k][j] + q * a[k + 1][j];
                        if k + 1 != nu {
                            pp += r * a[k + 2][j];
                            a[k + 2][j] -= pp * z;
                        }
                        a[k + 1][j] -= pp * y;
                        a[k][j] -= pp * x;
                    }
                    let mmin = if nu < k + 3 { nu } else { k + 3 };
                    for i in lu..=mmin {
                        let mut pp = x * a[i][k] + y * a[i][k + 1];
                        if k + 1 != nu {
                            pp += z * a[i][k + 2];
                            a[i][k + 2] -= pp * r;
                        }
                        a[i][k + 1] -= pp * q;
                        a[i][k] -= pp;
                    }
                }
                k += 1;
            }
            if l >= nn - 1 {
                // Unreachable in exact arithmetic; guards the loop on pathological input.
                return None;
            }
        }
    }
    let out: Vec<Complex64> = wr.into_iter().zip(wi).map(|(re, im)| Complex64::new(re, im)).collect();
    out.iter().all(|z| z.re.is_finite() && z.im.is_finite()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_squares_recovers_a_line() {
        // y = 2 + 3x sampled exactly.
        let xs = [0.0, 1.0, 2.0, 3.0, 4.0];
        let mut a = Mat::zeros(5, 2);
        for (r, x) in xs.iter().enumerate() {
            a.set(r, 0, 1.0);
            a.set(r, 1, *x);
        }
        let b: Vec<f64> = xs.iter().map(|x| 2.0 + 3.0 * x).collect();
        let c = lstsq(&a, &b).unwrap();
        assert!((c[0] - 2.0).abs() < 1e-12 && (c[1] - 3.0).abs() < 1e-12, "{c:?}");
    }

    #[test]
    fn nnls_clamps_negative_coefficient() {
        // Best unconstrained fit needs a negative second coefficient; NNLS must return ≥ 0.
        let mut a = Mat::zeros(3, 2);
        for (r, row) in [[1.0, 1.0], [1.0, 2.0], [1.0, 3.0]].iter().enumerate() {
            a.set(r, 0, row[0]);
            a.set(r, 1, row[1]);
        }
        let x = nnls(&a, &[3.0, 2.0, 1.0]).unwrap();
        assert!(x.iter().all(|v| *v >= 0.0), "{x:?}");
        assert!((x[0] - 2.0).abs() < 1e-9 && x[1] == 0.0, "{x:?}");
    }

    #[test]
    fn eigenvalues_of_companion_matrix() {
        // Roots 1, 2, −1 ± 2j: (x−1)(x−2)(x²+2x+5) = x⁴ − x³ + x² − 11x + 10.
        let c = [-1.0, 1.0, -11.0, 10.0];
        let mut m = Mat::zeros(4, 4);
        for j in 0..4 {
            m.set(0, j, -c[j]);
        }
        for i in 1..4 {
            m.set(i, i - 1, 1.0);
        }
        let mut e = eigenvalues(&m).unwrap();
        e.sort_by(|a, b| a.re.total_cmp(&b.re).then(a.im.total_cmp(&b.im)));
        let want = [Complex64::new(-1.0, -2.0), Complex64::new(-1.0, 2.0), Complex64::new(1.0, 0.0), Complex64::new(2.0, 0.0)];
        for (a, b) in e.iter().zip(want) {
            assert!((a - b).norm() < 1e-9, "{e:?}");
        }
    }

    #[test]
    fn eigenvalues_of_random_matrices_match_trace_invariants() {
        // Σλ = tr A and Σλ² = tr A² for random 12×12 matrices.
        let mut seed = 12345u64;
        let mut rnd = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((seed >> 11) as f64 / (1u64 << 53) as f64) - 0.5
        };
        for _ in 0..50 {
            let n = 12;
            let mut m = Mat::zeros(n, n);
            for v in m.a.iter_mut() {
                *v = rnd() * 10.0;
            }
            let e = eigenvalues(&m).unwrap();
            let tr: f64 = (0..n).map(|i| m.at(i, i)).sum();
            let tr2: f64 = (0..n).flat_map(|i| (0..n).map(move |k| (i, k))).map(|(i, k)| m.at(i, k) * m.at(k, i)).sum();
            let s1: Complex64 = e.iter().sum();
            let s2: Complex64 = e.iter().map(|x| x * x).sum();
            assert!((s1.re - tr).abs() < 1e-8 && s1.im.abs() < 1e-8, "{s1} vs {tr}");
            assert!((s2.re - tr2).abs() < 1e-6 * tr2.abs().max(1.0), "{s2} vs {tr2}");
        }
    }

    #[test]
    fn eigenvalues_of_block_diagonal_minus_rank_one() {
        // The vector-fitting pole-relocation matrix shape: complex block plus a real pole.
        let mut m = Mat::zeros(3, 3);
        let a = [[-1.0, 5.0, 0.0], [-5.0, -1.0, 0.0], [0.0, 0.0, -3.0]];
        for i in 0..3 {
            for j in 0..3 {
                m.set(i, j, a[i][j]);
            }
        }
        let mut e = eigenvalues(&m).unwrap();
        e.sort_by(|a, b| a.im.total_cmp(&b.im));
        assert!((e[0] - Complex64::new(-1.0, -5.0)).norm() < 1e-12, "{e:?}");
        assert!((e[1] - Complex64::new(-3.0, 0.0)).norm() < 1e-12, "{e:?}");
    }
}
