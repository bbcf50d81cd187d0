//! One channel's circuit for a run of oversampled steps with fixed parameters: the source
//! network's companions ([`Source`]), the loop's step over the load's modes ([`Lane`]) and the
//! element solve ([`Solver`]). `engine/kernels.rs` builds them from its state for each run and takes the
//! states back afterwards; `lane_avx2.rs` runs two of them side by side in vector registers.
//!
//! Threading: audio thread; nothing here allocates.

use super::modal::ModalOps;
use super::nonlinear::OutputElement;
use super::simd::Fma;
use super::table::TableView;

/// The source network's reactive elements as trapezoidal companions, and R_out. Each element is
/// `v = R·i + h` for this sample's current `i`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Source {
    /// Output resistance, ohms.
    pub(crate) r_out_ohm: f64,
    /// Coupling capacitor: companion resistance `tan(ω_p·T/2)/(ω_p·C)` (0 when absent), ohms, and
    /// its voltage, volts.
    pub(crate) r_c_ohm: f64,
    pub(crate) v_c_v: f64,
    /// Series inductor: companion resistance `ω_p·L/tan(ω_p·T/2)` (0 when absent), ohms, and its
    /// voltage, volts.
    pub(crate) r_l_ohm: f64,
    pub(crate) v_l_v: f64,
    /// Last sample's loop current, amperes.
    pub(crate) i_prev_a: f64,
}

impl Source {
    /// Histories of the capacitor and inductor for this sample, volts (trapezoidal rule:
    /// `v_C[n] = v_C[n−1] + R_C·(i[n] + i[n−1])`, `v_L[n] = −v_L[n−1] + R_L·(i[n] − i[n−1])`).
    #[inline(always)]
    pub(crate) fn history<F: Fma>(&self) -> f64 {
        F::fma(self.r_c_ohm - self.r_l_ohm, self.i_prev_a, self.v_c_v - self.v_l_v)
    }
    /// Series resistance of the three elements this sample, ohms.
    #[inline]
    pub(crate) fn resistance(&self) -> f64 {
        self.r_out_ohm + self.r_c_ohm + self.r_l_ohm
    }
    /// Accepts this sample's current.
    #[inline(always)]
    pub(crate) fn advance<F: Fma>(&mut self, i: f64) {
        self.v_c_v = F::fma(self.r_c_ohm, i + self.i_prev_a, self.v_c_v);
        self.v_l_v = F::fma(self.r_l_ohm, i - self.i_prev_a, -self.v_l_v);
        self.i_prev_a = i;
    }
    pub(crate) fn reset(&mut self) {
        self.v_c_v = 0.0;
        self.v_l_v = 0.0;
        self.i_prev_a = 0.0;
    }
    pub(crate) fn flush_denormals(&mut self) {
        for v in [&mut self.v_c_v, &mut self.v_l_v, &mut self.i_prev_a] {
            if v.abs() < 1e-30 {
                *v = 0.0;
            }
        }
    }
}

/// One channel's circuit held in locals for a run of oversampled steps with fixed parameters (one
/// base-rate sample, or a chunk): copies of the coefficients and states, which the compiler keeps in
/// registers. `M` holds the load's modes; `Y` selects the admittance form. Audio thread.
pub(crate) struct Lane<M: ModalOps, const Y: bool> {
    pub(crate) m: M,
    pub(crate) src: Source,
    /// The load's resistance this sample (`z_direct_ohm`), ohms.
    pub(crate) zd: f64,
    /// Weight of this step's current in the next step's drive, ohms (see [`Lane::step`]).
    pub(crate) gamma: f64,
}

impl<M: ModalOps, const Y: bool> Lane<M, Y> {
    /// The load as `v_load = zd·i + th` this sample: `th`, volts.
    #[inline(always)]
    pub(crate) fn thevenin(&self) -> f64 {
        let h = self.m.history();
        if Y {
            -h * self.zd
        } else {
            h
        }
    }

    /// The loop's drive `u = ve − h_src − h_load` for this sample, from the current states.
    #[inline(always)]
    pub(crate) fn drive<F: Fma>(&self, ve: f64) -> f64 {
        ve - (self.src.history::<F>() + self.thevenin())
    }

