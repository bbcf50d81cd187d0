//! Run-time selection of the AVX2+FMA code paths.
//!
//! Builds target baseline x86-64 (SSE2), so the engine's and the resampler's hot loops are compiled
//! a second time inside `#[target_feature(enable = "avx2,fma")]` functions and chosen by a cached
//! CPU check ([`has_avx2_fma`]); results differ from the baseline path only by rounding, and a given
//! machine always takes the same path (so the plugin and the renderer stay sample-identical).

/// Multiply-add for code that is compiled twice: once inside an `avx2,fma` `#[target_feature]`
/// function (where [`HwFma`] is one instruction) and once for baseline x86-64 (where [`SoftFma`]
/// avoids `mul_add`'s slow software fallback). The engine's per-sample recursion is a chain of
/// dependent multiply-adds, so a fused one halves its latency.
pub trait Fma {
    /// `a·b + c`.
    fn fma(a: f64, b: f64, c: f64) -> f64;
    /// `a·b + c` in `f32`, rounded once (see each implementation).
    fn fma32(a: f32, b: f32, c: f32) -> f32;
    /// True for [`HwFma`]: the caller is compiled with AVX2 and FMA, so hand-vectorised kernels
    /// for them may be called.
    const HW: bool;
}

/// Fused multiply-add; only call it from code compiled with the `fma` target feature.
pub struct HwFma;
impl Fma for HwFma {
    const HW: bool = true;
    #[inline(always)]
    fn fma(a: f64, b: f64, c: f64) -> f64 {
        a.mul_add(b, c)
    }
    #[inline(always)]
    fn fma32(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
}

/// Separate multiply and add (baseline CPUs).
pub struct SoftFma;
impl Fma for SoftFma {
    const HW: bool = false;
    #[inline(always)]
    fn fma(a: f64, b: f64, c: f64) -> f64 {
        a * b + c
    }
    /// In `f64`: the product of two `f32`s is exact there, so this is the fused result except
    /// where the `f64` sum's rounding lands on an `f32` tie (about one operation in 2²⁸), and the
    /// `f32` kernels (the rails' series) give the same bits on both builds but for such a tie.
    #[inline(always)]
    fn fma32(a: f32, b: f32, c: f32) -> f32 {
        (a as f64 * b as f64 + c as f64) as f32
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
