//! The circuit engine: an output stage driving a load, simulated sample by sample.
//!
//! Schematic order (docs/MODEL.md has the figure and every equation):
//!
//! ```text
//!  x ──► e = x·√2·V_fs (+ noise) ──► rail clip ──► Δv(i) ──► R_out ── L_out ── C_block ──► load ─┐
//!                                    (amplifier)  (current limit,                                │
//!                                                  crossover, r_mod)                           ground
//! ```
//!
//! The passive part (R_out, L_out, C_block and the load network) is one wave digital filter; the
//! amplifier's nonlinear series element is its root, solved by safeguarded Newton each sample
//! against the tree's Thévenin equivalent. The whole circuit runs oversampled (`resample.rs`).
//! The output is the load voltage normalised so an ideal stage is transparent:
//! `y = v_load/(√2·V_fs)`.
//!
//! Threading: an `Engine` belongs to the audio thread after `prepare`. Everything that allocates
//! (`new`, `prepare`, `build_load`) is meant for other threads or for activation; `set_params`,
//! `swap_load` and `process*` never allocate, lock or do I/O.

use super::network::{build, Network, NetworkError};
use super::noise::Noise;
use super::nonlinear::{rail_clip, OutputElement};
use super::resample::{Oversampler, Quality, MAX_FACTOR};
use super::smoother::Smoother;
use super::statespace::StateSpace;
use super::stage::StageParams;
use super::wdf::Wdf;
use std::f64::consts::SQRT_2;

/// Stand-ins for "absent" while a parameter smooths towards or away from absence; once settled
/// there, the element is removed exactly.
const NONE_V_MAX_V: f64 = 1.0e4;
const NONE_I_MAX_A: f64 = 1.0e4;
const NONE_C_BLOCK_F: f64 = 100.0;
/// Offset for smoothing the output resistance in the log domain through 0 Ω, ohms.
const R_LOG_OFFSET_OHM: f64 = 0.01;
/// Current scale of the crossover region, amperes: the class-AB quiescent current of a small
/// headphone output stage is a few milliamperes (D. Self, *Audio Power Amplifier Design*, 6th ed.,
/// ch. 9, optimal class-B bias), so the dead band acts within about ±1 mA.
const XO_CURRENT_A: f64 = 1.0e-3;
/// Frequency at which the bilinear transform is exact, hertz. With the default internal rate
/// (≥ 352.8 kHz) the residual warping is below ±0.5 % in frequency from 0 to 20 kHz.
pub const PREWARP_HZ: f64 = 16_000.0;
/// Audio band over which the load's minimum impedance is taken (for the limiter knee), hertz.
const BAND_HZ: (f64, f64) = (20.0, 20_000.0);

/// A load compiled for one engine's internal sample rate, ready to swap in without allocating.
/// Build it with [`Engine::build_load`] off the audio thread.
#[derive(Debug, Clone)]
pub struct PreparedLoad {
    /// The WDF is the circuit's definition; `ss` is its state-space form that actually runs.
    wdf: Wdf,
    ss: StateSpace,
    /// Source-element values (R, L, C) `ss` was extracted for.
    ss_for: [f64; 3],
    /// Node indices of R_out, L_out, C_block and the load in `wdf`.
    idx: [usize; 4],
    /// Minimum |Z_load| over the audio band, ohms.
    min_z_ohm: f64,
    network: Network,
}

impl PreparedLoad {
    /// The load network this was compiled from.
    pub fn network(&self) -> &Network {
        &self.network
    }
}

/// Smoothed copies of every continuous stage parameter.
#[derive(Debug, Clone, Copy)]
struct Smoothed {
    level_v: Smoother,
    v_max_v: Smoother,
    i_max_a: Smoother,
    bias: Smoother,
    xo_v: Smoother,
    r_mod_ohm: Smoother,
    r_out: Smoother,
    l_out_h: Smoother,
    c_block_f: Smoother,
    noise_v: Smoother,
}

