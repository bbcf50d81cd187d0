//! Plugin state that is not a parameter: each slot's imported curve (embedded, so a project
//! reopens without the file), the chosen headphone's id (so library changes cannot remap a saved
//! session), and the stage fields a preset sets that have no knob.
//!
//! Threads: the editor and the host's state calls write this; the audio thread only reads the
//! atomics (`generation`, `extras`). The curves sit behind a lock that the audio thread never takes:
//! it learns of a new curve from `generation` and a background task compiles it.

use crate::processor::config::{load_id, load_index, ImportedCurve};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::RwLock;

/// Version of [`PersistedState`]'s layout.
pub const STATE_VERSION: u32 = 1;

/// Shared, interior-mutable plugin state (see the module docs).
#[derive(Debug, Default)]
pub struct SharedState {
    /// Each slot's imported curve (never locked by the audio thread).
    imported: [RwLock<Option<ImportedCurve>>; 2],
    /// Bumped whenever a slot's imported curve changes.
    generation: [AtomicU64; 2],
    /// `[xo_v, r_mod_ohm, l_out_h]` per slot as `f64` bits.
    extras: [[AtomicU64; 3]; 2],
    /// Mirror of each slot's Headphone parameter (kept by its callback), for saving the id.
    headphone: [AtomicI32; 2],
    /// "Bypass in offline renders": an offline render (a host's export or bounce) passes the input
    /// through, delayed by the latency, so a session monitored through Loadline exports the mix
    /// itself. Off by default: rendering through the emulation is a main use.
    bypass_offline: AtomicBool,
    /// Raised when the host loads a state (after the parameters are set), taken by the audio
    /// thread: the next block starts settled at the loaded values, as after `reset`. nice-plug
    /// does not re-activate the plugin after a state load, and hosts such as Ardour load a
    /// session's state after activating, so without this an export's first 40 ms would glide
    /// from the defaults to the session's settings.
    state_loaded: AtomicBool,
}

/// One slot as saved.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PersistedSlot {
    /// Library id of the chosen load, or "imported".
    pub headphone: Option<String>,
    pub imported: Option<ImportedCurve>,
    /// `[xo_v, r_mod_ohm, l_out_h]`.
    pub extras: Option<[f64; 3]>,
}

/// What is saved in the plugin state under the `loadline` key.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PersistedState {
    pub version: u32,
    pub slots: [PersistedSlot; 2],
    /// See [`SharedState::bypass_offline`].
    #[serde(default)]
    pub bypass_offline: bool,
}

impl<'de> Deserialize<'de> for PersistedState {
    /// Reads whatever is readable: an unreadable slot or field falls back to its default and the
    /// reason is logged. Never fails on well-formed JSON.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        Ok(Self::from_value(&v))
    }
}

impl PersistedState {
    /// Lenient conversion from JSON (see the `Deserialize` impl).
    pub fn from_value(v: &serde_json::Value) -> Self {
        let mut out = Self { version: STATE_VERSION, ..Self::default() };
        match v.get("bypass_offline") {
            None | Some(serde_json::Value::Null) => {}
            Some(b) => match b.as_bool() {
                Some(b) => out.bypass_offline = b,
                None => nice_plug::nice_warn!("Loadline state: bypass_offline is not true or false ({b}); off"),
            },
        }
        let Some(slots) = v.get("slots").and_then(|s| s.as_array()) else {
            nice_plug::nice_warn!("Loadline state has no readable slots; using defaults");
            return out;
        };
        for (k, s) in slots.iter().take(2).enumerate() {
            let field = |name: &str| s.get(name).filter(|x| !x.is_null()).cloned();
            let slot = &mut out.slots[k];
            slot.headphone = field("headphone").and_then(|x| x.as_str().map(str::to_string));
            if let Some(c) = field("imported") {
                match serde_json::from_value::<ImportedCurve>(c).map_err(|e| e.to_string()).and_then(|c| c.check().map(|()| c)) {
                    Ok(c) => slot.imported = Some(c),
                    Err(e) => nice_plug::nice_warn!("Loadline: slot {k}'s imported curve in the saved state is unusable ({e}); dropped"),
                }
            }
            if let Some(e) = field("extras") {
                match serde_json::from_value::<[f64; 3]>(e) {
                    Ok(e) if e.iter().all(|x| x.is_finite()) => slot.extras = Some(e),
                    _ => nice_plug::nice_warn!("Loadline: slot {k}'s stage extras are unreadable; using defaults"),
                }
            }
        }
        out
    }
}

