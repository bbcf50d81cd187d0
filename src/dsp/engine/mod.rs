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
//! Everything is in series, so one current `i` flows through the loop and every element is a
//! discrete-time relation `v = R·i + h` (a resistance times this sample's current plus a history
//! known before the sample is solved):
//! - the load: a fixed-pole modal filter fitted to be exact across the audio band (`modal.rs`),
//!   run as an impedance (`v = d₀·i + h`) or an admittance (`i = d₀·v + h`);
//! - the coupling capacitor and series inductor: trapezoidal companion models (the bilinear
//!   transform of each element alone, pre-warped where that element matters; Dommel, "Digital
//!   computer solution of electromagnetic transients", IEEE Trans. PAS 88(4), 1969);
//! - R_out: a plain resistance, so moving the output-impedance knob costs nothing.
//!
//! The amplifier's nonlinear element then sees a Thévenin source `u = R_tot·i + Δv(i)` and is solved
//! by safeguarded Newton each sample (`nonlinear.rs`). The circuit runs oversampled
//! (`resample.rs`). The output is the load voltage normalised so an ideal stage is transparent:
//! `y = v_load/(√2·V_fs)`.
//!
//! Threading: an `Engine` belongs to the audio thread after `prepare`. Everything that allocates
//! (`new`, `prepare`, `build_load`) is meant for other threads or for activation; `set_params`,
//! `swap_load` and `process*` never allocate, lock or do I/O.

mod contract;
mod edges;
mod kernels;
mod reading;
mod smoothing;
pub use contract::{CircuitKernel, EngineKernel, Kernel};
pub use reading::{LoadReading, LIMIT_INDICATION};

use reading::Metering;

use smoothing::{Smoothed, R_LOG_OFFSET_OHM};

use super::circuit::{capacitor_companion_ohm, inductor_companion_ohm, output_element, BAND_HZ, Z_REF_HZ};
use super::lane::{Ground, Source};
use super::modal::{ModalLoad, PortForm};
use super::network::{Network, NetworkError};
use super::noise::Noise;
use super::nonlinear::{knee_table, KneeTable, OutputElement, KNEE_CEILING};
use super::simd::{has_avx2_fma, Fma, HwFma, SoftFma};
use super::resample::{Oversampler, Quality, MAX_FACTOR};
use super::stage::StageParams;
use super::table::SolveTable;
use std::f64::consts::SQRT_2;

/// Base-rate samples per chunk of steady-state block processing: the kernel's and the resampler's
/// per-call setup spread over more steps (measured on `benches/probes/variants.rs`: 512 is about 1 ns
/// per channel-sample faster than 128 at both qualities; the buffers, `512·factor` samples, are
/// allocated in `new`).
const CHUNK: usize = 512;
/// A load compiled for one engine's internal sample rate, ready to swap in without allocating.
/// Build it with [`Engine::build_load`] off the audio thread.
#[derive(Debug, Clone)]
pub struct PreparedLoad {
    /// The load's discrete-time port relation at the engine's internal rate.
    modal: ModalLoad,
    /// This sample's resistance of the load, ohms: `d₀` for the impedance form, `1/d₀` for the
    /// admittance form (`v_load = z·i + h_load` either way).
    z_direct_ohm: f64,
    /// Minimum |Z_load| over the audio band, ohms.
    min_z_ohm: f64,
    /// |Z_load| at [`Z_REF_HZ`], ohms (for the companions' pre-warp corners).
    z_ref_ohm: f64,
    /// The internal rate it was compiled for, hertz (an engine at another rate refuses it).
    fs_internal_hz: f64,
    network: Network,
}

impl PreparedLoad {
    /// Compiles `net` for an engine at base rate `fs_hz` and `quality` (allocates and fits the
    /// modal filter, about a millisecond: off the audio thread). Engines and slots share one build
    /// by cloning it.
    pub fn build(net: &Network, fs_hz: f64, quality: Quality) -> Result<Self, NetworkError> {
        build_load_at(net, fs_hz * Oversampler::factor_for(fs_hz, quality) as f64)
    }

    /// The load network this was compiled from.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The load's modal filter (fit report, form).
    pub fn modal(&self) -> &ModalLoad {
        &self.modal
    }
}

