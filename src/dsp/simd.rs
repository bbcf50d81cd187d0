//! Dot products with a run-time AVX2+FMA path.
//!
//! The FIR filters and the state-space update spend most of their time in short dot products.
//! Builds target baseline x86-64 (SSE2), so the AVX2+FMA version is compiled separately with
//! `#[target_feature]` and chosen once per call by a cached CPU check; results differ from the
//! baseline path only by rounding, and a given machine always takes the same path (so the plugin and
//! the renderer stay sample-identical).

/// Multiply-add for code that is compiled twice: once inside an `avx2,fma` `#[target_feature]`
/// function (where [`HwFma`] is one instruction) and once for baseline x86-64 (where [`SoftFma`]
/// avoids `mul_add`'s slow software fallback). The engine's per-sample recursion is a chain of
/// dependent multiply-adds, so a fused one halves its latency.
pub trait Fma {
    /// `a·b + c`.
    fn fma(a: f64, b: f64, c: f64) -> f64;
}

/// Fused multiply-add; only call it from code compiled with the `fma` target feature.
pub struct HwFma;
impl Fma for HwFma {
    #[inline(always)]
    fn fma(a: f64, b: f64, c: f64) -> f64 {
        a.mul_add(b, c)
    }
}

/// Separate multiply and add (baseline CPUs).
pub struct SoftFma;
impl Fma for SoftFma {
    #[inline(always)]
    fn fma(a: f64, b: f64, c: f64) -> f64 {
        a * b + c
    }
}

/// `Σ a[k]·b[k]` over the shorter length.
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx2_fma() {
            // SAFETY: the CPU supports AVX2 and FMA (checked above).
            return unsafe { dot_avx2(a, b) };
        }
    }
    dot_generic(a, b)
}

/// `y[i] = Σ_k m[i·cols + k]·x[k]` for every row; `cols` must be a multiple of 8 (pad with zeros).
#[inline]
pub fn matvec(m: &[f64], x: &[f64], y: &mut [f64], cols: usize) {
    debug_assert!(cols % 8 == 0 && x.len() >= cols);
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx2_fma() {
            // SAFETY: the CPU supports AVX2 and FMA (checked above).
            return unsafe { matvec_avx2(m, x, y, cols) };
        }
    }
    matvec_body(m, x, y, cols)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn matvec_avx2(m: &[f64], x: &[f64], y: &mut [f64], cols: usize) {
    use std::arch::x86_64::*;
    if cols == 0 {
        y.iter_mut().for_each(|v| *v = 0.0);
        return;
    }
    let rows = y.len().min(m.len() / cols);
    let xp = x.as_ptr();
    for (i, out) in y.iter_mut().enumerate().take(rows) {
        let rp = m.as_ptr().add(i * cols);
        let mut a0 = _mm256_setzero_pd();
        let mut a1 = _mm256_setzero_pd();
        let mut k = 0;
        while k < cols {
            // SAFETY: k + 8 <= cols <= x.len(), and row i has `cols` elements.
            a0 = _mm256_fmadd_pd(_mm256_loadu_pd(rp.add(k)), _mm256_loadu_pd(xp.add(k)), a0);
            a1 = _mm256_fmadd_pd(_mm256_loadu_pd(rp.add(k + 4)), _mm256_loadu_pd(xp.add(k + 4)), a1);
            k += 8;
        }
        *out = hsum(_mm256_add_pd(a0, a1));
    }
}

/// Horizontal sum of four lanes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn hsum(v: std::arch::x86_64::__m256d) -> f64 {
    use std::arch::x86_64::*;
    let lo = _mm256_castpd256_pd128(v);
    let hi = _mm256_extractf128_pd(v, 1);
    let s = _mm_add_pd(lo, hi);
    let h = _mm_unpackhi_pd(s, s);
    _mm_cvtsd_f64(_mm_add_sd(s, h))
}

#[inline(always)]
fn matvec_body(m: &[f64], x: &[f64], y: &mut [f64], cols: usize) {
    if cols == 0 {
        y.iter_mut().for_each(|v| *v = 0.0);
        return;
    }
    let x = &x[..cols];
    for (row, out) in m.chunks_exact(cols).zip(y.iter_mut()) {
        let mut acc = [0.0f64; 8];
        for (r, xv) in row.chunks_exact(8).zip(x.chunks_exact(8)) {
            for k in 0..8 {
                acc[k] = r[k].mul_add(xv[k], acc[k]);
            }
        }
        *out = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    }
}

/// Whether the CPU has AVX2 and FMA (checked once, then cached).
#[cfg(not(target_arch = "x86_64"))]
pub fn has_avx2_fma() -> bool {
    false
}

/// Whether the CPU has AVX2 and FMA (checked once, then cached).
#[cfg(target_arch = "x86_64")]
#[inline]
pub fn has_avx2_fma() -> bool {
    use std::sync::atomic::{AtomicU8, Ordering};
    static STATE: AtomicU8 = AtomicU8::new(0); // 0 unknown, 1 no, 2 yes
    match STATE.load(Ordering::Relaxed) {
        2 => true,
        1 => false,
        _ => {
            let yes = std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma");
            STATE.store(if yes { 2 } else { 1 }, Ordering::Relaxed);
            yes
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_avx2(a: &[f64], b: &[f64]) -> f64 {
    use std::arch::x86_64::*;
    let n = a.len().min(b.len());
    let (ap, bp) = (a.as_ptr(), b.as_ptr());
    let mut a0 = _mm256_setzero_pd();
    let mut a1 = _mm256_setzero_pd();
    let mut k = 0;
    while k + 8 <= n {
        // SAFETY: k + 8 <= n <= both lengths.
        a0 = _mm256_fmadd_pd(_mm256_loadu_pd(ap.add(k)), _mm256_loadu_pd(bp.add(k)), a0);
        a1 = _mm256_fmadd_pd(_mm256_loadu_pd(ap.add(k + 4)), _mm256_loadu_pd(bp.add(k + 4)), a1);
        k += 8;
    }
    let mut s = hsum(_mm256_add_pd(a0, a1));
    while k < n {
        s = a[k].mul_add(b[k], s);
        k += 1;
    }
    s
}

fn dot_generic(a: &[f64], b: &[f64]) -> f64 {
    dot_body(a, b)
}

/// Eight independent accumulators, so the compiler packs them into vector registers.
#[inline(always)]
fn dot_body(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] = x[k].mul_add(y[k], acc[k]);
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (x, y) in ra.iter().zip(rb) {
        s = x.mul_add(*y, s);
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn matvec_matches_naive() {
        let cols = 16;
        let m: Vec<f64> = (0..3 * cols).map(|k| (k as f64 * 0.3).sin()).collect();
        let x: Vec<f64> = (0..cols).map(|k| (k as f64 * 0.7).cos()).collect();
        let mut y = vec![0.0; 3];
        super::matvec(&m, &x, &mut y, cols);
        for i in 0..3 {
            let naive: f64 = (0..cols).map(|k| m[i * cols + k] * x[k]).sum();
            assert!((y[i] - naive).abs() < 1e-12);
        }
    }

    #[test]
    fn dot_matches_naive() {
        for n in [0, 1, 3, 8, 13, 141] {
            let a: Vec<f64> = (0..n).map(|k| (k as f64 * 0.37).sin()).collect();
            let b: Vec<f64> = (0..n).map(|k| (k as f64 * 0.11).cos()).collect();
            let naive: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((super::dot(&a, &b) - naive).abs() < 1e-12, "{n}");
        }
    }
}
