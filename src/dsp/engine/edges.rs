//! What happens to a sample before and after the circuit: smoothing and table building, the
//! input's sanitising, level and noise (`front`); normalisation by the delayed level and the output
//! guards (`back`); each per sample and for a steady chunk.
//!
//! Threading: audio thread; nothing here allocates.

use super::Engine;
use std::f64::consts::SQRT_2;

impl Engine {
    /// Per-sample bookkeeping before the circuit: smoothing, table building, input sanitising,
    /// level and noise. Returns the amplifier's open-circuit voltage, volts.
    #[inline(always)]
    pub(super) fn front(&mut self, x: f64) -> f64 {
        if self.smoothing {
            let moving = self.sm.tick();
            self.apply_smoothed();
            self.smoothing = moving;
            if !moving {
                self.request_table();
            }
        }
        if self.table.building() {
            self.table.build_step();
        }
        let mut e = open_circuit_v(x, self.level_v);
        if self.noise_sigma_v > 0.0 {
            e += self.noise_sigma_v * self.noise.gaussian();
        }
        e
    }

    /// Per-sample bookkeeping after the circuit: normalisation and the output guards.
    #[inline(always)]
    pub(super) fn back(&mut self, v_load: f64) -> f64 {
        // Level delay line: the output is normalised by the level its input was scaled with
        // (written here rather than in `front`, so a block of fronts then a block of backs keeps
        // the same write-then-read order per sample; the level cannot change inside a block).
        let n = self.level_line.len();
        let g = self.inv_level;
        self.level_line[self.level_pos] = g;
        self.level_pos = if self.level_pos + 1 == n { 0 } else { self.level_pos + 1 };
        if g == self.level_last {
            self.level_run = self.level_run.saturating_add(1);
        } else {
            (self.level_last, self.level_run) = (g, 1);
        }
        let y = v_load * self.level_line[self.level_pos];
        if !y.is_finite() {
            // Unreachable with in-range parameters; recover rather than emit garbage.
            self.recover();
            return 0.0;
        }
        if y.abs() < 1.0e-30 {
            0.0
        } else {
            y
        }
    }

    /// Clears the circuit's states after a non-finite output.
    #[cold]
    pub(super) fn recover(&mut self) {
        self.os.reset();
        self.load.modal.reset();
        self.src.reset();
        self.w_prev = 0.0;
        self.w_prev2 = 0.0;
    }

    /// [`Self::front`] for a chunk with steady parameters (no smoothing, no table building):
    /// `x` in, open-circuit voltages out. The same arithmetic, in a loop the compiler vectorises.
    #[inline(always)]
    pub(super) fn front_block(&mut self, x: &[f64], e: &mut [f64]) {
        let level = self.level_v;
        for (e, &x) in e.iter_mut().zip(x) {
            *e = open_circuit_v(x, level);
        }
        if self.noise_sigma_v > 0.0 {
            self.noise.add_block(e, self.noise_sigma_v);
        }
    }

    /// [`Self::back`] for a chunk with steady parameters: load voltages in, output samples out.
    /// When the level line holds one value throughout, as it does once the level has been steady
    /// for the latency, the line is skipped and the loop vectorises; otherwise per sample.
    #[inline(always)]
    pub(super) fn back_block(&mut self, v: &[f64], y: &mut [f64]) {
        let n = self.level_line.len();
        if !(self.level_run >= n && self.level_last == self.inv_level) {
            for (y, &v) in y.iter_mut().zip(v) {
                *y = self.back(v);
            }
            return;
        }
        self.level_pos = (self.level_pos + v.len()) % n;
        self.level_run = self.level_run.saturating_add(v.len());
        let g = self.inv_level;
        let mut bad = false;
        for (y, &v) in y.iter_mut().zip(v) {
            let o = v * g;
            let a = o.abs();
            // Non-finite (NaN fails the comparison) or below 1e-30: 0, as in `back`.
            let finite = a <= f64::MAX;
            bad |= !finite;
            *y = if finite && a >= 1.0e-30 { o } else { 0.0 };
        }
        if bad {
            self.recover();
        }
    }
}

/// The amplifier's ideal open-circuit voltage for an input sample `x` (digital full scale) at
/// `level_v` (volts RMS at 0 dBFS): `x·√2·level`, with NaN and Inf taken as silence and absurd
/// values bounded.
#[inline(always)]
fn open_circuit_v(x: f64, level_v: f64) -> f64 {
    let x = if x.is_finite() { x.clamp(-1.0e6, 1.0e6) } else { 0.0 };
    x * SQRT_2 * level_v
}
