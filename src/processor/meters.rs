//! Live meters for the editor: what the amplifier is going through, computed on the audio thread
//! and handed to the GUI one way, lock-free.
//!
//! The audio thread owns a [`MeterWriter`]; the processor feeds it one call per channel and sample
//! ([`MeterWriter::sample`]) and the plugin publishes once per block ([`MeterWriter::end_block`]).
//! The plugin only does this while the editor is open. Everything the writer publishes is a plain
//! atomic in [`MeterShared`]: levels are stored, peaks are raised with `fetch_max` and taken by the
//! GUI with `swap`, flags are set with `fetch_or`. The writer never allocates, locks or frees.
//!
//! The load current is not an output of the engine, so the writer derives it from the headphone
//! voltage: the load is linear and passive, so `i = Y(f)·v` exactly, and a wave digital filter of
//! the load network at the base rate (a [`Probe`]) computes it sample by sample. The GUI builds the
//! probe for each slot's load ([`MeterReader::offer_probe`]) and sends it through a ring; replaced
//! probes come back through a second ring and are dropped on the GUI thread.

use crate::dsp::network::Network;
use crate::dsp::wdf::Wdf;
use crate::dsp::StageParams;
use std::f64::consts::SQRT_2;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

/// Time constant of the RMS and power averages, seconds (a "slow" meter ballistic).
pub const METER_AVERAGE_TAU_S: f64 = 0.300;
/// The clip and current-limit lights come on at this fraction of the onset level (the soft knee
/// reaches about 1 % THD there; see `dsp/nonlinear.rs`).
pub const LIMIT_INDICATOR_FRACTION: f64 = 0.95;
/// Probes that can be in flight each way.
pub const PROBE_RING_CAPACITY: usize = 4;
/// The probe filters are pre-warped to this frequency (or 40 % of the sample rate if lower), hertz.
pub const PROBE_PREWARP_HZ: f64 = 16_000.0;
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
    /// The current probe matched the playing load during the last block.
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

/// A load's admittance as a filter: drive it with the headphone voltage, read the current.
#[derive(Debug)]
pub struct Probe {
    /// Slot it is for.
    pub slot: usize,
    /// Load index it was built from.
    pub load: usize,
    /// For the imported entry: the curve generation it was built from (0 for library loads; the
    /// plugin's [`MeterTarget::generation`] follows the same rule).
    pub generation: u64,
    /// Sample rate it was built for, hertz.
    pub fs_hz: f64,
    /// One filter per channel.
    wdf: [Wdf; CH],
}

impl Probe {
    /// Compiles `net` at `fs_hz` (allocates: GUI thread).
    pub fn build(net: &Network, fs_hz: f64, slot: usize, load: usize, generation: u64) -> Option<Self> {
        let prewarp = PROBE_PREWARP_HZ.min(0.4 * fs_hz);
        let (w, _) = Wdf::build_prewarped(net, fs_hz, Some(prewarp)).ok()?;
        Some(Self { slot, load, generation, fs_hz, wdf: [w.clone(), w] })
    }

    /// Current into the load for the voltage `v_v` across it, amperes (audio thread).
    #[inline]
    fn current(&mut self, ch: usize, v_v: f64) -> f64 {
        let w = &mut self.wdf[ch.min(CH - 1)];
        // The network is a Thévenin source `v = b + R_p·i`; an ideal voltage source at the root
        // sends `a = 2v − b` (see `Wdf::reflected`).
        let b = w.reflected();
        let rp = w.port_resistance();
        w.incident(2.0 * v_v - b);
        let i = if rp > 0.0 { (v_v - b) / rp } else { 0.0 };
        if i.is_finite() {
            i
        } else {
            w.reset();
            0.0
        }
    }
}

/// What the block being metered plays (set once per block by the plugin).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeterTarget {
    /// Slot heard (0 = A, 1 = B).
    pub slot: usize,
    /// Load index playing in that slot.
    pub load: usize,
    /// Generation of that slot's imported curve if `load` is the imported entry, else 0.
    pub generation: u64,
    /// That slot's stage.
    pub stage: StageParams,
}

/// The audio end. Never allocates, locks or frees (see the module docs).
pub struct MeterWriter {
    shared: Arc<MeterShared>,
    probes_in: rtrb::Consumer<Probe>,
    probes_back: rtrb::Producer<Probe>,
    /// The probe in use for each slot.
    probes: [Option<Probe>; 2],
    /// A replaced probe waiting for room in the return ring.
    returning: Option<Probe>,
    fs_hz: f64,
    /// One-pole coefficient of the averages for `fs_hz`.
    coeff: f64,
    target: MeterTarget,
    /// Per-block derived values.
    level_v: f64,
    clip_x: f64,
    limit_a: f64,
    probe_ok: bool,
    /// Running state per channel.
    ms: [f64; CH],
    pm: [f64; CH],
    /// This block's peaks and flags.
    v_peak: f64,
    i_peak: f64,
    clipped: bool,
    limited: bool,
    /// Counts since creation, never reset by publishing (the renderer's report reads them).
    totals: MeterTotals,
}

/// What the writer has seen since it was created: channel-samples metered, those at or past the
/// clip and current-limit indications, and the peak load current.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MeterTotals {
    pub samples: u64,
    pub clipping: u64,
    pub limiting: u64,
    /// Channel-samples whose load current was known (a probe matched the playing load).
    pub current_known: u64,
    /// Largest |i| seen, amperes.
    pub i_peak_a: f64,
}