/// One channel of the circuit simulation.
#[derive(Debug, Clone)]
pub struct Engine {
    fs_hz: f64,
    quality: Quality,
    os: Oversampler,
    load: PreparedLoad,
    src: Source,
    params: StageParams,
    sm: Smoothed,
    smoothing: bool,
    /// Derived, per-sample values.
    v_peak_v: f64,
    /// `1/v_peak_v` (0: no rails).
    inv_v_peak: f64,
    knee: &'static KneeTable,
    /// Smoothed level, volts RMS at 0 dBFS, and the output normaliser `1/(√2·level)`.
    level_v: f64,
    inv_level: f64,
    /// The element's loop equation tabulated for the settled parameters.
    table: SolveTable,
    /// Whether the table may be used (see [`Engine::set_table_enabled`]).
    table_enabled: bool,
    element: OutputElement,
    noise_sigma_v: f64,
    /// Newton warm start (see `OutputElement::solve`).
    w_prev: f64,
    /// The solution before that (for the linear-extrapolation warm start).
    w_prev2: f64,
    noise: Noise,
    /// Seed of `noise` (kept so `prepare` reproduces the same sequence).
    seed: u64,
    /// Delay line of the output normaliser `1/(√2·level)`, so the output is normalised by the level
    /// its input was scaled with.
    level_line: Vec<f64>,
    level_pos: usize,
    /// The value last written to `level_line`, and how many writes in a row it has had: once that
    /// reaches the line's length, every entry holds it and a block can skip the line.
    level_last: f64,
    level_run: usize,
    /// Chunk buffers for block processing: base-rate (`CHUNK`) and oversampled
    /// (`CHUNK·factor`), allocated in `new`.
    lo_buf: Vec<f64>,
    hi_buf: Vec<f64>,
    /// The oversampler's `f32` output for a chunk, before the rails (see [`Self::up_railed`]).
    hi32: Vec<f32>,
    /// The element is a plain wire (cached `element.is_linear()`).
    linear: bool,
    /// Loop resistance `R_tot = R_out + R_C + R_L + z_load` (ohms) and its inverse (siemens), set
    /// with the parameters.
    r_tot_ohm: f64,
    inv_r_tot: f64,
    /// The instruction set, chosen once here for everything the engine owns: with AVX2 and FMA
    /// (and not [`Engine::set_baseline_code`]) the per-sample and block code run their FMA
    /// copies, the kernels their vector forms and the oversampler its AVX2 stages.
    hw_fma: bool,
    /// Newton/bisection iterations since creation (diagnostics for the benchmark).
    iterations: u64,
    /// The load's current and power as the kernels computed them (`reading.rs`).
    meter: Metering,
    /// The shared ground return this sample (smoothed resistance, ohms) and its voltage in the
    /// last two steps (the coupled solve's start). A stereo pair uses the left engine's.
    ground: Ground,
    /// Whether this engine is one channel of a stereo pair (`process_block_pair_f64`) rather than
    /// one channel played into both earpieces. Alone, both earpieces carry its current, so the
    /// shared ground is `2·R_g` in series with its loop and is folded into `r_tot_ohm` (an exact
    /// identity, at no cost per step); in a pair the coupled kernels solve the ground.
    paired: bool,
}

impl Engine {
    /// Creates and prepares an engine for `fs_hz` driving `load` (allocates).
    pub fn new(fs_hz: f64, quality: Quality, load: &Network, params: &StageParams, seed: u64) -> Result<Self, NetworkError> {
        Self::with_load(Oversampler::new(fs_hz, quality), PreparedLoad::build(load, fs_hz, quality)?, params, seed)
    }

