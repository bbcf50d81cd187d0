//! Passive two-terminal networks (one-ports) built from R, L and C in series and parallel.
//!
//! This is the one description of a load (and of the source network) that every part of Loadline
//! uses: the wave digital filter in [`super::wdf`] is compiled from it, the editor plots
//! [`Network::impedance`], and the CLI exports it. The picture therefore cannot drift from the sound.
//!
//! Values are SI: ohms, henries, farads. Frequencies are in hertz.

use num_complex::Complex64;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// A passive one-port. Serialised as `{"r": 32.0}`, `{"series": [..]}` and so on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    /// Resistor, ohms.
    R(f64),
    /// Inductor, henries.
    L(f64),
    /// Capacitor, farads.
    C(f64),
    /// Elements sharing one current; their impedances add.
    Series(Vec<Network>),
    /// Elements sharing one voltage; their admittances add.
    Parallel(Vec<Network>),
}

/// Why a network cannot be simulated.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkError(pub String);

impl std::fmt::Display for NetworkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for NetworkError {}

impl Network {
    /// Complex impedance in ohms at `f_hz` (analytic, continuous time).
    pub fn impedance(&self, f_hz: f64) -> Complex64 {
        let s = Complex64::new(0.0, 2.0 * PI * f_hz);
        self.impedance_s(s)
    }

    /// Impedance at the complex frequency `s` (rad/s).
    pub fn impedance_s(&self, s: Complex64) -> Complex64 {
        match self {
            Network::R(r) => Complex64::new(*r, 0.0),
            Network::L(l) => s * *l,
            Network::C(c) => 1.0 / (s * *c),
            Network::Series(v) => v.iter().map(|n| n.impedance_s(s)).sum(),
            Network::Parallel(v) => {
                let y: Complex64 = v.iter().map(|n| 1.0 / n.impedance_s(s)).sum();
                1.0 / y
            }
        }
    }

    /// Number of leaf elements (R, L, C).
    pub fn element_count(&self) -> usize {
        match self {
            Network::R(_) | Network::L(_) | Network::C(_) => 1,
            Network::Series(v) | Network::Parallel(v) => v.iter().map(Network::element_count).sum(),
        }
    }

    /// Checks that every value is finite and positive and that adaptors have children, so the
    /// compiled filter is passive and stable. Called off the audio thread before a load is used.
    pub fn validate(&self) -> Result<(), NetworkError> {
        match self {
            Network::R(v) | Network::L(v) | Network::C(v) => {
                if !(v.is_finite() && *v > 0.0) {
                    return Err(NetworkError(format!(
                        "element {self:?} must have a finite value greater than zero"
                    )));
                }
                Ok(())
            }
            Network::Series(v) | Network::Parallel(v) => {
                if v.is_empty() {
                    return Err(NetworkError("series/parallel group with no elements".into()));
                }
                v.iter().try_for_each(Network::validate)
            }
        }
    }

    /// Smallest |Z| on a log grid from `f_lo_hz` to `f_hi_hz` (ohms). Used to scale the
    /// current limiter's knee (see `nonlinear.rs`).
    pub fn min_magnitude(&self, f_lo_hz: f64, f_hi_hz: f64) -> f64 {
        log_grid(f_lo_hz, f_hi_hz, 400)
            .map(|f| self.impedance(f).norm())
            .fold(f64::INFINITY, f64::min)
    }

    /// DC resistance in ohms (infinite if a capacitor blocks DC).
    pub fn dc_resistance(&self) -> f64 {
        self.impedance(1e-9).re.max(0.0)
    }
}

/// `n` frequencies spaced logarithmically from `lo` to `hi` inclusive.
pub fn log_grid(lo: f64, hi: f64, n: usize) -> impl Iterator<Item = f64> + Clone {
    let (l0, l1) = (lo.ln(), hi.ln());
    (0..n).map(move |k| (l0 + (l1 - l0) * k as f64 / (n - 1).max(1) as f64).exp())
}

/// Shorthand constructors, so load definitions read like a parts list.
pub mod build {
    use super::Network;
    pub fn r(ohm: f64) -> Network {
        Network::R(ohm)
    }
    pub fn l(henry: f64) -> Network {
        Network::L(henry)
    }
    pub fn c(farad: f64) -> Network {
        Network::C(farad)
    }
    pub fn series(v: Vec<Network>) -> Network {
        Network::Series(v)
    }
    pub fn parallel(v: Vec<Network>) -> Network {
        Network::Parallel(v)
    }
}

#[cfg(test)]
mod tests {
    use super::build::*;
    use super::*;

    #[test]
    fn rlc_closed_forms() {
        // Parallel RLC peaks at R at its resonance 1/(2π√(LC)).
        let (rr, ll, cc): (f64, f64, f64) = (100.0, 10e-3, 100e-6);
        let f0 = 1.0 / (2.0 * PI * (ll * cc).sqrt());
        let z = parallel(vec![r(rr), l(ll), c(cc)]).impedance(f0);
        assert!((z.re - rr).abs() < 1e-9 && z.im.abs() < 1e-9, "{z}");
        // Series R + L: |Z| at f = R/(2πL) is R·√2.
        let z = series(vec![r(10.0), l(1e-3)]).impedance(10.0 / (2.0 * PI * 1e-3));
        assert!((z.norm() - 10.0 * 2f64.sqrt()).abs() < 1e-9);
    }

    #[test]
    fn validation_rejects_bad_values() {
        assert!(series(vec![r(1.0), c(0.0)]).validate().is_err());
        assert!(series(vec![]).validate().is_err());
        assert!(r(f64::NAN).validate().is_err());
        assert!(series(vec![r(1.0), l(1e-3)]).validate().is_ok());
    }
}
