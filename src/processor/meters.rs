//! Live meters for the editor: what the amplifier is going through, computed on the audio thread
//! and handed to the GUI one way, lock-free.
//!
//! The audio thread owns a [`MeterWriter`]. The processor feeds it the headphone voltage one call
//! per channel and sample ([`MeterWriter::sample`]) and, per chunk, the load current and power the
//! engine's own kernels computed ([`MeterWriter::load`], from `Engine::take_reading`): the meters
//! carry no model of the load, so the current they show is the current the engine solved. The
//! plugin publishes once per block ([`MeterWriter::end_block`]) and only meters while the editor is
//! open. Everything the writer publishes is a plain atomic in [`MeterShared`]: levels are stored,
//! peaks are raised with `fetch_max` and taken by the GUI with `swap`, flags are set with
//! `fetch_or`. The writer never allocates, locks or frees.

use crate::dsp::engine::{LoadReading, LIMIT_INDICATION};
use crate::dsp::StageParams;
use std::f64::consts::SQRT_2;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

/// Time constant of the RMS and power averages, seconds (a "slow" meter ballistic).
pub const METER_AVERAGE_TAU_S: f64 = 0.300;
/// Channels metered (the processor's maximum).
const CH: usize = super::MAX_CHANNELS;

/// The atomics shared by the writer (audio thread) and the reader (GUI).
#[derive(Debug, Default)]
pub struct MeterShared {
    /// Mean-square headphone voltage of the louder channel, V² (f64 bits).
    v_ms: AtomicU64,
    /// Largest |v| since the GUI last read it, volts (f64 bits; non-negative f64s order like
    /// their bit patterns, so `fetch_max` on the bits is a max of the values).
    v_peak: AtomicU64,
    /// Largest |i| since the GUI last read it, amperes (f64 bits).
    i_peak: AtomicU64,
    /// Mean power into the load of the louder channel, watts (f64 bits).
    p_mean: AtomicU64,
    /// The engine reported the load current during the last block.
    i_known: AtomicBool,
    /// Rail clipping was reached since the GUI last read it.
    clipped: AtomicBool,
    /// The current limit was reached since the GUI last read it.
    limited: AtomicBool,
    /// Slot metered in the last block (0 = A, 1 = B).
    slot: AtomicU32,
    /// Load index playing in that slot.
    load: AtomicU32,
    /// Base sample rate, hertz (f64 bits; 0 before the first block).
    fs_hz: AtomicU64,
    /// Blocks published so far (tells the GUI whether the data are live).
    blocks: AtomicU64,
}

/// What the block being metered plays (set once per block by the plugin).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeterTarget {
    /// Slot heard (0 = A, 1 = B).
    pub slot: usize,
    /// Load index playing in that slot.
    pub load: usize,
    /// That slot's stage.
    pub stage: StageParams,
}

/// The audio end. Never allocates, locks or frees (see the module docs).
pub struct MeterWriter {
    shared: Arc<MeterShared>,
    fs_hz: f64,
    /// One-pole coefficient of the averages for `fs_hz`.
    coeff: f64,
    target: MeterTarget,
    /// Per-block derived values.
    level_v: f64,
    clip_x: f64,
    /// `decay[j]` = `(1 − coeff)^j` for `j ≤ METER_BLOCK` (see [`MeterWriter::block`]).
    decay: Box<[f64; METER_BLOCK + 1]>,
    /// Running state per channel.
    ms: [f64; CH],
    pm: [f64; CH],
    /// This block's peaks and flags.
    v_peak: f64,
    i_peak: f64,
    i_known: bool,
    clipped: bool,
    limited: bool,
    /// Counts since creation, never reset by publishing (the renderer's report reads them).
    totals: MeterTotals,
}

/// What the writer has seen since it was created: channel-samples metered and those at or past the
/// clip indication; the engine's steps read, those at or past the current-limit indication, and the
/// peak load current.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MeterTotals {
    pub samples: u64,
    pub clipping: u64,
    /// Internal-rate steps whose load current the engine reported.
    pub current_steps: u64,
    /// Of those, the steps at or past [`LIMIT_INDICATION`] of the Max Current.
    pub limiting_steps: u64,
    /// Largest |i| seen, amperes.
    pub i_peak_a: f64,
    /// `Σ v²` of the headphone voltage over the samples metered, V² (the RMS over a render is
    /// `√(v2_sum/samples)`; the renderer reports it as a sound pressure).
    pub v2_sum: f64,
}

