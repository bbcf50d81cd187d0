//! The table kind's steady-state loop of [`lane_avx2`](super::lane_avx2) (two lanes, table solve,
//! no series inductor: every library stage into every library load) in assembly with its
//! registers allocated by hand.
//!
//! Why assembly: the loop carries eleven values from step to step and reads about thirty
//! constants, against sixteen vector registers. The compiler kept constants in registers and
//! moved carried values to the stack and back every step (of its 124 instructions per step, 26
//! were spill stores and reloads and 13 register moves). Here the carried values stay in
//! registers for the whole run (the four mode-state registers; the grid position and its known
//! part; the load's histories `h`, `pre`, `e`; the source's history; the predicted row's index),
//! every constant is a memory operand of the instruction that uses it, and what is needed only
//! steps later (the load's past inputs, past positions) lives in small rings in memory.
//!
//! What set the pace, measured (ablations on `benches/probes/variants.rs`; no hardware counters on
//! this machine): not the instruction count (ten more register moves per step cost nothing, the
//! modes' eight instructions about 2 %), not the loads, and not the step-to-step chain through
//! the element (taking it off changed nothing), but the row prediction's own latency. The rows
//! for the next step were predicted from the part of its position known a step ahead, which
//! itself waits for the last current, so a current reached the rows it selects two steps later
//! through about fifty cycles of dependent work. The prediction now extrapolates positions two
//! to four steps old (nothing from this step or the last), so that path spans three steps.
//!
//! Changes of arithmetic against `lane_avx2::steps` (each tested against the baseline code to
//! 1e-9 at 1×, `tests/engine_fast.rs`, where library loads agree to 4e-11; a pair still equals
//! its channels alone bit for bit, since both run here):
//! * the modes run in companion form ([`Companion`]): two multiply-adds per four modes instead
//!   of four;
//! * the source's history `src0 = R_C·i[k−1] + v_C` is carried as one value, `src0' = src0 +
//!   2·R_C·i` (the capacitor's voltage is recovered on exit);
//! * the next step's base sums its terms with the latest operands (`e`, through the modes, and
//!   the load voltage) last.
//!
//! The prediction only decides whether the lookup uses the predicted rows or redoes it from the
//! position (in the loop; only a lane off the grid returns to the caller), so it cannot change a
//! result: `t` and the rows are always the position's own.
//!
//! Threading: audio thread; no allocation. Only call on a CPU with AVX2 and FMA.

use std::arch::asm;
use std::mem::offset_of;

/// Everything the loop reads from memory: constants, and the states it keeps in registers
/// (loaded on entry, stored on exit). 32-byte aligned for the 256-bit loads.
#[repr(C, align(32))]
pub(crate) struct Frame {
    /// Each channel's four modes in companion form.
    pub(crate) m_a: Companion,
    pub(crate) m_b: Companion,
    // 2-wide: lane a, lane b.
    pub(crate) n_gamma_h: [f64; 2],
    pub(crate) zd: [f64; 2],
    pub(crate) g: [f64; 2],
    pub(crate) kappa: [f64; 2],
    pub(crate) k2f1: [f64; 2],
    pub(crate) fir2: [f64; 2],
    pub(crate) wv: [f64; 2],
    pub(crate) n_wi: [f64; 2],
    /// `−zd·g·zd`, the weight of `pre` in the admittance form's base.
    pub(crate) n_zd_g_zd: [f64; 2],
    /// Twice the capacitor's companion resistance, ohms.
    pub(crate) rc2: [f64; 2],
    pub(crate) inv_h: [f64; 2],
    pub(crate) p0: [f64; 2],
    pub(crate) three: [f64; 2],
    pub(crate) six: [f64; 2],
    pub(crate) eight: [f64; 2],
    pub(crate) zero: [f64; 2],
    pub(crate) top_m1: [f64; 2],
    pub(crate) top: [f64; 2],
    pub(crate) sign: [f64; 2],
    /// Carried states: grid position, its next known part, load histories, the source's history
    /// `src0 = R_C·i[k−1] + v_C[k]` (volts), last current, and a current handed in after a
    /// missed prediction.
    pub(crate) p: [f64; 2],
    pub(crate) pb: [f64; 2],
    pub(crate) h: [f64; 2],
    pub(crate) pre: [f64; 2],
    pub(crate) e: [f64; 2],
    pub(crate) src0: [f64; 2],
    pub(crate) ip: [f64; 2],
    pub(crate) i_in: [f64; 2],
    /// Where each lane's loop currents go (amperes, indexed like the outputs), or null: not
    /// wanted. Both null or both set; equal for a shadow lane.
    pub(crate) cur: [*mut f64; 2],
    /// The predicted row's index, as a float.
    pub(crate) kf: [f64; 2],
    /// The shared ground (`run::<_, true>` only; see [`ground_element`]). Constants: `R_g` (ohms),
    /// `R_g/h`, `1/R_tot` per lane, the tolerance for what the Newton step leaves out
    /// (amperes), and 1, 2, 4 and the mask of a float's magnitude.
    pub(crate) rg: [f64; 2],
    pub(crate) rg_ih: [f64; 2],
    pub(crate) inv_r: [f64; 2],
    pub(crate) tol: [f64; 2],
    pub(crate) one: [f64; 2],
    pub(crate) two: [f64; 2],
    pub(crate) four: [f64; 2],
    pub(crate) abs: [f64; 2],
    /// Carried in memory: the last ground voltage `v[k−1]` and this step's prediction `v̂[k]`
    /// (volts, the same in both lanes), `1/G′` for this step and `G′` of its slope.
    pub(crate) v1: [f64; 2],
    pub(crate) vhat: [f64; 2],
    pub(crate) r_inv: [f64; 2],
    pub(crate) gp: [f64; 2],
    /// Scratch: the step's curvature bound.
    pub(crate) kq: [f64; 2],
    /// The load's inputs `w[k]` at `ring[k & 3]` and again at `ring[(k & 3) + 4]`, so that
    /// `w[k−1]` is always `ring[(k & 3) + 3]`.
    pub(crate) ring: [[f64; 2]; 8],
    /// The positions `p[k+1]`, laid out the same way (for the row prediction).
    pub(crate) p_ring: [[f64; 2]; 8],
}