    /// As [`Engine::new`], with the oversampler already designed and the load already compiled
    /// for its rate and quality (clones of shared ones: allocates, but designs and fits nothing,
    /// which is what keeps the plugin's activation cheap).
    pub fn with_load(os: Oversampler, load: PreparedLoad, params: &StageParams, seed: u64) -> Result<Self, NetworkError> {
        let (fs_hz, quality, factor) = (os.sample_rate(), os.quality(), os.factor());
        if load.fs_internal_hz != fs_hz * factor as f64 {
            return Err(NetworkError(format!(
                "the load was compiled for {} Hz internally, the engine runs at {} Hz",
                load.fs_internal_hz,
                fs_hz * factor as f64
            )));
        }
        let params = params.sanitized();
        let mut e = Self {
            fs_hz,
            quality,
            level_line: vec![1.0 / (SQRT_2 * params.level_v); os.latency() + 1],
            os,
            load,
            src: Source::default(),
            params,
            sm: Smoothed::new(&params, fs_hz),
            smoothing: false,
            v_peak_v: f64::INFINITY,
            inv_v_peak: 0.0,
            knee: knee_table(),
            level_v: params.level_v,
            inv_level: 1.0 / (SQRT_2 * params.level_v),
            table: SolveTable::new(),
            table_enabled: true,
            element: OutputElement::IDEAL,
            noise_sigma_v: 0.0,
            w_prev: 0.0,
            w_prev2: 0.0,
            noise: Noise::new(seed),
            seed,
            level_pos: 0,
            level_last: 1.0 / (SQRT_2 * params.level_v),
            level_run: usize::MAX,
            r_tot_ohm: 0.0,
            inv_r_tot: 0.0,
            linear: true,
            lo_buf: vec![0.0; CHUNK],
            hi_buf: vec![0.0; CHUNK * factor],
            hi32: vec![0.0; CHUNK * factor],
            hw_fma: cfg!(target_arch = "x86_64") && has_avx2_fma(),
            iterations: 0,
            meter: Metering::new(CHUNK * factor),
            ground: Ground::default(),
            paired: false,
        };
        e.os.set_avx2(e.hw_fma);
        e.apply_smoothed();
        e.request_table();
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
        PreparedLoad::build(net, self.fs_hz, self.quality)
    }

    /// Swaps in a prepared load (no allocation) and returns the old one, to be dropped elsewhere.
    /// The new load starts from rest; hosts crossfade if they need a click-free change.
    pub fn swap_load(&mut self, mut new: PreparedLoad) -> PreparedLoad {
        std::mem::swap(&mut self.load, &mut new);
        self.load.modal.reset();
        self.src.reset();
        self.apply_smoothed();
        if self.smoothing {
            self.table.invalidate();
        } else {
            self.request_table();
        }
        new
    }

    /// Asks for the settled element law to be tabulated (built a little per sample from now on).
    fn request_table(&mut self) {
        if self.element.is_linear() || !self.table_enabled {
            self.table.invalidate();
            return;
        }
        // The loop voltage stays within the amplifier's swing (rails, or +12 dBFS of level) but
        // for transients; twice that covers them, and anything beyond runs the exact solver.
        let swing = (KNEE_CEILING * self.v_peak_v).min(4.0 * SQRT_2 * self.level_v);
        self.table.request(self.element, self.r_tot_ohm, 2.0 * swing);
    }

    /// Sets new target parameters (sanitised into range); they are reached smoothly.
    pub fn set_params(&mut self, p: &StageParams) {
        let p = p.sanitized();
        if p == self.params {
            return;
        }
        // The noise does not enter the element's loop equation, nor does a pair's ground return
        // (its kernels solve the ground), so moving only those keeps the element table
        // (automating a pair's ground costs no rebuild; alone, the ground is in the loop).
        let r_ground_ohm = if self.paired { p.r_ground_ohm } else { self.params.r_ground_ohm };
        let same_element = StageParams { r_ground_ohm, noise_dbv: p.noise_dbv, ..self.params } == p;
        self.params = p;
        self.sm.set_targets(&p, false);
        self.smoothing = true;
        if !same_element {
            self.table.invalidate();
        }
    }

    /// Makes this engine one channel of a stereo pair, or one channel played alone into both
    /// earpieces (the default; see `paired`). The pair calls set it themselves; set it before
    /// the table is built to keep the table (with a ground, the loop changes and its table is
    /// built again). Cheap when nothing changes; audio thread or not.
    pub fn set_paired(&mut self, on: bool) {
        if self.paired == on {
            return;
        }
        self.paired = on;
        self.apply_smoothed();
        if !self.smoothing {
            self.request_table();
        }
    }

    /// Jumps to the target parameters at once (for offline set-up and tests).
    pub fn snap_params(&mut self) {
        self.sm.set_targets(&self.params, true);
        self.apply_smoothed();
        self.smoothing = false;
        self.request_table();
        let g = 1.0 / (SQRT_2 * self.params.level_v);
        self.level_line.iter_mut().for_each(|l| *l = g);
        (self.level_last, self.level_run) = (g, usize::MAX);
    }

