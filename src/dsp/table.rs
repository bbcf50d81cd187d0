//! Tabulated solutions of the amplifier element's loop equation, so that a settled stage costs a
//! cubic Hermite lookup per sample instead of Newton's method.
//!
//! With the parameters settled, the loop equation `R_tot·i + Δv(i) = u` (see `nonlinear.rs`) has
//! one fixed, smooth, strictly increasing solution `i = Φ(u)`. The table holds `Φ` and `dΦ/du` on a
//! uniform grid, both from the exact solver, and interpolates with cubic Hermite polynomials, whose
//! error falls as the fourth power of the spacing (de Boor, *A Practical Guide to Splines*, rev. ed.
//! 2001, ch. IV). The table is filled a few nodes per sample on the audio thread (no allocation,
//! bounded work per sample) after a parameter settles, then every interval's midpoint is checked
//! against the exact solver; only a table that passes is used. Until then, and for any `u` outside
//! the grid, the engine runs the exact solver.

use super::nonlinear::OutputElement;
use super::simd::{Fma, SoftFma};

/// The cubic Hermite interpolant on one interval, in the local coordinate `t ∈ [0, 1)`, from the
/// end values `p0`, `p1` and end slopes `m0`, `m1` (per unit `t`): coefficients of
/// `c0 + c1·t + c2·t² + c3·t³` (de Boor, *A Practical Guide to Splines*, ch. IV).
#[inline]
pub fn hermite_coef(p0: f64, m0: f64, p1: f64, m1: f64) -> [f64; 4] {
    [p0, m0, 3.0 * (p1 - p0) - 2.0 * m0 - m1, 2.0 * (p0 - p1) + m0 + m1]
}

/// Evaluates [`hermite_coef`]'s cubic at `t` by Estrin's scheme, `(c0 + c1·t) + t²·(c2 + c3·t)`:
/// two multiply-adds deep instead of Horner's three (it sits on the per-sample dependency chain).
#[inline(always)]
pub fn hermite_eval<F: Fma>(c: &[f64; 4], t: f64) -> f64 {
    let t2 = t * t;
    F::fma(t2, F::fma(t, c[3], c[2]), F::fma(t, c[1], c[0]))
}

/// Grid intervals of the fine table. 4096 keeps it at 128 KiB (L2-resident) and, over ±2× the stage's
/// largest voltage, resolves the crossover region of a 1 Ω-loop with a few points.
pub const INTERVALS: usize = 4096;
const _: () = assert!(INTERVALS.is_power_of_two());
/// The coarse table takes every [`COARSE`]-th node: 1024 intervals, 32 KiB, which stays in the L1
/// cache beside the rest of the loop (the lookup sits on the step-to-step dependency chain, so an
/// L2 access there costs its full latency every step). It is used whenever it meets the same
/// accuracy as the fine one, checked at seven points per interval; a law with a sharp feature
/// (a class-B crossover into a low-impedance loop) keeps the fine table.
const COARSE: usize = 4;
const COARSE_INTERVALS: usize = INTERVALS / COARSE;
/// Nodes (or checks) solved per call of [`SolveTable::build_step`].
const STEP_WORK: usize = 16;
/// Largest interpolation error accepted at the checked midpoints, relative to the largest current
/// in the table (−140 dB).
const REL_TOL: f64 = 1e-7;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No table wanted (parameters moving).
    Idle,
    /// Solving nodes; `next` is the next node.
    Nodes,
    /// Checking interval midpoints; `next` is the next interval.
    Checks,
    Ready,
    /// The grid could not resolve the element law to [`REL_TOL`]: the exact solver runs instead.
    Unusable,
}

/// `Φ(u)` for one element law and loop resistance. All storage is allocated in [`SolveTable::new`].
#[derive(Debug, Clone)]
pub struct SolveTable {
    elem: OutputElement,
    r_ohm: f64,
    u0: f64,
    h: f64,
    inv_h: f64,
    /// `−u0/h`, so the grid position is one multiply-add.
    p0: f64,
    /// `(Φ(u_k), h·Φ'(u_k))` at the nodes.
    nodes: Vec<(f64, f64)>,
    /// Per interval, the cubic in the local coordinate `t ∈ [0, 1)`: `c0 + t·(c1 + t·(c2 + t·c3))`.
    coef: Vec<[f64; 4]>,
    /// The same over the coarse grid (every `COARSE`-th node), and whether it passed its checks.
    coarse: Vec<[f64; 4]>,
    coarse_ok: bool,
    phase: Phase,
    next: usize,
    /// Warm starts of the exact solver for nodes and checks.
    w_nodes: f64,
    w_checks: f64,
    i_ref: f64,
}

impl SolveTable {
    /// Allocates an empty table.
    pub fn new() -> Self {
        Self {
            elem: OutputElement::IDEAL,
            r_ohm: 0.0,
            u0: 0.0,
            h: 0.0,
            inv_h: 0.0,
            p0: 0.0,
            nodes: vec![(0.0, 0.0); INTERVALS + 1],
            coef: vec![[0.0; 4]; INTERVALS],
            coarse: vec![[0.0; 4]; COARSE_INTERVALS],
            coarse_ok: false,
            phase: Phase::Idle,
            next: 0,
            w_nodes: 0.0,
            w_checks: 0.0,
            i_ref: 0.0,
        }
    }

