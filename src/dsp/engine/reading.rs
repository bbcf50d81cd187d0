//! What the load goes through, read from the circuit the engine solves: its kernels hand out each
//! step's loop current beside the load voltage, and the engine sums them up here, so the meters
//! show the current the engine computed (not a second model of the load).
//!
//! Threading: audio thread. The current buffer is allocated with the engine; reading never
//! allocates. Metering is off unless asked for ([`Engine::set_metering`]): the plugin turns it on
//! only while the editor is open, the renderer for its report.

use super::Engine;

/// A current at or above this fraction of the Max Current counts as limiting (the soft knee reaches
/// about 1 % THD there; see `dsp/nonlinear.rs`). The meters' rail-clipping light uses the same
/// fraction of the rails.
pub const LIMIT_INDICATION: f64 = 0.95;

/// The load's current and power over the steps since the last [`Engine::take_reading`], at the
/// internal rate. SI units.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LoadReading {
    /// Internal-rate steps read.
    pub steps: u64,
    /// Largest |i| of the loop current, amperes.
    pub i_peak_a: f64,
    /// `Σ v·i` over the steps, watts (the mean power into the load is this over `steps`).
    pub vi_sum_w: f64,
    /// Steps whose |i| reached [`LIMIT_INDICATION`] of the Max Current then in force.
    pub limit_steps: u64,
}

impl LoadReading {
    /// Mean power into the load over the steps, watts (`None`: no steps).
    pub fn mean_power_w(&self) -> Option<f64> {
        (self.steps > 0).then(|| self.vi_sum_w / self.steps as f64)
    }

    /// Adds the steps of `v_load` (volts) and `i_loop` (amperes) with the Max Current `i_max_a`
    /// (∞: none).
    fn observe(&mut self, v_load: &[f64], i_loop: &[f64], i_max_a: f64) {
        let limit_a = LIMIT_INDICATION * i_max_a;
        let n = v_load.len().min(i_loop.len());
        let (v_load, i_loop) = (&v_load[..n], &i_loop[..n]);
        // Four running sums and peaks, so the steps do not wait on each other (the one-sum loop
        // was a serial chain of additions, a third of the meters' cost).
        let (mut peak, mut vi, mut limited) = ([self.i_peak_a; 4], [0.0f64; 4], [0u64; 4]);
        for (v4, i4) in v_load.chunks_exact(4).zip(i_loop.chunks_exact(4)) {
            for k in 0..4 {
                let a = i4[k].abs();
                peak[k] = peak[k].max(a);
                vi[k] += v4[k] * i4[k];
                limited[k] += u64::from(a >= limit_a);
            }
        }
        for (&v, &i) in v_load.chunks_exact(4).remainder().iter().zip(i_loop.chunks_exact(4).remainder()) {
            let a = i.abs();
            peak[0] = peak[0].max(a);
            vi[0] += v * i;
            limited[0] += u64::from(a >= limit_a);
        }
        let peak = peak.iter().copied().fold(self.i_peak_a, f64::max);
        let vi = (vi[0] + vi[1]) + (vi[2] + vi[3]);
        let limited: u64 = limited.iter().sum();
        self.steps += n as u64;
        self.i_peak_a = peak;
        if vi.is_finite() {
            self.vi_sum_w += vi;
        }
        self.limit_steps += limited;
    }
}

/// An engine's metering state.
#[derive(Debug, Clone)]
pub(super) struct Metering {
    pub(super) on: bool,
    /// The loop currents of a chunk, `CHUNK·factor` entries (allocated with the engine).
    pub(super) cur: Vec<f64>,
    pub(super) reading: LoadReading,
}

impl Metering {
    pub(super) fn new(len: usize) -> Self {
        Self { on: false, cur: vec![0.0; len], reading: LoadReading::default() }
    }
}

impl Engine {
    /// Turns metering on or off (audio thread; no allocation). While on, every step's current and
    /// load voltage are added to the reading; the output does not change either way.
    pub fn set_metering(&mut self, on: bool) {
        self.meter.on = on;
    }

    /// The reading since the last call, and a fresh one started (audio thread).
    pub fn take_reading(&mut self) -> LoadReading {
        std::mem::take(&mut self.meter.reading)
    }

    /// Adds a run's load voltages and loop currents to the reading.
    #[inline]
    pub(super) fn observe(&mut self, v_load: &[f64], i_loop: &[f64]) {
        self.meter.reading.observe(v_load, i_loop, self.element.i_max_a);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_sums_power_peaks_and_limit_steps() {
        let mut r = LoadReading::default();
        r.observe(&[1.0, -2.0, 0.5], &[0.1, -0.2, 0.05], 0.2);
        assert_eq!(r.steps, 3);
        assert_eq!(r.i_peak_a, 0.2);
        assert!((r.vi_sum_w - (0.1 + 0.4 + 0.025)).abs() < 1e-15);
        assert_eq!(r.limit_steps, 1);
        assert!((r.mean_power_w().unwrap() - 0.525 / 3.0).abs() < 1e-15);
        r.observe(&[1.0], &[0.3], f64::INFINITY);
        assert_eq!((r.steps, r.i_peak_a, r.limit_steps), (4, 0.3, 1));
        assert_eq!(LoadReading::default().mean_power_w(), None);
    }
}
