//! The DSP core: plain Rust, no plugin-framework imports. Everything here is tested offline
//! against analytic answers and ngspice (see `tests/`).

#![deny(unsafe_op_in_unsafe_fn)]

pub mod circuit;
pub mod engine;
mod lane;
#[cfg(target_arch = "x86_64")]
mod lane_avx2;
#[cfg(target_arch = "x86_64")]
mod lane_asm;
pub mod linalg;
pub mod modal;
pub mod network;
pub mod noise;
pub mod nonlinear;
pub mod resample;
#[cfg(target_arch = "x86_64")]
mod rails_avx2;
pub mod smoother;
pub mod simd;
pub mod spice;
pub mod statespace;
pub mod stereo;
pub mod stage;
pub mod table;
pub mod wdf;

pub use engine::{CircuitKernel, Engine, Kernel, PreparedLoad};
pub use network::Network;
pub use resample::Quality;
pub use stage::StageParams;

/// Measurement switches for the speed-only paths, process-wide, for benchmarks only
/// (`benches/probes/paths_ab.rs` sets them side by side): the assembly loop of the tabulated
/// solve (else the Rust AVX2 loop) and the rails' AVX2 form (else the scalar rails). Both on by
/// default; the results agree to rounding either way (`tests/kernels.rs`).
#[doc(hidden)]
pub fn set_fast_paths(assembly: bool, rails_avx2: bool) {
    #[cfg(target_arch = "x86_64")]
    lane_avx2::ASM_KERNEL.store(assembly, std::sync::atomic::Ordering::Relaxed);
    nonlinear::RAILS_AVX2.store(rails_avx2, std::sync::atomic::Ordering::Relaxed);
    let _ = assembly;
}
