//! The output stage driving its load, written once, in schematic order and SI units:
//!
//! ```text
//!  e ──► rails ──► element Δv(i) ──► R_out ── L_out ── C_block ──► load Z(f) ─┐
//!  (amplifier)     (current limit,                                             │
//!                   crossover, r_mod)                                        ground
//! ```
//!
//! Everything else derives from here: the source impedance `Zs(f)` that Level Match, the editor's
//! plots, `loadline plot` and the renderer's report use; the element law and the companions'
//! resistances that the engine's kernels run; and [`Reference`], a literal step of the circuit —
//! slow, obviously correct, no tables, no SIMD, no algebraic rewrites — that every fast kernel is
//! held to (`tests/kernels.rs`).
//!
//! Discretisation (docs/MODEL.md): one current `i` flows through the series loop, so each element
//! is `v = R·i + h` for this step (a resistance times this step's current plus a history known
//! before the step). The capacitor and inductor are trapezoidal companions (Dommel, "Digital
//! computer solution of electromagnetic transients", IEEE Trans. PAS 88(4), 1969), pre-warped where
//! each matters; the load is its fitted modal filter (`modal.rs`: poles mapped exactly, residues
//! fitted, Bank 2008); the element is solved exactly by safeguarded Newton (`nonlinear.rs`).
//!
//! Threading: [`Reference`] allocates in `new` (its load's modes); `step` does not.

use super::modal::{ModalLoad, PortForm};
use super::network::Network;
use super::nonlinear::{knee, OutputElement};
use super::stage::StageParams;
use num_complex::Complex64;
use std::f64::consts::{PI, SQRT_2};

/// Current scale of the crossover region, amperes: the class-AB quiescent current of a small
/// headphone output stage is a few milliamperes (D. Self, *Audio Power Amplifier Design*, 6th ed.,
/// ch. 9, optimal class-B bias), so the dead band acts within about ±1 mA.
pub const XO_CURRENT_A: f64 = 1.0e-3;
/// Range of the coupling capacitor's pre-warp frequency, hertz. The capacitor matters around its
/// corner with the load, `1/(2π·C·(R_out + |Z_load|))`, and below; it is pre-warped there so the
/// bass roll-off is exact, and its residual warping above the corner is scaled down by how little
/// it still matters (< 0.1 dB at 20 kHz for corners up to 5 kHz at the default internal rate).
pub const CAP_PREWARP_HZ: (f64, f64) = (10.0, 10_000.0);
/// Range of the series inductor's pre-warp frequency, hertz: it matters above its corner
/// `(R_out + |Z_load|)/(2π·L)`, so it is pre-warped there, but no lower than 2 kHz and no higher
/// than 16 kHz (the upper audio band, where a realistic output inductor acts).
pub const IND_PREWARP_HZ: (f64, f64) = (2_000.0, 16_000.0);
/// Frequency where the load's reference impedance for the pre-warp corners is taken, hertz.
pub const Z_REF_HZ: f64 = 1_000.0;
/// Audio band over which the load's minimum impedance is taken (for the limiter knee), hertz.
pub const BAND_HZ: (f64, f64) = (20.0, 20_000.0);

/// `Zs(f) = R_out + jωL_out + 1/(jωC_block)`, ohms: the source impedance the load sees (small
/// signal; the element's limits and crossover are nonlinear and not part of it). The one
/// definition.
pub fn source_impedance(r_out_ohm: f64, l_out_h: f64, c_block_f: Option<f64>, f_hz: f64) -> Complex64 {
    let w_rad_s = 2.0 * PI * f_hz;
    let mut z = Complex64::new(r_out_ohm, w_rad_s * l_out_h);
    if let Some(c_f) = c_block_f {
        z += Complex64::new(0.0, -1.0 / (w_rad_s * c_f));
    }
    z
}

