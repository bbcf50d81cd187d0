//! The signal path shared by the plugin and the renderer, so both produce the same samples.
//!
//! ```text
//!            ┌─ slot A: engine per channel ─ × (load fade · Level Match) ─┐
//!  in ──┬────┤                                                            ├─ A/B crossfade ─┐
//!       │    └─ slot B: engine per channel ─ × (load fade · Level Match) ─┘                 │
//!       ├─ ideal: up/down-sampling only (0 Ω, unlimited; same latency) ─────────────────────┤
//!       │                                 Listen: emu, ideal or emu − ideal, × Output Trim ─┴─┐
//!       └─ dry, delayed by the latency ─────────────────── Bypass crossfade ─────────────────┴─► out
//! ```
//!
//! Both slots run all the time, so switching is instant; every switch is a short linear
//! crossfade. The ideal path runs only while Listen can hear it, and starts again primed from its
//! input history, as if it had run all along (`ideal.rs`). Settings are applied once per block ([`Processor::set_settings`]); the engines
//! smooth stage parameters themselves, so a block-wise update is click-free.
//!
//! Threading: build a `Processor` off the audio thread ([`Processor::new`] allocates). On the
//! audio thread, `set_settings`, `process`, `install_imported`, `take_garbage` and `reset` never
//! allocate, lock or do I/O.

pub mod config;
pub mod ftz;
pub mod handover;
mod ideal;
pub mod listening;
pub mod library;
pub mod meters;
pub mod peak;
mod ramp;
mod slot;

pub use handover::{mailbox, ImportReceiver, ImportSender, ImportedLoad, LEVEL_MATCH_HZ};
pub use slot::{level_match_gain, LEVEL_MATCH_MAX_DB, LOAD_FADE_S};

use crate::dsp::network::NetworkError;
use crate::dsp::smoother::Smoother;
use crate::dsp::{Network, Quality, StageParams};
use ideal::IdealPath;
use library::PreparedLibrary;
use ramp::{Delay, Ramp};
use serde::{Deserialize, Serialize};
use slot::SlotChain;

/// Length of the A/B, Listen and Bypass crossfades, seconds.
pub const CROSSFADE_S: f64 = 0.020;
/// Output Trim range, decibels.
pub const TRIM_RANGE_DB: (f64, f64) = (-24.0, 24.0);
/// Largest channel count (stereo).
pub const MAX_CHANNELS: usize = 2;

/// Which slot is heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SlotId {
    #[default]
    A,
    B,
}

impl SlotId {
    /// 0 for A, 1 for B.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// What the output plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Listen {
    /// The emulated stage and load.
    #[default]
    Emulation,
    /// The same signal through a 0 Ω unlimited stage (same level and latency).
    Ideal,
    /// Emulation minus ideal, time-aligned: what the stage and load change.
    Difference,
}

/// One slot's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlotSettings {
    /// Index into the load library; `library.len()` selects the slot's imported curve.
    pub load: usize,
    /// The output stage.
    pub stage: StageParams,
    /// The listening level, dB SPL of the reference sine (see `listening.rs`); `None` plays the
    /// stage's own Level, as does a load without a sensitivity figure.
    pub spl_db: Option<f64>,
}

/// Everything the processor does, as plain values. The plugin builds one from its parameters
/// every block; the renderer builds one from its flags.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    pub active: SlotId,
    pub level_match: bool,
    pub listen: Listen,
    /// Output Trim, decibels.
    pub trim_db: f64,
    pub bypass: bool,
    pub slots: [SlotSettings; 2],
}

impl Default for Settings {
    fn default() -> Self {
        let s = SlotSettings { load: 0, stage: StageParams::IDEAL, spl_db: None };
        Self { active: SlotId::A, level_match: false, listen: Listen::Emulation, trim_db: 0.0, bypass: false, slots: [s, s] }
    }
}

/// Gains of the emulated and ideal paths for a Listen mode.
fn listen_gains(l: Listen) -> (f64, f64) {
    match l {
        Listen::Emulation => (1.0, 0.0),
        Listen::Ideal => (0.0, 1.0),
        Listen::Difference => (1.0, -1.0),
    }
}

