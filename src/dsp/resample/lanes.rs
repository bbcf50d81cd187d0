//! The oversampler's eight-lane arithmetic: the sample types at a kernel's interface ([`Elem`]),
//! the lane operations the kernels are written in ([`Lanes`]), and two implementations: plain
//! arrays for the baseline build ([`Plain`]) and AVX2+FMA registers (`avx::Avx`).

/// A sample type at the interface of a block kernel: `f64` (the caller's buffers) or `f32` (the
/// scratch between stages).
pub(super) trait Elem: Copy {
    /// Eight samples from `p`, rounded to `f32` (to nearest).
    ///
    /// # Safety
    /// `p` must be valid for reading eight samples.
    unsafe fn load8<V: Lanes>(p: *const Self) -> V;
    /// Stores `[y0, d0, y1, d1, …, y7, d7]` at `p` from `y = [y7, …, y0]` and `d = [d7, …, d0]`.
    ///
    /// # Safety
    /// `p` must be valid for writing sixteen samples.
    unsafe fn store_zip<V: Lanes>(p: *mut Self, y: V, d: V);
    fn to32(self) -> f32;
    fn from32(x: f32) -> Self;
    /// `x` as stored in this type (rounded to nearest for `f32`).
    fn from64(x: f64) -> Self;
}

impl Elem for f32 {
    #[inline(always)]
    unsafe fn load8<V: Lanes>(p: *const Self) -> V {
        // SAFETY: the caller's.
        unsafe { V::load(p) }
    }
    #[inline(always)]
    unsafe fn store_zip<V: Lanes>(p: *mut Self, y: V, d: V) {
        let (a, b) = V::zip_rev(y, d);
        // SAFETY: the caller's.
        unsafe {
            a.storeu(p);
            b.storeu(p.add(8));
        }
    }
    #[inline(always)]
    fn to32(self) -> f32 {
        self
    }
    #[inline(always)]
    fn from32(x: f32) -> Self {
        x
    }
    #[inline(always)]
    fn from64(x: f64) -> Self {
        x as f32
    }
}

impl Elem for f64 {
    #[inline(always)]
    unsafe fn load8<V: Lanes>(p: *const Self) -> V {
        // SAFETY: the caller's.
        unsafe { V::load_f64(p) }
    }
    #[inline(always)]
    unsafe fn store_zip<V: Lanes>(p: *mut Self, y: V, d: V) {
        // SAFETY: the caller's.
        unsafe { V::store_zip_f64(y, d, p) }
    }
    #[inline(always)]
    fn to32(self) -> f32 {
        self as f32
    }
    #[inline(always)]
    fn from32(x: f32) -> Self {
        x as f64
    }
    #[inline(always)]
    fn from64(x: f64) -> Self {
        x
    }
}

