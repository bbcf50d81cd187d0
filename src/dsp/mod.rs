//! The DSP core: plain Rust, no plugin-framework imports. Everything here is tested offline
//! against analytic answers and ngspice (see `tests/`).

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
pub mod stage;
pub mod table;
pub mod wdf;

pub use engine::{Engine, Kernel, PreparedLoad};
pub use network::Network;
pub use resample::Quality;
pub use stage::StageParams;

/// Measurement switch: whether the tabulated solve runs the assembly loop (default) or the Rust
/// AVX2 loop. Process-wide; for benchmarks only.
#[doc(hidden)]
pub fn set_assembly_kernel(on: bool) {
    #[cfg(target_arch = "x86_64")]
    lane_avx2::ASM_KERNEL.store(on, std::sync::atomic::Ordering::Relaxed);
    let _ = on;
}
