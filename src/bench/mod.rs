//! The virtual bench: an emulated output measured as an audio analyser measures a real one, from
//! rendered audio (issue 18). A coherent sine goes through the same engine the plugin runs, into
//! a resistive load; the analyser reads the load voltage's spectrum.
//!
//! * Output impedance from two loads: with the open-circuit source `E` and output impedance `Z`,
//!   `V_k = E·R_k/(R_k + Z)`, so from the load voltages `V_a`, `V_b` into `R_a`, `R_b`:
//!   `Z = (V_a − V_b)/(V_b/R_b − V_a/R_a)` (the two-load method of, e.g., AES17 §6.7's output
//!   impedance by load variation).
//! * Maximum output: the level at which the load voltage's THD reaches a threshold (1 %, the
//!   usual rating), found by bisection on the drive; the fundamental's RMS voltage there and its
//!   power `V²/R`, as an analyser reports them.
//!
//! Threading: any thread but the audio thread (allocates; tens of milliseconds per measurement).

use crate::dsp::nonlinear::knee;
use crate::dsp::{Engine, Network, Quality, StageParams};
use realfft::RealFftPlanner;
use std::f64::consts::{PI, SQRT_2};

/// The analyser's settings: base rate, test frequency and frame length (whole periods).
#[derive(Debug, Clone, Copy)]
pub struct Analyser {
    pub fs_hz: f64,
    pub f_hz: f64,
    /// Samples per frame; the test frequency sits exactly on a bin.
    pub frame: usize,
}

impl Default for Analyser {
    fn default() -> Self {
        // 1 kHz at 48 kHz: 200 periods in 9600 samples.
        Self { fs_hz: 48_000.0, f_hz: 1000.0, frame: 9600 }
    }
}

/// One sine reading with its noise: fundamental (V RMS at the load), THD and THD+N (ratios).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct SineReading {
    pub v_rms: f64,
    pub thd: f64,
    pub thd_n: f64,
}

/// The maximum output into one load.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct MaxOutput {
    pub r_load_ohm: f64,
    /// Fundamental at the threshold, V RMS, and the power it puts into the load, watts.
    pub v_rms: f64,
    pub p_w: f64,
    /// The open-circuit drive that gives it, V RMS.
    pub drive_v_rms: f64,
    /// True when digital full scale, not the THD threshold, set the maximum.
    pub at_full_scale: bool,
}

impl Analyser {
    /// The load voltage of `stage` driving `r_load_ohm` with a sine whose open-circuit RMS is
    /// `e_rms` volts, measured over the frame after one frame of settling (noise off).
    pub fn read(&self, stage: &StageParams, r_load_ohm: f64, e_rms: f64) -> SineReading {
        self.read_sine(stage, &Network::R(r_load_ohm), e_rms, false)
    }

    /// A sine of open-circuit RMS `e_rms` volts at [`Self::f_hz`] into `load`: its fundamental,
    /// THD (every harmonic below Nyquist) and THD+N (everything but the fundamental from 20 Hz to
    /// 20 kHz, the AES17 bandwidth), with the stage's noise floor when `noise`.
    pub fn read_sine(&self, stage: &StageParams, load: &Network, e_rms: f64, noise: bool) -> SineReading {
        let (sine, k0) = self.test_tone(e_rms);
        let spec = self.steady_spectrum(stage, load, self.frame, noise, sine);
        let amp = |k: usize| spec.get(k).copied().unwrap_or(0.0);
        let h1 = amp(k0);
        // Every harmonic below the base rate's Nyquist frequency.
        let h_max = (self.frame / 2) / k0;
        let harm = (2..=h_max).map(|h| amp(h * k0).powi(2)).sum::<f64>().sqrt();
        let bin_hz = self.fs_hz / self.frame as f64;
        let (lo, hi) = ((20.0 / bin_hz).ceil() as usize, ((20_000.0 / bin_hz).floor() as usize).min(spec.len() - 1));
        let rest = (lo..=hi).filter(|&k| k != k0).map(|k| amp(k).powi(2)).sum::<f64>().sqrt();
        let ratio = |x: f64| if h1 > 0.0 { x / h1 } else { f64::INFINITY };
        SineReading { v_rms: h1 / SQRT_2, thd: ratio(harm), thd_n: ratio(rest) }
    }