/// Eight `f32` lanes: AVX2+FMA registers, or plain arrays for the baseline build. Every
/// operation but [`Lanes::madd`] and [`Lanes::fma1`] rounds the same way in both.
pub(super) trait Lanes: Copy {
    fn zero() -> Self;
    /// # Safety
    /// `p` must be valid for reading eight `f32`.
    unsafe fn load(p: *const f32) -> Self;
    /// # Safety
    /// `p` must be valid for writing eight `f32` and 32-byte aligned.
    unsafe fn store(self, p: *mut f32);
    /// # Safety
    /// `p` must be valid for writing eight `f32` (any alignment).
    unsafe fn storeu(self, p: *mut f32);
    /// Eight `f64` from `p`, rounded to `f32`.
    ///
    /// # Safety
    /// `p` must be valid for reading eight `f64`.
    unsafe fn load_f64(p: *const f64) -> Self;
    /// The lanes, widened to `f64`, to `p`.
    ///
    /// # Safety
    /// `p` must be valid for writing eight `f64`.
    unsafe fn store_f64(self, p: *mut f64);
    /// `[x; 8]`.
    fn splat(x: f32) -> Self;
    fn mul(a: Self, b: Self) -> Self;
    fn add(self, b: Self) -> Self;
    /// `a·b + self` (fused in the AVX2 build).
    fn madd(self, a: Self, b: Self) -> Self;
    /// `a·b + c` on one lane, rounded as [`Lanes::madd`].
    fn fma1(a: f32, b: f32, c: f32) -> f32;
    /// `((v0 + v1) + (v2 + v3)) + ((v4 + v5) + (v6 + v7))`.
    fn hsum(self) -> f32;
    /// Lane `r` is `a[r].hsum()`, summed in the same order.
    fn hsum8(a: &[Self; 8]) -> Self;
    /// `[v7, v6, …, v0]`.
    fn reverse(self) -> Self;
    /// `[x, v0, …, v6]`.
    fn shift1(v: Self, x: f32) -> Self;
    /// `[x1, x0, v0, …, v5]`.
    fn shift2(v: Self, x1: f32, x0: f32) -> Self;
    /// `[x[0], x[1], x[2], x[3], v0, …, v3]`.
    fn shift4(v: Self, x: [f32; 4]) -> Self;
    /// `[x[0], …, x[7]]`.
    fn from8(x: [f32; 8]) -> Self;
    /// From `a = [x0, …, x7]` and `b = [x8, …, x15]`: the even and odd samples, each reversed,
    /// `([x14, x12, …, x0], [x15, x13, …, x1])`.
    fn split_rev(a: Self, b: Self) -> (Self, Self);
    /// From `y = [y7, …, y0]` and `d = [d7, …, d0]`: `[y0, d0, y1, d1, …, y3, d3]` and
    /// `[y4, d4, …, y7, d7]`, the two in time order and interleaved.
    fn zip_rev(y: Self, d: Self) -> (Self, Self);
    /// [`Lanes::zip_rev`] widened to `f64`: sixteen `f64` to `p`.
    ///
    /// # Safety
    /// `p` must be valid for writing sixteen `f64`.
    unsafe fn store_zip_f64(y: Self, d: Self, p: *mut f64);
}

/// Baseline lanes (the compiler maps them onto whatever vector unit the target has).
#[derive(Clone, Copy)]
pub(super) struct Plain([f32; 8]);

impl Plain {
    #[inline(always)]
    fn map2(a: Self, b: Self, f: impl Fn(f32, f32) -> f32) -> Self {
        Plain(std::array::from_fn(|i| f(a.0[i], b.0[i])))
    }
}

impl Lanes for Plain {
    #[inline(always)]
    fn zero() -> Self {
        Plain([0.0; 8])
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller guarantees eight readable f32.
        Plain(unsafe { p.cast::<[f32; 8]>().read_unaligned() })
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        // SAFETY: the caller guarantees eight writable f32.
        unsafe { p.cast::<[f32; 8]>().write_unaligned(self.0) }
    }
    #[inline(always)]
    unsafe fn storeu(self, p: *mut f32) {
        // SAFETY: the caller guarantees eight writable f32.
        unsafe { p.cast::<[f32; 8]>().write_unaligned(self.0) }
    }
    #[inline(always)]
    unsafe fn load_f64(p: *const f64) -> Self {
        // SAFETY: the caller guarantees eight readable f64.
        let v = unsafe { p.cast::<[f64; 8]>().read_unaligned() };
        Plain(v.map(|x| x as f32))
    }
    #[inline(always)]
    unsafe fn store_f64(self, p: *mut f64) {
        // SAFETY: the caller guarantees eight writable f64.
        unsafe { p.cast::<[f64; 8]>().write_unaligned(self.0.map(|x| x as f64)) }
    }
    #[inline(always)]
    fn splat(x: f32) -> Self {
        Plain([x; 8])
    }
    #[inline(always)]
    fn mul(a: Self, b: Self) -> Self {
        Self::map2(a, b, |x, y| x * y)
    }
    #[inline(always)]
    fn add(self, b: Self) -> Self {
        Self::map2(self, b, |x, y| x + y)
    }
    #[inline(always)]
    fn madd(self, a: Self, b: Self) -> Self {
        Plain(std::array::from_fn(|i| self.0[i] + a.0[i] * b.0[i]))
    }
    #[inline(always)]
    fn fma1(a: f32, b: f32, c: f32) -> f32 {
        a * b + c
    }
    #[inline(always)]
    fn hsum(self) -> f32 {
        let v = self.0;
        ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]))
    }
    #[inline(always)]
    fn hsum8(a: &[Self; 8]) -> Self {
        Plain(std::array::from_fn(|r| a[r].hsum()))
    }
    #[inline(always)]
    fn reverse(self) -> Self {
        let v = self.0;
        Plain(std::array::from_fn(|i| v[7 - i]))
    }
    #[inline(always)]
    fn shift1(v: Self, x: f32) -> Self {
        let v = v.0;
        Plain([x, v[0], v[1], v[2], v[3], v[4], v[5], v[6]])
    }
    #[inline(always)]
    fn shift2(v: Self, x1: f32, x0: f32) -> Self {
        let v = v.0;
        Plain([x1, x0, v[0], v[1], v[2], v[3], v[4], v[5]])
    }
    #[inline(always)]
    fn shift4(v: Self, x: [f32; 4]) -> Self {
        let v = v.0;
        Plain([x[0], x[1], x[2], x[3], v[0], v[1], v[2], v[3]])
    }
    #[inline(always)]
    fn from8(x: [f32; 8]) -> Self {
        Plain(x)
    }
    #[inline(always)]
    fn split_rev(a: Self, b: Self) -> (Self, Self) {
        let x: [f32; 16] = std::array::from_fn(|i| if i < 8 { a.0[i] } else { b.0[i - 8] });
        (Plain(std::array::from_fn(|i| x[14 - 2 * i])), Plain(std::array::from_fn(|i| x[15 - 2 * i])))
    }
    #[inline(always)]
    fn zip_rev(y: Self, d: Self) -> (Self, Self) {
        let z: [f32; 16] = std::array::from_fn(|i| if i % 2 == 0 { y.0[7 - i / 2] } else { d.0[7 - i / 2] });
        (Plain(std::array::from_fn(|i| z[i])), Plain(std::array::from_fn(|i| z[8 + i])))
    }
    #[inline(always)]
    unsafe fn store_zip_f64(y: Self, d: Self, p: *mut f64) {
        let (a, b) = Self::zip_rev(y, d);
        // SAFETY: the caller's.
        unsafe {
            a.store_f64(p);
            b.store_f64(p.add(8));
        }
    }
}

