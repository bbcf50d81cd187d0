//! Two channels' steady-state steps side by side in AVX2 registers: the stereo pair's (or, with
//! a shadow copy in the second lane, one channel's) [`Lane`]s over a load with at most four modes
//! (every library load), their scalar quantities as the two halves of one 128-bit register and each
//! channel's four modes in one 256-bit register.
//!
//! Every operation is the one [`Lane::step`], `Modes`' `pre`/`commit` and
//! [`TableView::eval`](super::table::TableView::eval) do, with the same operands in the same order
//! and the same fused multiply-adds, so a channel's output is bit-identical whichever path runs it
//! and whether it runs alone or beside another (tested: `tests/engine_fast.rs`). The exception is
//! the table kind without an inductor, every library stage's, whose loop runs in
//! [`lane_asm`](super::lane_asm) with a few rearrangements that change rounding (listed there;
//! within 1e-9 of the baseline code, and still the same bits alone as in a pair).
//!
//! Threading: audio thread; no allocation. Only call [`stereo`] and [`solo`] on a CPU with AVX2
//! and FMA.

use super::lane::{solve_ground, Ground, Lane, Solver};
use super::lane_asm::{self, Companion, Frame, Stop};
use super::modal::{Modes, Quad};
use super::simd::HwFma;
use std::arch::x86_64::*;

/// Whether the table kind runs the assembly loop (measurement switch, see `dsp::set_fast_paths`).
pub(crate) static ASM_KERNEL: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// A load's modes copied out for a run (see `ModalLoad::regs`).
pub(crate) type Regs = Modes<[Quad; 1]>;

/// How both lanes solve the element for the whole run (a const parameter of [`steps`]).
/// Both elements are plain wires: `i = u/R_tot`.
const LINEAR: u8 = 0;
/// Both have a ready table.
const TABLE: u8 = 1;
/// Anything else: each lane's own [`Solver::solve`].
const OTHER: u8 = 2;

/// `[a, b]` as one register (lane 0 = channel a).
#[inline(always)]
unsafe fn pair(a: f64, b: f64) -> __m128d {
    // SAFETY: SSE2 is baseline on x86_64.
    unsafe {
        _mm_set_pd(b, a)
    }
}

#[inline(always)]
unsafe fn lanes(v: __m128d) -> (f64, f64) {
    // SAFETY: SSE2 is baseline on x86_64.
    unsafe {
        (_mm_cvtsd_f64(v), _mm_cvtsd_f64(_mm_unpackhi_pd(v, v)))
    }
}

/// Runs the steps of a stereo pair's lanes `a` and `b` over `buf_a` and `buf_b` (equally long),
/// rail-clipped voltages in, load voltages out, in place; each step's loop current goes to
/// `cur_a` and `cur_b` (amperes) unless they are null. `Y`: admittance form. With `gnd`, both
/// loops return through that shared ground (`stereo.rs`), each step's currents from one Newton
/// step on the ground voltage (see [`steps`]). Returns false, having done nothing, when a grounded
/// pair's lanes do not both solve by plain wire or both by table (the caller then runs the
/// portable loop).
///
/// # Safety
/// The CPU must have AVX2 and FMA; `cur_a` and `cur_b` are both null or both valid for writes of
/// `buf_a.len()` values.
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn stereo<const Y: bool>(
    a: &mut Lane<&mut Regs, Y>,
    b: &mut Lane<&mut Regs, Y>,
    sa: &mut Solver,
    sb: &mut Solver,
    buf_a: &mut [f64],
    buf_b: &mut [f64],
    [cur_a, cur_b]: [*mut f64; 2],
    gnd: Option<&mut Ground>,
) -> bool {
    // SAFETY: this function runs only on a CPU with AVX2 and FMA (its contract), which is all
    // `solo` and `by_kind` need; the current outputs are as `solo` and `by_kind` require.
    unsafe {
        if buf_a.is_empty() || buf_b.len() != buf_a.len() {
            return true;
        }
        let k = kind(sa);
        if gnd.is_some() && (k != kind(sb) || k == OTHER) {
            return false;
        }
        if k != kind(sb) {
            // A lane's arithmetic depends on its kind, so channels of different kinds run one at a
            // time (each with its shadow), exactly as they would alone.
            solo::<Y>(a, sa, buf_a, cur_a);
            solo::<Y>(b, sb, buf_b, cur_b);
            return true;
        }
        by_kind::<Y, true>(k, a, b, sa, sb, buf_a, buf_b, [cur_a, cur_b], gnd);
        true
    }
}

/// Runs one channel's lane `a` over `buf` like [`stereo`], with a shadow copy of it in the second
/// lane (whose results are dropped), so its output is what it would be beside another channel.
/// (Alone, a shared ground is part of the lane's loop resistance: see `Engine::set_paired`.)
///
/// # Safety
/// The CPU must have AVX2 and FMA; `cur` is null or valid for writes of `buf.len()` values.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn solo<const Y: bool>(a: &mut Lane<&mut Regs, Y>, sa: &mut Solver, buf: &mut [f64], cur: *mut f64) {
    // SAFETY: this function runs only on a CPU with AVX2 and FMA (its contract), which is all
    // `by_kind` needs; `cur` is as `by_kind` requires (the shadow writes the same entries first).
    unsafe {
        if buf.is_empty() {
            return;
        }
        let mut regs = *a.m;
        let mut shadow = Lane { m: &mut regs, src: a.src, zd: a.zd, gamma: a.gamma };
        let mut ss = *sa;
        by_kind::<Y, false>(kind(sa), a, &mut shadow, sa, &mut ss, buf, &mut [], [cur, cur], None);
    }
}