/// One channel's four modes in companion form.
///
/// A mode `x' = z·x + w` (complex state `x`, real input `w`) is, with `x = u − z̄·u[k−1]`, the
/// real recursion `u' = 2·Re z·u − |z|²·u[k−1] + w` (substituting: `u' − z̄·u = z·(u − z̄·u[k−1])
/// + w` because `z + z̄ = 2·Re z` and `z·z̄ = |z|²`), the second-order direct form of the same
/// pole pair (Oppenheim & Schafer, *Discrete-Time Signal Processing*, 3rd ed., §6.3). A mode then
/// costs two multiply-adds a step instead of the complex product's four, and a readout
/// `Re(c·x)` is `Re c·u − Re(c·z̄)·u[k−1]`. The states convert both ways on entry and exit
/// (`u[k−1] = Im x/Im z`, `u = Re x + Re z·u[k−1]`); a real pole (`Im z = 0`, whose `Im x`
/// stays 0) runs as the first-order `u' = z·u + w` instead.
///
/// Rounding: `Im x` is itself formed in proportion to `Im z`, so the conversion does not amplify
/// it; the recursion's own rounding is amplified for a pole pair both near `z = 1` and near the
/// real axis (a nearly double pole). Measured against the complex form over 20 000 steps of
/// random input, relative to the state: 1e-12 for a 3 kHz mode at 192 kHz, 5e-11 for a 50 Hz
/// resonance with Q = 2, and at worst 3e-8 for a pole pair within 1e-4 of 1 and 1e-5 rad of the
/// axis (a contrived case; library loads' modes are within 4e-13 of the baseline code's output,
/// `tests/engine_fast.rs`). That is below −150 dB of the signal in every case.
/// 32-byte aligned: the loop reads its fields as 256-bit operands inside [`Frame`].
#[repr(C, align(32))]
#[derive(Clone, Copy)]
pub(crate) struct Companion {
    /// `2·Re z`, `|z|²`.
    pub(crate) a1: [f64; 4],
    pub(crate) a2: [f64; 4],
    /// `u`, `u[k−1]`.
    pub(crate) u: [f64; 4],
    pub(crate) up: [f64; 4],
    /// The readout `Re(c·x) = qu·u + qp·u[k−1]` for the coefficient `c = (cr, −nci)`.
    pub(crate) qu: [f64; 4],
    pub(crate) qp: [f64; 4],
}

impl Companion {
    /// From poles `z = (zr, zi)`, states `x = (xr, xi)` and the readout coefficient `c = (cr, −nci)`.
    pub(crate) fn new(
        zr: [f64; 4],
        zi: [f64; 4],
        xr: [f64; 4],
        xi: [f64; 4],
        cr: [f64; 4],
        nci: [f64; 4],
    ) -> Self {
        let mut c = Companion {
            a1: [0.0; 4],
            a2: [0.0; 4],
            u: [0.0; 4],
            up: [0.0; 4],
            qu: [0.0; 4],
            qp: [0.0; 4],
        };
        for m in 0..4 {
            if zi[m] == 0.0 {
                // A real pole (or an unused lane): its complex state stays real, so it runs as
                // the first-order recursion `u' = z·u + w`, `x = u` (the second-order form would
                // make it a double pole, whose rounding the recursion amplifies).
                (c.a1[m], c.a2[m], c.u[m], c.up[m], c.qu[m], c.qp[m]) =
                    (zr[m], 0.0, xr[m], 0.0, cr[m], 0.0);
                continue;
            }
            c.a1[m] = 2.0 * zr[m];
            c.a2[m] = zr[m].mul_add(zr[m], zi[m] * zi[m]);
            c.up[m] = xi[m] / zi[m];
            c.u[m] = zr[m].mul_add(c.up[m], xr[m]);
            // Re(c·z̄) = cr·zr + ci·zi = cr·zr − nci·zi.
            c.qu[m] = cr[m];
            c.qp[m] = nci[m].mul_add(zi[m], -(cr[m] * zr[m]));
        }
        c
    }