/// The complete Loadline signal path for one stream (mono or stereo).
#[derive(Debug)]
pub struct Processor {
    fs_hz: f64,
    quality: Quality,
    channels: usize,
    slots: [SlotChain; 2],
    /// The ideal path (up- and downsampling with nothing between), run while it is heard.
    ideal: IdealPath,
    /// Per channel: the dry signal delayed by the latency, for Bypass.
    dry: Vec<Delay>,
    /// 0 plays A, 1 plays B.
    mix_b: Ramp,
    /// Gain of the emulated path (Listen).
    g_emu: Ramp,
    /// Gain of the ideal path (Listen).
    g_ideal: Ramp,
    /// 1 processed, 0 bypassed.
    wet: Ramp,
    /// Output Trim, linear, log-smoothed.
    trim: Smoother,
    /// When set, a slot that is fully faded out is not computed (offline use only: it makes
    /// switching to that slot start from rest).
    skip_silent_slot: bool,
    /// Timeline position of the next sample, base-rate samples (the engines' noise is keyed on it).
    position: u64,
    /// Control values once per chunk while nothing ramps (false: always per sample, the plain
    /// form tests hold the chunk form to).
    per_chunk_controls: bool,
    settings: Settings,
    scratch: Box<Scratch>,
}

impl Processor {
    /// Builds and prepares a processor (allocates and fits every load of `library`: call off the
    /// audio thread; [`Processor::prepared`] with a [`PreparedLibrary`] skips the fitting).
    ///
    /// `library` is the list of load networks the settings' `load` indices refer to; `imported`
    /// gives each slot's imported curve, if any. `seed` seeds the noise generators (each slot and
    /// channel gets its own sequence).
    pub fn new(
        fs_hz: f64,
        quality: Quality,
        channels: usize,
        library: &[Network],
        imported: [Option<&Network>; 2],
        settings: &Settings,
        seed: u64,
    ) -> Result<Self, NetworkError> {
        let library = PreparedLibrary::build(fs_hz, quality, library)?;
        Self::prepared(&library, channels, imported, settings, seed)
    }

    /// Builds and prepares a processor at the library's rate and quality (allocates; fits only
    /// the imported curves, so it takes well under a millisecond without them).
    pub fn prepared(
        library: &PreparedLibrary,
        channels: usize,
        imported: [Option<&Network>; 2],
        settings: &Settings,
        seed: u64,
    ) -> Result<Self, NetworkError> {
        let (fs_hz, quality) = (library.sample_rate(), library.quality());
        let channels = channels.clamp(1, MAX_CHANNELS);
        let mk = |i: usize| {
            let s = &settings.slots[i];
            SlotChain::new(library, channels, imported[i], s.load, &s.stage, settings.level_match, seed.wrapping_add(1000 * i as u64))
        };
        let slots = [mk(0)?, mk(1)?];
        let ideal = IdealPath::new(&library.oversampler(), channels);
        let latency = slots[0].latency();
        debug_assert_eq!(latency, ideal.latency());
        let mut p = Self {
            fs_hz,
            quality,
            channels,
            slots,
            dry: (0..channels).map(|_| Delay::new(latency)).collect(),
            ideal,
            mix_b: Ramp::new(0.0, CROSSFADE_S, fs_hz),
            g_emu: Ramp::new(1.0, CROSSFADE_S, fs_hz),
            g_ideal: Ramp::new(0.0, CROSSFADE_S, fs_hz),
            wet: Ramp::new(1.0, CROSSFADE_S, fs_hz),
            trim: Smoother::new(1.0, true),
            skip_silent_slot: false,
            position: 0,
            per_chunk_controls: true,
            settings: *settings,
            scratch: Scratch::new(),
        };
        p.trim.set_rate(fs_hz);
        p.set_settings(settings);
        p.snap();
        Ok(p)
    }

    /// Builds a processor over the built-in load library ([`crate::library::loads`]), fitting
    /// only the loads `settings` use: the others cannot be switched to (for renders). Every load,
    /// the slots' imported curves included, gets its sensitivity for a listening level.
    pub fn with_library(
        fs_hz: f64,
        quality: Quality,
        channels: usize,
        imported: [Option<&config::ImportedCurve>; 2],
        settings: &Settings,
        seed: u64,
    ) -> Result<Self, NetworkError> {
        let nets: Vec<Network> = crate::library::loads().iter().map(|l| l.network.clone()).collect();
        let wanted = [settings.slots[0].load, settings.slots[1].load];
        let library = PreparedLibrary::build_only(fs_hz, quality, &nets, &wanted)?;
        let mut p = Self::prepared(&library, channels, imported.map(|c| c.map(|c| &c.network)), settings, seed)?;
        p.set_sensitivities(&library_sensitivities(), imported.map(|c| c.and_then(|c| c.sensitivity_db_spl_per_v)));
        p.snap();
        Ok(p)
    }