/// The GUI end: reads the atomics. Lives behind the editor's own lock, which the audio thread
/// never takes.
pub struct MeterReader {
    shared: Arc<MeterShared>,
}

/// One reading, in SI units.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MeterSnapshot {
    /// RMS headphone voltage (louder channel), volts.
    pub v_rms: f64,
    /// Peak |v| since the previous reading, volts.
    pub v_peak: f64,
    /// Peak |i| since the previous reading, amperes (`None`: the engine has not reported yet).
    pub i_peak: Option<f64>,
    /// Mean power into the load (louder channel), watts.
    pub power_w: Option<f64>,
    /// Rail clipping since the previous reading.
    pub clipped: bool,
    /// Current limiting since the previous reading.
    pub limited: bool,
    /// Slot metered.
    pub slot: usize,
    /// Load playing there.
    pub load: usize,
    /// Blocks published so far.
    pub blocks: u64,
}

/// Longest run [`MeterWriter::block`] takes in one step (the processor's chunk).
pub const METER_BLOCK: usize = 256;

/// Creates a connected writer/reader pair.
pub fn meters() -> (MeterWriter, MeterReader) {
    let shared = Arc::new(MeterShared::default());
    let w = MeterWriter {
        shared: shared.clone(),
        fs_hz: 0.0,
        coeff: 1.0,
        target: MeterTarget { slot: 0, load: 0, stage: StageParams::IDEAL },
        level_v: 1.0,
        clip_x: f64::INFINITY,
        decay: Box::new([1.0; METER_BLOCK + 1]),
        ms: [0.0; CH],
        pm: [0.0; CH],
        v_peak: 0.0,
        i_peak: 0.0,
        i_known: false,
        clipped: false,
        limited: false,
        totals: MeterTotals::default(),
    };
    (w, MeterReader { shared })
}

#[inline]
fn load_f64(a: &AtomicU64) -> f64 {
    f64::from_bits(a.load(Ordering::Relaxed))
}

impl MeterWriter {
    /// Starts a block: the sample rate and what is playing (audio thread; no allocation).
    pub fn begin_block(&mut self, fs_hz: f64, target: MeterTarget) {
        if fs_hz != self.fs_hz {
            self.fs_hz = fs_hz;
            self.coeff = 1.0 - (-1.0 / (METER_AVERAGE_TAU_S * fs_hz)).exp();
            self.shared.fs_hz.store(fs_hz.to_bits(), Ordering::Relaxed);
            let d = 1.0 - self.coeff;
            let mut p = 1.0;
            for v in self.decay.iter_mut() {
                *v = p;
                p *= d;
            }
        }
        if target.slot != self.target.slot || target.load != self.target.load {
            // A different load (or slot) starts from rest in the averages.
            self.ms = [0.0; CH];
            self.pm = [0.0; CH];
        }
        self.target = target;
        let s = &target.stage;
        self.level_v = s.level_v;
        self.clip_x = s.v_max_v.map_or(f64::INFINITY, |v| LIMIT_INDICATION * v / s.level_v.max(1e-12));
    }

    /// [`Self::sample`] for a run of channel `ch` (at most [`METER_BLOCK`] samples at a time):
    /// the average's recursion `ms ← ms + c·(v² − ms)` over the run in closed form,
    /// `ms·d^n + c·Σ d^(n−1−k)·v_k²` with `d = 1 − c`, whose terms do not wait on each other (the
    /// per-sample recursion was a serial chain). Equal to it up to rounding (tested).
    pub fn block(&mut self, ch: usize, x: &[f64], y: &[f64]) {
        let n = x.len().min(y.len());
        if n > METER_BLOCK {
            let (h, t) = (METER_BLOCK, n);
            self.block(ch, &x[..h], &y[..h]);
            return self.block(ch, &x[h..t], &y[h..t]);
        }
        let ch = ch.min(CH - 1);
        let g = SQRT_2 * self.level_v;
        let w = &self.decay[..n];
        let (mut acc, mut sum, mut peak) = ([0.0f64; 4], [0.0f64; 4], [0.0f64; 4]);
        let mut clip = 0u64;
        for (k, (&xk, &yk)) in x[..n].iter().zip(&y[..n]).enumerate() {
            let v = yk * g;
            acc[k % 4] += w[n - 1 - k] * (v * v);
            sum[k % 4] += v * v;
            peak[k % 4] = peak[k % 4].max(v.abs());
            clip += u64::from(xk.abs() >= self.clip_x);
        }
        self.totals.v2_sum += (sum[0] + sum[1]) + (sum[2] + sum[3]);
        self.ms[ch] = self.ms[ch] * self.decay[n] + self.coeff * ((acc[0] + acc[1]) + (acc[2] + acc[3]));
        self.v_peak = peak.iter().copied().fold(self.v_peak, f64::max);
        self.totals.samples += n as u64;
        if clip > 0 {
            self.clipped = true;
            self.totals.clipping += clip;
        }
    }

