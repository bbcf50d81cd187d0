//! One A/B slot: a stage driving a load, one engine per channel, with its own load pool, the
//! fade used for load swaps and the Level Match gain.

use super::handover::{ImportedLoad, LEVEL_MATCH_HZ};
use super::listening::level_for_spl;
use super::ramp::Ramp;
use crate::dsp::network::NetworkError;
use crate::dsp::smoother::Smoother;
use crate::dsp::engine::LoadReading;
use super::library::PreparedLibrary;
use crate::dsp::{Engine, Network, PreparedLoad, StageParams};
use num_complex::Complex64;

/// Fade-out (then fade-in) time around a load swap, seconds.
pub const LOAD_FADE_S: f64 = 0.010;
/// Level Match never boosts or cuts by more than this, decibels.
pub const LEVEL_MATCH_MAX_DB: f64 = 40.0;

/// A slot's processing chain. Everything is allocated in [`SlotChain::new`]; the per-sample and
/// per-block calls never allocate.
#[derive(Debug)]
pub struct SlotChain {
    /// One engine per channel.
    engines: Vec<Engine>,
    /// `pool[ch][k]`: prepared load `k` for channel `ch`, or `None` while that load sits in the
    /// engine (or, for the imported entry, while no curve has been imported). The last entry is
    /// the slot's imported curve.
    pool: Vec<Vec<Option<PreparedLoad>>>,
    /// Load impedance at 1 kHz for every pool entry (`None`: not available).
    z_1k: Vec<Option<Complex64>>,
    /// Load index playing now.
    current: usize,
    /// Load index asked for.
    target: usize,
    /// A new imported curve waiting for the fade to replace the imported curve playing now.
    staged: Option<ImportedLoad>,
    /// A replaced curve for the owner to take away ([`SlotChain::take_garbage`]).
    garbage: Option<ImportedLoad>,
    /// 1 while playing, 0 at the bottom of a load swap.
    fade: Ramp,
    /// Level Match gain (linear, log-smoothed).
    level_gain: Smoother,
    level_match: bool,
    /// The stage as set.
    stage: StageParams,
    /// The listening level asked for, dB SPL (`None`: the stage's own Level).
    spl_db: Option<f64>,
    /// Sensitivity of every pool entry, dB SPL for 1 V at 1 kHz (`None`: not known).
    sens: Vec<Option<f64>>,
    /// The stage the engines were last given (the Level follows the listening level).
    applied: StageParams,
}

