//! The two channels of an unbalanced (TRS) headphone output as one circuit: both earpieces
//! return their currents through one shared ground conductor (jack contact, cable, plug) of
//! resistance `R_g` (issue 16):
//!
//! ```text
//!  e_L ──► stage L ──► Zs ──► earpiece Z_L ──┐
//!                                            ├── R_g ── amplifier ground
//!  e_R ──► stage R ──► Zs ──► earpiece Z_R ──┘
//! ```
//!
//! The shared voltage `R_g·(i_L + i_R)` sits in series with both earpieces, so each loop reads
//! `Δv(i_c) + r_loop,c·i_c + R_g·(i_L + i_R) = u_c` (`circuit::Reference::loop_equation` gives
//! `r_loop` and `u`). A balanced (four-wire) output has `R_g = 0`: two independent loops.
//!
//! Small signal, with only the left channel driven: `v_R/v_L = −R_g/(Zs + Z + R_g)` ([`crosstalk`];
//! the two-loop mesh solution: `v_g = R_g·(E_L + E_R)/(Zs + Z + 2R_g)`, `v_c = Z·(E_c − v_g)/(Zs + Z)`).
//!
//! The coupled pair is solved by block Gauss–Seidel, each channel with its own exact scalar solve
//! (`OutputElement::solve`) of `Δv(i_L) + (r_loop,L + R_g)·i_L = u_L − R_g·i_R` and the same for
//! the right. Each element law is monotone, so the sweep contracts by at most
//! `R_g/(R_g + r_loop)` per pass (Ortega & Rheinboldt, *Iterative Solution of Nonlinear
//! Equations in Several Variables*, 1970, §13.4, nonlinear Gauss–Seidel for M-functions) and
//! converges for every `R_g ≥ 0`; with `R_g = 0` one pass is exactly the two mono solves.
//!
//! Threading: allocates in `new` (the loads' modes); `step` does not.

use super::circuit::{OutputStage, Reference};
use super::modal::ModalLoad;
use num_complex::Complex64;

/// Sweeps of the coupled solve before it gives up converging further (it converges long before:
/// the contraction is `R_g/(R_g + r_loop)`, under 0.5 for any realistic ground).
pub const MAX_SWEEPS: usize = 200;

/// Relative change of the currents at which the coupled solve has converged.
pub const TOLERANCE: f64 = 1e-15;

/// Small-signal crosstalk with only the left channel driven, `v_R/v_L = −R_g/(Zs + Z + R_g)`
/// (source impedance `zs` and earpiece impedance `z` at one frequency, ohms).
pub fn crosstalk(zs: Complex64, z: Complex64, r_g_ohm: f64) -> Complex64 {
    -r_g_ohm / (zs + z + r_g_ohm)
}

/// The stereo circuit stepped literally: two [`Reference`] loops sharing `R_g`.
#[derive(Debug, Clone)]
pub struct StereoReference {
    ch: [Reference; 2],
    r_g_ohm: f64,
    /// Sweeps the last step took.
    sweeps: usize,
}

impl StereoReference {
    /// Both channels of `stage` driving identical earpieces `load` (fitted at `fs_internal_hz`),
    /// with a ground return of `r_g_ohm`, at rest. Allocates.
    pub fn new(stage: &OutputStage, load: &ModalLoad, fs_internal_hz: f64, r_g_ohm: f64) -> Self {
        let one = Reference::new(stage, load, fs_internal_hz);
        Self { ch: [one.clone(), one], r_g_ohm: r_g_ohm.max(0.0), sweeps: 0 }
    }

    /// A new ground-return resistance, ohms, keeping every state.
    pub fn set_ground(&mut self, r_g_ohm: f64) {
        self.r_g_ohm = r_g_ohm.max(0.0);
    }

    /// One step: both amplifiers' open-circuit voltages in, both earpiece voltages out (volts).
    pub fn step(&mut self, e_v: [f64; 2]) -> [f64; 2] {
        let lp = [self.ch[0].loop_equation(e_v[0]), self.ch[1].loop_equation(e_v[1])];
        let r_g = self.r_g_ohm;
        let mut i = [self.ch[0].current_a(), self.ch[1].current_a()];
        self.sweeps = 0;
        if r_g == 0.0 {
            // Separate returns: the two mono loops, exactly.
            i = [self.ch[0].solve_with(&lp[0], 0.0, 0.0), self.ch[1].solve_with(&lp[1], 0.0, 0.0)];
            self.sweeps = 1;
        } else {
            while self.sweeps < MAX_SWEEPS {
                let before = i;
                i[0] = self.ch[0].solve_with(&lp[0], r_g, r_g * i[1]);
                i[1] = self.ch[1].solve_with(&lp[1], r_g, r_g * i[0]);
                self.sweeps += 1;
                let change = (i[0] - before[0]).abs() + (i[1] - before[1]).abs();
                if change <= TOLERANCE * (i[0].abs() + i[1].abs()) || change == 0.0 {
                    break;
                }
            }
        }
        [self.ch[0].accept(&lp[0], i[0]), self.ch[1].accept(&lp[1], i[1])]
    }

    /// Both loop currents of the last step, amperes.
    pub fn currents_a(&self) -> [f64; 2] {
        [self.ch[0].current_a(), self.ch[1].current_a()]
    }

    /// The voltage across the shared ground return in the last step, volts.
    pub fn ground_v(&self) -> f64 {
        self.r_g_ohm * (self.ch[0].current_a() + self.ch[1].current_a())
    }

    /// Sweeps the last step's coupled solve took.
    pub fn sweeps(&self) -> usize {
        self.sweeps
    }
}