    /// Meters one sample of channel `ch`: `x` the plugin input (digital full scale), `y` the
    /// metered slot's engine output (digital full scale, before fades and Level Match). The plain
    /// reference of [`Self::block`].
    #[inline]
    pub fn sample(&mut self, ch: usize, x: f64, y: f64) {
        let ch = ch.min(CH - 1);
        let v = y * SQRT_2 * self.level_v;
        self.ms[ch] += self.coeff * (v * v - self.ms[ch]);
        self.totals.v2_sum += v * v;
        self.v_peak = self.v_peak.max(v.abs());
        self.totals.samples += 1;
        if x.abs() >= self.clip_x {
            self.clipped = true;
            self.totals.clipping += 1;
        }
    }

    /// Takes channel `ch`'s load reading from the metered slot's engine for a chunk of
    /// `base_samples` base-rate samples (audio thread).
    #[inline]
    pub fn load(&mut self, ch: usize, r: &LoadReading, base_samples: usize) {
        let Some(p_w) = r.mean_power_w() else { return };
        let ch = ch.min(CH - 1);
        // The one-pole average over the chunk, taken as one step of its mean.
        let c = 1.0 - (1.0 - self.coeff).powi(base_samples.min(i32::MAX as usize) as i32);
        self.pm[ch] += c * (p_w - self.pm[ch]);
        self.i_peak = self.i_peak.max(r.i_peak_a);
        self.i_known = true;
        self.limited |= r.limit_steps > 0;
        let t = &mut self.totals;
        t.current_steps += r.steps;
        t.limiting_steps += r.limit_steps;
        t.i_peak_a = t.i_peak_a.max(r.i_peak_a);
    }

    /// Counts since creation (see [`MeterTotals`]).
    pub fn totals(&self) -> MeterTotals {
        self.totals
    }

    /// Publishes the block (audio thread; atomics only).
    pub fn end_block(&mut self) {
        let s = &self.shared;
        let ms = self.ms.iter().copied().fold(0.0, f64::max);
        let pm = self.pm.iter().copied().fold(0.0, f64::max);
        s.v_ms.store(ms.to_bits(), Ordering::Relaxed);
        s.p_mean.store(pm.max(0.0).to_bits(), Ordering::Relaxed);
        s.v_peak.fetch_max(self.v_peak.to_bits(), Ordering::Relaxed);
        s.i_peak.fetch_max(self.i_peak.to_bits(), Ordering::Relaxed);
        s.i_known.store(self.i_known, Ordering::Relaxed);
        if self.clipped {
            s.clipped.store(true, Ordering::Relaxed);
        }
        if self.limited {
            s.limited.store(true, Ordering::Relaxed);
        }
        s.slot.store(self.target.slot as u32, Ordering::Relaxed);
        s.load.store(self.target.load as u32, Ordering::Relaxed);
        s.blocks.fetch_add(1, Ordering::Release);
        self.v_peak = 0.0;
        self.i_peak = 0.0;
        self.i_known = false;
        self.clipped = false;
        self.limited = false;
    }
}

impl MeterReader {
    /// Reads the meters; peaks and flags are reset for the next reading (GUI thread).
    pub fn read(&self) -> MeterSnapshot {
        let s = &self.shared;
        let known = s.i_known.load(Ordering::Relaxed);
        let i_peak = f64::from_bits(s.i_peak.swap(0, Ordering::Relaxed));
        MeterSnapshot {
            v_rms: load_f64(&s.v_ms).max(0.0).sqrt(),
            v_peak: f64::from_bits(s.v_peak.swap(0, Ordering::Relaxed)),
            i_peak: known.then_some(i_peak),
            power_w: known.then(|| load_f64(&s.p_mean)),
            clipped: s.clipped.swap(false, Ordering::Relaxed),
            limited: s.limited.swap(false, Ordering::Relaxed),
            slot: s.slot.load(Ordering::Relaxed) as usize,
            load: s.load.load(Ordering::Relaxed) as usize,
            blocks: s.blocks.load(Ordering::Acquire),
        }
    }

    /// Base sample rate the audio thread reported, hertz (0 before the first metered block).
    pub fn sample_rate(&self) -> f64 {
        load_f64(&self.shared.fs_hz)
    }
}
