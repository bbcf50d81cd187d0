//! Flush-to-zero and denormals-are-zero for the span of a processing call, so subnormal input
//! (or a decaying state) costs no extra time, and the plugin and the renderer, which both process
//! through [`Processor`](super::Processor), compute with the same rules. Hosts may or may not set
//! these modes themselves; the guard sets them and restores the caller's on drop.
//!
//! x86_64: MXCSR bits FTZ (15) and DAZ (6) (Intel SDM vol. 1, §10.2.3). AArch64: FPCR.FZ (bit 24)
//! flushes both inputs and outputs (Arm ARM, FPCR). Elsewhere the guard does nothing.
//!
//! Threading: the modes are per thread; the guard is neither `Send` nor `Sync`.

use std::marker::PhantomData;

#[cfg(target_arch = "x86_64")]
const MODES: u32 = (1 << 15) | (1 << 6);
#[cfg(target_arch = "aarch64")]
const MODES: u64 = 1 << 24;

/// Sets the modes while it lives; restores the previous control word when dropped.
pub struct FlushGuard {
    #[cfg(target_arch = "x86_64")]
    old: u32,
    #[cfg(target_arch = "aarch64")]
    old: u64,
    _not_send: PhantomData<*const ()>,
}

impl FlushGuard {
    /// Turns the modes on for this thread (audio thread; no allocation).
    #[inline]
    pub fn new() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            let mut old: u32 = 0;
            // SAFETY: `stmxcsr` stores the 32-bit control word into `old`, a live local; `ldmxcsr`
            // loads a valid control word (the old one with two mode bits set).
            unsafe {
                std::arch::asm!("stmxcsr [{}]", in(reg) &mut old, options(nostack));
                std::arch::asm!("ldmxcsr [{}]", in(reg) &(old | MODES), options(nostack));
            }
            Self { old, _not_send: PhantomData }
        }
        #[cfg(target_arch = "aarch64")]
        {
            let old: u64;
            // SAFETY: reading and writing FPCR only changes this thread's floating-point modes.
            unsafe {
                std::arch::asm!("mrs {}, fpcr", out(reg) old, options(nostack));
                std::arch::asm!("msr fpcr, {}", in(reg) old | MODES, options(nostack));
            }
            Self { old, _not_send: PhantomData }
        }
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        Self { _not_send: PhantomData }
    }
}

impl Default for FlushGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for FlushGuard {
    #[inline]
    fn drop(&mut self) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: restores the control word read in `new`.
        unsafe {
            std::arch::asm!("ldmxcsr [{}]", in(reg) &self.old, options(nostack));
        }
        #[cfg(target_arch = "aarch64")]
        // SAFETY: restores the FPCR read in `new`.
        unsafe {
            std::arch::asm!("msr fpcr, {}", in(reg) self.old, options(nostack));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::FlushGuard;
    use std::hint::black_box;

    #[test]
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    fn subnormals_flush_inside_the_guard_only() {
        let tiny = black_box(f64::MIN_POSITIVE);
        let sub = black_box(f64::MIN_POSITIVE / 4.0);
        assert!(sub > 0.0, "a subnormal before the guard");
        {
            let _g = FlushGuard::new();
            // FTZ: a result below the normal range is zero.
            assert_eq!(black_box(tiny) * black_box(0.25), 0.0);
            // DAZ (FZ on AArch64): a subnormal operand counts as zero.
            assert_eq!(black_box(sub) * black_box(1.0), 0.0);
            // Nested guards restore the outer one's modes.
            {
                let _h = FlushGuard::new();
            }
            assert_eq!(black_box(tiny) * black_box(0.25), 0.0);
        }
        assert!(black_box(tiny) * black_box(0.25) > 0.0, "modes restored after the guard");
        assert!(black_box(sub) * black_box(1.0) > 0.0);
    }
}