    /// Gives the loads their sensitivities, dB SPL for 1 V at 1 kHz, so a listening level can be
    /// played: `library` in library order, `imported` for each slot's imported curve (`None` or
    /// a non-positive value: not known). Set-up only; call [`Processor::snap`] after it offline.
    pub fn set_sensitivities(&mut self, library: &[Option<f64>], imported: [Option<f64>; 2]) {
        for (chain, imp) in self.slots.iter_mut().zip(imported) {
            let n = chain.imported_index();
            let mut all: Vec<Option<f64>> = (0..n).map(|k| library.get(k).copied().flatten()).collect();
            all.push(imp);
            chain.set_sensitivities(&all);
        }
    }

    /// The stage slot `slot` plays now: its Level follows the listening level when one is set
    /// (the meters scale by it; the renderer reports it).
    pub fn effective_stage(&self, slot: usize) -> StageParams {
        self.slots[slot.min(1)].effective_stage()
    }

    /// Sensitivity of the load slot `slot` plays now, dB SPL for 1 V, if known.
    pub fn sensitivity(&self, slot: usize) -> Option<f64> {
        self.slots[slot.min(1)].sensitivity()
    }

    /// Base sample rate, hertz.
    pub fn sample_rate(&self) -> f64 {
        self.fs_hz
    }

    /// Quality the engines were prepared with.
    pub fn quality(&self) -> Quality {
        self.quality
    }

    /// Channel count (1 or 2).
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Latency in samples, the same on every path (report it to the host).
    pub fn latency(&self) -> usize {
        self.slots[0].latency()
    }

    /// The settings last applied.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Load index slot `slot` is playing now (it follows the setting after a short fade).
    pub fn current_load(&self, slot: usize) -> usize {
        self.slots[slot].current_load()
    }

    /// Skips computing a slot while it is fully faded out. Offline rendering only: the plugin
    /// keeps both slots running so that A/B switching is instant.
    pub fn set_skip_silent_slot(&mut self, on: bool) {
        self.skip_silent_slot = on;
    }

    /// Applies new settings; they take effect smoothly from the next sample (no allocation).
    pub fn set_settings(&mut self, s: &Settings) {
        self.settings = *s;
        for (chain, ss) in self.slots.iter_mut().zip(s.slots.iter()) {
            chain.set(ss.load, &ss.stage, s.level_match, ss.spl_db);
        }
        self.mix_b.set(s.active.index() as f64);
        let (e, i) = listen_gains(s.listen);
        self.g_emu.set(e);
        self.g_ideal.set(i);
        self.wet.set(if s.bypass { 0.0 } else { 1.0 });
        let t = s.trim_db.clamp(TRIM_RANGE_DB.0, TRIM_RANGE_DB.1);
        self.trim.set(10f64.powf(t / 20.0), false);
    }

    /// Jumps every ramp and smoother to its target (offline set-up).
    pub fn snap(&mut self) {
        self.slots.iter_mut().for_each(|s| s.snap());
        for r in [&mut self.mix_b, &mut self.g_emu, &mut self.g_ideal, &mut self.wet] {
            r.snap();
        }
        let t = self.settings.trim_db.clamp(TRIM_RANGE_DB.0, TRIM_RANGE_DB.1);
        self.trim.set(10f64.powf(t / 20.0), true);
    }

    /// Sets the timeline position of the next sample (base-rate samples; a host's transport
    /// position, or a render's sample index). Noise is a function of it, so a render is the same
    /// whatever was processed before and from wherever it starts. Processing advances it by itself;
    /// `reset` returns it to 0.
    pub fn set_position(&mut self, n: u64) {
        self.position = n;
    }

    /// Timeline position of the next sample.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Runs the ideal path always (`false`) or only while it can be heard (`true`, the
    /// default; see `processor/ideal.rs`). For tests and benchmarks that compare the two.
    pub fn set_ideal_on_demand(&mut self, on: bool) {
        self.ideal.set_on_demand(on);
    }

    /// Computes the control values once per chunk while nothing ramps (`true`, the default) or
    /// always per sample (`false`). For tests that hold the two to the same output.
    pub fn set_per_chunk_controls(&mut self, on: bool) {
        self.per_chunk_controls = on;
    }