    /// Clears every state: filters, circuit, noise position, and the solve table, which is built
    /// again from its start as after `new`, so a reset engine plays exactly what a new one plays
    /// (the table and the exact solve differ in the last bits, and renders must be reproducible).
    pub fn reset(&mut self) {
        self.os.reset();
        self.load.modal.reset();
        self.src.reset();
        self.noise.reset();
        self.w_prev = 0.0;
        self.w_prev2 = 0.0;
        (self.ground.v_v, self.ground.r_inv) = ([0.0; 2], 0.0);
        self.table.invalidate();
        self.snap_params();
    }

    /// Pushes the smoothed values into the circuit.
    fn apply_smoothed(&mut self) {
        let p = self.params;
        let sm = &self.sm;
        self.level_v = sm.level_v.value();
        self.inv_level = 1.0 / (SQRT_2 * self.level_v);
        // Rails.
        self.v_peak_v = if p.v_max_v.is_none() && sm.v_max_v.settled() {
            f64::INFINITY
        } else {
            SQRT_2 * sm.v_max_v.value()
        };
        self.inv_v_peak = if self.v_peak_v.is_finite() { 1.0 / self.v_peak_v } else { 0.0 };
        // Source network.
        let r_out = if p.r_out_ohm == 0.0 && sm.r_out_plus_offset_ohm.settled() {
            0.0
        } else {
            (sm.r_out_plus_offset_ohm.value() - R_LOG_OFFSET_OHM).max(0.0)
        };
        let l_out = if p.l_out_h == 0.0 && sm.l_out_h.settled() { 0.0 } else { sm.l_out_h.value().max(0.0) };
        let c_blk = if p.c_block_f.is_none() && sm.c_block_f.settled() {
            f64::INFINITY
        } else {
            sm.c_block_f.value()
        };
        let t = 1.0 / (self.fs_hz * self.os.factor() as f64);
        let r_ref = r_out + self.load.z_ref_ohm;
        self.src.r_out_ohm = r_out;
        self.src.r_c_ohm = if c_blk.is_finite() {
            capacitor_companion_ohm(c_blk, r_ref, t)
        } else {
            self.src.v_c_v = 0.0;
            0.0
        };
        self.src.r_l_ohm = if l_out > 0.0 {
            inductor_companion_ohm(l_out, r_ref, t)
        } else {
            self.src.v_l_v = 0.0;
            0.0
        };
        self.ground.r_ohm = if p.r_ground_ohm == 0.0 && sm.r_ground_ohm.settled() { 0.0 } else { sm.r_ground_ohm.value().max(0.0) };
        // Alone, the engine's current returns through the ground from both earpieces: `2·R_g` in
        // series (see `paired`).
        let r_ground_series = if self.paired { 0.0 } else { 2.0 * self.ground.r_ohm };
        self.r_tot_ohm = self.src.resistance() + self.load.z_direct_ohm + r_ground_series;
        self.inv_r_tot = 1.0 / self.r_tot_ohm;
        // Output element.
        let limited = !(p.i_max_a.is_none() && sm.i_max_a.settled());
        self.element = output_element(
            limited.then(|| sm.i_max_a.value()),
            r_out,
            self.load.min_z_ohm,
            sm.r_mod_ohm.value(),
            sm.xo_v.value(),
            sm.bias.value(),
        );
        self.linear = self.element.is_linear();
        // Noise: white at the base rate with the given RMS in 20 Hz–20 kHz.
        self.noise_sigma_v = sm.noise_v.value().max(0.0) * (0.5 * self.fs_hz / 20_000.0).sqrt();
    }

    /// Processes one base-rate sample (digital full scale in and out).
    #[inline]
    pub fn process_sample(&mut self, x: f64) -> f64 {
        self.set_paired(false);
        #[cfg(target_arch = "x86_64")]
        if self.hw_fma {
            // SAFETY: `hw_fma` is set only when the CPU has AVX2 and FMA.
            return unsafe { self.sample_hw(x) };
        }
        self.sample::<SoftFma>(x)
    }

