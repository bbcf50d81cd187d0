//! The rails' soft knee over a buffer with AVX2: runs of [`CLIP_RUN`] samples wholly within the
//! series range take the series eight samples to a register (`f32` for the correction, see
//! [`knee_series`]); any other run goes four samples at a time, the table's rows loaded and
//! transposed for the lanes above the series range.
//!
//! Every lane does exactly what [`KneeTable::rail`] does for one sample (same operations, same
//! order, the same fused multiply-adds, in the same precision), so the result is bit-identical to
//! the scalar path and independent of how a buffer is split.
//!
//! Threading: audio thread; no allocation. Only call [`clip_block`] on a CPU with AVX2 and FMA.

use super::nonlinear::{
    KneeTable, RailScale, CLIP_RUN, KNEE_DELTA, KNEE_Q2_FLOOR, KNEE_SERIES_W_END, KNEE_TABLE_END, KNEE_TABLE_LEN,
};
use super::simd::HwFma;
use std::arch::x86_64::*;

/// The series' constants in registers.
#[derive(Clone, Copy)]
struct Series {
    k: __m256,
    floor: __m256,
    w_end: __m256,
    b: [__m256; 5],
}

impl Series {
    #[inline(always)]
    unsafe fn new(s: &RailScale) -> Self {
        // SAFETY: the caller guarantees AVX2 and FMA (this function's contract).
        unsafe {
            Self {
                k: _mm256_set1_ps(s.k32),
                floor: _mm256_set1_ps(KNEE_Q2_FLOOR),
                w_end: _mm256_set1_ps(KNEE_SERIES_W_END),
                b: KNEE_DELTA.map(|c| _mm256_set1_ps(c)),
            }
        }
    }

    /// `knee_w` for eight samples at `p`.
    #[inline(always)]
    unsafe fn w8(&self, p: *const f64) -> __m256 {
        // SAFETY: the caller guarantees AVX2 and FMA (this function's contract) and, for the
        // pointers, eight readable f64 at `p`.
        unsafe {
            let lo = _mm256_cvtpd_ps(_mm256_loadu_pd(p));
            let hi = _mm256_cvtpd_ps(_mm256_loadu_pd(p.add(4)));
            self.w8_f32(_mm256_insertf128_ps::<1>(_mm256_castps128_ps256(lo), hi))
        }
    }

    /// `knee_w` for eight `f32` samples (exactly `w8` of the same values widened).
    #[inline(always)]
    unsafe fn w8_f32(&self, v: __m256) -> __m256 {
        // SAFETY: the caller guarantees AVX2 and FMA (this function's contract).
        unsafe {
            let q = _mm256_mul_ps(v, self.k);
            let q2 = _mm256_max_ps(_mm256_mul_ps(q, q), self.floor);
            let q4 = _mm256_mul_ps(q2, q2);
            _mm256_mul_ps(q4, q4)
        }
    }

    /// `knee_series`' correction `δ = w·Σ b_n·w^n` for eight samples.
    #[inline(always)]
    unsafe fn delta8(&self, w: __m256) -> __m256 {
        // SAFETY: the caller guarantees AVX2 and FMA (this function's contract).
        unsafe {
            let b = &self.b;
            let p = _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_fmadd_ps(b[4], w, b[3]), w, b[2]), w, b[1]), w, b[0]);
            _mm256_mul_ps(w, p)
        }
    }

    /// `v + v·δ` for eight samples `v0`, `v1` (f64, four each) and their corrections `d`, stored
    /// at `dst`.
    #[inline(always)]
    unsafe fn store8(dst: *mut f64, v0: __m256d, v1: __m256d, d: __m256) {
        // SAFETY: the caller guarantees AVX2 and FMA (this function's contract) and eight writable
        // f64 at `dst`.
        unsafe {
            let d0 = _mm256_cvtps_pd(_mm256_castps256_ps128(d));
            let d1 = _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(d));
            _mm256_storeu_pd(dst, _mm256_fmadd_pd(v0, d0, v0));
            _mm256_storeu_pd(dst.add(4), _mm256_fmadd_pd(v1, d1, v1));
        }
    }

    /// `knee_w` for four samples (the eight-lane operations, upper lanes zero).
    #[inline(always)]
    unsafe fn w4(&self, v: __m256d) -> __m128 {
        // SAFETY: the caller guarantees AVX2 and FMA (this function's contract).
        unsafe {
            _mm256_castps256_ps128(self.w8_f32(_mm256_zextps128_ps256(_mm256_cvtpd_ps(v))))
        }
    }

    /// `knee_series` for four samples: `v + v·δ(w)`.
    #[inline(always)]
    unsafe fn series4(&self, v: __m256d, w: __m128) -> __m256d {
        // SAFETY: the caller guarantees AVX2 and FMA (this function's contract).
        unsafe {
            let d = _mm256_castps256_ps128(self.delta8(_mm256_zextps128_ps256(w)));
            _mm256_fmadd_pd(v, _mm256_cvtps_pd(d), v)
        }
    }
}

