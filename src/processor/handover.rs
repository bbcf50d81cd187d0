//! Handing an imported impedance curve to the audio thread without locks or allocation there.
//!
//! A curve is compiled into one [`PreparedLoad`] per channel on a background thread
//! ([`ImportedLoad::build`]), sent through a wait-free ring ([`ImportSender::send`]), picked up by
//! the audio thread ([`ImportReceiver::try_recv`]) and installed with
//! [`super::Processor::install_imported`]. Whatever it replaces travels back through a second ring
//! ([`ImportReceiver::give_back`]) and is dropped by [`ImportSender::collect`] off the audio thread.

use crate::dsp::{Network, PreparedLoad, Quality};
use crate::dsp::network::NetworkError;
use num_complex::Complex64;

/// Frequency at which Level Match equalises the slots, hertz.
pub const LEVEL_MATCH_HZ: f64 = 1000.0;

/// Slots a ring can hold. Imports are rare user actions, so a few are plenty.
pub const MAILBOX_CAPACITY: usize = 8;

/// An imported curve compiled for one processor configuration.
#[derive(Debug)]
pub struct ImportedLoad {
    /// Slot it belongs to (0 = A, 1 = B).
    pub slot: usize,
    /// Generation of the curve it was built from (see the plugin's persisted state).
    pub generation: u64,
    /// One prepared load per channel (`None` once moved into an engine or pool).
    pub loads: Vec<Option<PreparedLoad>>,
    /// Load impedance at [`LEVEL_MATCH_HZ`], ohms.
    pub z_1k: Complex64,
    /// Base sample rate it was compiled for, hertz.
    pub fs_hz: f64,
    /// Quality it was compiled for.
    pub quality: Quality,
    /// The headphone's sensitivity, dB SPL for 1 V at 1 kHz, when known (for a listening level).
    pub sensitivity: Option<f64>,
}

impl ImportedLoad {
    /// Compiles `net` for `channels` engines at `fs_hz`/`quality` (allocates: not for the audio
    /// thread).
    pub fn build(
        net: &Network,
        fs_hz: f64,
        quality: Quality,
        channels: usize,
        slot: usize,
        generation: u64,
    ) -> Result<Self, NetworkError> {
        let one = PreparedLoad::build(net, fs_hz, quality)?;
        Ok(Self {
            slot,
            generation,
            loads: (0..channels).map(|_| Some(one.clone())).collect(),
            z_1k: net.impedance(LEVEL_MATCH_HZ),
            fs_hz,
            quality,
            sensitivity: None,
        })
    }

    /// The same, carrying the headphone's sensitivity (dB SPL for 1 V at 1 kHz).
    pub fn with_sensitivity(mut self, sensitivity: Option<f64>) -> Self {
        self.sensitivity = sensitivity.filter(|s| s.is_finite() && *s > 0.0);
        self
    }

    /// True if this was built for the given configuration.
    pub fn fits(&self, fs_hz: f64, quality: Quality, channels: usize) -> bool {
        self.fs_hz == fs_hz && self.quality == quality && self.loads.len() == channels
    }
}

/// The non-audio end: sends built curves, drops returned ones.
pub struct ImportSender {
    to_audio: rtrb::Producer<ImportedLoad>,
    from_audio: rtrb::Consumer<ImportedLoad>,
}

/// The audio end: receives built curves, returns replaced ones. Never allocates.
pub struct ImportReceiver {
    from_bg: rtrb::Consumer<ImportedLoad>,
    to_bg: rtrb::Producer<ImportedLoad>,
}

/// Creates a connected sender/receiver pair (allocates the rings).
pub fn mailbox() -> (ImportSender, ImportReceiver) {
    let (p1, c1) = rtrb::RingBuffer::new(MAILBOX_CAPACITY);
    let (p2, c2) = rtrb::RingBuffer::new(MAILBOX_CAPACITY);
    (ImportSender { to_audio: p1, from_audio: c2 }, ImportReceiver { from_bg: c1, to_bg: p2 })
}

impl ImportSender {
    /// Sends a built curve; gives it back if the ring is full.
    pub fn send(&mut self, load: ImportedLoad) -> Result<(), ImportedLoad> {
        self.collect();
        self.to_audio.push(load).map_err(|rtrb::PushError::Full(l)| l)
    }

    /// Drops everything the audio thread has handed back. Returns how many were dropped.
    pub fn collect(&mut self) -> usize {
        let mut n = 0;
        while let Ok(old) = self.from_audio.pop() {
            drop(old);
            n += 1;
        }
        n
    }
}

impl ImportReceiver {
    /// Takes the next built curve, if any (audio thread; wait-free).
    #[inline]
    pub fn try_recv(&mut self) -> Option<ImportedLoad> {
        self.from_bg.pop().ok()
    }

    /// Hands a replaced curve back to be dropped elsewhere (audio thread; wait-free). If the ring
    /// is full the caller keeps it and tries again later, so nothing is ever freed here.
    #[inline]
    pub fn give_back(&mut self, old: ImportedLoad) -> Result<(), ImportedLoad> {
        self.to_bg.push(old).map_err(|rtrb::PushError::Full(l)| l)
    }
}