impl Smoothed {
    fn new(p: &StageParams) -> Self {
        let t = targets(p);
        Self {
            level_v: Smoother::new(t[0], true),
            v_max_v: Smoother::new(t[1], true),
            i_max_a: Smoother::new(t[2], true),
            bias: Smoother::new(t[3], false),
            xo_v: Smoother::new(t[4], false),
            r_mod_ohm: Smoother::new(t[5], false),
            r_out: Smoother::new(t[6], true),
            l_out_h: Smoother::new(t[7], false),
            c_block_f: Smoother::new(t[8], true),
            noise_v: Smoother::new(t[9], false),
        }
    }
    fn all(&mut self) -> [&mut Smoother; 10] {
        [
            &mut self.level_v,
            &mut self.v_max_v,
            &mut self.i_max_a,
            &mut self.bias,
            &mut self.xo_v,
            &mut self.r_mod_ohm,
            &mut self.r_out,
            &mut self.l_out_h,
            &mut self.c_block_f,
            &mut self.noise_v,
        ]
    }
}

/// Smoother targets in smoothing order (see `Smoothed::all`).
fn targets(p: &StageParams) -> [f64; 10] {
    [
        p.level_v,
        p.v_max_v.unwrap_or(NONE_V_MAX_V),
        p.i_max_a.unwrap_or(NONE_I_MAX_A),
        p.bias,
        p.xo_v,
        p.r_mod_ohm,
        p.r_out_ohm + R_LOG_OFFSET_OHM,
        p.l_out_h,
        p.c_block_f.unwrap_or(NONE_C_BLOCK_F),
        p.noise_dbv.map_or(0.0, |d| 10f64.powf(d / 20.0)),
    ]
}

/// One channel of the circuit simulation.
#[derive(Debug, Clone)]
pub struct Engine {
    fs_hz: f64,
    quality: Quality,
    os: Oversampler,
    load: PreparedLoad,
    params: StageParams,
    sm: Smoothed,
    smoothing: bool,
    /// Derived, per-sample values.
    v_peak_v: f64,
    element: OutputElement,
    noise_sigma_v: f64,
    /// Newton warm start (see `OutputElement::solve`).
    w_prev: f64,
    /// The solution before that (for the linear-extrapolation warm start).
    w_prev2: f64,
    noise: Noise,
    /// Seed of `noise` (kept so `prepare` reproduces the same sequence).
    seed: u64,
    /// Level delay line, so the output is normalised by the level its input was scaled with.
    level_line: Vec<f64>,
    level_pos: usize,
    buf: [f64; MAX_FACTOR],
    /// Newton/bisection iterations since creation (diagnostics for the benchmark).
    iterations: u64,
}

impl Engine {
    /// Creates and prepares an engine for `fs_hz` driving `load` (allocates).
    pub fn new(fs_hz: f64, quality: Quality, load: &Network, params: &StageParams, seed: u64) -> Result<Self, NetworkError> {
        let os = Oversampler::new(fs_hz, quality);
        let load = build_load_at(load, fs_hz * os.factor() as f64)?;
        let params = params.sanitized();
        let mut e = Self {
            fs_hz,
            quality,
            level_line: vec![params.level_v; os.latency() + 1],
            os,
            load,
            params,
            sm: Smoothed::new(&params),
            smoothing: false,
            v_peak_v: f64::INFINITY,
            element: OutputElement::IDEAL,
            noise_sigma_v: 0.0,
            w_prev: 0.0,
            w_prev2: 0.0,
            noise: Noise::new(seed),
            seed,
            level_pos: 0,
            buf: [0.0; MAX_FACTOR],
            iterations: 0,
        };
        e.sm.all().iter_mut().for_each(|s| s.set_rate(fs_hz));
        e.apply_smoothed(true);
        Ok(e)
    }

    /// Re-prepares for a new sample rate or quality, keeping load and parameters (allocates).
    pub fn prepare(&mut self, fs_hz: f64, quality: Quality) -> Result<(), NetworkError> {
        *self = Self::new(fs_hz, quality, &self.load.network.clone(), &self.params, self.seed)?;
        Ok(())
    }


    /// Base sample rate, hertz.
    pub fn sample_rate(&self) -> f64 {
        self.fs_hz
    }

    /// Render quality chosen at preparation.
    pub fn quality(&self) -> Quality {
        self.quality
    }

    /// Internal oversampling factor.
    pub fn oversampling(&self) -> usize {
        self.os.factor()
    }

