//! Importing measured impedance curves (ZMA, REW text export, CSV) as loads the engine can drive.
//!
//! [`import_impedance`] parses and validates the file ([`parse`]), reconstructs a minimum-phase
//! phase when the file has none ([`minphase`]), and fits a passive R/L/C network to the complex
//! curve ([`fit`]: vector fitting plus a passivity-constrained Foster realisation), which the
//! engine drives like any library load (as a modal filter of the fitted network). A curve no
//! passive load can have (phase well past ±90°) is refused with its line. Errors name the line and the problem, and nothing panics on any input (see
//! `tests/import_fuzz.rs`). The work takes tens to hundreds of milliseconds: call it from a
//! background thread, never the audio thread.

pub mod error;
pub mod fit;
pub use crate::dsp::linalg;
pub mod minphase;
pub mod parse;
pub mod realize;
pub mod refine;
pub mod vfit;

pub use error::{ErrorKind, ImportError};
pub use fit::FitReport;
pub use parse::Format;
pub use realize::Form;

use crate::dsp::network::Network;
use num_complex::Complex64;

/// Fewest data points accepted.
pub const MIN_POINTS: usize = 8;
/// Narrowest accepted range, as f_max/f_min (one decade).
pub const MIN_RANGE_RATIO: f64 = 10.0;
/// The file must reach into the audio band: f_min below this, hertz…
pub const MAX_START_HZ: f64 = 2_000.0;
/// …and f_max above this, hertz.
pub const MIN_END_HZ: f64 = 200.0;

/// One point of an imported curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Hertz.
    pub freq_hz: f64,
    /// Complex impedance, ohms (phase reconstructed if the file had none).
    pub z: Complex64,
}

/// A parsed, validated and fitted impedance curve.
#[derive(Debug, Clone)]
pub struct ImportedCurve {
    /// Detected file format.
    pub format: Format,
    /// The file's points, in file order (increasing frequency).
    pub samples: Vec<Sample>,
    /// True if the file had no phase (or only zeros) and the phase is a minimum-phase
    /// reconstruction.
    pub phase_reconstructed: bool,
    /// The fitted passive network (validated, ready for `Engine::build_load`).
    pub network: Network,
    /// Fit error and extrapolation.
    pub fit: FitReport,
    /// Messages for the user, e.g. "phase reconstructed".
    pub notes: Vec<String>,
}

/// Parses, validates and fits an impedance file given as text or raw bytes.
pub fn import_impedance(input: impl AsRef<[u8]>) -> Result<ImportedCurve, ImportError> {
    let (format, samples, phase_reconstructed, mut notes) = read_samples(input.as_ref())?;
    let f: Vec<f64> = samples.iter().map(|s| s.freq_hz).collect();
    let z: Vec<Complex64> = samples.iter().map(|s| s.z).collect();
    let (network, fit) = fit::fit_network(&f, &z)
        .ok_or_else(|| ImportError::new(ErrorKind::FitFailed, None, "no passive network could be fitted to this curve"))?;
    notes.push(format!(
        "fitted a {}-element passive network (order {}, {:?} form): max |Z| error {:.3} dB, max phase error {:.2}°, max divider error {:.3} dB for source resistances 0.1 Ω–1 kΩ",
        fit.elements, fit.order, fit.form, fit.max_mag_error_db, fit.max_phase_error_deg, fit.max_divider_error_db
    ));
    notes.push(fit.extrapolation.clone());
    Ok(ImportedCurve { format, samples, phase_reconstructed, network, fit, notes })
}

/// Parses and validates a file without fitting: the samples (phase reconstructed if absent),
/// whether it was, and notes. Cheap enough for a file-picker preview.
pub fn read_samples(bytes: &[u8]) -> Result<(Format, Vec<Sample>, bool, Vec<String>), ImportError> {
    let text = parse::decode(bytes)?;
    let t = parse::parse_table(&text)?;
    let n = t.freq_hz.len();
    if n == 0 {
        return Err(ImportError::new(ErrorKind::Empty, None, "the file holds no data lines (empty, or only comments and headers)"));
    }
    if n < MIN_POINTS {
        return Err(ImportError::new(ErrorKind::TooFewPoints, None, format!("only {n} data points; at least {MIN_POINTS} are needed")));
    }
    let (lo, hi) = (t.freq_hz[0], t.freq_hz[n - 1]);
    if hi / lo < MIN_RANGE_RATIO || lo > MAX_START_HZ || hi < MIN_END_HZ {
        return Err(ImportError::new(
            ErrorKind::RangeTooNarrow,
            None,
            format!("the range {lo} Hz to {hi} Hz is too narrow to use: it must span at least a decade and start below {MAX_START_HZ} Hz and end above {MIN_END_HZ} Hz"),
        ));
    }
    let mut notes = t.notes;
    let phase = match t.phase_deg {
        Some(p) if p.iter().any(|&x| x != 0.0) => (p, false),
        had => {
            notes.push(format!(
                "phase reconstructed: the file has {}, so the phase is the minimum-phase one implied by |Z| (Bode gain-phase relation; edge slopes tapered beyond the file's range)",
                if had.is_some() { "an all-zero phase column" } else { "no phase column" }
            ));
            (minphase::reconstruct_phase_deg(&t.freq_hz, &t.mag_ohm), true)
        }
    };
    let samples = t
        .freq_hz
        .iter()
        .zip(&t.mag_ohm)
        .zip(&phase.0)
        .map(|((&f, &m), &p)| Sample { freq_hz: f, z: Complex64::from_polar(m, p.to_radians()) })
        .collect();
    Ok((t.format, samples, phase.1, notes))
}
