//! The load library compiled for one sample rate and quality, built once and shared by every
//! processor (and plugin activation) at that configuration.
//!
//! Fitting the loads' modal filters and designing the oversampler's filters are the expensive
//! parts of preparing a processor (milliseconds each). A [`PreparedLibrary`] holds each library
//! load fitted once and one designed oversampler; [`super::Processor::prepared`] clones them into
//! its engines and pools, which costs microseconds. The plugin keeps the libraries it has built ([`shared`]) so that activating again,
//! or another instance activating, at a rate already seen fits nothing.
//!
//! Threading: building allocates and takes milliseconds (never the audio thread); a built library
//! is immutable and shared through `Arc`.

use crate::dsp::network::NetworkError;
use crate::dsp::resample::Oversampler;
use crate::dsp::{Network, PreparedLoad, Quality};
use num_complex::Complex64;
use std::sync::{Arc, Mutex};

use super::LEVEL_MATCH_HZ;

/// Library loads compiled for one base rate and quality.
#[derive(Debug)]
pub struct PreparedLibrary {
    fs_hz: f64,
    quality: Quality,
    /// One fit per library load, in library order (`None`: not built, see [`Self::build_only`]).
    loads: Vec<Option<PreparedLoad>>,
    /// The oversampler designed for this rate and quality (designing one costs as much as
    /// several fits), cloned for every engine and ideal path.
    oversampler: Oversampler,
}

impl PreparedLibrary {
    /// Fits every network of `library` for `fs_hz` and `quality` (allocates; milliseconds).
    pub fn build(fs_hz: f64, quality: Quality, library: &[Network]) -> Result<Self, NetworkError> {
        let all: Vec<usize> = (0..library.len()).collect();
        Self::build_only(fs_hz, quality, library, &all)
    }

    /// Fits only the entries `wanted` of `library` (indices past its end are ignored). A processor
    /// built on it cannot switch to the others: for renders, whose loads are known beforehand.
    pub fn build_only(fs_hz: f64, quality: Quality, library: &[Network], wanted: &[usize]) -> Result<Self, NetworkError> {
        let mut loads: Vec<Option<PreparedLoad>> = (0..library.len()).map(|_| None).collect();
        for &k in wanted {
            if k < library.len() && loads[k].is_none() {
                loads[k] = Some(PreparedLoad::build(&library[k], fs_hz, quality)?);
            }
        }
        Ok(Self { fs_hz, quality, loads, oversampler: Oversampler::new(fs_hz, quality) })
    }

    /// True if this was built for `fs_hz` and `quality`.
    pub fn fits(&self, fs_hz: f64, quality: Quality) -> bool {
        self.fs_hz == fs_hz && self.quality == quality
    }

    /// Base rate, hertz.
    pub fn sample_rate(&self) -> f64 {
        self.fs_hz
    }

    /// Quality.
    pub fn quality(&self) -> Quality {
        self.quality
    }

    /// Number of library entries (built or not).
    pub fn len(&self) -> usize {
        self.loads.len()
    }

    /// True for an empty library.
    pub fn is_empty(&self) -> bool {
        self.loads.is_empty()
    }

    /// Entry `k`, if it was built.
    pub fn get(&self, k: usize) -> Option<&PreparedLoad> {
        self.loads.get(k).and_then(Option::as_ref)
    }

    /// A fresh copy of the oversampler designed for this configuration.
    pub fn oversampler(&self) -> Oversampler {
        let mut os = self.oversampler.clone();
        os.reset();
        os
    }

    /// Load impedance of entry `k` at [`LEVEL_MATCH_HZ`], ohms, if it was built.
    pub fn z_1k(&self, k: usize) -> Option<Complex64> {
        self.get(k).map(|l| l.network().impedance(LEVEL_MATCH_HZ))
    }
}

/// How many configurations [`shared`] keeps (a host switching between 44.1 and 48 kHz, or
/// another quality, keeps each).
const KEPT: usize = 4;

/// Libraries already built in this process, newest last.
static BUILT: Mutex<Vec<Arc<PreparedLibrary>>> = Mutex::new(Vec::new());

/// The built-in library ([`crate::library::loads`]) compiled for `fs_hz` and `quality`: built
/// on the first call for that configuration (milliseconds), then shared by every later call in the
/// process, from any plugin instance (microseconds). Never call it on the audio thread: it may
/// build, and it takes a lock that another thread's build does not hold while fitting.
pub fn shared(fs_hz: f64, quality: Quality) -> Result<Arc<PreparedLibrary>, NetworkError> {
    let find = |v: &Vec<Arc<PreparedLibrary>>| v.iter().find(|l| l.fits(fs_hz, quality)).cloned();
    if let Some(l) = BUILT.lock().ok().as_ref().and_then(|v| find(v)) {
        return Ok(l);
    }
    let nets: Vec<Network> = crate::library::loads().iter().map(|l| l.network.clone()).collect();
    let built = Arc::new(PreparedLibrary::build(fs_hz, quality, &nets)?);
    if let Ok(mut v) = BUILT.lock() {
        // Another thread may have built the same meanwhile: keep one.
        if let Some(l) = find(&v) {
            return Ok(l);
        }
        if v.len() == KEPT {
            v.remove(0);
        }
        v.push(built.clone());
    }
    Ok(built)
}