    /// Processes one base-rate sample of two engines (a stereo pair) at once: their circuits are
    /// interleaved step by step, so the CPU overlaps the two dependency chains. Both engines must
    /// have been prepared for the same rate and quality. Identical to two `process_sample` calls.
    #[inline]
    pub fn process_pair(a: &mut Engine, b: &mut Engine, xa: f64, xb: f64) -> (f64, f64) {
        if a.os.factor() != b.os.factor() {
            return (a.process_sample(xa), b.process_sample(xb));
        }
        a.set_paired(true);
        b.set_paired(true);
        #[cfg(target_arch = "x86_64")]
        if a.hw_fma {
            // SAFETY: `hw_fma` is set only when the CPU has AVX2 and FMA.
            return unsafe { Self::pair_hw(a, b, xa, xb) };
        }
        Self::pair::<SoftFma>(a, b, xa, xb)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn sample_hw(&mut self, x: f64) -> f64 {
        self.sample::<HwFma>(x)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn pair_hw(a: &mut Engine, b: &mut Engine, xa: f64, xb: f64) -> (f64, f64) {
        Self::pair::<HwFma>(a, b, xa, xb)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn block_hw(&mut self, io: &mut [f64]) {
        self.run::<HwFma>(io)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn block_pair_hw(a: &mut Engine, b: &mut Engine, l: &mut [f64], r: &mut [f64]) {
        Self::run_pair::<HwFma>(a, b, l, r)
    }

    #[inline(always)]
    fn sample<F: Fma>(&mut self, x: f64) -> f64 {
        let e = self.front(x);
        let mut buf = [0.0; MAX_FACTOR];
        self.os.up(e, &mut buf);
        let f = self.os.factor();
        self.rails_block::<F>(&mut buf[..f]);
        self.circuit_metered::<F>(&mut buf[..f], &mut [0.0; MAX_FACTOR][..f]);
        let v_load = self.os.down(&mut buf);
        self.back(v_load)
    }

    #[inline(always)]
    fn pair<F: Fma>(a: &mut Engine, b: &mut Engine, xa: f64, xb: f64) -> (f64, f64) {
        let (ea, eb) = (a.front(xa), b.front(xb));
        let mut ba = [0.0; MAX_FACTOR];
        let mut bb = [0.0; MAX_FACTOR];
        a.os.up(ea, &mut ba);
        b.os.up(eb, &mut bb);
        let n = a.os.factor();
        a.rails_block::<F>(&mut ba[..n]);
        b.rails_block::<F>(&mut bb[..n]);
        let (mut ca, mut cb) = ([0.0; MAX_FACTOR], [0.0; MAX_FACTOR]);
        Self::pair_metered::<F>(a, b, &mut ba[..n], &mut bb[..n], &mut ca[..n], &mut cb[..n]);
        let (la, lb) = (a.os.down(&mut ba), b.os.down(&mut bb));
        (a.back(la), b.back(lb))
    }

    /// Upsamples a chunk of open-circuit voltages (`lo`, volts) into `hi` and applies the rails:
    /// the same bits as `up_block` then [`Self::rails_block`]. With AVX2 and rails, the
    /// oversampler hands over `f32` (its own precision), which the rails read eight to a register
    /// and widen as they store.
    #[inline(always)]
    fn up_railed<F: Fma>(&mut self, lo: &[f64], hi: &mut [f64]) {
        if F::HW && self.inv_v_peak > 0.0 && self.os.factor() > 1 {
            let n = hi.len();
            self.os.up_block_f32(lo, &mut self.hi32[..n]);
            self.knee.clip_widen::<F>(&self.hi32[..n], hi, self.v_peak_v, self.inv_v_peak);
        } else {
            self.os.up_block(lo, hi);
            self.rails_block::<F>(hi);
        }
    }

    /// The rails on a buffer of open-circuit voltages in place (volts in, volts out).
    #[inline(always)]
    fn rails_block<F: Fma>(&self, buf: &mut [f64]) {
        // Rail clipping: the amplifier cannot swing beyond its supply rails.
        if self.inv_v_peak > 0.0 {
            self.knee.clip_block::<F>(buf, self.v_peak_v, self.inv_v_peak);
        }
    }

    /// True when a whole block can run with fixed parameters (nothing smoothing, no table being
    /// built), so the resampler's block form and one pass of the circuit can be used.
    #[inline(always)]
    fn steady(&self) -> bool {
        !self.smoothing && !self.table.building()
    }

    /// Whether this engine (the left of a pair) couples its pair through a shared ground, now or
    /// while its ground resistance moves.
    #[inline(always)]
    fn coupled(&self) -> bool {
        self.ground.r_ohm > 0.0 || self.params.r_ground_ohm > 0.0
    }

    /// Processes `io` in place: sample by sample while parameters move, in chunks of
    /// [`CHUNK`] samples (block resampling, one circuit pass) once they are steady. Both give the
    /// same output up to the resampler's rounding.
    #[inline(always)]
    fn run<F: Fma>(&mut self, io: &mut [f64]) {
        let mut pos = 0;
        while pos < io.len() {
            pos = self.advance::<F>(io, pos);
        }
    }

    /// One step of [`Self::run`] from `pos`: a single sample while anything moves, else a chunk.
    /// Returns the new position.
    #[inline(always)]
    fn advance<F: Fma>(&mut self, io: &mut [f64], pos: usize) -> usize {
        if !self.steady() {
            io[pos] = self.sample::<F>(io[pos]);
            return pos + 1;
        }
        let f = self.os.factor();
        let n = (io.len() - pos).min(CHUNK);
        let mut lo = std::mem::take(&mut self.lo_buf);
        let mut hi = std::mem::take(&mut self.hi_buf);
        let mut cur = std::mem::take(&mut self.meter.cur);
        self.front_block(&io[pos..pos + n], &mut lo[..n]);
        self.up_railed::<F>(&lo[..n], &mut hi[..n * f]);
        self.circuit_metered::<F>(&mut hi[..n * f], &mut cur);
        self.os.down_block(&hi[..n * f], &mut lo[..n]);
        self.back_block(&lo[..n], &mut io[pos..pos + n]);
        self.lo_buf = lo;
        self.hi_buf = hi;
        self.meter.cur = cur;
        pos + n
    }

    /// [`Self::run`] for a stereo pair (see [`Engine::process_pair`]). Each channel takes exactly
    /// the steps it would take alone (its own cursor; a sample while its parameters move, else a
    /// chunk); whenever both cursors meet at the same kind of step, the two run side by side.
    #[inline(always)]
    fn run_pair<F: Fma>(a: &mut Engine, b: &mut Engine, l: &mut [f64], r: &mut [f64]) {
        let f = a.os.factor();
        let len = l.len().min(r.len());
        let (l, r) = (&mut l[..len], &mut r[..len]);
        let (mut pa, mut pb) = (0, 0);
        while pa < len || pb < len {
            if pa == pb {
                let pos = pa;
                let (sa, sb) = (a.steady(), b.steady());
                // Coupled through a shared ground, the two circuits must take every step together:
                // sample by sample while either moves.
                if (!sa && !sb) || (a.coupled() && !(sa && sb)) {
                    (l[pos], r[pos]) = Self::pair::<F>(a, b, l[pos], r[pos]);
                    (pa, pb) = (pos + 1, pos + 1);
                    continue;
                }
                if sa && sb {
                    let n = (len - pos).min(CHUNK);
                    let (mut la, mut ha) = (std::mem::take(&mut a.lo_buf), std::mem::take(&mut a.hi_buf));
                    let (mut lb, mut hb) = (std::mem::take(&mut b.lo_buf), std::mem::take(&mut b.hi_buf));
                    let (mut ca, mut cb) = (std::mem::take(&mut a.meter.cur), std::mem::take(&mut b.meter.cur));
                    a.front_block(&l[pos..pos + n], &mut la[..n]);
                    b.front_block(&r[pos..pos + n], &mut lb[..n]);
                    a.up_railed::<F>(&la[..n], &mut ha[..n * f]);
                    b.up_railed::<F>(&lb[..n], &mut hb[..n * f]);
                    Self::pair_metered::<F>(a, b, &mut ha[..n * f], &mut hb[..n * f], &mut ca, &mut cb);
                    a.os.down_block(&ha[..n * f], &mut la[..n]);
                    b.os.down_block(&hb[..n * f], &mut lb[..n]);
                    a.back_block(&la[..n], &mut l[pos..pos + n]);
                    b.back_block(&lb[..n], &mut r[pos..pos + n]);
                    (a.lo_buf, a.hi_buf, b.lo_buf, b.hi_buf) = (la, ha, lb, hb);
                    (a.meter.cur, b.meter.cur) = (ca, cb);
                    (pa, pb) = (pos + n, pos + n);
                    continue;
                }
            }
            // The channels' steps differ here: the one behind goes on alone.
            if pa <= pb {
                pa = a.advance::<F>(l, pa);
            } else {
                pb = b.advance::<F>(r, pb);
            }
        }
    }

    /// Processes a block in place (f32, as hosts deliver it).
    pub fn process_block(&mut self, io: &mut [f32]) {
        let mut tmp = [0.0f64; CHUNK];
        for c in io.chunks_mut(CHUNK) {
            for (t, x) in tmp.iter_mut().zip(c.iter()) {
                *t = *x as f64;
            }
            self.process_block_f64(&mut tmp[..c.len()]);
            // f32 subnormals start at 1.18e-38; `back` already keeps |y| ≥ 1e-30.
            for (x, t) in c.iter_mut().zip(tmp.iter()) {
                *x = *t as f32;
            }
        }
    }

    /// Processes a block of f64 samples in place.
    pub fn process_block_f64(&mut self, io: &mut [f64]) {
        self.set_paired(false);
        #[cfg(target_arch = "x86_64")]
        if self.hw_fma {
            // SAFETY: `hw_fma` is set only when the CPU has AVX2 and FMA.
            unsafe { self.block_hw(io) };
            self.flush_denormals();
            return;
        }
        self.run::<SoftFma>(io);
        self.flush_denormals();
    }

    /// Processes a stereo pair of f64 blocks in place (see [`Engine::process_pair`]).
    pub fn process_block_pair_f64(a: &mut Engine, b: &mut Engine, l: &mut [f64], r: &mut [f64]) {
        if a.os.factor() == b.os.factor() {
            a.set_paired(true);
            b.set_paired(true);
            #[cfg(target_arch = "x86_64")]
            if a.hw_fma {
                // SAFETY: `hw_fma` is set only when the CPU has AVX2 and FMA.
                unsafe { Self::block_pair_hw(a, b, l, r) };
                a.flush_denormals();
                b.flush_denormals();
                return;
            }
            Self::run_pair::<SoftFma>(a, b, l, r);
        } else {
            l.iter_mut().for_each(|x| *x = a.process_sample(*x));
            r.iter_mut().for_each(|x| *x = b.process_sample(*x));
        }
        a.flush_denormals();
        b.flush_denormals();
    }

    /// Flushes denormals out of the circuit's states (the block calls do it at their end).
    pub fn flush_denormals(&mut self) {
        self.load.modal.flush_denormals();
        self.src.flush_denormals();
    }

    /// Turns the tabulated element solve on (default) or off (every sample then runs the exact
    /// solver; for tests that compare the two, and for diagnosis). Not for the audio thread's hot
    /// path: it only flips a flag and drops or requests the table.
    pub fn set_table_enabled(&mut self, on: bool) {
        self.table_enabled = on;
        if on {
            if !self.smoothing {
                self.request_table();
            }
        } else {
            self.table.invalidate();
        }
    }

    /// Runs the baseline code (no AVX2/FMA copies, no two-lane kernel) even on a CPU that has
    /// AVX2 and FMA, or goes back to choosing by the CPU. For tests that compare the two and for
    /// diagnosis; not for the audio thread's hot path.
    pub fn set_baseline_code(&mut self, on: bool) {
        self.hw_fma = !on && cfg!(target_arch = "x86_64") && has_avx2_fma();
        self.os.set_avx2(self.hw_fma);
    }

    /// True once the settled element law is being answered from its table.
    pub fn table_in_use(&self) -> bool {
        self.table.ready()
    }

    /// Intervals of the element table in use (1024 coarse or 4096 fine), if one is.
    pub fn table_intervals(&self) -> Option<usize> {
        self.table.intervals()
    }

    /// Sets the position of the next sample, base-rate samples since the timeline's start (the
    /// noise is keyed on it, so the same timeline sample always gets the same noise; see
    /// `dsp::noise`). `reset` returns it to 0; processing advances it.
    pub fn set_position(&mut self, n: u64) {
        self.noise.set_position(n);
    }

    /// Steps of the coupled circuit the vector kernel solved exactly instead of by its single
    /// Newton step, so far (diagnostics; a pair counts in its left engine).
    pub fn ground_exact_steps(&self) -> u64 {
        self.ground.exact_steps
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
    let modal = ModalLoad::fit(net, fs_internal_hz)?;
    let d0 = modal.direct();
    if !(d0 > 0.0 && d0.is_finite()) {
        return Err(NetworkError(format!("the load's discrete model has a non-positive direct term ({d0})")));
    }
    Ok(PreparedLoad {
        z_direct_ohm: match modal.form() {
            PortForm::Impedance => d0,
            PortForm::Admittance => 1.0 / d0,
        },
        modal,
        min_z_ohm: net.min_magnitude(BAND_HZ.0, BAND_HZ.1),
        z_ref_ohm: net.impedance(Z_REF_HZ).norm(),
        fs_internal_hz,
        network: net.clone(),
    })
}
