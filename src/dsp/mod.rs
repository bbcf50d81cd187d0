//! The DSP core: plain Rust, no plugin-framework imports. Everything here is tested offline
//! against analytic answers and ngspice (see `tests/`).

pub mod engine;
mod lane;
#[cfg(target_arch = "x86_64")]
mod lane_asm;
#[cfg(target_arch = "x86_64")]
mod lane_avx2;
pub mod linalg;
pub mod modal;
pub mod network;
pub mod noise;
pub mod nonlinear;
#[cfg(target_arch = "x86_64")]
mod rails_avx2;
pub mod resample;
pub mod simd;
pub mod smoother;
pub mod spice;
pub mod stage;
pub mod statespace;
pub mod table;
pub mod wdf;

pub use engine::{Engine, PreparedLoad};
pub use network::Network;
pub use resample::Quality;
pub use stage::StageParams;