    /// One oversampled step of the circuit for the loop current `i` (the element's solution for
    /// this step's drive). Returns the load voltage (volts) and the next step's drive for the
    /// rail-clipped voltage `ve_next`.
    ///
    /// The next drive is formed as `base − γ·i`, with `base` and `γ` computed from the states
    /// before this step's update (every history is affine in this step's current `i`), so the
    /// sample-to-sample dependency chain is the element solve plus one multiply-add; the state
    /// updates run beside it. Algebraically identical to [`Self::drive`] after the update.
    #[inline(always)]
    pub(crate) fn step<F: Fma>(&mut self, i: f64, ve_next: f64) -> (f64, f64) {
        let th = self.thevenin();
        let v_load = F::fma(self.zd, i, th);
        let pre = self.m.pre::<F>();
        let s = &self.src;
        // h_src' = v_C + v_L + (R_C + R_L)·i_prev + 2·(R_C − R_L)·i (trapezoidal companions).
        let a_src = F::fma(s.r_c_ohm + s.r_l_ohm, s.i_prev_a, s.v_c_v + s.v_l_v);
        // Impedance form: h_load' = pre + g·i. Admittance form: h_load' = −(pre + g·v_load)/d₀
        // with v_load = i/d₀ + th (the `g·i` parts of both are in `gamma`).
        let b_load = if Y { -self.zd * F::fma(self.m.gain(), th, pre) } else { pre };
        let u_next = F::fma(-self.gamma, i, ve_next - (a_src + b_load));
        self.src.advance::<F>(i);
        self.m.commit::<F>(if Y { v_load } else { i }, pre);
        (v_load, u_next)
    }

    /// Runs the steps over an oversampled buffer of rail-clipped voltages in place (load voltages
    /// out), and with `cur` (as long as `buf`) writes each step's loop current there, amperes.
    #[inline(always)]
    pub(crate) fn run<F: Fma>(&mut self, solver: &mut Solver, buf: &mut [f64], cur: Option<&mut [f64]>) {
        let n = buf.len();
        if n == 0 {
            return;
        }
        let mut cur = cur.map(|c| &mut c[..n]);
        let mut u = self.drive::<F>(buf[0]);
        for k in 0..n {
            let ve_next = if k + 1 < n { buf[k + 1] } else { 0.0 };
            let i = solver.solve::<F>(u);
            let (v, un) = self.step::<F>(i, ve_next);
            buf[k] = v;
            if let Some(c) = cur.as_deref_mut() {
                c[k] = i;
            }
            u = un;
        }
    }
}

/// The element's loop equation `R_tot·i + Δv(i) = u` for fixed parameters: a plain resistance,
/// the table, or the exact solver for drives off the table. Audio thread.
#[derive(Clone, Copy)]
pub(crate) struct Solver<'a> {
    pub(crate) linear: bool,
    pub(crate) inv_r_tot: f64,
    pub(crate) table: Option<TableView<'a>>,
    pub(crate) element: OutputElement,
    pub(crate) r_tot_ohm: f64,
    /// Newton warm start and the solution before it (see `OutputElement::solve`).
    pub(crate) w_prev: f64,
    pub(crate) w_prev2: f64,
    pub(crate) iterations: u64,
}

impl Solver<'_> {
    /// The loop current for the drive `u`, amperes.
    #[inline(always)]
    pub(crate) fn solve<F: Fma>(&mut self, u: f64) -> f64 {
        if self.linear {
            return u * self.inv_r_tot;
        }
        if let Some(i) = self.table.and_then(|t| t.eval::<F>(u)) {
            return i;
        }
        self.exact(u)
    }

    /// Safeguarded Newton, warm-started by linear extrapolation of the last two solutions:
    /// oversampled, the signal is smooth, so it usually needs one or two steps.
    #[cold]
    #[inline(never)]
    pub(crate) fn exact(&mut self, u: f64) -> f64 {
        let mut w = 2.0 * self.w_prev - self.w_prev2;
        let mut it = 0;
        let i = self.element.solve_count(u, self.r_tot_ohm, &mut w, &mut it);
        self.iterations += it as u64;
        self.w_prev2 = self.w_prev;
        self.w_prev = w;
        i
    }

    /// The warm starts and iteration count, for [`Engine::keep_solver`].
    pub(crate) fn finish(&self) -> (f64, f64, u64) {
        (self.w_prev, self.w_prev2, self.iterations)
    }
}