    /// The complex states `(xr, xi)` of the poles `z = (zr, zi)` for companion states `u`, `up`.
    pub(crate) fn states(
        zr: [f64; 4],
        zi: [f64; 4],
        u: [f64; 4],
        up: [f64; 4],
    ) -> ([f64; 4], [f64; 4]) {
        let (mut xr, mut xi) = ([0.0; 4], [0.0; 4]);
        for m in 0..4 {
            if zi[m] == 0.0 {
                (xr[m], xi[m]) = (u[m], 0.0);
                continue;
            }
            xr[m] = (-zr[m]).mul_add(up[m], u[m]);
            xi[m] = zi[m] * up[m];
        }
        (xr, xi)
    }
}

/// How a run of [`run`] ended.
pub(crate) enum Stop {
    /// Every step up to the end was taken.
    Done,
    /// A lane of step `k`'s position is off the grid: its current must be found by the caller's
    /// lookup (the exact solver for that lane), then the run resumes at `k` with it.
    Miss,
}

/// The element for separate returns: the cubic on the rows at `t` (xmm11), the current into
/// xmm13 (then the chain [`plain_chain`] forms the next position).
macro_rules! plain_element {
    () => {
        concat!(
            // lo = t·c1 + c0, hi = t·c3 + c2, i = t²·hi + lo.
            "vmovupd xmm12, [{ra}]\n",
            "vmovupd xmm15, [{rb}]\n",
            "vunpcklpd xmm14, xmm12, xmm15\n",
            "vunpckhpd xmm12, xmm12, xmm15\n",
            "vfmadd213pd xmm12, xmm11, xmm14\n",
            "vmovupd xmm13, [{ra} + 16]\n",
            "vmovupd xmm15, [{rb} + 16]\n",
            "vunpcklpd xmm14, xmm13, xmm15\n",
            "vunpckhpd xmm13, xmm13, xmm15\n",
            "vfmadd213pd xmm13, xmm11, xmm14\n",
            "vmulpd xmm14, xmm11, xmm11\n",
            "vfmadd213pd xmm13, xmm14, xmm12\n",
            "/* the ground's, unused here: {o_abs} {o_four} {o_kq} {o_two} {o_vhat} {o_rg} {o_rgih} {o_one} {o_gp} {o_rinv} {o_invr} {o_tol} {o_v1} */\n",
        )
    };
}

/// The next position for separate returns: `p = γh·i + pb`.
macro_rules! plain_chain {
    () => {
        concat!("vmovapd xmm4, xmm5\n", "vfmadd231pd xmm4, xmm13, [{fr} + {o_ngh}]\n")
    };
}