    /// Latency in base-rate samples (exact; report it to the host).
    pub fn latency(&self) -> usize {
        self.os.latency()
    }

    /// The stage parameters currently targeted.
    pub fn params(&self) -> &StageParams {
        &self.params
    }

    /// Compiles `net` for this engine's internal rate (allocates: call off the audio thread).
    pub fn build_load(&self, net: &Network) -> Result<PreparedLoad, NetworkError> {
        build_load_at(net, self.fs_hz * self.os.factor() as f64)
    }

    /// Swaps in a prepared load (no allocation) and returns the old one, to be dropped elsewhere.
    /// The new load starts from rest; hosts crossfade if they need a click-free change.
    pub fn swap_load(&mut self, mut new: PreparedLoad) -> PreparedLoad {
        std::mem::swap(&mut self.load, &mut new);
        self.load.ss.reset();
        self.apply_smoothed(true);
        new
    }

    /// Sets new target parameters (sanitised into range); they are reached smoothly.
    pub fn set_params(&mut self, p: &StageParams) {
        let p = p.sanitized();
        if p == self.params {
            return;
        }
        self.params = p;
        let t = targets(&p);
        for (s, v) in self.sm.all().into_iter().zip(t) {
            s.set(v, false);
        }
        self.smoothing = true;
    }

    /// Jumps to the target parameters at once (for offline set-up and tests).
    pub fn snap_params(&mut self) {
        let t = targets(&self.params);
        for (s, v) in self.sm.all().into_iter().zip(t) {
            s.set(v, true);
        }
        self.apply_smoothed(true);
        self.level_line.iter_mut().for_each(|l| *l = self.params.level_v);
    }

    /// Clears every state: filters, circuit, noise sequence.
    pub fn reset(&mut self) {
        self.os.reset();
        self.load.ss.reset();
        self.noise.reset();
        self.w_prev = 0.0;
        self.w_prev2 = 0.0;
        self.snap_params();
    }

    /// Pushes the smoothed values into the circuit. `force` also re-applies settled values.
    fn apply_smoothed(&mut self, force: bool) {
        let p = self.params;
        let sm = &self.sm;
        // Rails.
        self.v_peak_v = if p.v_max_v.is_none() && sm.v_max_v.settled() {
            f64::INFINITY
        } else {
            SQRT_2 * sm.v_max_v.value()
        };
        // Source network.
        let r_out = if p.r_out_ohm == 0.0 && sm.r_out.settled() {
            0.0
        } else {
            (sm.r_out.value() - R_LOG_OFFSET_OHM).max(0.0)
        };
        let l_out = if p.l_out_h == 0.0 && sm.l_out_h.settled() { 0.0 } else { sm.l_out_h.value().max(0.0) };
        let c_blk = if p.c_block_f.is_none() && sm.c_block_f.settled() {
            f64::INFINITY
        } else {
            sm.c_block_f.value()
        };
        let [ir, il, ic, _] = self.load.idx;
        let w = &mut self.load.wdf;
        // The three source elements are children of the root adaptor; when they change, the
        // state-space form is re-read from the WDF ((n+1) passes, no allocation).
        let vals = [r_out, l_out, c_blk];
        if force || vals != self.load.ss_for {
            w.set_root_child(ir, r_out);
            w.set_root_child(il, l_out);
            w.set_root_child(ic, c_blk);
            let probe = self.load.idx[3];
            self.load.ss.extract(w, probe);
            self.load.ss_for = vals;
        }
        // Output element.
        let limited = !(p.i_max_a.is_none() && sm.i_max_a.settled());
        let i_max = sm.i_max_a.value();
        let bias = sm.bias.value().clamp(0.0, 1.0);
        self.element = OutputElement {
            i_max_a: if limited { i_max } else { f64::INFINITY },
            v_knee_v: i_max * (r_out + self.load.min_z_ohm),
            r_mod_ohm: sm.r_mod_ohm.value().max(0.0),
            v_xo_v: sm.xo_v.value().max(0.0) * (1.0 - bias) * (1.0 - bias),
            i_xo_a: XO_CURRENT_A,
        };
        // Noise: white at the base rate with the given RMS in 20 Hz–20 kHz.
        self.noise_sigma_v = sm.noise_v.value().max(0.0) * (0.5 * self.fs_hz / 20_000.0).sqrt();
    }