    /// Stops using the table (the parameters are about to move).
    #[inline]
    pub fn invalidate(&mut self) {
        self.phase = Phase::Idle;
    }

    /// Asks for a table of `elem` with loop resistance `r_ohm` (ohms) over `|u| ≤ u_max_v` (volts).
    /// Does nothing if that table is already built or being built.
    pub fn request(&mut self, elem: OutputElement, r_ohm: f64, u_max_v: f64) {
        let same = elem == self.elem && r_ohm == self.r_ohm && (self.u0 + u_max_v).abs() <= 1e-12 * u_max_v;
        if same && self.phase != Phase::Idle {
            return;
        }
        if !(u_max_v.is_finite() && u_max_v > 0.0 && r_ohm.is_finite() && r_ohm > 0.0) {
            self.phase = Phase::Unusable;
            return;
        }
        self.elem = elem;
        self.r_ohm = r_ohm;
        self.u0 = -u_max_v;
        self.h = 2.0 * u_max_v / INTERVALS as f64;
        self.inv_h = 1.0 / self.h;
        self.p0 = -self.u0 * self.inv_h;
        self.phase = Phase::Nodes;
        self.next = 0;
        self.w_nodes = 0.0;
        self.w_checks = 0.0;
        self.i_ref = 0.0;
    }

    /// True while there is work to do (call [`Self::build_step`] once per sample).
    #[inline]
    pub fn building(&self) -> bool {
        matches!(self.phase, Phase::Nodes | Phase::Checks)
    }

    /// True once the table is in use.
    pub fn ready(&self) -> bool {
        self.phase == Phase::Ready
    }

    /// True when both tables are ready and hold the same law on the same grid, so one can serve
    /// both channels of a pair: the contents are then bit-identical (same solves in the same
    /// order), and one copy in the cache is half the footprint of two.
    pub fn same_as(&self, other: &SolveTable) -> bool {
        self.phase == Phase::Ready
            && other.phase == Phase::Ready
            && self.elem == other.elem
            && self.r_ohm == other.r_ohm
            && self.u0 == other.u0
            && self.coarse_ok == other.coarse_ok
    }

    /// Intervals of the grid in use (the coarse or the fine one), when the table is ready.
    pub fn intervals(&self) -> Option<usize> {
        self.view().map(|v| v.coef.len())
    }

    /// True when the last table failed its accuracy check.
    pub fn unusable(&self) -> bool {
        self.phase == Phase::Unusable
    }

    /// Does a bounded amount of building: a few exact solves. Never allocates.
    pub fn build_step(&mut self) {
        match self.phase {
            Phase::Nodes => {
                let end = (self.next + STEP_WORK).min(INTERVALS + 1);
                for k in self.next..end {
                    let u = self.u0 + k as f64 * self.h;
                    let (i, d) = self.elem.solve_slope(u, self.r_ohm, &mut self.w_nodes);
                    self.nodes[k] = (i, d * self.h);
                    self.i_ref = self.i_ref.max(i.abs());
                }
                self.next = end;
                if end == INTERVALS + 1 {
                    for k in 0..INTERVALS {
                        let (p0, m0) = self.nodes[k];
                        let (p1, m1) = self.nodes[k + 1];
                        self.coef[k] = hermite_coef(p0, m0, p1, m1);
                    }
                    // The coarse cubics (slopes per unit of the wider interval), checked first at
                    // the fine nodes inside each interval, whose exact values are known.
                    let tol = REL_TOL * self.i_ref.max(1e-30);
                    let mut ok = true;
                    let c = COARSE as f64;
                    for kc in 0..COARSE_INTERVALS {
                        let (p0, m0) = self.nodes[COARSE * kc];
                        let (p1, m1) = self.nodes[COARSE * (kc + 1)];
                        self.coarse[kc] = hermite_coef(p0, c * m0, p1, c * m1);
                        for j in 1..COARSE {
                            ok &= within(hermite_eval::<SoftFma>(&self.coarse[kc], j as f64 / c), self.nodes[COARSE * kc + j].0, tol);
                        }
                    }
                    self.coarse_ok = ok;
                    self.phase = Phase::Checks;
                    self.next = 0;
                }
            }
            Phase::Checks => {
                let end = (self.next + STEP_WORK).min(INTERVALS);
                let tol = REL_TOL * self.i_ref.max(1e-30);
                for k in self.next..end {
                    let u = self.u0 + (k as f64 + 0.5) * self.h;
                    let exact = self.elem.solve(u, self.r_ohm, &mut self.w_checks);
                    if !within(hermite_eval::<SoftFma>(&self.coef[k], 0.5), exact, tol) {
                        self.phase = Phase::Unusable;
                        return;
                    }
                    // The same point on the coarse grid.
                    if self.coarse_ok {
                        let t = ((k % COARSE) as f64 + 0.5) / COARSE as f64;
                        self.coarse_ok = within(hermite_eval::<SoftFma>(&self.coarse[k / COARSE], t), exact, tol);
                    }
                }
                self.next = end;
                if end == INTERVALS {
                    self.phase = Phase::Ready;
                }
            }
            _ => {}
        }
    }