/// The element through the shared ground (`lane_avx2::steps` with `GROUND`: the same Newton
/// step and bound, in registers). The position xmm4 is that of `u − v̂`; xmm5 holds the next
/// position's part known before this step's current, `pb`. With `t` in xmm11: each lane's cubic
/// `Φ` and slope `dΦ/dt`; `G = v̂ − R_g·(Φ_a + Φ_b)`; `G′ = 1 + R_g·Σ dΦ/du` (kept for the next
/// step's `r = 1/G′`); `Δ = r·G`, `i = Φ + (dΦ/du)·Δ`, `v = v̂ − Δ`, the next prediction
/// `v̂' = 2·v − v[k−1]` and position `pb + γ/h·i − v̂'/h`. What the step leaves out, as a
/// current: the cubic's curvature over `q = |Δ/h|`, at most `(|c₂| + 3|c₃|)·q² + |c₃|·q³ ≤ K·q²`
/// for `q ≤ 1`, with `K = |c₂| + 4|c₃|` (a bound over the row, so `t` need not be kept), plus
/// the slope's change since the last step, `|G·(G′·r − 1)|/R_tot`. Over the tolerance, with
/// `q > 1`, or NaN, the step goes back to the caller for the exact solve (label 7, as a lane off
/// the grid does); otherwise the current goes to xmm13, the position to xmm4, and the ground's
/// state on.
macro_rules! ground_element {
    () => {
        concat!(
            // c₂, c₃ (xmm14, xmm15) and K per lane, to memory.
            "vmovupd xmm14, [{ra} + 16]\n",
            "vunpckhpd xmm15, xmm14, [{rb} + 16]\n",
            "vunpcklpd xmm14, xmm14, [{rb} + 16]\n",
            "vandpd xmm12, xmm15, [{fr} + {o_abs}]\n",
            "vandpd xmm13, xmm14, [{fr} + {o_abs}]\n",
            "vfmadd231pd xmm13, xmm12, [{fr} + {o_four}]\n",
            "vmovapd [{fr} + {o_kq}], xmm13\n",
            // c₀, c₁ (xmm12, xmm13).
            "vmovupd xmm12, [{ra}]\n",
            "vunpckhpd xmm13, xmm12, [{rb}]\n",
            "vunpcklpd xmm12, xmm12, [{rb}]\n",
            // s = c₃·t; lo = c₀ + c₁·t; hi = c₂ + s; dΦ/dt = c₁ + t·(s + 2·hi) (xmm15);
            // Φ = lo + t²·hi (xmm14).
            "vmulpd xmm15, xmm15, xmm11\n",
            "vfmadd231pd xmm12, xmm11, xmm13\n",
            "vaddpd xmm14, xmm14, xmm15\n",
            "vfmadd231pd xmm15, xmm14, [{fr} + {o_two}]\n",
            "vfmadd213pd xmm15, xmm11, xmm13\n",
            "vmulpd xmm13, xmm11, xmm11\n",
            "vfmadd213pd xmm14, xmm13, xmm12\n",
            // G (xmm13).
            "vpermilpd xmm12, xmm14, 1\n",
            "vaddpd xmm12, xmm12, xmm14\n",
            "vmovapd xmm13, [{fr} + {o_vhat}]\n",
            "vfnmadd231pd xmm13, xmm12, [{fr} + {o_rg}]\n",
            // G′ to memory; the slope's change |G·(G′·r − 1)|/R_tot (xmm12).
            "vmulpd xmm12, xmm15, [{fr} + {o_rgih}]\n",
            "vpermilpd xmm11, xmm12, 1\n",
            "vaddpd xmm12, xmm12, xmm11\n",
            "vaddpd xmm12, xmm12, [{fr} + {o_one}]\n",
            "vmovapd [{fr} + {o_gp}], xmm12\n",
            "vmulpd xmm12, xmm12, [{fr} + {o_rinv}]\n",
            "vsubpd xmm12, xmm12, [{fr} + {o_one}]\n",
            "vmulpd xmm12, xmm12, xmm13\n",
            "vandpd xmm12, xmm12, [{fr} + {o_abs}]\n",
            "vmulpd xmm12, xmm12, [{fr} + {o_invr}]\n",
            // i = Φ + (dΦ/dt/h)·r·G (xmm15); Δ = r·G (xmm14); v = v̂ − Δ (xmm13);
            // q = Δ/h (xmm14, squared below); the next prediction v̂' = 2·v − v[k−1] (xmm11).
            "vmulpd xmm15, xmm15, [{fr} + {o_invh}]\n",
            "vmulpd xmm15, xmm15, [{fr} + {o_rinv}]\n",
            "vfmadd213pd xmm15, xmm13, xmm14\n",
            "vmulpd xmm14, xmm13, [{fr} + {o_rinv}]\n",
            "vmovapd xmm13, [{fr} + {o_vhat}]\n",
            "vsubpd xmm13, xmm13, xmm14\n",
            "vmulpd xmm14, xmm14, [{fr} + {o_invh}]\n",
            "vaddpd xmm11, xmm13, xmm13\n",
            "vsubpd xmm11, xmm11, [{fr} + {o_v1}]\n",
            // Left out: max(K·q² + the slope's change, tol·q²) within tol in both lanes (the
            // second term refuses q > 1; a NaN anywhere refuses too).
            "vmulpd xmm14, xmm14, xmm14\n",
            "vfmadd231pd xmm12, xmm14, [{fr} + {o_kq}]\n",
            "vmulpd xmm14, xmm14, [{fr} + {o_tol}]\n",
            "vmaxpd xmm12, xmm14, xmm12\n",
            "vcmpnlepd xmm12, xmm12, [{fr} + {o_tol}]\n",
            "vtestpd xmm12, xmm12\n",
            "jnz 7f\n",
            // Taken: the next position pb + γ/h·i − v̂'/h, the ground on, r' = 1/G′.
            "vmovapd xmm4, xmm5\n",
            "vfmadd231pd xmm4, xmm15, [{fr} + {o_ngh}]\n",
            "vfnmadd231pd xmm4, xmm11, [{fr} + {o_invh}]\n",
            "vmovapd [{fr} + {o_v1}], xmm13\n",
            "vmovapd [{fr} + {o_vhat}], xmm11\n",
            "vmovapd xmm13, xmm15\n",
            "vmovapd xmm12, [{fr} + {o_one}]\n",
            "vdivpd xmm12, xmm12, [{fr} + {o_gp}]\n",
            "vmovapd [{fr} + {o_rinv}], xmm12\n",
        )
    };
}

/// With the ground the element has formed the next position already.
macro_rules! ground_chain {
    () => {
        "/* the position is the element's */"
    };
}