#[cfg(target_arch = "x86_64")]
pub(super) mod avx {
    use std::arch::x86_64::*;

    /// `x` in the low lane of a register, taken as it is: the compiler must not fetch scalars it
    /// knows to be adjacent in memory with one wide load (they were stored one at a time, and
    /// such a load waits for all the stores to retire).
    #[inline(always)]
    fn opaque(x: f32) -> __m128 {
        // SAFETY: SSE is baseline on x86_64.
        let mut v = unsafe { _mm_set1_ps(x) };
        // SAFETY: an empty asm block that claims to change `v`; no memory, no stack.
        unsafe { std::arch::asm!("/* {0} */", inout(xmm_reg) v, options(pure, nomem, nostack, preserves_flags)) };
        v
    }

    /// `[a, b, c, d]` from four scalars in registers.
    #[inline(always)]
    fn from4(x: [f32; 4]) -> __m128 {
        // SAFETY: SSE is baseline on x86_64.
        unsafe {
            let lo = _mm_unpacklo_ps(opaque(x[0]), opaque(x[1]));
            let hi = _mm_unpacklo_ps(opaque(x[2]), opaque(x[3]));
            _mm_movelh_ps(lo, hi)
        }
    }

    /// AVX2+FMA lanes; only used inside `#[target_feature(enable = "avx2,fma")]` functions.
    #[derive(Clone, Copy)]
    pub(in crate::dsp::resample) struct Avx(__m256);

