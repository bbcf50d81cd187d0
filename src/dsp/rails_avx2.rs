//! The rails' soft knee over a buffer, four samples at a time with AVX2 (four table rows loaded
//! and transposed), for drives past the knee's series range, where `KneeTable::clip_block`
//! would otherwise look up one sample at a time.
//!
//! Every lane does exactly what [`KneeTable::eval`] does for one sample (same operations, same
//! order, the same fused multiply-adds), so the result is bit-identical to the scalar path and
//! independent of how a buffer is split.
//!
//! Threading: audio thread; no allocation. Only call [`clip`] on a CPU with AVX2 and FMA.

use super::nonlinear::{KneeTable, KNEE_CEILING, KNEE_SERIES, KNEE_SERIES_END, KNEE_TABLE_END, KNEE_TABLE_LEN};
use super::simd::HwFma;
use std::arch::x86_64::*;

/// `v ← v_peak·S(v·inv_v_peak)` over `buf` in place (see `KneeTable::clip_block`).
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn clip(table: &KneeTable, buf: &mut [f64], v_peak: f64, inv_v_peak: f64) {
    let coef = table.coef.as_ptr() as *const f64;
    let sign = _mm256_set1_pd(-0.0);
    let inv = _mm256_set1_pd(inv_v_peak);
    let peak = _mm256_set1_pd(v_peak);
    let series_end = _mm256_set1_pd(KNEE_SERIES_END);
    let table_end = _mm256_set1_pd(KNEE_TABLE_LEN as f64);
    let scale = _mm256_set1_pd(KNEE_TABLE_LEN as f64 / KNEE_TABLE_END);
    let inv_c = _mm256_set1_pd(1.0 / KNEE_CEILING);
    let a = KNEE_SERIES.map(|c| _mm256_set1_pd(c));
    let mut chunks = buf.chunks_exact_mut(4);
    for c in &mut chunks {
        let x = _mm256_mul_pd(_mm256_loadu_pd(c.as_ptr()), inv);
        let ax = _mm256_andnot_pd(sign, x);
        let series = _mm256_cmp_pd::<_CMP_LT_OQ>(ax, series_end);
        let p = _mm256_mul_pd(ax, scale);
        let in_table = _mm256_cmp_pd::<_CMP_LT_OQ>(p, table_end);
        if _mm256_movemask_pd(_mm256_or_pd(series, in_table)) != 0xF {
            // NaN or far beyond the rails: the exact knee, per sample.
            for v in c.iter_mut() {
                *v = v_peak * table.eval::<HwFma>(*v * inv_v_peak);
            }
            continue;
        }
        // `knee_series`: x·Σ a_n·w^n (Horner), w = (x/c)⁸.
        let q = _mm256_mul_pd(x, inv_c);
        let q2 = _mm256_mul_pd(q, q);
        let q4 = _mm256_mul_pd(q2, q2);
        let w = _mm256_mul_pd(q4, q4);
        let mut r = a[6];
        for k in (0..6).rev() {
            r = _mm256_fmadd_pd(r, w, a[k]);
        }
        let s_series = _mm256_mul_pd(x, r);
        let y = if _mm256_movemask_pd(series) == 0xF {
            s_series
        } else {
            // The table (`KneeTable::eval`): every lane's p is in [0, LEN) here.
            let k = _mm256_cvttpd_epi32(p);
            let t = _mm256_sub_pd(p, _mm256_cvtepi32_pd(k));
            // Four rows loaded whole and transposed (cheaper than gathers on current cores).
            let row = |i: i32| _mm256_loadu_pd(coef.add(4 * i as usize));
            let r0 = row(_mm_cvtsi128_si32(k));
            let r1 = row(_mm_extract_epi32::<1>(k));
            let r2 = row(_mm_extract_epi32::<2>(k));
            let r3 = row(_mm_extract_epi32::<3>(k));
            let (t0, t1) = (_mm256_unpacklo_pd(r0, r1), _mm256_unpackhi_pd(r0, r1));
            let (t2, t3) = (_mm256_unpacklo_pd(r2, r3), _mm256_unpackhi_pd(r2, r3));
            let c0 = _mm256_permute2f128_pd::<0x20>(t0, t2);
            let c2 = _mm256_permute2f128_pd::<0x31>(t0, t2);
            let c1 = _mm256_permute2f128_pd::<0x20>(t1, t3);
            let c3 = _mm256_permute2f128_pd::<0x31>(t1, t3);
            let t2 = _mm256_mul_pd(t, t);
            let h = _mm256_fmadd_pd(t2, _mm256_fmadd_pd(t, c3, c2), _mm256_fmadd_pd(t, c1, c0));
            // copysign(h, x)
            let s_table = _mm256_or_pd(_mm256_andnot_pd(sign, h), _mm256_and_pd(sign, x));
            _mm256_blendv_pd(s_table, s_series, series)
        };
        _mm256_storeu_pd(c.as_mut_ptr(), _mm256_mul_pd(peak, y));
    }
    for v in chunks.into_remainder() {
        *v = v_peak * table.eval::<HwFma>(*v * inv_v_peak);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::nonlinear::knee_table;
    use crate::dsp::simd::has_avx2_fma;

    /// Every sample equals the scalar lookup bit for bit: across the series range, the table,
    /// beyond it, at the boundaries, signed zeros and NaN, in buffers of every length mod 4.
    #[test]
    fn matches_the_scalar_knee_bit_for_bit() {
        if !has_avx2_fma() {
            return;
        }
        let t = knee_table();
        let (v_peak, inv) = (1.7, 1.0 / 1.7);
        let mut xs: Vec<f64> = (0..20_000).map(|k| (k as f64 - 10_000.0) * 1.7e-3).collect();
        for e in [0.3, 8.0, 0.0, -0.0, 1e-300, f64::NAN, 40.0, -13.6] {
            xs.push(e * v_peak);
        }
        for len in [1usize, 3, 4, 7, 64, xs.len()] {
            let mut a: Vec<f64> = xs.iter().cycle().take(len.max(1)).copied().collect();
            let b: Vec<f64> = a.iter().map(|&v| v_peak * t.eval::<HwFma>(v * inv)).collect();
            unsafe { clip(t, &mut a, v_peak, inv) };
            for (x, (p, q)) in xs.iter().zip(a.iter().zip(&b)) {
                assert!(p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan()), "{x}: {p} vs {q}");
            }
        }
        let mut a = xs.clone();
        unsafe { clip(t, &mut a, v_peak, inv) };
        for (x, p) in xs.iter().zip(&a) {
            let q = v_peak * t.eval::<HwFma>(x * inv);
            assert!(p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan()), "{x}: {p} vs {q}");
        }
    }
}