impl SlotChain {
    /// Builds the chain with every load `library` holds cloned for every channel, plus the slot's
    /// imported curve if any (allocates; fits only the imported curve).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        library: &PreparedLibrary,
        channels: usize,
        imported: Option<&Network>,
        load: usize,
        stage: &StageParams,
        level_match: bool,
        seed: u64,
    ) -> Result<Self, NetworkError> {
        let (fs_hz, quality) = (library.sample_rate(), library.quality());
        let imported = imported.map(|net| PreparedLoad::build(net, fs_hz, quality)).transpose()?;
        let n = library.len() + 1;
        let entry = |k: usize| if k + 1 == n { imported.as_ref() } else { library.get(k) };
        // Start on the requested load if it is available, else the first one that is.
        let start = if load < n && entry(load).is_some() { load } else { (0..n).find(|&k| entry(k).is_some()).unwrap_or(n) };
        let start_load = (start < n).then(|| entry(start)).flatten().ok_or_else(|| NetworkError("the load library is empty".into()))?;
        let mut engines = Vec::with_capacity(channels);
        let mut pool = Vec::with_capacity(channels);
        for ch in 0..channels {
            let mut e = Engine::with_load(library.oversampler(), start_load.clone(), stage, seed.wrapping_add(ch as u64))?;
            // Two channels play as a stereo pair (set now, so the first table is the one the pair
            // keeps); any other count plays each channel alone.
            e.set_paired(channels == 2);
            e.snap_params();
            engines.push(e);
            pool.push((0..n).map(|k| if k == start { None } else { entry(k).cloned() }).collect());
        }
        let z_1k = (0..n).map(|k| entry(k).map(|l| l.network().impedance(LEVEL_MATCH_HZ))).collect();
        let mut s = Self {
            engines,
            pool,
            z_1k,
            current: start,
            target: load.min(n - 1),
            staged: None,
            garbage: None,
            fade: Ramp::new(1.0, LOAD_FADE_S, fs_hz),
            level_gain: Smoother::new(1.0, true),
            level_match,
            stage: stage.sanitized(),
            spl_db: None,
            sens: vec![None; n],
            applied: stage.sanitized(),
        };
        s.level_gain.set_rate(fs_hz);
        s.level_gain.set(s.level_target(), true);
        Ok(s)
    }

    /// Index of the imported-curve entry.
    pub fn imported_index(&self) -> usize {
        self.z_1k.len() - 1
    }

    /// Load index playing now.
    pub fn current_load(&self) -> usize {
        self.current
    }

    /// Sets the target stage, load, Level Match and listening level (per block; no allocation).
    pub fn set(&mut self, load: usize, stage: &StageParams, level_match: bool, spl_db: Option<f64>) {
        self.target = load.min(self.z_1k.len() - 1);
        self.stage = stage.sanitized();
        self.spl_db = spl_db;
        self.apply_stage();
        self.level_match = level_match;
        self.level_gain.set(self.level_target(), false);
    }

    /// Gives every pool entry its sensitivity (dB SPL for 1 V; the last entry is the imported
    /// curve's). Entries past `sens` are unknown. Set-up only (does not allocate).
    pub fn set_sensitivities(&mut self, sens: &[Option<f64>]) {
        for (k, v) in self.sens.iter_mut().enumerate() {
            *v = sens.get(k).copied().flatten().filter(|s| s.is_finite() && *s > 0.0);
        }
        self.apply_stage();
    }

    /// The stage the engines play: the stage as set, its Level derived from the listening level
    /// when one is asked for and the load playing has a sensitivity (see `listening.rs`).
    pub fn effective_stage(&self) -> StageParams {
        let mut s = self.stage;
        if let (Some(db), Some(sens), Some(z)) = (self.spl_db, self.sens[self.current], self.z_1k[self.current]) {
            s.level_v = level_for_spl(db, sens, z, &s).0;
        }
        s
    }

    /// The sensitivity of the load playing, if known.
    pub fn sensitivity(&self) -> Option<f64> {
        self.sens[self.current]
    }

    /// Hands the engines the effective stage if it changed (they smooth it).
    fn apply_stage(&mut self) {
        let eff = self.effective_stage();
        if eff != self.applied {
            self.applied = eff;
            self.engines.iter_mut().for_each(|e| e.set_params(&eff));
        }
    }

    /// Jumps every smoothed quantity (stage, level, fade) to its target and performs a pending
    /// load swap at once (for offline set-up and `reset`).
    pub fn snap(&mut self) {
        if self.wants_swap() {
            self.swap();
        }
        self.fade.set(1.0);
        self.fade.snap();
        self.engines.iter_mut().for_each(|e| e.snap_params());
        self.level_gain.set(self.level_target(), true);
    }

    /// Clears every engine's state.
    pub fn reset(&mut self) {
        self.engines.iter_mut().for_each(|e| e.reset());
        self.snap();
    }

    /// Small-signal gain correction that brings |Z/(Z+Zs)| at 1 kHz to 0 dB (1 if off).
    fn level_target(&self) -> f64 {
        if !self.level_match {
            return 1.0;
        }
        let Some(z) = self.z_1k[self.current] else { return 1.0 };
        level_match_gain(&self.stage, z).0
    }

    /// True when nothing in the slot's gain moves: no swap pending, the load fade at full and
    /// Level Match settled, so [`Self::advance`] returns the same value without changing state.
    pub fn settled(&self) -> bool {
        !self.wants_swap() && self.fade.at(1.0) && self.level_gain.settled()
    }

    /// True while a load swap is pending (the next [`Self::advance`] calls may perform it).
    pub fn wants_swap(&self) -> bool {
        (self.target != self.current && self.z_1k[self.target].is_some()) || self.staged.is_some()
    }

    /// Performs the pending swap(s). Only called at the bottom of the fade (or when snapping).
    fn swap(&mut self) {
        let imp = self.imported_index();
        // A newly imported curve replacing the one playing now.
        if self.current == imp && self.garbage.is_none() {
            if let Some(mut new) = self.staged.take() {
                for (e, slot) in self.engines.iter_mut().zip(new.loads.iter_mut()) {
                    if let Some(l) = slot.take() {
                        *slot = Some(e.swap_load(l));
                    }
                }
                self.z_1k[imp] = Some(new.z_1k);
                self.sens[imp] = new.sensitivity;
                self.garbage = Some(new);
            }
        }
        // A different load.
        if self.target != self.current && self.z_1k[self.target].is_some() {
            let (t, c) = (self.target, self.current);
            for (e, p) in self.engines.iter_mut().zip(self.pool.iter_mut()) {
                if let Some(l) = p[t].take() {
                    p[c] = Some(e.swap_load(l));
                }
            }
            self.current = t;
        }
        // A staged curve that is no longer playing goes straight into the pool.
        if self.current != imp && self.garbage.is_none() {
            if let Some(new) = self.staged.take() {
                self.put_in_pool(new);
            }
        }
        // The listening level's Level follows the new load's (or curve's) sensitivity and divider.
        self.apply_stage();
        self.level_gain.set(self.level_target(), true);
    }

    fn put_in_pool(&mut self, mut new: ImportedLoad) {
        let imp = self.imported_index();
        for (p, slot) in self.pool.iter_mut().zip(new.loads.iter_mut()) {
            std::mem::swap(&mut p[imp], slot);
        }
        self.z_1k[imp] = Some(new.z_1k);
        self.sens[imp] = new.sensitivity;
        self.garbage = Some(new);
    }

    /// Offers a newly built imported curve. Returns it back if the slot is still busy with the
    /// previous one (the caller keeps it and offers it again on a later block).
    pub fn install_imported(&mut self, new: ImportedLoad) -> Result<(), ImportedLoad> {
        if self.garbage.is_some() || self.staged.is_some() || new.loads.len() != self.engines.len() {
            return Err(new);
        }
        if self.current == self.imported_index() {
            // Playing: swap at the bottom of a fade.
            self.staged = Some(new);
        } else {
            self.put_in_pool(new);
        }
        Ok(())
    }

    /// Takes a replaced imported curve, to be dropped off the audio thread.
    pub fn take_garbage(&mut self) -> Option<ImportedLoad> {
        self.garbage.take()
    }

    /// Advances the slot's gains by one sample and returns the gain to apply to its output.
    /// Performs a load swap when the fade reaches silence.
    #[inline]
    pub fn advance(&mut self) -> f64 {
        let swap = self.wants_swap();
        self.fade.set(if swap { 0.0 } else { 1.0 });
        let f = self.fade.next();
        if swap && f == 0.0 {
            self.swap();
        }
        self.level_gain.tick();
        f * self.level_gain.value()
    }

    /// Processes a block of channel `ch` through its engine (block form: see `Engine::process_block_f64`).
    #[inline]
    pub fn process_block(&mut self, ch: usize, io: &mut [f64]) {
        if let Some(e) = self.engines.get_mut(ch) {
            e.process_block_f64(io);
        }
    }

    /// Processes a block of a stereo pair (channels 0 and 1), circuits interleaved.
    #[inline]
    pub fn process_block_pair(&mut self, l: &mut [f64], r: &mut [f64]) {
        match self.engines.as_mut_slice() {
            [a, b, ..] => Engine::process_block_pair_f64(a, b, l, r),
            [a] => a.process_block_f64(l),
            [] => {}
        }
    }

    /// Sets the engines' timeline position (see `Engine::set_position`).
    pub fn set_position(&mut self, n: u64) {
        self.engines.iter_mut().for_each(|e| e.set_position(n));
    }

    /// Turns the engines' load readings on or off (see `Engine::set_metering`).
    pub fn set_metering(&mut self, on: bool) {
        self.engines.iter_mut().for_each(|e| e.set_metering(on));
    }

    /// Channel `ch`'s load reading since the last call (empty for a missing channel).
    pub fn take_reading(&mut self, ch: usize) -> LoadReading {
        self.engines.get_mut(ch).map(|e| e.take_reading()).unwrap_or_default()
    }

    /// Latency of the engines, base-rate samples.
    pub fn latency(&self) -> usize {
        self.engines.first().map_or(0, |e| e.latency())
    }
}

impl SlotChain {
    /// Flushes denormals out of every engine's circuit state (once per block).
    pub fn flush_denormals(&mut self) {
        self.engines.iter_mut().for_each(|e| e.flush_denormals());
    }
}

/// The Level Match gain for `stage` driving a load of impedance `z_load_1k_ohm` at
/// [`LEVEL_MATCH_HZ`]: `1/|Z/(Z+Zs)|` (with a shared ground, `Zs + 2·R_g`: a mono signal's
/// divider, `StageParams::mono_source_impedance`), limited to ±[`LEVEL_MATCH_MAX_DB`]. Returns the gain and
/// whether the limit cut it short.
pub fn level_match_gain(stage: &StageParams, z_load_1k_ohm: Complex64) -> (f64, bool) {
    let zs = stage.mono_source_impedance(LEVEL_MATCH_HZ);
    let h = (z_load_1k_ohm / (z_load_1k_ohm + zs)).norm();
    let lim = 10f64.powf(LEVEL_MATCH_MAX_DB / 20.0);
    if !(h.is_finite() && h > 0.0) {
        return (1.0, false);
    }
    let g = 1.0 / h;
    (g.clamp(1.0 / lim, lim), !(1.0 / lim..=lim).contains(&g))
}
