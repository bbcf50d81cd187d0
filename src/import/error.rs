//! Import errors: each names the line (1-based, as an editor shows it) and the problem, so a
//! user can fix the file. An error means nothing was changed.

use std::fmt;

/// What is wrong with an impedance file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// No data at all (empty, or only comments and blank lines).
    Empty,
    /// Not a text file (NUL bytes or many control characters).
    Binary,
    /// A data line holds something that is not a number.
    NotNumeric,
    /// A data line has fewer than two numbers.
    MissingColumn,
    /// NaN or infinity.
    NotFinite,
    /// Frequency ≤ 0.
    BadFrequency,
    /// |Z| ≤ 0.
    BadImpedance,
    /// Phase outside ±180°.
    BadPhase,
    /// Phase well past ±90°: a negative real part, impossible for a passive load.
    NotPassive,
    /// A frequency not above the previous line's.
    NotIncreasing,
    /// Fewer than [`super::MIN_POINTS`] points.
    TooFewPoints,
    /// The frequency range is too narrow or outside the audio band.
    RangeTooNarrow,
    /// The header says this is not an impedance (e.g. an SPL measurement in dB).
    NotImpedance,
    /// The fitter could not produce a network (should not happen on valid data).
    FitFailed,
}

/// An import failure with its line number (when one line is to blame) and a readable message.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportError {
    pub kind: ErrorKind,
    /// 1-based line number in the file, if the problem is on one line.
    pub line: Option<usize>,
    pub message: String,
}

impl ImportError {
    pub fn new(kind: ErrorKind, line: Option<usize>, message: impl Into<String>) -> Self {
        Self { kind, line, message: message.into() }
    }
    pub fn at(kind: ErrorKind, line: usize, message: impl Into<String>) -> Self {
        Self::new(kind, Some(line), message)
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ImportError {}