/// The output element for a stage's (possibly smoothed) values: the current limit's knee voltage
/// `V_k = I_max·(R_out + min |Z_load|)`, the current-modulated resistance and the crossover dead
/// band `V_x = xo·(1 − bias)²` (docs/MODEL.md, "Equations of the nonlinear stage").
pub fn output_element(i_max_a: Option<f64>, r_out_ohm: f64, min_z_load_ohm: f64, r_mod_ohm: f64, xo_v: f64, bias: f64) -> OutputElement {
    let bias = bias.clamp(0.0, 1.0);
    let i_lim = i_max_a.unwrap_or(f64::INFINITY);
    OutputElement {
        i_max_a: i_lim,
        v_knee_v: if i_lim.is_finite() { i_lim * (r_out_ohm + min_z_load_ohm) } else { 0.0 },
        r_mod_ohm: r_mod_ohm.max(0.0),
        v_xo_v: xo_v.max(0.0) * (1.0 - bias) * (1.0 - bias),
        i_xo_a: XO_CURRENT_A,
    }
}

/// The trapezoidal companion resistance of the coupling capacitor `c_f` at step `t_s`, pre-warped
/// at its corner with `r_ref_ohm` (R_out plus the load's |Z| at [`Z_REF_HZ`]): `tan(ω_p·T/2)/(ω_p·C)`,
/// ohms.
pub fn capacitor_companion_ohm(c_f: f64, r_ref_ohm: f64, t_s: f64) -> f64 {
    let w = 2.0 * PI * (1.0 / (2.0 * PI * c_f * r_ref_ohm)).clamp(CAP_PREWARP_HZ.0, CAP_PREWARP_HZ.1);
    (0.5 * w * t_s).tan() / (w * c_f)
}

/// The trapezoidal companion resistance of the series inductor `l_h` at step `t_s`, pre-warped at
/// its corner with `r_ref_ohm`: `ω_p·L/tan(ω_p·T/2)`, ohms.
pub fn inductor_companion_ohm(l_h: f64, r_ref_ohm: f64, t_s: f64) -> f64 {
    let w = 2.0 * PI * (r_ref_ohm / (2.0 * PI * l_h)).clamp(IND_PREWARP_HZ.0, IND_PREWARP_HZ.1);
    w * l_h / (0.5 * w * t_s).tan()
}

/// The schematic with settled values, in SI units.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputStage {
    /// Open-circuit RMS voltage for a 0 dBFS sine, volts.
    pub level_v: f64,
    /// Peak voltage at the onset of rail clipping, `√2·V_max`, volts (∞: no rails).
    pub v_peak_v: f64,
    /// The nonlinear element between the rails and R_out.
    pub element: OutputElement,
    pub r_out_ohm: f64,
    pub l_out_h: f64,
    /// Coupling capacitor, farads (`None`: direct coupling).
    pub c_block_f: Option<f64>,
    /// The headphone.
    pub load: Network,
}

impl OutputStage {
    /// The stage `p` (sanitised into range) driving `load`.
    pub fn new(p: &StageParams, load: &Network) -> Self {
        let p = p.sanitized();
        Self {
            level_v: p.level_v,
            v_peak_v: p.v_max_v.map_or(f64::INFINITY, |v| SQRT_2 * v),
            element: output_element(p.i_max_a, p.r_out_ohm, load.min_magnitude(BAND_HZ.0, BAND_HZ.1), p.r_mod_ohm, p.xo_v, p.bias),
            r_out_ohm: p.r_out_ohm,
            l_out_h: p.l_out_h,
            c_block_f: p.c_block_f,
            load: load.clone(),
        }
    }

    /// `Zs(f)`, ohms (see [`source_impedance`]).
    pub fn source_impedance(&self, f_hz: f64) -> Complex64 {
        source_impedance(self.r_out_ohm, self.l_out_h, self.c_block_f, f_hz)
    }

    /// The load's `Z(f)`, ohms.
    pub fn load_impedance(&self, f_hz: f64) -> Complex64 {
        self.load.impedance(f_hz)
    }
}