/// How a lane solves its element for the run.
#[inline(always)]
fn kind(s: &Solver) -> u8 {
    if s.linear {
        LINEAR
    } else if s.table.is_some() {
        TABLE
    } else {
        OTHER
    }
}

/// [`steps`] for a run-time `kind`, with the series inductor's companion left out when neither
/// lane has one (its voltage is then held at zero by the engine), and through the shared ground
/// `gnd` when given (plain-wire and table kinds only). `cur`: each lane's current output, both
/// null or both valid for `buf_a.len()` values (with a shadow lane, the same).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn by_kind<const Y: bool, const PAIR: bool>(
    kind: u8,
    a: &mut Lane<&mut Regs, Y>,
    b: &mut Lane<&mut Regs, Y>,
    sa: &mut Solver,
    sb: &mut Solver,
    buf_a: &mut [f64],
    buf_b: &mut [f64],
    cur: [*mut f64; 2],
    gnd: Option<&mut Ground>,
) {
    // SAFETY: this function runs only on a CPU with AVX2 and FMA (its contract); the pointers it
    // reads and writes are derived from the slices it is given, within their lengths.
    unsafe {
        let ind = a.src.r_l_ohm != 0.0 || b.src.r_l_ohm != 0.0 || a.src.v_l_v != 0.0 || b.src.v_l_v != 0.0;
        debug_assert!(PAIR || gnd.is_none(), "a lone lane's ground is in its loop resistance");
        if let Some(g) = gnd {
            match (kind, ind) {
                (LINEAR, false) => steps::<Y, PAIR, LINEAR, false, true>(a, b, sa, sb, buf_a, buf_b, cur, g),
                (LINEAR, true) => steps::<Y, PAIR, LINEAR, true, true>(a, b, sa, sb, buf_a, buf_b, cur, g),
                (TABLE, false) => steps::<Y, PAIR, TABLE, false, true>(a, b, sa, sb, buf_a, buf_b, cur, g),
                (TABLE, true) => steps::<Y, PAIR, TABLE, true, true>(a, b, sa, sb, buf_a, buf_b, cur, g),
                _ => unreachable!("the grounded kernel runs plain-wire and table kinds"),
            }
            return;
        }
        let g = &mut Ground::default();
        match (kind, ind) {
            (LINEAR, false) => steps::<Y, PAIR, LINEAR, false, false>(a, b, sa, sb, buf_a, buf_b, cur, g),
            (LINEAR, true) => steps::<Y, PAIR, LINEAR, true, false>(a, b, sa, sb, buf_a, buf_b, cur, g),
            (TABLE, false) => steps::<Y, PAIR, TABLE, false, false>(a, b, sa, sb, buf_a, buf_b, cur, g),
            (TABLE, true) => steps::<Y, PAIR, TABLE, true, false>(a, b, sa, sb, buf_a, buf_b, cur, g),
            (_, false) => steps::<Y, PAIR, OTHER, false, false>(a, b, sa, sb, buf_a, buf_b, cur, g),
            (_, true) => steps::<Y, PAIR, OTHER, true, false>(a, b, sa, sb, buf_a, buf_b, cur, g),
        }
    }
}

