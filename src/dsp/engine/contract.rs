//! The kernel contract: what every inner loop of the circuit does ([`CircuitKernel`]), met by the
//! literal [`Reference`] and by each of the engine's own paths ([`Engine::kernel`]), so that
//! `tests/kernels.rs` holds every fast path to the reference through one interface. Offline and
//! test use only (the reference allocates).

use super::Engine;
use crate::dsp::circuit::{OutputStage, Reference};
use crate::dsp::simd::{Fma, HwFma, SoftFma};
use crate::dsp::stereo::StereoReference;

/// The contract of an inner loop of the circuit, at the internal rate with fixed parameters: the
/// amplifier's open-circuit voltages in `buf` (volts) become the load voltages (volts), in place;
/// with `cur` (as long as `buf`), each step's loop current goes there (amperes).
pub trait CircuitKernel {
    fn run(&mut self, buf: &mut [f64], cur: Option<&mut [f64]>);
}

impl CircuitKernel for Reference {
    fn run(&mut self, buf: &mut [f64], mut cur: Option<&mut [f64]>) {
        for (k, e) in buf.iter_mut().enumerate() {
            *e = self.step(*e);
            if let Some(c) = cur.as_deref_mut() {
                c[k] = self.current_a();
            }
        }
    }
}

/// One of an engine's inner loops (see [`Engine::kernel`]).
pub struct EngineKernel<'a> {
    engine: &'a mut Engine,
    kernel: Kernel,
}

impl CircuitKernel for EngineKernel<'_> {
    fn run(&mut self, buf: &mut [f64], cur: Option<&mut [f64]>) {
        self.engine.run_steps(self.kernel, buf, cur);
    }
}

/// Which of the engine's inner loops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// `lane.rs` with plain (unfused) arithmetic: the portable path every machine runs.
    Portable,
    /// The path this CPU runs in production: with AVX2 and FMA the vector kernels
    /// (`rails_avx2.rs`, `lane_avx2.rs`, and the assembly loop for tabulated solves), else the
    /// portable path.
    Native,
}

impl Engine {
    /// The inner loop `kernel` of this engine's circuit, in its present state, as a
    /// [`CircuitKernel`].
    pub fn kernel(&mut self, kernel: Kernel) -> EngineKernel<'_> {
        EngineKernel { engine: self, kernel }
    }

    /// The circuit this engine runs (its settled parameters and load) as a schematic.
    pub fn output_stage(&self) -> OutputStage {
        OutputStage::new(&self.params, &self.load.network)
    }

    /// A literal reference of this engine's circuit at its internal rate, at rest, with the same
    /// discretised load.
    pub fn reference(&self) -> Reference {
        Reference::new(&self.output_stage(), &self.load.modal, self.internal_rate_hz())
    }

    /// A literal reference of the stereo circuit this engine runs as the left of a pair (both
    /// channels with its stage and load, its ground return), at rest.
    pub fn stereo_reference(&self) -> StereoReference {
        StereoReference::new(&self.output_stage(), &self.load.modal, self.internal_rate_hz(), self.params.r_ground_ohm)
    }

    /// The internal (oversampled) rate, hertz.
    pub fn internal_rate_hz(&self) -> f64 {
        self.fs_hz * self.os.factor() as f64
    }

    /// Builds the element table for the settled parameters at once (in production the audio
    /// thread builds it a little per sample). No allocation.
    pub fn complete_table(&mut self) {
        while self.table.building() {
            self.table.build_step();
        }
    }

    /// Runs the rails and the circuit over `buf` at the internal rate with `kernel`: the
    /// amplifier's open-circuit voltages in, load voltages out, parameters fixed (call
    /// [`Engine::snap_params`] after a change). With `cur` (as long as `buf`), each step's loop
    /// current goes there, amperes: what the meters read.
    pub fn run_steps(&mut self, kernel: Kernel, buf: &mut [f64], cur: Option<&mut [f64]>) {
        self.set_paired(false);
        #[cfg(target_arch = "x86_64")]
        if kernel == Kernel::Native && self.hw_fma {
            // SAFETY: `hw_fma` is set only when the CPU has AVX2 and FMA.
            unsafe { self.steps_hw(buf, cur) };
            return;
        }
        self.steps::<SoftFma>(buf, cur);
    }

    /// [`Engine::run_steps`] for a stereo pair: with [`Kernel::Native`] on AVX2 the two channels
    /// run side by side in the two-lane kernel.
    pub fn run_steps_pair(a: &mut Engine, b: &mut Engine, kernel: Kernel, ba: &mut [f64], bb: &mut [f64], cur: Option<(&mut [f64], &mut [f64])>) {
        a.set_paired(true);
        b.set_paired(true);
        #[cfg(target_arch = "x86_64")]
        if kernel == Kernel::Native && a.hw_fma && b.hw_fma {
            // SAFETY: `hw_fma` is set only when the CPU has AVX2 and FMA.
            unsafe { Self::steps_pair_hw(a, b, ba, bb, cur) };
            return;
        }
        Self::railed_pair::<SoftFma>(a, b, ba, bb, cur);
    }

    /// The rails of both channels, then [`Engine::steps_pair`] (which runs the channels one after
    /// the other where the two-lane kernel does not apply).
    #[inline(always)]
    fn railed_pair<F: Fma>(a: &mut Engine, b: &mut Engine, ba: &mut [f64], bb: &mut [f64], cur: Option<(&mut [f64], &mut [f64])>) {
        a.rails_block::<F>(ba);
        b.rails_block::<F>(bb);
        Self::steps_pair::<F>(a, b, ba, bb, cur)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn steps_hw(&mut self, buf: &mut [f64], cur: Option<&mut [f64]>) {
        self.steps::<HwFma>(buf, cur)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn steps_pair_hw(a: &mut Engine, b: &mut Engine, ba: &mut [f64], bb: &mut [f64], cur: Option<(&mut [f64], &mut [f64])>) {
        Self::railed_pair::<HwFma>(a, b, ba, bb, cur)
    }
}