/// The load's discrete port relation, run literally: `y[n] = d₀·u[n] + Σ d_k·u[n−k] + Σ Re(c_m·x_m[n])`
/// with `x_m[n+1] = z_m·x_m[n] + u[n]` (complex modes one per conjugate pair, the pair's factor 2
/// in `c_m`). `u` is the current (impedance form) or the voltage (admittance form).
#[derive(Debug, Clone)]
struct PlainModes {
    form: PortForm,
    d0: f64,
    fir: Vec<f64>,
    modes: Vec<(Complex64, Complex64)>,
    x: Vec<Complex64>,
    /// Past inputs `u[n−1], u[n−2], …`.
    past: Vec<f64>,
}

impl PlainModes {
    fn new(m: &ModalLoad) -> Self {
        let (d0, fir, modes) = m.parts();
        Self { form: m.form(), d0, fir: fir.to_vec(), modes: modes.to_vec(), x: vec![Complex64::new(0.0, 0.0); modes.len()], past: vec![0.0; fir.len()] }
    }

    /// The filter's output with this step's input at zero.
    fn history(&self) -> f64 {
        let fir: f64 = self.fir.iter().zip(&self.past).map(|(d, u)| d * u).sum();
        let modes: f64 = self.modes.iter().zip(&self.x).map(|((_, c), x)| (c * x).re).sum();
        fir + modes
    }

    /// The load as `v_load = z·i + h` for this step: `(z, h)`, ohms and volts.
    fn thevenin(&self) -> (f64, f64) {
        let h = self.history();
        match self.form {
            PortForm::Impedance => (self.d0, h),
            // i = d₀·v + h  ⇒  v = i/d₀ − h/d₀.
            PortForm::Admittance => (1.0 / self.d0, -h / self.d0),
        }
    }

    /// Accepts this step's port current and voltage and moves to the next step.
    fn advance(&mut self, i_a: f64, v_v: f64) {
        let u = match self.form {
            PortForm::Impedance => i_a,
            PortForm::Admittance => v_v,
        };
        for ((z, _), x) in self.modes.iter().zip(self.x.iter_mut()) {
            *x = z * *x + u;
        }
        if !self.past.is_empty() {
            self.past.rotate_right(1);
            self.past[0] = u;
        }
    }
}

/// One step's loop equation `Δv(i) + r_loop·i = u` and the history terms its elements accept the
/// current with ([`Reference::loop_equation`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoopEquation {
    /// Drive less every element's history, volts.
    pub u_v: f64,
    /// Every linear element's resistance for this step, ohms.
    pub r_loop_ohm: f64,
    h_c: f64,
    h_l: f64,
    z_load: f64,
    h_load: f64,
}

/// The circuit stepped literally at the internal rate: the reference every fast kernel is held to.
#[derive(Debug, Clone)]
pub struct Reference {
    v_peak_v: f64,
    element: OutputElement,
    r_out_ohm: f64,
    /// Companion resistances of C_block and L_out (0 when absent), ohms.
    r_c_ohm: f64,
    r_l_ohm: f64,
    /// Capacitor and inductor voltages and the loop current after the last step.
    v_c_v: f64,
    v_l_v: f64,
    i_prev_a: f64,
    load: PlainModes,
    /// Newton's warm start for the element.
    w_prev: f64,
}

impl Reference {
    /// The circuit of `stage` with its load discretised as `load` (fitted at the internal rate
    /// `fs_internal_hz` for `stage.load`), at rest. Allocates.
    pub fn new(stage: &OutputStage, load: &ModalLoad, fs_internal_hz: f64) -> Self {
        let mut r = Self {
            v_peak_v: f64::INFINITY,
            element: OutputElement::IDEAL,
            r_out_ohm: 0.0,
            r_c_ohm: 0.0,
            r_l_ohm: 0.0,
            v_c_v: 0.0,
            v_l_v: 0.0,
            i_prev_a: 0.0,
            load: PlainModes::new(load),
            w_prev: 0.0,
        };
        r.retune(stage, fs_internal_hz);
        r
    }