/// `v ← v_peak·S(v/v_peak)` over `buf` in place (see `KneeTable::clip_block`).
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn clip_block(table: &KneeTable, buf: &mut [f64], s: &RailScale) {
    // SAFETY: the caller guarantees AVX2 and FMA (this function's contract).
    unsafe {
        let ser = Series::new(s);
        for run in buf.chunks_mut(CLIP_RUN) {
            clip_run(table, run, s, &ser);
        }
    }
}

/// One run of at most [`CLIP_RUN`] samples: the series' corrections for its whole groups of
/// eight are computed and kept while their range test is gathered; only if every sample passes
/// are they applied, so a run that reaches the knee is still untouched for [`clip4`].
#[inline(always)]
unsafe fn clip_run(table: &KneeTable, run: &mut [f64], s: &RailScale, ser: &Series) {
    // SAFETY: this function runs only on a CPU with AVX2 and FMA (its contract); the pointers it
    // reads and writes are derived from the slices it is given, within their lengths.
    unsafe {
        let p = run.as_mut_ptr();
        let groups = run.len() / 8;
        let mut d = [_mm256_setzero_ps(); CLIP_RUN / 8];
        let mut all = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
        for (g, d) in d.iter_mut().enumerate().take(groups) {
            let w = ser.w8(p.add(8 * g));
            all = _mm256_and_ps(all, _mm256_cmp_ps::<_CMP_LT_OQ>(w, ser.w_end));
            *d = ser.delta8(w);
        }
        if _mm256_movemask_ps(all) != 0xFF {
            clip4(table, run, s, ser);
            return;
        }
        for (g, d) in d.iter().enumerate().take(groups) {
            let q = p.add(8 * g);
            Series::store8(q, _mm256_loadu_pd(q), _mm256_loadu_pd(q.add(4)), *d);
        }
        for v in run[8 * groups..].iter_mut() {
            *v = table.rail::<HwFma>(*v, s);
        }
    }
}

/// `dst ← rails(src)` (see `KneeTable::clip_widen`).
///
/// # Safety
/// The CPU must have AVX2 and FMA; `dst` must be as long as `src`.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn clip_widen(table: &KneeTable, src: &[f32], dst: &mut [f64], s: &RailScale) {
    // SAFETY: this function runs only on a CPU with AVX2 and FMA (its contract); the pointers it
    // reads and writes are derived from the slices it is given, within their lengths.
    unsafe {
        assert!(dst.len() == src.len());
        let ser = Series::new(s);
        for (sr, dr) in src.chunks(CLIP_RUN).zip(dst.chunks_mut(CLIP_RUN)) {
            let (sp, dp) = (sr.as_ptr(), dr.as_mut_ptr());
            let groups = sr.len() / 8;
            let mut all = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
            for g in 0..groups {
                let v = _mm256_loadu_ps(sp.add(8 * g));
                let w = ser.w8_f32(v);
                all = _mm256_and_ps(all, _mm256_cmp_ps::<_CMP_LT_OQ>(w, ser.w_end));
                let v0 = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
                let v1 = _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(v));
                Series::store8(dp.add(8 * g), v0, v1, ser.delta8(w));
            }
            if _mm256_movemask_ps(all) != 0xFF {
                // The run reaches the knee: again from its inputs, through the table where needed.
                for (d, &v) in dr.iter_mut().zip(sr) {
                    *d = v as f64;
                }
                clip4(table, dr, s, &ser);
                continue;
            }
            for (d, &v) in dr[8 * groups..].iter_mut().zip(&sr[8 * groups..]) {
                *d = table.rail::<HwFma>(v as f64, s);
            }
        }
    }
}