    /// Whether the ideal path is running now (diagnostics and tests).
    pub fn ideal_running(&self) -> bool {
        self.ideal.is_live()
    }

    /// Clears all audio state (filters, circuits, delay lines, noise sequences) and returns to
    /// position 0.
    pub fn reset(&mut self) {
        self.position = 0;
        self.slots.iter_mut().for_each(|s| s.reset());
        self.ideal.reset();
        self.dry.iter_mut().for_each(|d| d.reset());
        self.snap();
    }

    /// Offers an imported curve to its slot (audio thread safe). Returns it if the slot cannot take
    /// it yet, or if it was built for another configuration (then drop it elsewhere).
    pub fn install_imported(&mut self, load: ImportedLoad) -> Result<(), ImportedLoad> {
        if load.slot > 1 || !load.fits(self.fs_hz, self.quality, self.channels) {
            return Err(load);
        }
        self.slots[load.slot].install_imported(load)
    }

    /// Takes an imported curve that has been replaced, to be dropped off the audio thread.
    pub fn take_garbage(&mut self) -> Option<ImportedLoad> {
        self.slots[0].take_garbage().or_else(|| self.slots[1].take_garbage())
    }

    /// Processes a block in place. `io[ch]` are the channel buffers (all the same length, any
    /// length); extra channels beyond [`Processor::channels`] are left untouched.
    pub fn process(&mut self, io: &mut [&mut [f32]]) {
        self.process_metered(io, None);
    }

    /// As [`Processor::process`], also feeding the active slot's headphone voltage and its
    /// engines' load readings to `meter` (the plugin passes one only while the editor is open; see
    /// [`meters`]). The output is the same either way.
    pub fn process_metered(&mut self, io: &mut [&mut [f32]], mut meter: Option<&mut meters::MeterWriter>) {
        // Subnormals flushed for the call, in the plugin and the renderer alike (`ftz.rs`).
        let _flush = ftz::FlushGuard::new();
        let metered = self.settings.active.index();
        let metered_b = metered == 1;
        for (k, slot) in self.slots.iter_mut().enumerate() {
            slot.set_metering(meter.is_some() && k == metered);
        }
        let nch = io.len().min(self.channels);
        let n = io.iter().take(nch).map(|c| c.len()).min().unwrap_or(0);
        let mut start = 0;
        while start < n {
            // Chunks of up to CHUNK samples go through the engines in block form; while a load
            // swap is pending, one sample at a time, so the swap lands on the same sample.
            let pending = self.slots.iter().any(|s| s.wants_swap());
            let len = if pending { 1 } else { (n - start).min(CHUNK) };
            let sc = &mut self.scratch;
            // The ideal path is computed only if it can be heard in this chunk (its gain is not
            // settled at zero; the settings cannot change within a call).
            let ideal_needed = !self.g_ideal.at(0.0);
            // Per-sample control values.
            let mut run = [false; 2];
            let steady = self.per_chunk_controls
                && !pending
                && self.slots.iter().all(|s| s.settled())
                && [&self.mix_b, &self.g_emu, &self.g_ideal, &self.wet].iter().all(|r| r.settled())
                && self.trim.settled();
            let n_ctl = if steady { 1 } else { len };
            for i in 0..n_ctl {
                sc.ga[i] = self.slots[0].advance();
                sc.gb[i] = self.slots[1].advance();
                let m = self.mix_b.next();
                sc.m[i] = m;
                sc.ge[i] = self.g_emu.next();
                sc.gi[i] = self.g_ideal.next();
                sc.w[i] = self.wet.next();
                self.trim.tick();
                sc.trim[i] = self.trim.value();
                let (ra, rb) = if self.skip_silent_slot { (m < 1.0, m > 0.0) } else { (true, true) };
                run[0] |= ra;
                run[1] |= rb;
            }
            if steady {
                // Nothing moves: the values just computed hold for the whole chunk (the calls
                // would return them again without changing state), which skips a per-sample
                // `exp` and six branches.
                for a in [&mut sc.ga, &mut sc.gb, &mut sc.m, &mut sc.ge, &mut sc.gi, &mut sc.w, &mut sc.trim] {
                    let v = a[0];
                    a[1..len].fill(v);
                }
            }
            // Inputs (non-finite treated as silence).
            for (buf, xs) in io.iter().take(nch).zip(sc.x.iter_mut()) {
                for (x, &v) in xs.iter_mut().zip(&buf[start..start + len]) {
                    let v = v as f64;
                    *x = if v.is_finite() { v } else { 0.0 };
                }
            }
            // The two slots' engines.
            for (s, slot) in self.slots.iter_mut().enumerate() {
                // A silent slot (offline only, see `skip_silent_slot`) outputs zeros uncomputed.
                if !run[s] {
                    sc.y[s].iter_mut().take(nch).for_each(|y| y[..len].fill(0.0));
                    continue;
                }
                // Every engine is told where it is, so a slot skipped for a while comes back in step.
                slot.set_position(self.position);
                for (y, x) in sc.y[s].iter_mut().zip(&sc.x).take(nch) {
                    y[..len].copy_from_slice(&x[..len]);
                }
                if nch == 2 {
                    let [l, r] = &mut sc.y[s];
                    slot.process_block_pair(&mut l[..len], &mut r[..len]);
                } else {
                    for ch in 0..nch {
                        slot.process_block(ch, &mut sc.y[s][ch][..len]);
                    }
                }
            }
            if let Some(m) = meter.as_deref_mut() {
                for ch in 0..nch {
                    m.load(ch, &self.slots[metered].take_reading(ch), len);
                }
            }
            // The ideal path: the same up/down-sampling as the engine with a wire between.
            self.ideal.process(&sc.x, &mut sc.ideal, nch, len, ideal_needed);
            for (ch, buf) in io.iter_mut().take(nch).enumerate() {
                if let Some(m) = meter.as_deref_mut() {
                    m.block(ch, &sc.x[ch][..len], &sc.y[metered_b as usize][ch][..len]);
                }
                self.dry[ch].process_block(&sc.x[ch][..len], &mut sc.dry[..len]);
                // The mix, per sample but branch-free, so it vectorises.
                let (ya, yb) = (&sc.y[0][ch], &sc.y[1][ch]);
                for (i, out) in buf[start..start + len].iter_mut().enumerate() {
                    let m = sc.m[i];
                    let emu = (1.0 - m) * sc.ga[i] * ya[i] + m * sc.gb[i] * yb[i];
                    let w = sc.w[i];
                    let y = w * sc.trim[i] * (sc.ge[i] * emu + sc.gi[i] * sc.ideal[ch][i]) + (1.0 - w) * sc.dry[i];
                    // Nothing below the smallest normal f32 reaches the host.
                    *out = if y.abs() < f32::MIN_POSITIVE as f64 { 0.0 } else { y as f32 };
                }
            }
            start += len;
            self.position = self.position.wrapping_add(len as u64);
        }
        self.slots.iter_mut().for_each(|s| s.flush_denormals());
    }
}