    /// Processes one base-rate sample (digital full scale in and out).
    #[inline]
    pub fn process_sample(&mut self, x: f64) -> f64 {
        if self.smoothing {
            let mut moving = false;
            for s in self.sm.all() {
                moving |= s.tick();
            }
            self.apply_smoothed(false);
            self.smoothing = moving;
        }
        let x = if x.is_finite() { x.clamp(-1.0e6, 1.0e6) } else { 0.0 };
        let level = self.sm.level_v.value();
        let mut e = x * SQRT_2 * level;
        if self.noise_sigma_v > 0.0 {
            e += self.noise_sigma_v * self.noise.gaussian();
        }
        let mut buf = self.buf;
        self.os.up(e, &mut buf);
        for v in buf.iter_mut().take(self.os.factor()) {
            *v = self.circuit(*v);
        }
        let v_load = self.os.down(&mut buf);
        // Level delay line: normalise by the level this output's input was scaled with.
        let n = self.level_line.len();
        self.level_line[self.level_pos] = level;
        self.level_pos = if self.level_pos + 1 == n { 0 } else { self.level_pos + 1 };
        let level_then = self.level_line[self.level_pos];
        let y = v_load / (SQRT_2 * level_then);
        if !y.is_finite() {
            // Unreachable with in-range parameters; recover rather than emit garbage.
            self.os.reset();
            self.load.ss.reset();
            self.w_prev = 0.0;
            self.w_prev2 = 0.0;
            return 0.0;
        }
        if y.abs() < 1.0e-30 {
            0.0
        } else {
            y
        }
    }

    /// One oversampled step of the circuit: returns the load voltage, volts.
    #[inline]
    fn circuit(&mut self, e_v: f64) -> f64 {
        let ve = rail_clip(e_v, self.v_peak_v);
        let ss = &mut self.load.ss;
        let b = ss.reflected();
        let rp = ss.port_resistance();
        // Warm start by linear extrapolation of the last two solutions: at ≥ 384 kHz the signal is
        // smooth, so Newton usually needs one or two steps.
        let mut w = 2.0 * self.w_prev - self.w_prev2;
        let mut it = 0;
        let i = self.element.solve_count(ve - b, rp, &mut w, &mut it);
        self.iterations += it as u64;
        self.w_prev2 = self.w_prev;
        self.w_prev = w;
        ss.incident(b + 2.0 * rp * i)
    }

    /// Processes a block in place (f32, as hosts deliver it).
    pub fn process_block(&mut self, io: &mut [f32]) {
        for s in io.iter_mut() {
            let y = self.process_sample(*s as f64) as f32;
            // f32 subnormals start at 1.18e-38; the f64 flush above already keeps |y| ≥ 1e-30.
            *s = y;
        }
        self.load.ss.flush_denormals();
    }

    /// Processes a block of f64 samples in place.
    pub fn process_block_f64(&mut self, io: &mut [f64]) {
        for s in io.iter_mut() {
            *s = self.process_sample(*s);
        }
        self.load.ss.flush_denormals();
    }

    /// Nonlinear-solver iterations so far (diagnostics).
    pub fn solver_iterations(&self) -> u64 {
        self.iterations
    }

    /// The current element law (for the SPICE cross-check and diagnostics).
    pub fn output_element(&self) -> OutputElement {
        self.element
    }
}

fn build_load_at(net: &Network, fs_internal_hz: f64) -> Result<PreparedLoad, NetworkError> {
    net.validate()?;
    // Placeholder values; the engine sets the real ones (including "absent") at once.
    let top = build::series(vec![build::r(1.0), build::l(1e-6), build::c(1e-3), net.clone()]);
    let (wdf, idx) = Wdf::build_prewarped(&top, fs_internal_hz, Some(PREWARP_HZ))?;
    Ok(PreparedLoad {
        ss: StateSpace::new(&wdf),
        ss_for: [f64::NAN; 3],
        wdf,
        idx: [idx[0], idx[1], idx[2], idx[3]],
        min_z_ohm: net.min_magnitude(BAND_HZ.0, BAND_HZ.1),
        network: net.clone(),
    })
}