/// The GUI end: reads the atomics and sends probes. Lives behind the editor's own lock, which the
/// audio thread never takes.
pub struct MeterReader {
    shared: Arc<MeterShared>,
    probes_out: rtrb::Producer<Probe>,
    probes_returned: rtrb::Consumer<Probe>,
    /// `(load, generation, fs bits)` of the probe last sent per slot.
    sent: [Option<(usize, u64, u64)>; 2],
}

/// One reading, in SI units.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MeterSnapshot {
    /// RMS headphone voltage (louder channel), volts.
    pub v_rms: f64,
    /// Peak |v| since the previous reading, volts.
    pub v_peak: f64,
    /// Peak |i| since the previous reading, amperes (`None`: no probe for the playing load yet).
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

/// Creates a connected writer/reader pair (allocates the rings).
pub fn meters() -> (MeterWriter, MeterReader) {
    let shared = Arc::new(MeterShared::default());
    let (p1, c1) = rtrb::RingBuffer::new(PROBE_RING_CAPACITY);
    let (p2, c2) = rtrb::RingBuffer::new(PROBE_RING_CAPACITY);
    let w = MeterWriter {
        shared: shared.clone(),
        probes_in: c1,
        probes_back: p2,
        probes: [None, None],
        returning: None,
        fs_hz: 0.0,
        coeff: 1.0,
        target: MeterTarget { slot: 0, load: 0, generation: 0, stage: StageParams::IDEAL },
        level_v: 1.0,
        clip_x: f64::INFINITY,
        limit_a: f64::INFINITY,
        probe_ok: false,
        ms: [0.0; CH],
        pm: [0.0; CH],
        v_peak: 0.0,
        i_peak: 0.0,
        clipped: false,
        limited: false,
        totals: MeterTotals::default(),
    };
    let r = MeterReader { shared, probes_out: p1, probes_returned: c2, sent: [None, None] };
    (w, r)
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
        }
        if target.slot != self.target.slot || target.load != self.target.load {
            // A different load (or slot) starts from rest in the averages.
            self.ms = [0.0; CH];
            self.pm = [0.0; CH];
        }
        self.target = target;
        let s = &target.stage;
        self.level_v = s.level_v;
        self.clip_x = s.v_max_v.map_or(f64::INFINITY, |v| LIMIT_INDICATOR_FRACTION * v / s.level_v.max(1e-12));
        self.limit_a = s.i_max_a.map_or(f64::INFINITY, |i| LIMIT_INDICATOR_FRACTION * i);
        self.receive_probes();
        let slot = target.slot.min(1);
        self.probe_ok = self.probes[slot].as_ref().is_some_and(|p| {
            p.load == target.load && p.fs_hz == fs_hz && p.generation == target.generation
        });
    }

    /// Meters one sample of channel `ch`: `x` the plugin input (digital full scale), `y` the
    /// metered slot's engine output (digital full scale, before fades and Level Match).
    #[inline]
    pub fn sample(&mut self, ch: usize, x: f64, y: f64) {
        let ch = ch.min(CH - 1);
        let v = y * SQRT_2 * self.level_v;
        let c = self.coeff;
        self.ms[ch] += c * (v * v - self.ms[ch]);
        self.v_peak = self.v_peak.max(v.abs());
        self.totals.samples += 1;
        if x.abs() >= self.clip_x {
            self.clipped = true;
            self.totals.clipping += 1;
        }
        if self.probe_ok {
            if let Some(p) = self.probes[self.target.slot.min(1)].as_mut() {
                let i = p.current(ch, v);
                self.pm[ch] += c * (v * i - self.pm[ch]);
                self.i_peak = self.i_peak.max(i.abs());
                self.totals.current_known += 1;
                self.totals.i_peak_a = self.totals.i_peak_a.max(i.abs());
                if i.abs() >= self.limit_a {
                    self.limited = true;
                    self.totals.limiting += 1;
                }
            }
        }
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
        s.i_known.store(self.probe_ok, Ordering::Relaxed);
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
        self.clipped = false;
        self.limited = false;
    }

    /// Takes newly built probes and hands replaced ones back (wait-free; never frees).
    fn receive_probes(&mut self) {
        if let Some(old) = self.returning.take() {
            if let Err(rtrb::PushError::Full(old)) = self.probes_back.push(old) {
                self.returning = Some(old);
                return;
            }
        }
        while self.returning.is_none() {
            let Ok(new) = self.probes_in.pop() else { break };
            let k = new.slot.min(1);
            if let Some(old) = self.probes[k].replace(new) {
                if let Err(rtrb::PushError::Full(old)) = self.probes_back.push(old) {
                    self.returning = Some(old);
                }
            }
        }
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

    /// Makes sure slot `slot` has a current probe for load index `load` (network `net`, curve
    /// generation `generation` for the imported entry, else 0). Builds and sends one only when
    /// something changed (GUI thread; allocates then). Also drops returned probes.
    pub fn offer_probe(&mut self, slot: usize, load: usize, generation: u64, net: &Network) {
        while let Ok(old) = self.probes_returned.pop() {
            drop(old);
        }
        let fs = self.sample_rate();
        if !(fs > 0.0) {
            return;
        }
        let key = (load, generation, fs.to_bits());
        if self.sent[slot.min(1)] == Some(key) {
            return;
        }
        if let Some(p) = Probe::build(net, fs, slot.min(1), load, generation) {
            if self.probes_out.push(p).is_ok() {
                self.sent[slot.min(1)] = Some(key);
            }
        }
    }

    /// Forgets what was sent (after the audio side was rebuilt, probes must be sent again).
    pub fn invalidate(&mut self) {
        self.sent = [None, None];
    }
}