    /// `Φ(u)` in amperes, or `None` when the table is not ready or `u` is off the grid.
    #[inline]
    pub fn eval(&self, u: f64) -> Option<f64> {
        self.eval_with::<SoftFma>(u)
    }

    /// [`Self::eval`] with the multiply-add flavour of the calling code (see `simd::Fma`).
    #[inline(always)]
    pub fn eval_with<F: Fma>(&self, u: f64) -> Option<f64> {
        self.view()?.eval::<F>(u)
    }

    /// The lookup of a ready table, for a run of samples with the phase checked once.
    #[inline(always)]
    pub fn view(&self) -> Option<TableView<'_>> {
        if self.phase != Phase::Ready {
            return None;
        }
        if self.coarse_ok {
            let inv_h = self.inv_h / COARSE as f64;
            Some(TableView { coef: &self.coarse, inv_h, p0: -self.u0 * inv_h })
        } else {
            Some(TableView { coef: &self.coef, inv_h: self.inv_h, p0: self.p0 })
        }
    }
}

/// True when an interpolated value is within `tol` of the exact one; a NaN on either side fails.
#[inline]
fn within(approx: f64, exact: f64, tol: f64) -> bool {
    // A NaN difference compares false.
    (approx - exact).abs() <= tol
}

/// A ready table's lookup, borrowed for a run of samples (see [`SolveTable::view`]).
#[derive(Debug, Clone, Copy)]
pub struct TableView<'a> {
    /// Per interval, the cubic's coefficients (see [`hermite_eval`]); the length is a power of two.
    pub(crate) coef: &'a [[f64; 4]],
    /// Grid position of `u` is `u·inv_h + p0`.
    pub(crate) inv_h: f64,
    pub(crate) p0: f64,
}

impl TableView<'_> {
    /// `Φ(u)` in amperes, or `None` when `u` is off the grid (or NaN).
    #[inline(always)]
    pub fn eval<F: Fma>(&self, u: f64) -> Option<f64> {
        let p = F::fma(u, self.inv_h, self.p0);
        // Written so that NaN also fails.
        #[allow(clippy::neg_cmp_op_on_partial_ord)]
        if !(p >= 0.0 && p < self.coef.len() as f64) {
            return None;
        }
        // SAFETY: 0 ≤ p < len ≤ INTERVALS, so the truncation fits an i32 (no saturating conversion
        // needed on the per-sample path).
        let k = unsafe { p.to_int_unchecked::<i32>() };
        let t = p - k as f64;
        // The mask is a no-op for 0 ≤ k < len (a power of two).
        Some(hermite_eval::<F>(&self.coef[k as usize & (self.coef.len() - 1)], t))
    }
}

impl Default for SolveTable {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn built(elem: OutputElement, r: f64, u_max: f64) -> SolveTable {
        let mut t = SolveTable::new();
        t.request(elem, r, u_max);
        while t.building() {
            t.build_step();
        }
        t
    }

    #[test]
    fn matches_the_exact_solver_between_nodes() {
        let elems = [
            // Laptop jack into 32 Ω: limiter, r_mod and crossover.
            (OutputElement { i_max_a: 0.06, v_knee_v: 0.06 * 105.0, r_mod_ohm: 0.5, v_xo_v: 0.00075, i_xo_a: 1e-3 }, 106.0, 4.0),
            // Hard current limit into a low impedance.
            (OutputElement { i_max_a: 0.01, v_knee_v: 0.01 * 33.0, r_mod_ohm: 0.0, v_xo_v: 0.0, i_xo_a: 1e-3 }, 31.0, 6.0),
            // Crossover only.
            (OutputElement { v_xo_v: 0.003, ..OutputElement::IDEAL }, 32.0, 3.0),
        ];
        for (e, r, u_max) in elems {
            let t = built(e, r, u_max);
            assert!(t.ready(), "{e:?}");
            let mut w = 0.0;
            let mut worst = 0.0f64;
            for k in 0..20_000 {
                let u = -u_max + 2.0 * u_max * (k as f64 + 0.37) / 20_000.0;
                let exact = e.solve(u, r, &mut w);
                worst = worst.max((t.eval(u).unwrap() - exact).abs());
            }
            assert!(worst <= 2.0 * REL_TOL * t.i_ref, "{e:?}: {worst:e} of {}", t.i_ref);
            assert!(t.eval(u_max * 1.01).is_none() && t.eval(f64::NAN).is_none());
        }
    }

    #[test]
    fn refuses_a_grid_too_coarse_for_the_law() {
        // A 1 µA crossover scale over ±100 V cannot be resolved by 4096 intervals.
        let e = OutputElement { v_xo_v: 0.5, i_xo_a: 1e-6, ..OutputElement::IDEAL };
        let t = built(e, 0.5, 100.0);
        assert!(t.unusable());
        assert!(t.eval(0.0).is_none());
    }
}