impl SharedState {
    /// Slot `k`'s imported curve (clone; not for the audio thread).
    pub fn imported(&self, k: usize) -> Option<ImportedCurve> {
        self.imported[k].read().map(|g| g.clone()).unwrap_or(None)
    }

    /// Replaces slot `k`'s imported curve (editor or state load; not for the audio thread). The
    /// audio thread picks it up within a block or two.
    pub fn set_imported(&self, k: usize, curve: Option<ImportedCurve>) {
        match self.imported[k].write() {
            Ok(mut g) => *g = curve,
            Err(p) => *p.into_inner() = curve,
        }
        self.generation[k].fetch_add(1, Ordering::AcqRel);
    }

    /// Generation of slot `k`'s imported curve (audio thread: one atomic load).
    #[inline]
    pub fn generation(&self, k: usize) -> u64 {
        self.generation[k].load(Ordering::Acquire)
    }

    /// Slot `k`'s `[xo_v, r_mod_ohm, l_out_h]` (audio thread: three atomic loads).
    #[inline]
    pub fn extras(&self, k: usize) -> [f64; 3] {
        let e = &self.extras[k];
        [0, 1, 2].map(|i| f64::from_bits(e[i].load(Ordering::Relaxed)))
    }

    /// Sets slot `k`'s non-parameter stage fields (when a preset is applied).
    pub fn set_extras(&self, k: usize, x: [f64; 3]) {
        for (a, v) in self.extras[k].iter().zip(x) {
            a.store(v.to_bits(), Ordering::Relaxed);
        }
    }

    /// Whether offline renders bypass the emulation (any thread: one atomic load).
    #[inline]
    pub fn bypass_offline(&self) -> bool {
        self.bypass_offline.load(Ordering::Relaxed)
    }

    /// Sets "Bypass in offline renders" (editor or state load). It takes effect from the host's
    /// next block; the host learns that a render is offline when it activates the plugin for it.
    pub fn set_bypass_offline(&self, on: bool) {
        self.bypass_offline.store(on, Ordering::Relaxed);
    }

    /// True once after each state load (audio thread: one atomic swap; see `state_loaded`).
    #[inline]
    pub fn take_state_loaded(&self) -> bool {
        self.state_loaded.swap(false, Ordering::AcqRel)
    }

    /// Called by the Headphone parameters' callbacks.
    pub fn set_headphone_index(&self, k: usize, index: usize) {
        self.headphone[k].store(index as i32, Ordering::Relaxed);
    }

    /// A snapshot for saving.
    pub fn snapshot(&self) -> PersistedState {
        let slot = |k: usize| PersistedSlot {
            headphone: Some(load_id(self.headphone[k].load(Ordering::Relaxed).max(0) as usize)),
            imported: self.imported(k),
            extras: Some(self.extras(k)),
        };
        PersistedState { version: STATE_VERSION, slots: [slot(0), slot(1)], bypass_offline: self.bypass_offline() }
    }

    /// Restores a snapshot (headphone indices are restored through the parameters, see
    /// [`headphone_index_from_state`]).
    pub fn restore(&self, s: &PersistedState) {
        self.set_bypass_offline(s.bypass_offline);
        self.state_loaded.store(true, Ordering::Release);
        for (k, slot) in s.slots.iter().enumerate() {
            if let Some(e) = slot.extras {
                self.set_extras(k, e);
            }
            if slot.imported != self.imported(k) {
                self.set_imported(k, slot.imported.clone());
            }
        }
    }
}

impl<'a> nice_plug::params::persist::PersistentField<'a, PersistedState> for std::sync::Arc<SharedState> {
    fn set(&self, new_value: PersistedState) {
        self.restore(&new_value);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&PersistedState) -> R,
    {
        f(&self.snapshot())
    }
}

/// The Headphone parameter index slot `k` should get from a saved state's `loadline` field (by
/// load id, so a library that grew or was reordered still restores the same headphone).
pub fn headphone_index_from_state(field_json: &str, k: usize) -> Option<usize> {
    let v: serde_json::Value = serde_json::from_str(field_json).ok()?;
    let s = PersistedState::from_value(&v);
    s.slots[k].headphone.as_deref().and_then(load_index)
}