/// The steps of lanes `a` and `b` for one way of solving the element (`KIND`), with or without
/// the series inductor (`IND`). Without `PAIR`, `b` is `a`'s shadow: it reads `buf_a`, and
/// `buf_b` is not touched.
///
/// Written to keep few values alive from step to step (the loop would otherwise spill to the
/// stack every step): the load's Thévenin voltage is formed from `h` where it is used, the
/// load's past inputs live in a four-entry ring in memory, and the table kind carries only the
/// grid position.
///
/// Kept off the step-to-step dependency chain (which, not the instruction count, set the time):
/// the modes' update and horizontal sum (two and three steps ahead of their use, through `c·z²`
/// and `c·z³`), and for the table kind the row lookup (predicted a step ahead; a missed
/// prediction takes the lookup from the position, so results do not depend on it).
///
/// With `GROUND`, both loops return through the shared ground `gnd` (`stereo.rs`): each loop's
/// element sees its drive less the ground voltage `v`, the root of `G(v) = v − R_g·(i_a + i_b)`.
/// For plain wires the loops are linear and `v = k·(u_a/R_tot,a + u_b/R_tot,b)` exactly, with
/// `k = R_g/(1 + R_g·(1/R_tot,a + 1/R_tot,b))` (the first step of `lane::solve_ground`, exact for
/// linear elements). For the table, each step takes one Newton step on `G` from the prediction
/// `v̂ = 2·v[n−1] − v[n−2]`: the element's current `Φ` and slope `d = dΦ/du` at `u − v̂` (the
/// table's cubic and its derivative), `Δ = G(v̂)·r` with `r` the last step's `1/G′`
/// (`G′ = 1 + R_g·(d_a + d_b)`; its division runs beside the next step instead of on the chain),
/// then `v = v̂ − Δ` and `i = Φ + d·Δ`. Two things are left out: the cubic's curvature over the
/// step, `|c₂ + 3c₃t|·q² + |c₃|·|q|³` with `q = Δ/h` (the step in grid units; the assembly loop
/// bounds it by `(|c₂| + 4|c₃|)·q²` and refuses `q > 1`), and the slope's change since the last step,
/// `|G·(G′·r − 1)|/R_tot`. Where their sum exceeds [`GROUND_REL_TOL`] of the lane's full-scale
/// current, or the position is off the grid, the step is solved exactly by `lane::solve_ground`
/// instead (about one step in 10⁵ for a sine; the first step of a run, and steps where the
/// element changes slope fast, as at the current limit's knee). Without the series inductor the
/// table kind runs this in `lane_asm` (`ground_element`). Only a pair (`PAIR`) runs with `GROUND`.
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn steps<const Y: bool, const PAIR: bool, const KIND: u8, const IND: bool, const GROUND: bool>(
    a: &mut Lane<&mut Regs, Y>,
    b: &mut Lane<&mut Regs, Y>,
    sa: &mut Solver,
    sb: &mut Solver,
    buf_a: &mut [f64],
    buf_b: &mut [f64],
    [cur_a, cur_b]: [*mut f64; 2],
    gnd: &mut Ground,
) {
    // SAFETY: this function runs only on a CPU with AVX2 and FMA (its contract); the pointers it
    // reads and writes are derived from the slices it is given, within their lengths, and the
    // current outputs are null or valid for `n` values (`by_kind`'s contract).
    unsafe {
        let n = buf_a.len();
        // Coefficients.
        let (qa, qb) = (a.m.quads[0], b.m.quads[0]);
        let ld = |x: &[f64; 4]| _mm256_loadu_pd(x.as_ptr());
        let ld2 = |x: &[f64; 2]| _mm_loadu_pd(x.as_ptr());
        let (zr_a, zi_a, czr_a, nczi_a) = (ld(&qa.zr), ld(&qa.zi), ld(&qa.czr), ld(&qa.nczi));
        let (zr_b, zi_b, czr_b, nczi_b) = (ld(&qb.zr), ld(&qb.zi), ld(&qb.czr), ld(&qb.nczi));
        let (mut xr_a, mut xi_a, mut xr_b, mut xi_b) = (ld(&qa.xr), ld(&qa.xi), ld(&qb.xr), ld(&qb.xi));
        let zd = pair(a.zd, b.zd);
        let n_zd = pair(-a.zd, -b.zd);
        let n_gamma = pair(-a.gamma, -b.gamma);
        let g = pair(a.m.g, b.m.g);
        let fir = |k: usize| pair(a.m.fir_rest[k], b.m.fir_rest[k]);
        let (fir0, fir1, fir2) = (fir(0), fir(1), fir(2));
        let uh = |k: usize| pair(a.m.u_hist[k], b.m.u_hist[k]);
        // The load's past inputs `w[k−1]`, `w[k−2]`, `w[k−3]` at `ring[(k−1) & 3]` and so on.
        let mut ring = [uh(2), uh(2), uh(1), uh(0)];
        let mut h = pair(a.m.h, b.m.h);
        let rc = pair(a.src.r_c_ohm, b.src.r_c_ohm);
        let rl = pair(a.src.r_l_ohm, b.src.r_l_ohm);
        let rcl = _mm_add_pd(rc, rl);
        let mut vc = pair(a.src.v_c_v, b.src.v_c_v);
        let mut vl = pair(a.src.v_l_v, b.src.v_l_v);
        let mut ip = pair(a.src.i_prev_a, b.src.i_prev_a);
        let inv_r = pair(sa.inv_r_tot, sb.inv_r_tot);
        // Each lane's table (coarse or fine: their lengths may differ).
        let (inv_h, p0, top, ca, cb) = match (sa.table, sb.table) {
            (Some(ta), Some(tb)) => (
                pair(ta.inv_h, tb.inv_h),
                pair(ta.p0, tb.p0),
                pair(ta.coef.len() as f64, tb.coef.len() as f64),
                ta.coef.as_ptr() as *const f64,
                tb.coef.as_ptr() as *const f64,
            ),
            _ => (_mm_setzero_pd(), _mm_setzero_pd(), _mm_setzero_pd(), std::ptr::null(), std::ptr::null()),
        };
        let zero = _mm_setzero_pd();
        let neg0 = _mm_set1_pd(-0.0);
        let zero4 = _mm256_setzero_pd();
        // Raw pointers: lane b reads `buf_a` when it is a shadow. Indices below stay under `n`.
        let out_a = buf_a.as_mut_ptr();
        let out_b = if PAIR { buf_b.as_mut_ptr() } else { out_a };

        // `Lane::thevenin`.
        let thevenin = |h: __m128d| if Y { _mm_mul_pd(_mm_xor_pd(h, neg0), zd) } else { h };
        // This step's history `pre` (`Modes::pre`): Σ Re(c·z·x) per channel plus the FIR part.
        let hsum = |pa: __m256d, pb: __m256d| {
            let hs = _mm256_hadd_pd(pa, pb); // (p0+p1)a (p0+p1)b (p2+p3)a (p2+p3)b
            _mm_add_pd(_mm256_castpd256_pd128(hs), _mm256_extractf128_pd::<1>(hs))
        };
        let mut pre = {
            let pa = _mm256_fmadd_pd(czr_a, xr_a, _mm256_fmadd_pd(nczi_a, xi_a, zero4));
            let pb = _mm256_fmadd_pd(czr_b, xr_b, _mm256_fmadd_pd(nczi_b, xi_b, zero4));
            let f = _mm_fmadd_pd(fir0, ring[3], _mm_fmadd_pd(fir1, ring[2], _mm_mul_pd(fir2, ring[1])));
            _mm_add_pd(hsum(pa, pb), f)
        };
        let th = thevenin(h);
        // `Lane::drive`: u = ve − (h_src + th), h_src = (R_C − R_L)·i_prev + (v_C − v_L).
        let ve0 = pair(*out_a, *out_b);
        let h_src = _mm_fmadd_pd(_mm_sub_pd(rc, rl), ip, _mm_sub_pd(vc, vl));
        let mut u = _mm_sub_pd(ve0, _mm_add_pd(h_src, th));
        // `base`: the next drive without this step's current (`Lane::step`), u' = base − γ·i.
        let mut base = {
            let j = 1.min(n - 1);
            let a_src = _mm_fmadd_pd(rcl, ip, _mm_add_pd(vc, vl));
            let b_load = if Y { _mm_mul_pd(n_zd, _mm_fmadd_pd(g, th, pre)) } else { pre };
            _mm_sub_pd(pair(*out_a.add(j), *out_b.add(j)), _mm_add_pd(a_src, b_load))
        };
        // Two dependency chains are kept short by carrying what is needed first.
        // - The element solve's input: for the table, the grid position `p = u·inv_h + p0`, formed
        //   as `p' = (base·inv_h + p0) − (γ·inv_h)·i`; for a plain wire, `u' = base − (γ/R_tot)·u`.
        // - The step after next: every history is affine in the states and the currents, so the next
        //   step's `base` is formed from this step's states (before their update) plus this step's
        //   current (and, for the admittance form, load voltage) through one multiply-add each. The
        //   modes enter through `c·z²`, so their update and horizontal sum are off the chain: with
        //   `e = Σ Re(c·z²·x) + d₃·w[n−1] + d₄·w[n−2]` and `κ = Σ Re(c·z) + d₂`, the next `pre` is
        //   `e + κ·w`, and (expanding `Lane::step` one sample on)
        //     admittance: base' = ve'' − (v_C − v_L) − (R_C − R_L)·i_prev + zd·(e − g·zd·pre)
        //                         − 2(R_C + R_L)·i + zd·(κ − g²·zd)·v,
        //     impedance:  base' = ve'' − (v_C − v_L) − (R_C − R_L)·i_prev − e − (2(R_C + R_L) + κ)·i.
        // Both equal the unfolded forms to rounding (tested against the baseline code).
        let mut p = _mm_fmadd_pd(u, inv_h, p0);
        let mut pb = _mm_fmadd_pd(base, inv_h, p0);
        let n_gamma_h = _mm_mul_pd(n_gamma, inv_h);
        let n_gamma_r = _mm_mul_pd(n_gamma, inv_r);
        // c·z² = (c·z)·z, as (re, −im).
        let c2 = |czr: __m256d, nczi: __m256d, zr: __m256d, zi: __m256d| {
            (_mm256_fmadd_pd(czr, zr, _mm256_mul_pd(nczi, zi)), _mm256_fmsub_pd(nczi, zr, _mm256_mul_pd(czr, zi)))
        };
        let (c2r_a, nc2i_a) = c2(czr_a, nczi_a, zr_a, zi_a);
        let (c2r_b, nc2i_b) = c2(czr_b, nczi_b, zr_b, zi_b);
        let kappa = _mm_add_pd(hsum(czr_a, czr_b), fir0);
        // `e` one step on, `e' = Σ Re(c·z³·x) + (Σ Re(c·z²) + d₃)·w + d₄·w[n−1]`: the modes' horizontal
        // sum is taken from this step's states before their update, so the step's current reaches
        // the next `e` through one multiply-add (this loop's longest path ran through that sum).
        let (c3r_a, nc3i_a) = c2(c2r_a, nc2i_a, zr_a, zi_a);
        let (c3r_b, nc3i_b) = c2(c2r_b, nc2i_b, zr_b, zi_b);
        let k2f1 = _mm_add_pd(hsum(c2r_a, c2r_b), fir1);
        let mut e = {
            let pa = _mm256_fmadd_pd(c2r_a, xr_a, _mm256_mul_pd(nc2i_a, xi_a));
            let pb4 = _mm256_fmadd_pd(c2r_b, xr_b, _mm256_mul_pd(nc2i_b, xi_b));
            _mm_add_pd(hsum(pa, pb4), _mm_fmadd_pd(fir1, ring[3], _mm_mul_pd(fir2, ring[2])))
        };
        let rcl2 = _mm_add_pd(rcl, rcl);
        let rc_rl = _mm_sub_pd(rc, rl);
        // Weights of this step's current and load voltage in the next `base` (negated for the current).
        let n_wi = if Y { _mm_xor_pd(rcl2, neg0) } else { _mm_xor_pd(_mm_add_pd(rcl2, kappa), neg0) };
        let wv = _mm_mul_pd(zd, _mm_fnmadd_pd(_mm_mul_pd(g, g), zd, kappa));
        let g_zd = _mm_mul_pd(g, zd);

        // One lane's cubic (`hermite_eval`) at `t` on the row at `c`, in scalar registers, its
        // coefficients loaded straight into the multiply-adds: shorter than a vector load and a
        // transpose.
        let cubic = |c: *const f64, t: __m128d| {
            let t2 = _mm_mul_sd(t, t);
            let hi = _mm_fmadd_sd(t, _mm_load_sd(c.add(3)), _mm_load_sd(c.add(2)));
            let lo = _mm_fmadd_sd(t, _mm_load_sd(c.add(1)), _mm_load_sd(c));
            _mm_fmadd_sd(t2, hi, lo)
        };
        // The lookup from the position's own index (a missed prediction, or a lane off the grid).
        // Which lanes' positions lie on the grid, `0 ≤ p < top` (bit 0: lane a, bit 1: lane b).
        let on_grid = |p: __m128d| _mm_movemask_pd(_mm_and_pd(_mm_cmp_pd::<_CMP_GE_OQ>(p, zero), _mm_cmp_pd::<_CMP_LT_OQ>(p, top)));
        let table_miss = |p: __m128d, sa: &mut Solver, sb: &mut Solver| {
            let m = on_grid(p);
            if m == 3 {
                let kk = _mm_cvttpd_epi32(p);
                let t = _mm_sub_pd(p, _mm_cvtepi32_pd(kk));
                let ka = _mm_cvtsi128_si32(kk) as usize;
                let kb = _mm_extract_epi32::<1>(kk) as usize;
                _mm_unpacklo_pd(cubic(ca.add(4 * ka), t), cubic(cb.add(4 * kb), _mm_unpackhi_pd(t, t)))
            } else {
                // A lane off the grid takes the exact solver; the other still reads the table,
                // so each lane's result is what it would be alone. The drive comes from the
                // grid position (this kind does not carry `u`).
                let (ua, ub) = lanes(_mm_div_pd(_mm_sub_pd(p, p0), inv_h));
                let lane = |c: *const f64, p: __m128d| {
                    let k = _mm_cvttsd_si32(p);
                    let t = _mm_sub_sd(p, _mm_cvtsi32_sd(p, k));
                    cubic(c.add(4 * k as usize), t)
                };
                let ia = if m & 1 != 0 { _mm_cvtsd_f64(lane(ca, p)) } else { sa.exact(ua) };
                let ib = if m & 2 != 0 { _mm_cvtsd_f64(lane(cb, _mm_unpackhi_pd(p, p))) } else { sb.exact(ub) };
                pair(ia, ib)
            }
        };
        // The predicted index of this step's grid position and each lane's row there (table kind):
        // predicted from the position's part known a step ahead (`pb`) and an extrapolated current,
        // clamped to the grid so the rows can always be read.
        let one = _mm_set1_pd(1.0);
        let three = _mm_set1_pd(3.0);
        let top_m1 = _mm_sub_pd(top, one);
        // A position's index clamped to the grid, as a float, and each lane's row there.
        let rows = |ph: __m128d| {
            let k = _mm_cvttpd_epi32(_mm_min_pd(_mm_max_pd(ph, zero), top_m1));
            (_mm_cvtepi32_pd(k), ca.add(4 * _mm_cvtsi128_si32(k) as usize), cb.add(4 * _mm_extract_epi32::<1>(k) as usize))
        };
        let (mut i2, mut i3) = (ip, ip);
        // The shared ground (`GROUND`): its resistance, the last two steps' voltages (broadcast),
        // and each lane's tolerance for the Newton step's left-out curvature, amperes. The table
        // kind then carries the position of `u − v̂` (the drive less the predicted ground voltage).
        let r_g = _mm_set1_pd(gnd.r_ohm);
        let two_inv_h = _mm_add_pd(inv_h, inv_h);
        // `γ/h²`: the weight of the cubic's slope (per unit `t`) in the next position.
        let n_gamma_hh = _mm_mul_pd(n_gamma_h, inv_h);
        let (mut v1, mut v2) = (_mm_set1_pd(gnd.v_v[0]), _mm_set1_pd(gnd.v_v[1]));
        let mut r_inv = _mm_set1_pd(gnd.r_inv);
        // `G′` of the plain wires (each element's largest slope).
        let gp_wires = _mm_fmadd_pd(r_g, _mm_add_pd(inv_r, _mm_shuffle_pd::<1>(inv_r, inv_r)), one);
        // Plain wires: `v = k·Σ u/R_tot` with `k = R_g/G′`.
        let k_wires = _mm_div_pd(r_g, gp_wires);
        let tol_table = _mm_mul_pd(_mm_set1_pd(GROUND_REL_TOL), _mm_mul_pd(inv_r, _mm_div_pd(p0, inv_h)));
        let abs = |x: __m128d| _mm_andnot_pd(neg0, x);
        // The table kind's step solved exactly through the ground, from its position `p` (of
        // `u − v̂`) and the prediction `v̂`: both currents and the ground voltage.
        let exact_step = |p: __m128d, v_hat: f64, sa: &mut Solver, sb: &mut Solver, gnd: &mut Ground| {
            let (ua, ub) = lanes(_mm_add_pd(_mm_div_pd(_mm_sub_pd(p, p0), inv_h), _mm_set1_pd(v_hat)));
            let (ia, ib, v) = exact_ground(sa, sb, ua, ub, gnd.r_ohm, v_hat);
            gnd.exact_steps += 1;
            (pair(ia, ib), v)
        };
        if GROUND && KIND == TABLE {
            p = _mm_fnmadd_pd(_mm_add_pd(v1, _mm_sub_pd(v1, v2)), inv_h, p);
        }
        let (mut kf, mut ra, mut rb) = (zero, ca, cb);
        if KIND == TABLE {
            (kf, ra, rb) = rows(p);
        }
        // One lane's cubic (as `cubic`) with its slope `dc/dt` and half its second derivative
        // `c₂ + 3c₃t`, and `c₃`: the Newton step's slope and its check.
        let cubic_d = |c: *const f64, t: __m128d| {
            let (c0, c1, c2, c3) = (_mm_load_sd(c), _mm_load_sd(c.add(1)), _mm_load_sd(c.add(2)), _mm_load_sd(c.add(3)));
            let t2 = _mm_mul_sd(t, t);
            let val = _mm_fmadd_sd(t2, _mm_fmadd_sd(t, c3, c2), _mm_fmadd_sd(t, c1, c0));
            let curv = _mm_fmadd_sd(t, _mm_mul_sd(three, c3), c2);
            let slope = _mm_fmadd_sd(t, _mm_add_sd(c2, curv), c1);
            (val, slope, curv, c3)
        };

        // The table kind without the inductor runs in `lane_asm` (registers allocated by hand, the
        // modes in companion form); its states come back into these locals.
        let mut k0 = 0;
        if KIND == TABLE && !IND && ASM_KERNEL.load(std::sync::atomic::Ordering::Relaxed) {
            let st2 = |v: __m128d| {
                let mut o = [0.0; 2];
                _mm_storeu_pd(o.as_mut_ptr(), v);
                o
            };
            let st4 = |v: __m256d| {
                let mut o = [0.0; 4];
                _mm256_storeu_pd(o.as_mut_ptr(), v);
                o
            };
            let r = [st2(ring[0]), st2(ring[1]), st2(ring[2]), st2(ring[3])];
            let mut fr = Frame {
                m_a: Companion::new(qa.zr, qa.zi, qa.xr, qa.xi, st4(c3r_a), st4(nc3i_a)),
                m_b: Companion::new(qb.zr, qb.zi, qb.xr, qb.xi, st4(c3r_b), st4(nc3i_b)),
                n_gamma_h: st2(n_gamma_h),
                zd: st2(zd),
                g: st2(g),
                kappa: st2(kappa),
                k2f1: st2(k2f1),
                fir2: st2(fir2),
                wv: st2(wv),
                n_wi: st2(n_wi),
                n_zd_g_zd: st2(_mm_xor_pd(_mm_mul_pd(zd, g_zd), neg0)),
                rc2: st2(_mm_add_pd(rc, rc)),
                inv_h: st2(inv_h),
                p0: st2(p0),
                three: [3.0; 2],
                six: [6.0; 2],
                eight: [8.0; 2],
                zero: [0.0; 2],
                top_m1: st2(top_m1),
                top: st2(top),
                sign: [-0.0; 2],
                p: st2(p),
                pb: st2(pb),
                h: st2(h),
                pre: st2(pre),
                e: st2(e),
                src0: st2(_mm_fmadd_pd(rc, ip, vc)),
                ip: st2(ip),
                i_in: [0.0; 2],
                cur: [cur_a, if PAIR { cur_b } else { cur_a }],
                kf: st2(kf),
                ring: [r[0], r[1], r[2], r[3], r[0], r[1], r[2], r[3]],
                p_ring: [st2(p); 8],
                rg: st2(r_g),
                rg_ih: st2(_mm_mul_pd(r_g, inv_h)),
                inv_r: st2(inv_r),
                tol: st2(tol_table),
                one: [1.0; 2],
                two: [2.0; 2],
                four: [4.0; 2],
                abs: [f64::from_bits(!(1u64 << 63)); 2],
                v1: st2(v1),
                vhat: st2(_mm_add_pd(v1, _mm_sub_pd(v1, v2))),
                r_inv: st2(r_inv),
                gp: [1.0; 2],
                kq: [0.0; 2],
            };
            let (mut k, mut resume) = (0, false);
            while let Stop::Miss = lane_asm::run::<Y, GROUND>(
                &mut fr,
                &mut k,
                resume,
                n - 1,
                out_a,
                out_b,
                &mut ra,
                &mut rb,
                ca,
                cb,
            ) {
                let p = ld2(&fr.p);
                if !GROUND {
                    fr.i_in = st2(table_miss(p, sa, sb));
                    resume = true;
                    continue;
                }
                // Step `k` solved exactly, then the ground's state on as the loop's own step
                // does it (`lane_asm::ground_element`): `v`, `v̂'`, the next position and `1/G′`
                // (of this step's slope when it was read, on the grid; else the plain wires').
                let (i, v) = exact_step(p, fr.vhat[0], sa, sb, gnd);
                let v_n = _mm_set1_pd(v);
                let vh_next = _mm_sub_pd(_mm_add_pd(v_n, v_n), ld2(&fr.v1));
                fr.p = st2(_mm_fnmadd_pd(vh_next, inv_h, _mm_fmadd_pd(n_gamma_h, i, ld2(&fr.pb))));
                fr.i_in = st2(i);
                let gp = if on_grid(p) == 3 { ld2(&fr.gp) } else { gp_wires };
                fr.v1 = st2(v_n);
                fr.vhat = st2(vh_next);
                fr.r_inv = st2(_mm_div_pd(one, gp));
                resume = true;
            }
            if GROUND {
                // `v[n−2]` from the last prediction `v̂ = 2·v[n−1] − v[n−2]` (to rounding: it only
                // starts the next run's prediction).
                v1 = ld2(&fr.v1);
                v2 = _mm_sub_pd(_mm_add_pd(v1, v1), ld2(&fr.vhat));
                r_inv = ld2(&fr.r_inv);
            }
            let xa = Companion::states(qa.zr, qa.zi, fr.m_a.u, fr.m_a.up);
            let xb = Companion::states(qb.zr, qb.zi, fr.m_b.u, fr.m_b.up);
            (xr_a, xi_a, xr_b, xi_b) = (ld(&xa.0), ld(&xa.1), ld(&xb.0), ld(&xb.1));
            ring = [
                ld2(&fr.ring[0]),
                ld2(&fr.ring[1]),
                ld2(&fr.ring[2]),
                ld2(&fr.ring[3]),
            ];
            (h, ip) = (ld2(&fr.h), ld2(&fr.ip));
            // v_C = src0 − R_C·i[k−1].
            vc = _mm_fnmadd_pd(rc, ip, ld2(&fr.src0));
            k0 = n;
        }

        for k in k0..n {
            // The voltage two samples on. The last steps' look-ahead is never used (it is recomputed
            // from the states next time), so they read the last sample again rather than branch.
            let j = (k + 2).min(n - 1);
            // The element through the shared ground (see the doc above); `pb_g` is the next
            // position's part known before this step's current.
            let mut pb_g = pb;
            let mut p_next = zero;
            let i = if GROUND && KIND == LINEAR {
                // Plain wires: the ground voltage in closed form (see the doc above).
                let s = _mm_mul_pd(_mm_mul_pd(u, inv_r), k_wires);
                let v = _mm_add_pd(s, _mm_shuffle_pd::<1>(s, s));
                (v2, v1) = (v1, v);
                _mm_mul_pd(_mm_sub_pd(u, v), inv_r)
            } else if GROUND {
                let v_hat = _mm_add_pd(v1, _mm_sub_pd(v1, v2));
                // Each lane's current and slope at `u − v̂`, and the curvature check's terms; `None`
                // off the grid.
                let at = {
                    let tp = _mm_sub_pd(p, kf);
                    let hit = _mm_and_pd(_mm_cmp_pd::<_CMP_GE_OQ>(tp, zero), _mm_cmp_pd::<_CMP_LT_OQ>(tp, one));
                    // A missed row prediction looks the rows up from the position; off the
                    // grid, the exact step.
                    let rows_t = if _mm_movemask_pd(hit) == 3 {
                        Some((ra, rb, tp))
                    } else if on_grid(p) == 3 {
                        let (k2, ra2, rb2) = rows(p);
                        Some((ra2, rb2, _mm_sub_pd(p, k2)))
                    } else {
                        None
                    };
                    rows_t.map(|(ra, rb, t)| {
                        let (xa, da, ka, ja) = cubic_d(ra, t);
                        let (xb, db, kb, jb) = cubic_d(rb, _mm_unpackhi_pd(t, t));
                        let lo_hi = |x, y| _mm_unpacklo_pd(x, y);
                        let slope = lo_hi(da, db);
                        (lo_hi(xa, xb), slope, _mm_mul_pd(slope, inv_h), lo_hi(ka, kb), lo_hi(ja, jb))
                    })
                };
                // The next position less the next prediction, `v̂' = (2·v̂ − v[n−1]) − 2·Δ`, is
                // `q_g + 2·Δ/h` (for the table kind).
                let q_g = _mm_fnmadd_pd(_mm_add_pd(v_hat, _mm_sub_pd(v_hat, v1)), inv_h, pb);
                let (mut solved, mut gp_seen) = (None, None);
                if let Some((i0, slope, d0, curv, c3)) = at {
                    let s_i = _mm_add_pd(i0, _mm_shuffle_pd::<1>(i0, i0));
                    let g = _mm_fnmadd_pd(r_g, s_i, v_hat);
                    let s_d = _mm_add_pd(d0, _mm_shuffle_pd::<1>(d0, d0));
                    let gp = _mm_fmadd_pd(r_g, s_d, one);
                    gp_seen = Some(gp);
                    // Newton with the last step's `1/G′`: what that and the cubic's curvature
                    // leave out, as a current, must be within the tolerance.
                    let delta = _mm_mul_pd(r_inv, g);
                    let q = abs(_mm_mul_pd(delta, inv_h));
                    let slope_err = _mm_mul_pd(abs(_mm_mul_pd(g, _mm_fmsub_pd(gp, r_inv, one))), inv_r);
                    let left_out = _mm_fmadd_pd(_mm_mul_pd(q, q), _mm_fmadd_pd(abs(c3), q, abs(curv)), slope_err);
                    if _mm_movemask_pd(_mm_cmp_pd::<_CMP_LE_OQ>(left_out, tol_table)) == 3 {
                        // `p' = q_g + γ·i/h + 2·Δ/h` with `i = Φ + d·Δ`, formed from `Φ` and `G`
                        // so the cross-lane sum is the only addition to the chain.
                        let m = _mm_mul_pd(_mm_fmadd_pd(n_gamma_hh, slope, two_inv_h), r_inv);
                        p_next = _mm_fmadd_pd(m, g, _mm_fmadd_pd(n_gamma_h, i0, q_g));
                        solved = Some((_mm_fmadd_pd(_mm_mul_pd(d0, r_inv), g, i0), delta));
                    }
                }
                let (i, delta) = solved.unwrap_or_else(|| {
                    let vh = _mm_cvtsd_f64(v_hat);
                    let (i, v) = exact_step(p, vh, sa, sb, gnd);
                    let delta = _mm_set1_pd(vh - v);
                    p_next = _mm_fmadd_pd(n_gamma_h, i, _mm_fmadd_pd(two_inv_h, delta, q_g));
                    (i, delta)
                });
                // The next step's `1/G′`: this step's slope where it was read (also when its Newton
                // step was refused, so a sustained change of slope, as in current limiting, costs
                // one exact step, not one per step), else the plain wires'.
                let gp = gp_seen.unwrap_or(gp_wires);
                r_inv = _mm_div_pd(one, gp);
                pb_g = _mm_fmadd_pd(two_inv_h, delta, q_g);
                (v2, v1) = (v1, _mm_sub_pd(v_hat, delta));
                i
            } else {
                match KIND {
                LINEAR => _mm_mul_pd(u, inv_r),
                TABLE => {
                    // `TableView::eval` in both lanes at once.
                    // This step's rows were predicted a step ago. When the position lies in them (in
                    // both lanes) the lookup is off the step-to-step chain, and `t` is the same as
                    // from the position's own index; otherwise the lookup as before.
                    let tp = _mm_sub_pd(p, kf);
                    let hit = _mm_and_pd(_mm_cmp_pd::<_CMP_GE_OQ>(tp, zero), _mm_cmp_pd::<_CMP_LT_OQ>(tp, one));
                    if _mm_movemask_pd(hit) == 3 {
                        _mm_unpacklo_pd(cubic(ra, tp), cubic(rb, _mm_unpackhi_pd(tp, tp)))
                    } else {
                        table_miss(p, sa, sb)
                    }
                }
                _ => {
                    let (ua, ub) = lanes(u);
                    pair(sa.solve::<HwFma>(ua), sb.solve::<HwFma>(ub))
                }
                }
            };
            // The next step's input (the chain).
            match KIND {
                LINEAR if !GROUND => u = _mm_fmadd_pd(n_gamma_r, u, base),
                TABLE if GROUND => p = p_next,
                TABLE => p = _mm_fmadd_pd(n_gamma_h, i, pb),
                _ => u = _mm_fmadd_pd(n_gamma, i, base),
            }
            // `Lane::step`: the load voltage `zd·i + th`, with `th = −zd·h` (admittance) or `h`.
            let v = if Y { _mm_mul_pd(zd, _mm_sub_pd(i, h)) } else { _mm_fmadd_pd(zd, i, h) };
            let w = if Y { v } else { i };
            // The modes' part of the next step's `e`, from the states before their update.
            let w1 = ring[(k + 3) & 3];
            let qa = _mm256_fmadd_pd(c3r_a, xr_a, _mm256_mul_pd(nc3i_a, xi_a));
            let qb = _mm256_fmadd_pd(c3r_b, xr_b, _mm256_mul_pd(nc3i_b, xi_b));
            let q = hsum(qa, qb);
            ring[k & 3] = w;
            // The step after next's `base`.
            let ve2 = pair(*out_a.add(j), *out_b.add(j));
            let src0 = if IND { _mm_fmadd_pd(rc_rl, ip, _mm_sub_pd(vc, vl)) } else { _mm_fmadd_pd(rc, ip, vc) };
            let b0 = if Y {
                _mm_fmadd_pd(zd, _mm_fnmadd_pd(g_zd, pre, e), _mm_sub_pd(ve2, src0))
            } else {
                _mm_sub_pd(ve2, _mm_add_pd(src0, e))
            };
            let base_next = if Y { _mm_fmadd_pd(wv, w, _mm_fmadd_pd(n_wi, i, b0)) } else { _mm_fmadd_pd(n_wi, i, b0) };
            // `Source::advance`.
            vc = _mm_fmadd_pd(rc, _mm_add_pd(i, ip), vc);
            if IND {
                vl = _mm_fmadd_pd(rl, _mm_sub_pd(i, ip), _mm_xor_pd(vl, neg0));
            }
            if KIND == TABLE {
                // The next step's rows, predicted from what is known before this step's current:
                // the next position's part `pb` and the current extrapolated from the last three,
                // `î = 3·(i[n−1] − i[n−2]) + i[n−3]` (see `kf`).
                (kf, ra, rb) = rows(_mm_fmadd_pd(n_gamma_h, _mm_fmadd_pd(three, _mm_sub_pd(ip, i2), i3), pb_g));
            }
            (i3, i2, ip) = (i2, ip, i);
            // `Modes::commit`.
            let wa = _mm256_broadcastsd_pd(w);
            let wb = _mm256_broadcastsd_pd(_mm_unpackhi_pd(w, w));
            let (xr, xi) = (xr_a, xi_a);
            xr_a = _mm256_fmadd_pd(zr_a, xr, _mm256_fnmadd_pd(zi_a, xi, wa));
            xi_a = _mm256_fmadd_pd(zr_a, xi, _mm256_mul_pd(zi_a, xr));
            let (xr, xi) = (xr_b, xi_b);
            xr_b = _mm256_fmadd_pd(zr_b, xr, _mm256_fnmadd_pd(zi_b, xi, wb));
            xi_b = _mm256_fmadd_pd(zr_b, xi, _mm256_mul_pd(zi_b, xr));
            h = _mm_fmadd_pd(g, w, pre);
            pre = _mm_fmadd_pd(kappa, w, e);
            e = _mm_fmadd_pd(k2f1, w, _mm_fmadd_pd(fir2, w1, q));
            match KIND {
                TABLE => pb = _mm_fmadd_pd(base_next, inv_h, p0),
                _ => base = base_next,
            }
            _mm_storel_pd(out_a.add(k), v);
            if PAIR {
                _mm_storeh_pd(out_b.add(k), v);
            }
            if !cur_a.is_null() {
                _mm_storel_pd(cur_a.add(k), i);
                if PAIR {
                    _mm_storeh_pd(cur_b.add(k), i);
                }
            }
        }

        // States back.
        let st = |x: __m256d| {
            let mut o = [0.0; 4];
            _mm256_storeu_pd(o.as_mut_ptr(), x);
            o
        };
        (a.m.quads[0].xr, a.m.quads[0].xi, b.m.quads[0].xr, b.m.quads[0].xi) = (st(xr_a), st(xi_a), st(xr_b), st(xi_b));
        let (u0, u1, u2) = (lanes(ring[(n + 3) & 3]), lanes(ring[(n + 2) & 3]), lanes(ring[(n + 1) & 3]));
        a.m.u_hist = [u0.0, u1.0, u2.0];
        b.m.u_hist = [u0.1, u1.1, u2.1];
        (a.m.h, b.m.h) = lanes(h);
        (a.src.v_c_v, b.src.v_c_v) = lanes(vc);
        (a.src.v_l_v, b.src.v_l_v) = lanes(vl);
        (a.src.i_prev_a, b.src.i_prev_a) = lanes(ip);
        if GROUND {
            gnd.v_v = [_mm_cvtsd_f64(v1), _mm_cvtsd_f64(v2)];
            gnd.r_inv = _mm_cvtsd_f64(r_inv);
        }
    }
}

/// Largest curvature the grounded Newton step may leave out (see [`steps`]), relative to the
/// lane's full-scale current `u_max/R_tot`: 1e-8, a tenth of the table's own accuracy
/// (`table::REL_TOL`).
const GROUND_REL_TOL: f64 = 1e-8;

/// The exact coupled solve for one step (`lane::solve_ground`), off the kernel's hot loop.
#[cold]
#[inline(never)]
#[target_feature(enable = "avx2,fma")]
fn exact_ground(sa: &mut Solver, sb: &mut Solver, u_a: f64, u_b: f64, r_g_ohm: f64, v_start: f64) -> (f64, f64, f64) {
    solve_ground::<HwFma>(sa, sb, u_a, u_b, r_g_ohm, v_start)
}