/// The shared ground return of a stereo pair for a run of steps (`stereo.rs`): its resistance,
/// ohms, and the ground voltage of the last two steps, volts (`[v[n−1], v[n−2]]`): the start of
/// each step's solve (`lane_avx2` predicts from both).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Ground {
    pub(crate) r_ohm: f64,
    pub(crate) v_v: [f64; 2],
    /// `1/G′` of the last step's ground equation (the vector kernel's Newton step; 0 until it
    /// has run).
    pub(crate) r_inv: f64,
    /// Steps the vector kernel handed to the exact solve (diagnostics for the benchmark).
    pub(crate) exact_steps: u64,
}

impl Ground {
    /// Accepts this step's ground voltage.
    #[inline(always)]
    pub(crate) fn push(&mut self, v: f64) {
        self.v_v = [v, self.v_v[0]];
    }
}

/// The two loops of a stereo pair returning through a shared ground of `r_g_ohm` (`stereo.rs`),
/// solved for this step. Each loop is its own scalar equation with the ground voltage `v_g`
/// against its drive, `i_c = solve_c(u_c − v_g)` (the lanes' tables and solvers unchanged), and
/// `v_g` is the root of `G(v) = v − R_g·(i_a(v) + i_b(v))`. `G` rises with slope between 1 and
/// `k = 1 + R_g·(1/R_tot,a + 1/R_tot,b)` (each element's `di/du` lies in `[0, 1/R_tot]`), so from
/// any start `v₀` the root lies between `v₀ − G(v₀)` and `v₀ − G(v₀)/k`; the first step
/// `v₀ − G(v₀)/k` is exact for linear elements, and secant steps kept inside that bracket (bisection
/// when one would leave it) finish the rest. (One channel played into both earpieces needs no
/// solve: its ground is `2·R_g` in its loop, see `Engine::set_paired`.) Returns both currents and
/// the ground voltage. Audio thread.
#[inline(always)]
pub(crate) fn solve_ground<F: Fma>(sa: &mut Solver, sb: &mut Solver, u_a: f64, u_b: f64, r_g_ohm: f64, v_start: f64) -> (f64, f64, f64) {
    let k = 1.0 + r_g_ohm * (sa.inv_r_tot + sb.inv_r_tot);
    // `G(v)` and both currents (a plain function, not a closure, so it inlines into the callers'
    // AVX2+FMA code).
    #[inline(always)]
    fn eval<F: Fma>(sa: &mut Solver, sb: &mut Solver, u_a: f64, u_b: f64, r_g_ohm: f64, v: f64) -> (f64, f64, f64) {
        let ia = sa.solve::<F>(u_a - v);
        let ib = sb.solve::<F>(u_b - v);
        (v - r_g_ohm * (ia + ib), ia, ib)
    }
    let v0 = if v_start.is_finite() { v_start } else { 0.0 };
    let (g0, ia0, ib0) = eval::<F>(sa, sb, u_a, u_b, r_g_ohm, v0);
    if g0 == 0.0 || !g0.is_finite() {
        return (ia0, ib0, v0);
    }
    let (mut lo, mut hi) = if g0 > 0.0 { (v0 - g0, v0 - g0 / k) } else { (v0 - g0 / k, v0 - g0) };
    let (mut vp, mut gp) = (v0, g0);
    let mut v = v0 - g0 / k;
    let mut best = (ia0, ib0, v0);
    for _ in 0..GROUND_ITERATIONS {
        let (g, ia, ib) = eval::<F>(sa, sb, u_a, u_b, r_g_ohm, v);
        best = (ia, ib, v);
        if g == 0.0 {
            break;
        }
        if g > 0.0 {
            hi = hi.min(v);
        } else {
            lo = lo.max(v);
        }
        let secant = if g != gp { v - g * (v - vp) / (g - gp) } else { f64::NAN };
        let next = if secant > lo && secant < hi { secant } else { 0.5 * (lo + hi) };
        if (next - v).abs() <= GROUND_TOLERANCE * v.abs().max(f64::MIN_POSITIVE) {
            break;
        }
        (vp, gp, v) = (v, g, next);
    }
    best
}

/// Most secant steps of [`solve_ground`] per circuit step (it needs two or three: the signal is
/// smooth at the oversampled rate and the start is the previous step's ground voltage).
const GROUND_ITERATIONS: usize = 40;
/// Relative change of the ground voltage at which [`solve_ground`] stops.
const GROUND_TOLERANCE: f64 = 1e-14;