    /// The test tone at [`Self::f_hz`] of open-circuit RMS `e_rms` volts, as volts at sample `k`,
    /// and the spectrum bin it falls in.
    fn test_tone(&self, e_rms: f64) -> (impl Fn(usize) -> f64, usize) {
        let w = 2.0 * PI * self.f_hz / self.fs_hz;
        let k0 = (self.f_hz * self.frame as f64 / self.fs_hz).round() as usize;
        (move |k: usize| SQRT_2 * e_rms * (w * k as f64).sin(), k0)
    }

    /// Drives `stage` into `load` with the periodic signal `e_v(k)` (open-circuit volts at sample
    /// `k`, period `frame`) for two periods and returns the load voltage's amplitude spectrum over
    /// the second (peak volts per bin, bins `fs/frame` apart).
    pub(crate) fn steady_spectrum(&self, stage: &StageParams, load: &Network, frame: usize, noise: bool, e_v: impl Fn(usize) -> f64) -> Vec<f64> {
        let mut p = *stage;
        if !noise {
            p.noise_dbv = None;
        }
        // A stage's Level is the open-circuit RMS at 0 dBFS: a sample `x` is `x·√2·Level` volts.
        let to_fs = 1.0 / (SQRT_2 * p.level_v);
        let mut e = Engine::new(self.fs_hz, Quality::Default, load, &p, 1).expect("library and bench loads are valid networks");
        let mut x: Vec<f64> = (0..2 * frame).map(|k| e_v(k % frame) * to_fs).collect();
        e.process_block_f64(&mut x);
        spectrum(&x[frame..], to_fs)
    }

    /// [`Self::steady_spectrum`] for a stereo pair sharing `stage`'s ground return (noise off):
    /// `e_v` drives the left channel, the right is silent; both earpieces' spectra.
    pub(crate) fn steady_spectra_pair(&self, stage: &StageParams, load: &Network, frame: usize, e_v: impl Fn(usize) -> f64) -> [Vec<f64>; 2] {
        let p = StageParams { noise_dbv: None, ..*stage };
        let to_fs = 1.0 / (SQRT_2 * p.level_v);
        let engine = |seed| Engine::new(self.fs_hz, Quality::Default, load, &p, seed).expect("library and bench loads are valid networks");
        let (mut a, mut b) = (engine(1), engine(2));
        let mut l: Vec<f64> = (0..2 * frame).map(|k| e_v(k % frame) * to_fs).collect();
        let mut r = vec![0.0; 2 * frame];
        Engine::process_block_pair_f64(&mut a, &mut b, &mut l, &mut r);
        [spectrum(&l[frame..], to_fs), spectrum(&r[frame..], to_fs)]
    }

    /// Output impedance from the load voltages into `r_a` and `r_b` at a drive 20 dB below the
    /// limits into the smaller load (and at most 0.1 V), ohms: far from clipping and limiting, and
    /// well above a class-AB stage's crossover region, where its output impedance rises. With a
    /// shared ground, one channel is read with the other idle and equally loaded, as an analyser
    /// reads one channel of a TRS output: about `Zs + R_g`.
    pub fn output_impedance(&self, stage: &StageParams, r_a: f64, r_b: f64) -> f64 {
        let e = predicted_max_e(stage, r_a.min(r_b)).map_or(0.1, |e| (0.1 * e).min(0.1));
        let read = |r: f64| {
            if stage.r_ground_ohm > 0.0 {
                let (sine, k0) = self.test_tone(e);
                let [left, _] = self.steady_spectra_pair(stage, &Network::R(r), self.frame, sine);
                left[k0] / SQRT_2
            } else {
                self.read(stage, r, e).v_rms
            }
        };
        let (va, vb) = (read(r_a), read(r_b));
        (va - vb) / (vb / r_b - va / r_a)
    }