/// The built-in library's sensitivities in library order (`None` for loads that are not
/// transducers, recorded as 0).
pub fn library_sensitivities() -> Vec<Option<f64>> {
    crate::library::loads().iter().map(|l| l.sensitivity()).collect()
}

/// Samples per chunk of [`Processor::process_metered`]: a host block of up to this many samples
/// reaches each engine as one call (the engines' per-call setup is a cost per chunk).
const CHUNK: usize = 256;

/// Per-chunk working buffers, allocated with the processor (the audio thread never allocates).
#[derive(Debug)]
struct Scratch {
    ga: [f64; CHUNK],
    gb: [f64; CHUNK],
    m: [f64; CHUNK],
    ge: [f64; CHUNK],
    gi: [f64; CHUNK],
    w: [f64; CHUNK],
    trim: [f64; CHUNK],
    /// Per channel: sanitised input, the ideal path's output.
    x: [[f64; CHUNK]; MAX_CHANNELS],
    ideal: [[f64; CHUNK]; MAX_CHANNELS],
    /// Per slot and channel: the engine's output.
    y: [[[f64; CHUNK]; MAX_CHANNELS]; 2],
    /// One channel's dry signal, delayed.
    dry: [f64; CHUNK],
}

impl Scratch {
    fn new() -> Box<Self> {
        Box::new(Self {
            ga: [0.0; CHUNK],
            gb: [0.0; CHUNK],
            m: [0.0; CHUNK],
            ge: [0.0; CHUNK],
            gi: [0.0; CHUNK],
            w: [0.0; CHUNK],
            trim: [0.0; CHUNK],
            x: [[0.0; CHUNK]; MAX_CHANNELS],
            ideal: [[0.0; CHUNK]; MAX_CHANNELS],
            y: [[[0.0; CHUNK]; MAX_CHANNELS]; 2],
            dry: [0.0; CHUNK],
        })
    }
}