/// A run that reaches the knee (or holds NaN), four samples at a time: the series for the lanes
/// below its end, the table for the others; a group with a lane beyond the table goes per sample.
#[inline(always)]
unsafe fn clip4(table: &KneeTable, buf: &mut [f64], s: &RailScale, ser: &Series) {
    // SAFETY: this function runs only on a CPU with AVX2 and FMA (its contract); the pointers it
    // reads and writes are derived from the slices it is given, within their lengths.
    unsafe {
        let coef = table.coef.as_ptr() as *const f64;
        let sign = _mm256_set1_pd(-0.0);
        let inv = _mm256_set1_pd(s.inv);
        let peak = _mm256_set1_pd(s.v_peak);
        let table_end = _mm256_set1_pd(KNEE_TABLE_LEN as f64);
        let scale = _mm256_set1_pd(KNEE_TABLE_LEN as f64 / KNEE_TABLE_END);
        let w_end = _mm256_castps256_ps128(ser.w_end);
        let mut chunks = buf.chunks_exact_mut(4);
        for c in &mut chunks {
            let v = _mm256_loadu_pd(c.as_ptr());
            let w = ser.w4(v);
            // The f32 test widened to the four f64 lanes.
            let series = _mm256_castsi256_pd(_mm256_cvtepi32_epi64(_mm_castps_si128(_mm_cmplt_ps(w, w_end))));
            let x = _mm256_mul_pd(v, inv);
            let p = _mm256_mul_pd(_mm256_andnot_pd(sign, x), scale);
            let in_table = _mm256_cmp_pd::<_CMP_LT_OQ>(p, table_end);
            if _mm256_movemask_pd(_mm256_or_pd(series, in_table)) != 0xF {
                // NaN or far beyond the rails: the exact knee, per sample.
                for v in c.iter_mut() {
                    *v = table.rail::<HwFma>(*v, s);
                }
                continue;
            }
            let y_series = ser.series4(v, w);
            let y = if _mm256_movemask_pd(series) == 0xF {
                y_series
            } else {
                // The table (`KneeTable::table`): every non-series lane's p is in [0, LEN) here;
                // series lanes may index anywhere below LEN too, and are blended away.
                let p = _mm256_and_pd(p, in_table);
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
                // peak·copysign(h, x)
                let s_table = _mm256_or_pd(_mm256_andnot_pd(sign, h), _mm256_and_pd(sign, x));
                _mm256_blendv_pd(_mm256_mul_pd(peak, s_table), y_series, series)
            };
            _mm256_storeu_pd(c.as_mut_ptr(), y);
        }
        for v in chunks.into_remainder() {
            *v = table.rail::<HwFma>(*v, s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::nonlinear::knee_table;
    use crate::dsp::simd::has_avx2_fma;

    /// Every sample equals the scalar rail bit for bit: across the series range, the table,
    /// beyond it, at the boundaries, signed zeros, subnormals and NaN, in buffers of every length
    /// mod 8 and runs that mix all of them.
    #[test]
    fn matches_the_scalar_rail_bit_for_bit() {
        if !has_avx2_fma() {
            return;
        }
        let t = knee_table();
        let s = RailScale::new(1.7, 1.0 / 1.7);
        let mut xs: Vec<f64> = (0..20_000).map(|k| (k as f64 - 10_000.0) * 1.7e-3).collect();
        let edge = 1.7;
        for e in [0.3, 8.0, 0.0, -0.0, 1e-300, 1e-310, f64::NAN, 40.0, -13.6, 1e300, f64::INFINITY] {
            xs.push(e * 1.7);
        }
        for k in -40..40 {
            xs.push(edge * (1.0 + k as f64 * 1e-8));
            xs.push(-edge * (1.0 + k as f64 * 1e-8));
        }
        for len in [1usize, 3, 4, 7, 8, 9, 31, 33, 64, xs.len()] {
            for start in [0, 5, 20_000] {
                let src: Vec<f64> = xs.iter().cycle().skip(start).take(len).copied().collect();
                let mut a = src.clone();
                // SAFETY: the test returned above unless the CPU has AVX2 and FMA.
                unsafe { clip_block(t, &mut a, &s) };
                for (x, p) in src.iter().zip(&a) {
                    let q = t.rail::<HwFma>(*x, &s);
                    assert!(p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan()), "{x}: {p} vs {q}");
                }
                // From f32, as the oversampler hands over: the rail of each widened sample.
                let src32: Vec<f32> = src.iter().map(|&v| v as f32).collect();
                let mut b = vec![7.0; len];
                // SAFETY: the test returned above unless the CPU has AVX2 and FMA.
                unsafe { clip_widen(t, &src32, &mut b, &s) };
                for (x, p) in src32.iter().zip(&b) {
                    let q = t.rail::<HwFma>(*x as f64, &s);
                    assert!(p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan()), "{x}: {p} vs {q}");
                }
            }
        }
    }
}