macro_rules! kernel {
    ($fr:ident, $k:ident, $resume:ident, $n1:ident, $oa:ident, $ob:ident, $ra:ident, $rb:ident, $ca:ident, $cb:ident, $stop:ident,
     element: $elem:ident, chain: $chain:ident,
     v: $v0:literal, $v1:literal,
     ring: $r0:literal, $r1:literal,
     base: $b0:literal, $b1:literal, $b2:literal, $b3:literal, $b4:literal, $b5:literal, $b6:literal, $b7:literal,
     w: $h1:literal, $p1:literal, $e1:literal, $m0:literal, $m1:literal) => {
        asm!(
            // States into registers.
            "vmovapd ymm0, [{fr} + {o_ua}]",
            "vmovapd ymm1, [{fr} + {o_upa}]",
            "vmovapd ymm2, [{fr} + {o_ub}]",
            "vmovapd ymm3, [{fr} + {o_upb}]",
            "vmovapd xmm4, [{fr} + {o_p}]",
            "vmovapd xmm5, [{fr} + {o_pb}]",
            "vmovapd xmm6, [{fr} + {o_h}]",
            "vmovapd xmm7, [{fr} + {o_pre}]",
            "vmovapd xmm8, [{fr} + {o_e}]",
            "vmovapd xmm9, [{fr} + {o_src0}]",
            "vmovapd xmm10, [{fr} + {o_kf}]",
            "vmovapd xmm13, [{fr} + {o_iin}]",
            "test {resume}, {resume}",
            "jnz 3f",
            "2:",
            // The element: tp = p − kf (the predicted row's index, xmm10), a hit in both lanes
            // exactly when floor(p) = kf (NaN and infinities miss).
            "vsubpd xmm11, xmm4, xmm10",
            "vroundpd xmm14, xmm4, 9",
            "vcmpneqpd xmm14, xmm14, xmm10",
            "vtestpd xmm14, xmm14",
            "jnz 8f",
            "4:",
            // The element on the predicted rows.
            $elem!(),
            // The step with its current i (xmm13).
            "3:",
            "mov {s:e}, {k:e}",
            "and {s:e}, 3",
            "shl {s:e}, 4",
            // The next step's rows, predicted by extrapolating the positions of steps k−1, k−2 and
            // k−3 two steps on, p̂[k+1] = 6·p[k−1] − 8·p[k−2] + 3·p[k−3] (the newest last). No
            // quantity of this step or the last enters, so the lookup's own latency (a dozen
            // operations, from a current to the rows it selects) spans three steps and stays off
            // the loop's pace.
            "vmovapd xmm15, [{fr} + {s} + {o_pring}]",
            "vmulpd xmm15, xmm15, [{fr} + {o_three}]",
            "vmovapd xmm14, [{fr} + {s} + {o_pring} + 16]",
            "vfnmadd231pd xmm15, xmm14, [{fr} + {o_eight}]",
            "vmovapd xmm14, [{fr} + {s} + {o_pring} + 32]",
            "vfmadd231pd xmm15, xmm14, [{fr} + {o_six}]",
            "vmaxpd xmm15, xmm15, [{fr} + {o_zero}]",
            "vminpd xmm15, xmm15, [{fr} + {o_topm1}]",
            "vcvttpd2dq xmm15, xmm15",
            "vmovd {ra:e}, xmm15",
            "vpextrd {rb:e}, xmm15, 1",
            "vcvtdq2pd xmm10, xmm15",
            "shl {ra}, 5",
            "shl {rb}, 5",
            "add {ra}, {ca}",
            "add {rb}, {cb}",
            // The chain: the next step's position (into the ring).
            $chain!(),
            "vmovapd [{fr} + {s} + {o_pring}], xmm4",
            "vmovapd [{fr} + {s} + {o_pring} + 64], xmm4",
            // The load voltage v (xmm11).
            $v0,
            $v1,
            // q = Σ Re(c·z³·x) from the states before their update.
            "vmulpd ymm12, ymm1, [{fr} + {o_qpa}]",
            "vfmadd231pd ymm12, ymm0, [{fr} + {o_qua}]",
            "vmulpd ymm14, ymm3, [{fr} + {o_qpb}]",
            "vfmadd231pd ymm14, ymm2, [{fr} + {o_qub}]",
            "vhaddpd ymm12, ymm12, ymm14",
            "vextractf128 xmm14, ymm12, 1",
            "vaddpd xmm12, xmm12, xmm14",
            // e's part q + d₄·w[k−1] (xmm12); this step's w into the ring.
            "vmovapd xmm14, [{fr} + {s} + {o_ring} + 48]",
            "vfmadd231pd xmm12, xmm14, [{fr} + {o_fir2}]",
            $r0,
            $r1,
            // The look-ahead voltage (xmm15).
            "lea {j}, [{k} + 2]",
            "cmp {j}, {n1}",
            "cmova {j}, {n1}",
            "vmovsd xmm15, [{oa} + {j} * 8]",
            "vmovhpd xmm15, xmm15, [{ob} + {j} * 8]",
            // The step after next's base (xmm14).
            $b0,
            $b1,
            $b2,
            $b3,
            $b4,
            $b5,
            $b6,
            $b7,
            // The source's history: src0' = R_C·i + v_C' = src0 + 2·R_C·i.
            "vfmadd231pd xmm9, xmm13, [{fr} + {o_rc2}]",
            // pb = base·inv_h + p0; ip = i.
            "vmovapd xmm5, [{fr} + {o_p0}]",
            "vfmadd231pd xmm5, xmm14, [{fr} + {o_invh}]",
            "vmovapd [{fr} + {o_ip}], xmm13",
            // The loop currents out, when wanted (lane b first, as for the outputs).
            "mov {j}, [{fr} + {o_cur} + 8]",
            "test {j}, {j}",
            "jz 5f",
            "vmovhpd [{j} + {k} * 8], xmm13",
            "mov {j}, [{fr} + {o_cur}]",
            "vmovlpd [{j} + {k} * 8], xmm13",
            "5:",
            // The load's histories: h = g·w + pre, pre = κ·w + e, e = k2f1·w + (q + d₄·w[k−1]).
            "vmovapd xmm6, xmm7",
            $h1,
            "vmovapd xmm7, xmm8",
            $p1,
            "vmovapd xmm8, xmm12",
            $e1,
            // The modes: u' = a1·u − a2·u[k−1] + w.
            $m0,
            $m1,
            "vfnmadd231pd ymm13, ymm1, [{fr} + {o_a2a}]",
            "vfmadd231pd ymm13, ymm0, [{fr} + {o_a1a}]",
            "vmovapd ymm1, ymm0",
            "vmovapd ymm0, ymm13",
            "vfnmadd231pd ymm14, ymm3, [{fr} + {o_a2b}]",
            "vfmadd231pd ymm14, ymm2, [{fr} + {o_a1b}]",
            "vmovapd ymm3, ymm2",
            "vmovapd ymm2, ymm14",
            // The output (lane b first: a solo run's shadow writes the same buffer).
            "vmovhpd [{ob} + {k} * 8], xmm11",
            "vmovlpd [{oa} + {k} * 8], xmm11",
            "inc {k}",
            "cmp {k}, {n1}",
            "jbe 2b",
            "xor {stop:e}, {stop:e}",
            "jmp 9f",
            // A missed prediction: the rows at the position's own index, when both lanes are on
            // the grid (0 ≤ p < top: p and p − top differ in sign), as `table_miss` finds them;
            // otherwise back to the caller.
            "8:",
            "vsubpd xmm12, xmm4, [{fr} + {o_top}]",
            "vxorpd xmm12, xmm12, xmm4",
            "vtestpd xmm12, [{fr} + {o_sign}]",
            "jnc 7f",
            "vcvttpd2dq xmm12, xmm4",
            "vmovd {ra:e}, xmm12",
            "vpextrd {rb:e}, xmm12, 1",
            "vcvtdq2pd xmm12, xmm12",
            "vsubpd xmm11, xmm4, xmm12",
            "shl {ra}, 5",
            "shl {rb}, 5",
            "add {ra}, {ca}",
            "add {rb}, {cb}",
            "jmp 4b",
            "7:",
            "mov {stop:e}, 1",
            "9:",
            // States back.
            "vmovapd [{fr} + {o_ua}], ymm0",
            "vmovapd [{fr} + {o_upa}], ymm1",
            "vmovapd [{fr} + {o_ub}], ymm2",
            "vmovapd [{fr} + {o_upb}], ymm3",
            "vmovapd [{fr} + {o_p}], xmm4",
            "vmovapd [{fr} + {o_pb}], xmm5",
            "vmovapd [{fr} + {o_h}], xmm6",
            "vmovapd [{fr} + {o_pre}], xmm7",
            "vmovapd [{fr} + {o_e}], xmm8",
            "vmovapd [{fr} + {o_src0}], xmm9",
            "vmovapd [{fr} + {o_kf}], xmm10",
            fr = in(reg) $fr,
            k = inout(reg) $k,
            resume = in(reg) $resume,
            n1 = in(reg) $n1,
            oa = in(reg) $oa,
            ob = in(reg) $ob,
            ra = inout(reg) $ra,
            rb = inout(reg) $rb,
            ca = in(reg) $ca,
            cb = in(reg) $cb,
            stop = out(reg) $stop,
            s = out(reg) _,
            j = out(reg) _,
            o_ua = const offset_of!(Frame, m_a.u),
            o_upa = const offset_of!(Frame, m_a.up),
            o_ub = const offset_of!(Frame, m_b.u),
            o_upb = const offset_of!(Frame, m_b.up),
            o_a1a = const offset_of!(Frame, m_a.a1),
            o_a2a = const offset_of!(Frame, m_a.a2),
            o_a1b = const offset_of!(Frame, m_b.a1),
            o_a2b = const offset_of!(Frame, m_b.a2),
            o_qua = const offset_of!(Frame, m_a.qu),
            o_qpa = const offset_of!(Frame, m_a.qp),
            o_qub = const offset_of!(Frame, m_b.qu),
            o_qpb = const offset_of!(Frame, m_b.qp),
            o_ngh = const offset_of!(Frame, n_gamma_h),
            o_zd = const offset_of!(Frame, zd),
            o_g = const offset_of!(Frame, g),
            o_kappa = const offset_of!(Frame, kappa),
            o_k2f1 = const offset_of!(Frame, k2f1),
            o_fir2 = const offset_of!(Frame, fir2),
            o_wv = const offset_of!(Frame, wv),
            o_nwi = const offset_of!(Frame, n_wi),
            o_nzg = const offset_of!(Frame, n_zd_g_zd),
            o_rc2 = const offset_of!(Frame, rc2),
            o_invh = const offset_of!(Frame, inv_h),
            o_p0 = const offset_of!(Frame, p0),
            o_three = const offset_of!(Frame, three),
            o_six = const offset_of!(Frame, six),
            o_eight = const offset_of!(Frame, eight),
            o_zero = const offset_of!(Frame, zero),
            o_topm1 = const offset_of!(Frame, top_m1),
            o_top = const offset_of!(Frame, top),
            o_sign = const offset_of!(Frame, sign),
            o_p = const offset_of!(Frame, p),
            o_pb = const offset_of!(Frame, pb),
            o_h = const offset_of!(Frame, h),
            o_pre = const offset_of!(Frame, pre),
            o_e = const offset_of!(Frame, e),
            o_src0 = const offset_of!(Frame, src0),
            o_ip = const offset_of!(Frame, ip),
            o_iin = const offset_of!(Frame, i_in),
            o_cur = const offset_of!(Frame, cur),
            o_kf = const offset_of!(Frame, kf),
            o_ring = const offset_of!(Frame, ring),
            o_pring = const offset_of!(Frame, p_ring),
            o_abs = const offset_of!(Frame, abs),
            o_four = const offset_of!(Frame, four),
            o_two = const offset_of!(Frame, two),
            o_one = const offset_of!(Frame, one),
            o_kq = const offset_of!(Frame, kq),
            o_vhat = const offset_of!(Frame, vhat),
            o_v1 = const offset_of!(Frame, v1),
            o_rg = const offset_of!(Frame, rg),
            o_rgih = const offset_of!(Frame, rg_ih),
            o_gp = const offset_of!(Frame, gp),
            o_rinv = const offset_of!(Frame, r_inv),
            o_invr = const offset_of!(Frame, inv_r),
            o_tol = const offset_of!(Frame, tol),
            out("ymm0") _, out("ymm1") _, out("ymm2") _, out("ymm3") _,
            out("ymm4") _, out("ymm5") _, out("ymm6") _, out("ymm7") _,
            out("ymm8") _, out("ymm9") _, out("ymm10") _, out("ymm11") _,
            out("ymm12") _, out("ymm13") _, out("ymm14") _, out("ymm15") _,
            options(nostack),
        )
    };
}