    /// The largest output into `r_load_ohm` whose THD stays at `thd` (0.01 for 1 %), driving at
    /// most digital full scale (0 dBFS, as an analyser drives a DAC): a stage whose Level sits
    /// below its limits gives its 0 dBFS output.
    pub fn max_output(&self, stage: &StageParams, r_load_ohm: f64, thd: f64) -> MaxOutput {
        self.max_output_into(stage, &Network::R(r_load_ohm), thd)
    }

    /// [`Self::max_output`] into any load network; `r_load_ohm` is then |Z| at the test frequency
    /// and the power is the real power `V²·Re(1/Z)`.
    pub fn max_output_into(&self, stage: &StageParams, load: &Network, thd: f64) -> MaxOutput {
        let z = load.impedance(self.f_hz);
        let out = |v: f64, e: f64, at_full_scale: bool| MaxOutput { r_load_ohm: z.norm(), v_rms: v, p_w: v * v * z.inv().re, drive_v_rms: e, at_full_scale };
        let read = |e: f64| self.read_sine(stage, load, e, false);
        let full_scale = stage.level_v;
        let at_fs = read(full_scale);
        if at_fs.thd <= thd {
            return out(at_fs.v_rms, full_scale, true);
        }
        // Bracket the drive around the linear prediction (rails or current limit), then bisect in dB.
        let guess = predicted_max_e(stage, z.norm()).unwrap_or(full_scale).min(full_scale);
        let (mut lo, mut hi) = ((guess / 8.0).ln(), (guess * 8.0).min(full_scale).ln());
        for _ in 0..40 {
            let mid = 0.5 * (lo + hi);
            if read(mid.exp()).thd > thd {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        out(read(lo.exp()).v_rms, lo.exp(), false)
    }
}

/// The open-circuit RMS drive at which a linear stage reaches its rails (`E = V_max`) or its
/// current limit (`√2·E/(R + Zs) = I_max`), whichever comes first (`None`: no limit).
pub fn predicted_max_e(stage: &StageParams, r_load_ohm: f64) -> Option<f64> {
    let by_v = stage.v_max_v;
    let by_i = stage.i_max_a.map(|i| i * (r_load_ohm + stage.r_out_ohm) / SQRT_2);
    match (by_v, by_i) {
        (Some(v), Some(i)) => Some(v.min(i)),
        (v, i) => v.or(i),
    }
}

/// The analytic maximum load voltage (V RMS) at 1 % THD of a stage with resistive output
/// impedance whose limits are far apart: the predicted drive through the divider `R/(R + Zs)`,
/// times the knee's fundamental gain at onset ([`knee_fundamental_gain`]). The knee is calibrated so
/// a sine whose linear peak reaches the onset has exactly 1 % THD (`dsp/nonlinear.rs`); its
/// fundamental is then slightly compressed.
pub fn predicted_max_v(stage: &StageParams, r_load_ohm: f64) -> Option<f64> {
    predicted_max_e(stage, r_load_ohm).map(|e| e * r_load_ohm / (r_load_ohm + stage.r_out_ohm) * knee_fundamental_gain())
}

/// The fundamental of the soft knee `S` driven by a unit sine at its onset, relative to the
/// sine: `(2/π)·∫₀^π S(sin θ)·sin θ dθ` (midpoint rule, 4096 points).
pub fn knee_fundamental_gain() -> f64 {
    let n = 4096;
    let h = PI / n as f64;
    (0..n).map(|k| {
        let t = (k as f64 + 0.5) * h;
        knee(t.sin()).0 * t.sin()
    }).sum::<f64>() * h * 2.0 / PI
}

pub mod sweeps;
pub use sweeps::{measure, LevelPoint, Measurement, ResponsePoint, LOAD_SWEEP_OHM};

/// The amplitude spectrum of one period `x` of engine output (load volts times `to_fs`), peak
/// volts per bin.
fn spectrum(x: &[f64], to_fs: f64) -> Vec<f64> {
    let frame = x.len();
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(frame);
    let mut inp = x.to_vec();
    let mut out = fft.make_output_vec();
    fft.process(&mut inp, &mut out).expect("frame length matches the plan");
    // The engine's output is the load voltage over the Level's peak (see `engine/edges.rs`).
    out.iter().map(|c| 2.0 * c.norm() / frame as f64 / to_fs).collect()
}

#[cfg(test)]
mod tests;