    /// Takes the element values of `stage` (a parameter change on the same load), keeping every
    /// state, as the engine does; an element that is removed takes its voltage with it.
    pub fn retune(&mut self, stage: &OutputStage, fs_internal_hz: f64) {
        let t_s = 1.0 / fs_internal_hz;
        let r_ref_ohm = stage.r_out_ohm + stage.load.impedance(Z_REF_HZ).norm();
        self.v_peak_v = stage.v_peak_v;
        self.element = stage.element;
        self.r_out_ohm = stage.r_out_ohm;
        self.r_c_ohm = stage.c_block_f.map_or(0.0, |c| capacitor_companion_ohm(c, r_ref_ohm, t_s));
        self.r_l_ohm = if stage.l_out_h > 0.0 { inductor_companion_ohm(stage.l_out_h, r_ref_ohm, t_s) } else { 0.0 };
        if self.r_c_ohm == 0.0 {
            self.v_c_v = 0.0;
        }
        if self.r_l_ohm == 0.0 {
            self.v_l_v = 0.0;
        }
    }

    /// One step: the amplifier's open-circuit voltage `e_v` in, the load voltage out (volts).
    pub fn step(&mut self, e_v: f64) -> f64 {
        let lp = self.loop_equation(e_v);
        let i_a = self.element.solve(lp.u_v, lp.r_loop_ohm, &mut self.w_prev);
        self.accept(&lp, i_a)
    }

    /// This step's loop before its current is known: Kirchhoff around the loop reads
    /// `v_amp = Δv(i) + (R_out + R_C + R_L + z_load)·i + h_C + h_L + h_load`, i.e.
    /// `Δv(i) + r_loop·i = u` with everything but `i` known.
    pub fn loop_equation(&self, e_v: f64) -> LoopEquation {
        // The rails: v = V_pk·S(e/V_pk), the exact knee.
        let v_amp = if self.v_peak_v.is_finite() { self.v_peak_v * knee(e_v / self.v_peak_v).0 } else { e_v };
        // Each element after the amplifier as `v = R·i + h` for this step.
        let h_c = self.v_c_v + self.r_c_ohm * self.i_prev_a; // v_C[n] = v_C[n−1] + R_C·(i[n] + i[n−1])
        let h_l = -self.v_l_v - self.r_l_ohm * self.i_prev_a; // v_L[n] = −v_L[n−1] + R_L·(i[n] − i[n−1])
        let (z_load, h_load) = self.load.thevenin();
        LoopEquation { u_v: v_amp - h_c - h_l - h_load, r_loop_ohm: self.r_out_ohm + self.r_c_ohm + self.r_l_ohm + z_load, h_c, h_l, z_load, h_load }
    }

    /// Every element accepts this step's loop current `i_a`; returns the load voltage, volts.
    pub fn accept(&mut self, lp: &LoopEquation, i_a: f64) -> f64 {
        self.v_c_v = lp.h_c + self.r_c_ohm * i_a;
        self.v_l_v = lp.h_l + self.r_l_ohm * i_a;
        self.i_prev_a = i_a;
        let v_load = lp.z_load * i_a + lp.h_load;
        self.load.advance(i_a, v_load);
        v_load
    }

    /// The output element (its law `Δv(i)` and solver).
    pub fn element(&self) -> &OutputElement {
        &self.element
    }

    /// The element solve of this loop with an extra series resistance `r_extra_ohm` and an extra
    /// known voltage `v_extra_v` against the drive: `Δv(i) + (r_loop + r_extra)·i = u − v_extra`,
    /// warm-started from this loop's last solution.
    pub fn solve_with(&mut self, lp: &LoopEquation, r_extra_ohm: f64, v_extra_v: f64) -> f64 {
        self.element.solve(lp.u_v - v_extra_v, lp.r_loop_ohm + r_extra_ohm, &mut self.w_prev)
    }

    /// The loop current of the last step, amperes.
    pub fn current_a(&self) -> f64 {
        self.i_prev_a
    }
}