    /// The lane permutation `[i0, …, i7]` (output lane `m` takes input lane `i_m`).
    #[inline(always)]
    fn perm(v: __m256, i: [i32; 8]) -> __m256 {
        // SAFETY: as below.
        unsafe { _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(i[0], i[1], i[2], i[3], i[4], i[5], i[6], i[7])) }
    }

    // SAFETY (every `unsafe` block below): `Avx` values exist only in code compiled and run with
    // AVX2 and FMA (see `Oversampler::up`), and pointer arguments are the caller's responsibility.
    impl super::Lanes for Avx {
        #[inline(always)]
        fn zero() -> Self {
            // SAFETY: an `Avx` exists only with AVX2 and FMA (see above); pointers are the caller's.
            Avx(unsafe { _mm256_setzero_ps() })
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            // SAFETY: an `Avx` exists only with AVX2 and FMA (see above); pointers are the caller's.
            Avx(unsafe { _mm256_loadu_ps(p) })
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            // Volatile: one 32-byte store, never split (a later 32-byte load of the same place is
            // forwarded only from a single store that covers it).
            // SAFETY: an `Avx` exists only with AVX2 and FMA (see above); pointers are the caller's.
            unsafe { std::ptr::write_volatile(p.cast::<__m256>(), self.0) }
        }
        #[inline(always)]
        unsafe fn storeu(self, p: *mut f32) {
            // SAFETY: an `Avx` exists only with AVX2 and FMA (see above); pointers are the caller's.
            unsafe { _mm256_storeu_ps(p, self.0) }
        }
        #[inline(always)]
        unsafe fn load_f64(p: *const f64) -> Self {
            // SAFETY: an `Avx` exists only with AVX2 and FMA (see above); pointers are the caller's.
            unsafe {
                let lo = _mm256_cvtpd_ps(_mm256_loadu_pd(p));
                let hi = _mm256_cvtpd_ps(_mm256_loadu_pd(p.add(4)));
                Avx(_mm256_insertf128_ps::<1>(_mm256_castps128_ps256(lo), hi))
            }
        }
        #[inline(always)]
        unsafe fn store_f64(self, p: *mut f64) {
            // SAFETY: an `Avx` exists only with AVX2 and FMA (see above); pointers are the caller's.
            unsafe {
                _mm256_storeu_pd(p, _mm256_cvtps_pd(_mm256_castps256_ps128(self.0)));
                _mm256_storeu_pd(p.add(4), _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(self.0)));
            }
        }
        #[inline(always)]
        fn splat(x: f32) -> Self {
            // SAFETY: an `Avx` exists only with AVX2 and FMA (see above); pointers are the caller's.
            Avx(unsafe { _mm256_set1_ps(x) })
        }
        #[inline(always)]
        fn mul(a: Self, b: Self) -> Self {
            // SAFETY: an `Avx` exists only with AVX2 and FMA (see above); pointers are the caller's.
            Avx(unsafe { _mm256_mul_ps(a.0, b.0) })
        }
        #[inline(always)]
        fn add(self, b: Self) -> Self {
            // SAFETY: an `Avx` exists only with AVX2 and FMA (see above); pointers are the caller's.
            Avx(unsafe { _mm256_add_ps(self.0, b.0) })
        }
        #[inline(always)]
        fn madd(self, a: Self, b: Self) -> Self {
            // SAFETY: an `Avx` exists only with AVX2 and FMA (see above); pointers are the caller's.
            Avx(unsafe { _mm256_fmadd_ps(a.0, b.0, self.0) })
        }
        #[inline(always)]
        fn fma1(a: f32, b: f32, c: f32) -> f32 {
            a.mul_add(b, c)
        }
        #[inline(always)]
        fn hsum(self) -> f32 {
            // SAFETY: an `Avx` exists only with AVX2 and FMA (see above); pointers are the caller's.
            unsafe {
                // [v0+v1, v2+v3, v4+v5, v6+v7], then [(v0+v1)+(v2+v3), (v4+v5)+(v6+v7), …].
                let h = _mm_hadd_ps(_mm256_castps256_ps128(self.0), _mm256_extractf128_ps::<1>(self.0));
                let h = _mm_hadd_ps(h, h);
                _mm_cvtss_f32(_mm_add_ss(h, _mm_movehdup_ps(h)))
            }
        }
        #[inline(always)]
        fn hsum8(a: &[Self; 8]) -> Self {
            // SAFETY: an `Avx` exists only with AVX2 and FMA (see above); pointers are the caller's.
            unsafe {
                // t01 = [a0(01), a0(23), a1(01), a1(23) | a0(45), a0(67), a1(45), a1(67)], …;
                // u0 = [a0(0123), a1(0123), a2(0123), a3(0123) | a0(4567), …, a3(4567)].
                let t01 = _mm256_hadd_ps(a[0].0, a[1].0);
                let t23 = _mm256_hadd_ps(a[2].0, a[3].0);
                let t45 = _mm256_hadd_ps(a[4].0, a[5].0);
                let t67 = _mm256_hadd_ps(a[6].0, a[7].0);
                let u0 = _mm256_hadd_ps(t01, t23);
                let u1 = _mm256_hadd_ps(t45, t67);
                Avx(_mm256_add_ps(_mm256_permute2f128_ps::<0x20>(u0, u1), _mm256_permute2f128_ps::<0x31>(u0, u1)))
            }
        }
        #[inline(always)]
        fn reverse(self) -> Self {
            Avx(perm(self.0, [7, 6, 5, 4, 3, 2, 1, 0]))
        }
        #[inline(always)]
        fn shift1(v: Self, x: f32) -> Self {
            // SAFETY: an `Avx` exists only with AVX2 and FMA (see above); pointers are the caller's.
            unsafe { Avx(_mm256_blend_ps::<0b0000_0001>(perm(v.0, [0, 0, 1, 2, 3, 4, 5, 6]), _mm256_castps128_ps256(opaque(x)))) }
        }
        #[inline(always)]
        fn shift2(v: Self, x1: f32, x0: f32) -> Self {
            // SAFETY: an `Avx` exists only with AVX2 and FMA (see above); pointers are the caller's.
            unsafe {
                let x = _mm_unpacklo_ps(opaque(x1), opaque(x0));
                Avx(_mm256_blend_ps::<0b0000_0011>(perm(v.0, [0, 0, 0, 1, 2, 3, 4, 5]), _mm256_castps128_ps256(x)))
            }
        }
        #[inline(always)]
        fn shift4(v: Self, x: [f32; 4]) -> Self {
            // SAFETY: an `Avx` exists only with AVX2 and FMA (see above); pointers are the caller's.
            unsafe { Avx(_mm256_insertf128_ps::<1>(_mm256_castps128_ps256(from4(x)), _mm256_castps256_ps128(v.0))) }
        }
        #[inline(always)]
        fn from8(x: [f32; 8]) -> Self {
            // SAFETY: an `Avx` exists only with AVX2 and FMA (see above); pointers are the caller's.
            unsafe {
                let lo = from4([x[0], x[1], x[2], x[3]]);
                let hi = from4([x[4], x[5], x[6], x[7]]);
                Avx(_mm256_insertf128_ps::<1>(_mm256_castps128_ps256(lo), hi))
            }
        }
        #[inline(always)]
        fn split_rev(a: Self, b: Self) -> (Self, Self) {
            // SAFETY: an `Avx` exists only with AVX2 and FMA (see above); pointers are the caller's.
            unsafe {
                // [x0, x2, x8, x10 | x4, x6, x12, x14] and [x1, x3, x9, x11 | x5, x7, x13, x15].
                let e = _mm256_shuffle_ps::<0b10_00_10_00>(a.0, b.0);
                let o = _mm256_shuffle_ps::<0b11_01_11_01>(a.0, b.0);
                let i = [7, 6, 3, 2, 5, 4, 1, 0];
                (Avx(perm(e, i)), Avx(perm(o, i)))
            }
        }
        #[inline(always)]
        fn zip_rev(y: Self, d: Self) -> (Self, Self) {
            // SAFETY: an `Avx` exists only with AVX2 and FMA (see above); pointers are the caller's.
            unsafe {
                let (y, d) = (y.reverse().0, d.reverse().0);
                // [y0, d0, y1, d1 | y4, d4, y5, d5] and [y2, d2, y3, d3 | y6, d6, y7, d7].
                let (lo, hi) = (_mm256_unpacklo_ps(y, d), _mm256_unpackhi_ps(y, d));
                (Avx(_mm256_permute2f128_ps::<0x20>(lo, hi)), Avx(_mm256_permute2f128_ps::<0x31>(lo, hi)))
            }
        }
        #[inline(always)]
        unsafe fn store_zip_f64(y: Self, d: Self, p: *mut f64) {
            // SAFETY: an `Avx` exists only with AVX2 and FMA (see above); pointers are the caller's.
            unsafe {
                let (y, d) = (y.reverse().0, d.reverse().0);
                // [y0, d0, y1, d1 | y4, d4, y5, d5] and [y2, d2, y3, d3 | y6, d6, y7, d7], each
                // half widened and stored in place.
                let (lo, hi) = (_mm256_unpacklo_ps(y, d), _mm256_unpackhi_ps(y, d));
                _mm256_storeu_pd(p, _mm256_cvtps_pd(_mm256_castps256_ps128(lo)));
                _mm256_storeu_pd(p.add(4), _mm256_cvtps_pd(_mm256_castps256_ps128(hi)));
                _mm256_storeu_pd(p.add(8), _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(lo)));
                _mm256_storeu_pd(p.add(12), _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(hi)));
            }
        }
    }
}