/// Runs steps `k..=n1` of the two lanes held in `fr`, reading the rail-clipped voltages of
/// lane a at `oa` and lane b at `ob` two steps ahead and writing the load voltages in place;
/// `ra`/`rb` are the predicted rows of step `k` in the tables at `ca`/`cb`. With `resume`,
/// step `k`'s current is `fr.i_in` (found after a [`Stop::Miss`]). Each step's loop current goes
/// to `fr.cur` when set. `Y`: admittance form. `G`: both loops return through the shared ground
/// held in the frame ([`ground_element`]); a [`Stop::Miss`] then asks for step `k`'s exact coupled
/// solve (its position off the grid, or its Newton step refused), with which the caller resumes.
///
/// # Safety
/// The CPU must have AVX2 and FMA; `oa` and `ob` valid for `n1 + 1` values (they may be equal:
/// lane b is then a shadow and lane a's outputs are the ones kept); `ra`, `rb` rows of their
/// tables and the tables `ca`, `cb` at least as long as `fr.top_m1 + 1` rows; `fr.cur` both null
/// or both valid for `n1 + 1` values.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn run<const Y: bool, const G: bool>(
    fr: &mut Frame,
    k: &mut usize,
    resume: bool,
    n1: usize,
    oa: *mut f64,
    ob: *mut f64,
    ra: &mut *const f64,
    rb: &mut *const f64,
    ca: *const f64,
    cb: *const f64,
) -> Stop {
    // SAFETY: this function runs only on a CPU with AVX2 and FMA (its contract); the assembly reads
    // and writes the frame and the buffers within the bounds its caller gives (`n1` is the last
    // index of both outputs, the rows lie in the tables `ca` and `cb`).
    unsafe {
        let fr: *mut Frame = fr;
        let mut kk = *k;
        let (mut pa, mut pb) = (*ra, *rb);
        let resume = resume as usize;
        let stop: usize;
        // The kernel with the element for separate returns or through the ground.
        macro_rules! grounded_or_not {
            ($($rest:tt)*) => {
                if G {
                    kernel!(fr, kk, resume, n1, oa, ob, pa, pb, ca, cb, stop,
                        element: ground_element, chain: ground_chain, $($rest)*)
                } else {
                    kernel!(fr, kk, resume, n1, oa, ob, pa, pb, ca, cb, stop,
                        element: plain_element, chain: plain_chain, $($rest)*)
                }
            };
        }
        if Y {
            grounded_or_not!(
                // v = zd·(i − h); w = v (xmm11).
                v: "vsubpd xmm11, xmm13, xmm6", "vmulpd xmm11, xmm11, [{fr} + {o_zd}]",
                ring: "vmovapd [{fr} + {s} + {o_ring}], xmm11", "vmovapd [{fr} + {s} + {o_ring} + 64], xmm11",
                // base = zd·e + (w·wv + (i·n_wi + (−zd·g_zd·pre + (ve2 − src0)))): the latest
                // operands (e, through the modes, and w) enter last.
                base: "vsubpd xmm15, xmm15, xmm9",
                      "vmovapd xmm14, xmm7",
                      "vfmadd132pd xmm14, xmm15, [{fr} + {o_nzg}]",
                      "vfmadd231pd xmm14, xmm13, [{fr} + {o_nwi}]",
                      "vfmadd231pd xmm14, xmm11, [{fr} + {o_wv}]",
                      "vfmadd231pd xmm14, xmm8, [{fr} + {o_zd}]",
                      "/* */", "/* */",
                w: "vfmadd231pd xmm6, xmm11, [{fr} + {o_g}]",
                   "vfmadd231pd xmm7, xmm11, [{fr} + {o_kappa}]",
                   "vfmadd231pd xmm8, xmm11, [{fr} + {o_k2f1}]",
                   "vbroadcastsd ymm13, xmm11",
                   "vpermpd ymm14, ymm11, 0x55");
        } else {
            grounded_or_not!(
                // v = zd·i + h (xmm11); w = i.
                v: "vmovapd xmm11, xmm6", "vfmadd231pd xmm11, xmm13, [{fr} + {o_zd}]",
                ring: "vmovapd [{fr} + {s} + {o_ring}], xmm13", "vmovapd [{fr} + {s} + {o_ring} + 64], xmm13",
                // base = i·n_wi + (ve2 − (src0 + e)).
                // base = (i·n_wi + (ve2 − src0)) − e: e (through the modes) last.
                base: "vsubpd xmm14, xmm15, xmm9",
                      "vfmadd231pd xmm14, xmm13, [{fr} + {o_nwi}]",
                      "vsubpd xmm14, xmm14, xmm8",
                      "/* unused here: {o_wv} {o_nzg} */", "/* */", "/* */", "/* */", "/* */",
                w: "vfmadd231pd xmm6, xmm13, [{fr} + {o_g}]",
                   "vfmadd231pd xmm7, xmm13, [{fr} + {o_kappa}]",
                   "vfmadd231pd xmm8, xmm13, [{fr} + {o_k2f1}]",
                   "vpermpd ymm14, ymm13, 0x55",
                   "vbroadcastsd ymm13, xmm13");
        }
        *k = kk;
        (*ra, *rb) = (pa, pb);
        if stop == 0 {
            Stop::Done
        } else {
            Stop::Miss
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Companion;

    /// The companion form evolves exactly as the complex modes do: for poles across the unit
    /// disc (low-frequency resonances near z = 1, real poles, a pole pair barely off the real
    /// axis, unused zero lanes), the readout `Re(c·x)` of both forms agrees step by step under a
    /// random input, and the states convert back.
    #[test]
    fn companion_form_matches_the_complex_modes() {
        let cases: [([f64; 4], [f64; 4]); 3] = [
            ([0.99995, 0.9, 0.5, 0.0], [0.0016, 0.3, 0.0, 0.0]),
            ([0.9996, -0.7, 0.2, 0.999_999], [0.0016, 0.6, -0.5, 0.0]),
            ([0.0, 0.3, 0.999_99, 0.7], [0.0, 0.0, 0.003, 0.7]),
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        for (zr, zi) in cases {
            let (mut xr, mut xi) = ([0.0; 4], [0.0; 4]);
            let (cr, nci): ([f64; 4], [f64; 4]) = ([1.0, -0.3, 2.0, 0.5], [0.4, 0.2, -1.0, 0.1]);
            // Warm the complex modes up with input so the states are typical.
            for _ in 0..500 {
                let w = rnd();
                for m in 0..4 {
                    (xr[m], xi[m]) = (
                        zr[m] * xr[m] - zi[m] * xi[m] + w,
                        zr[m] * xi[m] + zi[m] * xr[m],
                    );
                }
            }
            let mut c = Companion::new(zr, zi, xr, xi, cr, nci);
            let mut worst = 0.0f64;
            for _ in 0..20_000 {
                let w = rnd();
                for m in 0..4 {
                    let want = cr[m] * xr[m] + nci[m] * xi[m];
                    let got = c.qu[m] * c.u[m] + c.qp[m] * c.up[m];
                    let scale = 1.0 + (xr[m].abs() + xi[m].abs()) * (cr[m].abs() + nci[m].abs());
                    worst = worst.max((want - got).abs() / scale);
                    (xr[m], xi[m]) = (
                        zr[m] * xr[m] - zi[m] * xi[m] + w,
                        zr[m] * xi[m] + zi[m] * xr[m],
                    );
                    // As the kernel does: u' = a1·u + (w − a2·u[k−1]).
                    (c.u[m], c.up[m]) = (
                        c.a1[m].mul_add(c.u[m], (-c.a2[m]).mul_add(c.up[m], w)),
                        c.u[m],
                    );
                }
            }
            assert!(
                worst < 1e-9,
                "poles {zr:?} {zi:?}: readouts differ by {worst:e}"
            );
            let (br, bi) = Companion::states(zr, zi, c.u, c.up);
            for m in 0..4 {
                let scale = 1.0 + xr[m].abs() + xi[m].abs();
                assert!(
                    (br[m] - xr[m]).abs() / scale < 1e-9 && (bi[m] - xi[m]).abs() / scale < 1e-9,
                    "lane {m}: states {:?} vs {:?}",
                    (br[m], bi[m]),
                    (xr[m], xi[m])
                );
            }
        }
    }
}
