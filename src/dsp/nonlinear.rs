//! The amplifier's output-stage nonlinearities: rail clipping, current limiting, current-modulated
//! output resistance and crossover distortion.
//!
//! Every function here is a *static* element law; the circuit (and so the load's frequency
//! dependence) enters through the loop resistance and drive the engine hands the solver
//! (see `engine/` and docs/MODEL.md, "The nonlinear stage").

use super::table::{hermite_coef, hermite_eval};

/// Ceiling of the soft knee relative to the onset level. Calibrated (numerically, 65 536-point FFT,
/// harmonics 2–2000) so that a sine whose linear peak equals the onset level has exactly 1 % THD:
/// onset is where the physics puts it, and 6 dB below onset THD is 0.004 % (−87 dB).
pub const KNEE_CEILING: f64 = 1.189_430_794_054;

/// The soft knee `S(x) = x / (1 + (x/c)^8)^(1/8)`, with unit slope at the origin and ceiling
/// `c` = [`KNEE_CEILING`]. The order 8 is written into the arithmetic (`q2·q2`, three square
/// roots); an even order keeps `S` analytic on the real axis, so harmonics decay exponentially and
/// 4× oversampling keeps aliases below −100 dBc even 6 dB into limiting (docs/MODEL.md,
/// "Anti-aliasing").
/// Returns `(S(x), S'(x))`.
#[inline]
pub fn knee(x: f64) -> (f64, f64) {
    let q = x * (1.0 / KNEE_CEILING);
    let q2 = q * q;
    let q4 = q2 * q2;
    let q8 = q4 * q4; // (x/c)^8
    if q8 < 1e-4 {
        // Far below the knee (|x| < 0.32·c): second-order binomial series of (1+q8)^(-1/8) and
        // (1+q8)^(-9/8); the neglected terms are below 1e-12 relative. Saves three square roots on
        // almost every sample.
        let r_inv = series_r_inv(q8);
        let ds = 1.0 - q8 * (9.0 / 8.0) + q8 * q8 * (153.0 / 128.0);
        return (x * r_inv, ds);
    }
    let d = 1.0 + q8; // 1 + (x/c)^8
    let r = d.sqrt().sqrt().sqrt(); // (1 + (x/c)^8)^(1/8)
    let s = x / r;
    // S'(x) = (1 + (x/c)^8)^(-9/8) = 1/(r·d).
    (s, 1.0 / (r * d))
}

/// `(1 + q8)^(−1/8)` by its binomial series (see [`knee`]).
#[inline(always)]
fn series_r_inv(q8: f64) -> f64 {
    KNEE_SERIES[0] + q8 * KNEE_SERIES[1] + q8 * q8 * KNEE_SERIES[2]
}

/// Binomial coefficients of `(1 + w)^(−1/8)`, `C(−1/8, n)` for n = 0…2 (for [`knee`]).
const KNEE_SERIES: [f64; 3] = [1.0, -0.125, 0.0703125];

/// The rails' scale for one block: the onset voltage and the factors the knee's series and table
/// take (volts, per volt). Built per block on the audio thread from the engine's settled values.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RailScale {
    /// `v_peak`, volts: the amplifier's peak voltage at clipping onset (`√2·V_max`).
    pub v_peak: f64,
    /// `1/v_peak`, per volt.
    pub inv: f64,
    /// `1/(c·v_peak)` in `f32` (c = [`KNEE_CEILING`]): volts to `q = x/c` for the series.
    pub k32: f32,
}

impl RailScale {
    pub(crate) fn new(v_peak: f64, inv_v_peak: f64) -> Self {
        Self { v_peak, inv: inv_v_peak, k32: (inv_v_peak * (1.0 / KNEE_CEILING)) as f32 }
    }
}

/// Coefficients of `δ(w) ≈ (1 + w)^(−1/8) − 1 = w·Σ b_n·w^n`, n = 0…4, over
/// `0 ≤ w ≤` [`KNEE_SERIES_W_END`]: least squares on 2000 Chebyshev nodes of the interval (close
/// to the minimax polynomial; Trefethen, *Approximation Theory and Approximation Practice*, 2013,
/// ch. 16), each coefficient rounded to `f32` in turn and the higher ones refitted. Largest error
/// 2.0e-9 (of `v`) in exact arithmetic, checked on 200 001 points of the interval. The binomial
/// series `C(−1/8, n+1)` would need about twelve terms at the end of the range (its ratio there
/// is 0.25).
pub(crate) const KNEE_DELTA: [f32; 5] = [-0.124_999_635, 0.070_291_57, -0.049_407_095, 0.035_512_757, -0.018_001_52];

/// `w = (x/c)⁸` below which the rails take the series: `(1/c)⁸` rounded to `f32`, i.e. every
/// sample below the onset level (`|x| < 1`), so a signal that does not clip never needs the table.
pub(crate) const KNEE_SERIES_W_END: f32 = 0.249_624_13;

/// Floor on `q²` in the series, `2⁻¹⁶`: keeps `q⁴` and `w` clear of `f32` subnormals for quiet
/// signals (slow on some cores). Below it `|δ| < 2⁻⁶⁷`, which `v + v·δ` rounds away, so the floor
/// changes no result.
pub(crate) const KNEE_Q2_FLOOR: f32 = 1.0 / 65536.0;

/// `w = (v/(c·v_peak))⁸` in `f32` for the series test and the series itself. NaN input gives the
/// floor (the series then passes the NaN through, as the table path would).
#[inline(always)]
pub(crate) fn knee_w(v: f64, k32: f32) -> f32 {
    let q = v as f32 * k32;
    let q2 = q * q;
    // `max` written as `maxps` computes it (second operand on NaN), so scalar and vector agree.
    let q2 = if q2 > KNEE_Q2_FLOOR { q2 } else { KNEE_Q2_FLOOR };
    let q4 = q2 * q2;
    q4 * q4
}

/// `v·(1 + w)^(−1/8)` for `w <` [`KNEE_SERIES_W_END`]: the rails below onset, volts. The
/// relative correction `δ(w)` (at most 0.0275) is summed in `f32`, by Horner in [`KNEE_DELTA`],
/// and applied in `f64` as `v + v·δ`: the `f32` rounding of `w` (about 1e-6 of it) moves the result
/// by about 2e-8 of `v` at most (1.8e-8 measured, −155 dB: the order of the oversampler's own
/// `f32` arithmetic), and eight lanes fit a register instead of four. The vector rails (`rails_avx2`) do the same
/// operations, so block and per-sample rails agree bit for bit.
#[inline(always)]
pub(crate) fn knee_series<F: crate::dsp::simd::Fma>(v: f64, w: f32) -> f64 {
    let b = &KNEE_DELTA;
    let p = F::fma32(F::fma32(F::fma32(F::fma32(b[4], w, b[3]), w, b[2]), w, b[1]), w, b[0]);
    let d = w * p;
    F::fma(v, d as f64, v)
}

/// Inverse of [`knee`] for |y| < [`KNEE_CEILING`]: `S⁻¹(y) = y / (1 − (y/c)^8)^(1/8)`.
pub fn knee_inverse(y: f64) -> f64 {
    let q = y / KNEE_CEILING;
    let q8 = q.powi(8);
    y / (1.0 - q8).max(1e-300).powf(0.125)
}

/// Intervals of [`KneeTable`] over `0 ≤ x < KNEE_TABLE_END`.
pub(crate) const KNEE_TABLE_LEN: usize = 4096;
pub(crate) const KNEE_TABLE_END: f64 = 8.0;

/// The knee `S(x)` tabulated for the per-sample rail clip: cubic Hermite on a uniform grid from
/// exact values and slopes (de Boor, *A Practical Guide to Splines*, ch. IV), spacing 1/512, so
/// the interpolation error is below 1e-10 of the ceiling — three square roots and a division
/// become one lookup. Built once per process (allocates) by [`knee_table`].
#[derive(Debug)]
pub struct KneeTable {
    pub(crate) coef: Vec<[f64; 4]>,
}

/// The process-wide [`KneeTable`] (built on first use: call it off the audio thread).
pub fn knee_table() -> &'static KneeTable {
    static TABLE: std::sync::OnceLock<KneeTable> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let h = KNEE_TABLE_END / KNEE_TABLE_LEN as f64;
        let coef = (0..KNEE_TABLE_LEN)
            .map(|k| {
                let (p0, d0) = knee(k as f64 * h);
                let (p1, d1) = knee((k + 1) as f64 * h);
                let (m0, m1) = (d0 * h, d1 * h);
                hermite_coef(p0, m0, p1, m1)
            })
            .collect();
        KneeTable { coef }
    })
}

impl KneeTable {
    /// The rails for one amplifier voltage `v` (volts in, volts out): `v_peak·S(v/v_peak)`, from
    /// [`knee_series`] below onset and from the table above (exact beyond the table).
    #[inline(always)]
    pub(crate) fn rail<F: crate::dsp::simd::Fma>(&self, v: f64, s: &RailScale) -> f64 {
        let w = knee_w(v, s.k32);
        if w < KNEE_SERIES_W_END {
            return knee_series::<F>(v, w);
        }
        s.v_peak * self.table::<F>(v * s.inv)
    }

    /// `S(x)` from the table (exact beyond it, and for NaN); any `x`, though the rails use it
    /// only above the series range.
    #[inline(always)]
    pub(crate) fn table<F: crate::dsp::simd::Fma>(&self, x: f64) -> f64 {
        let p = x.abs() * (KNEE_TABLE_LEN as f64 / KNEE_TABLE_END);
        // Written so that NaN also takes the exact path.
        #[allow(clippy::neg_cmp_op_on_partial_ord)]
        if !(p < KNEE_TABLE_LEN as f64) {
            return knee(x).0;
        }
        let k = p as i32;
        let t = p - k as f64;
        hermite_eval::<F>(&self.coef[k as usize], t).copysign(x)
    }

    /// The rails on a buffer of amplifier voltages in place: `v ← v_peak·S(v/v_peak)`, with
    /// `inv_v_peak = 1/v_peak` (volts, per volt). Taken in runs of [`CLIP_RUN`] samples: with
    /// AVX2, a run wholly within the series range (the usual case, and most of a loud signal's
    /// runs even when its peaks reach the knee) is one pass of the series eight samples to a
    /// register; any other run goes four at a time with the table. Each sample's result is
    /// [`Self::rail`]'s, bit for bit, whichever way it is computed.
    #[inline(always)]
    pub fn clip_block<F: crate::dsp::simd::Fma>(
        &self,
        buf: &mut [f64],
        v_peak: f64,
        inv_v_peak: f64,
    ) {
        let s = RailScale::new(v_peak, inv_v_peak);
        #[cfg(target_arch = "x86_64")]
        if F::HW && RAILS_AVX2.load(std::sync::atomic::Ordering::Relaxed) {
            // SAFETY: `F::HW` holds only in code compiled for, and run on, AVX2 and FMA.
            unsafe { super::rails_avx2::clip_block(self, buf, &s) };
            return;
        }
        for v in buf.iter_mut() {
            *v = self.rail::<F>(*v, &s);
        }
    }

    /// [`Self::clip_block`] from `f32` samples (the oversampler's output) into `f64`:
    /// `dst[i] ← v_peak·S(src[i]/v_peak)`, the same bits as widening `src` and clipping in place.
    /// With AVX2 a run's results are stored as they are computed (the input is not overwritten),
    /// and only a run that reaches the knee is done again through the table.
    #[inline(always)]
    pub fn clip_widen<F: crate::dsp::simd::Fma>(&self, src: &[f32], dst: &mut [f64], v_peak: f64, inv_v_peak: f64) {
        let s = RailScale::new(v_peak, inv_v_peak);
        let dst = &mut dst[..src.len()];
        #[cfg(target_arch = "x86_64")]
        if F::HW && RAILS_AVX2.load(std::sync::atomic::Ordering::Relaxed) {
            // SAFETY: `F::HW` holds only in code compiled for, and run on, AVX2 and FMA.
            unsafe { super::rails_avx2::clip_widen(self, src, dst, &s) };
            return;
        }
        for (d, &v) in dst.iter_mut().zip(src) {
            *d = self.rail::<F>(v as f64, &s);
        }
    }
}

/// Whether the rails run their AVX2 form (measurement switch, see `dsp::set_fast_paths`).
pub(crate) static RAILS_AVX2: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Samples per run of [`KneeTable::clip_block`]'s test for the series range: short enough that
/// the runs around a loud signal's peaks, not whole blocks, take the slower path (32 samples is
/// 42 µs at the default internal rate of 48 kHz material), long enough that the test is a small
/// part of the work.
pub(crate) const CLIP_RUN: usize = 32;

/// The algebraic sigmoid `z/√(1+z²)` and its derivative; the crossover dead band's shape.
#[inline]
fn sigmoid(z: f64) -> (f64, f64) {
    let d = 1.0 + z * z;
    let r = 1.0 / d.sqrt();
    (z * r, r / d)
}

/// The nonlinear series element between the amplifier's ideal (rail-clipped) voltage and its output
/// terminal. For an output current `i` (amperes, into the source network and load) it drops
///
/// `Δv(i) = V_k·(S⁻¹(y) − y) + r_mod·i·y² + V_x·σ(i/i_x)`, with `y = i/I_max`,
///
/// - `V_k·(S⁻¹(y) − y)`: the current limiter. Zero slope at `i = 0`, it rises without bound as
///   `|i|` approaches `KNEE_CEILING·I_max`, so the current saturates with the same knee as the rails.
///   `V_k = I_max·R_ref` with `R_ref` the series resistance plus the load's minimum |Z|, which makes
///   the knee's shape in *current* independent of the load: a resistive load sees exactly
///   `i = I_max·S(i_demand/I_max)`.
/// - `r_mod·i·y²`: the output resistance rising with current (TI, "Amp up your cans", part 4:
///   `R_OUT = R_O + ΔR(V_O, I_O)`), so distortion rises as the load impedance falls.
/// - `V_x·σ(i/i_x)`: crossover distortion. Near zero current a class-B follower conducts poorly and
///   needs an extra drive voltage; feedback shrinks it to millivolts; bias (class AB → A) removes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutputElement {
    /// Peak current at limiting onset, amperes (`f64::INFINITY`: no limit).
    pub i_max_a: f64,
    /// Limiter knee voltage `V_k = I_max·R_ref`, volts.
    pub v_knee_v: f64,
    /// Increase of output resistance at `I_max`, ohms.
    pub r_mod_ohm: f64,
    /// Crossover dead-band voltage, volts (0: none).
    pub v_xo_v: f64,
    /// Current scale of the crossover region, amperes.
    pub i_xo_a: f64,
}

impl OutputElement {
    /// An element that drops no voltage at all (ideal amplifier).
    pub const IDEAL: Self = Self {
        i_max_a: f64::INFINITY,
        v_knee_v: 0.0,
        r_mod_ohm: 0.0,
        v_xo_v: 0.0,
        i_xo_a: 1e-3,
    };

    /// True when the element is a plain wire, so the solve is a division.
    #[inline]
    pub fn is_linear(&self) -> bool {
        !self.i_max_a.is_finite() && self.v_xo_v == 0.0
    }

    /// Voltage drop `Δv(i)` in volts (used by tests and the SPICE netlist writer).
    pub fn drop_v(&self, i_a: f64) -> f64 {
        let mut v = self.v_xo_v * sigmoid(i_a / self.i_xo_a).0;
        if self.i_max_a.is_finite() {
            let y = i_a / self.i_max_a;
            v += self.v_knee_v * (knee_inverse(y) - y) + self.r_mod_ohm * i_a * y * y;
        }
        v
    }

    /// Solves `R_p·i + Δv(i) = u` for the current `i` (amperes), where the network seen by the
    /// element is a Thévenin source of resistance `r_p_ohm`, and `u` is the amplifier voltage minus
    /// the network's Thévenin voltage.
    ///
    /// With a current limit the unknown is `w = S⁻¹(i/I_max)`, for which the residual
    /// `g(w) = R_p·I·S(w) + V_k·(w − S(w)) + r_mod·I·S(w)³ + V_x·σ(I·S(w)/i_x) − u` is smooth and
    /// strictly increasing with slope at least `min(R_p·I, V_k)`: Newton's method, safeguarded by
    /// bisection on a bracket that this bound gives, always converges (Press et al., *Numerical
    /// Recipes*, 3rd ed., §9.4, `rtsafe`). `w_prev` is the last sample's solution (warm start) and is
    /// updated. Never allocates.
    #[inline]
    pub fn solve(&self, u: f64, r_p_ohm: f64, w_prev: &mut f64) -> f64 {
        let mut n = 0;
        self.solve_count(u, r_p_ohm, w_prev, &mut n)
    }

    /// [`Self::solve`], also returning the slope `di/du` of the solution (amperes per volt), which
    /// the tabulated solver (`table.rs`) stores for cubic Hermite interpolation.
    pub fn solve_slope(&self, u: f64, r_p_ohm: f64, w_prev: &mut f64) -> (f64, f64) {
        let i = self.solve(u, r_p_ohm, w_prev);
        match self.law(r_p_ohm) {
            None => (i, 1.0 / r_p_ohm),
            Some(law) => {
                // di/du = (di/dw)/(dg/dw) with i = I·S(w).
                let (ds, _, dg) = law.eval(*w_prev);
                (i, law.i_scale * ds / dg)
            }
        }
    }

    /// The residual's constants for a port resistance `r_p_ohm`; `None` when the element is a
    /// plain wire (the solve is a division).
    #[inline]
    fn law(&self, r_p_ohm: f64) -> Option<Law> {
        let limited = self.i_max_a.is_finite();
        if !limited && self.v_xo_v == 0.0 {
            return None;
        }
        let i_scale = if limited { self.i_max_a } else { 1.0 };
        Some(Law {
            limited,
            i_scale,
            v_k: if limited { self.v_knee_v } else { 0.0 },
            r_mod: if limited { self.r_mod_ohm } else { 0.0 },
            a: r_p_ohm * i_scale,
            v_x: self.v_xo_v,
            xo_k: i_scale / self.i_xo_a,
        })
    }

    /// [`Self::solve`], also counting Newton/bisection iterations into `iters`.
    #[inline]
    pub fn solve_count(&self, u: f64, r_p_ohm: f64, w_prev: &mut f64, iters: &mut u32) -> f64 {
        let Some(law) = self.law(r_p_ohm) else { return u / r_p_ohm };
        let Law { limited, i_scale, v_k, a, .. } = law;
        // Lower bound of the residual's slope (see above).
        let m = if limited { a.min(v_k) } else { a };
        let bound = u / m;
        let (mut lo, mut hi) = if u >= 0.0 { (0.0, bound) } else { (bound, 0.0) };
        if limited {
            // |S(w)| < c always, so |i| < c·I: a second, often tighter, bound via the linear part.
            let wmax = (u.abs() - (a - v_k).min(0.0) * KNEE_CEILING) / v_k.max(1e-300);
            if u >= 0.0 {
                hi = hi.min(wmax.max(0.0));
            } else {
                lo = lo.max(-wmax.max(0.0));
            }
        }
        let mut w = w_prev.clamp(lo, hi);
        for _ in 0..60 {
            *iters += 1;
            let (_, g_u, dg) = law.eval(w);
            let g = g_u - u;
            let step = g / dg;
            if step.abs() <= 1e-11 * (1.0 + w.abs()) {
                w -= step;
                break;
            }
            if g > 0.0 {
                hi = w;
            } else {
                lo = w;
            }
            let mut wn = w - step;
            if !(wn > lo && wn < hi) {
                wn = 0.5 * (lo + hi);
                if hi - lo <= 1e-13 * (1.0 + hi.abs().max(lo.abs())) {
                    w = wn;
                    break;
                }
            }
            w = wn;
        }
        *w_prev = w;
        if limited {
            i_scale * knee(w).0
        } else {
            w
        }
    }
}

/// The element's residual `g(w) + u` in the solver's unknown `w = S⁻¹(i/I_max)` (see
/// [`OutputElement::solve`]), with the constants of one port resistance.
#[derive(Debug, Clone, Copy)]
struct Law {
    limited: bool,
    i_scale: f64,
    v_k: f64,
    r_mod: f64,
    a: f64,
    v_x: f64,
    xo_k: f64,
}

impl Law {
    /// `(S'(w), g(w) + u, g'(w))` with
    /// `g(w) + u = a·S + V_k·(w − S) + r_mod·I·S³ + V_x·σ(I·S/i_x)`.
    #[inline]
    fn eval(&self, w: f64) -> (f64, f64, f64) {
        let Law { limited, i_scale, v_k, r_mod, a, v_x, xo_k } = *self;
        let (s, ds) = if limited { knee(w) } else { (w, 1.0) };
        let (sg, dsg) = if v_x > 0.0 { sigmoid(xo_k * s) } else { (0.0, 0.0) };
        let g_u = a * s + v_k * (w - s) + r_mod * i_scale * s * s * s + v_x * sg;
        let dg = ds * (a + 3.0 * r_mod * i_scale * s * s + v_x * dsg * xo_k) + v_k * (1.0 - ds);
        (ds, g_u, dg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knee_is_unity_slope_and_bounded() {
        assert_eq!(knee(0.0), (0.0, 1.0));
        assert!((knee(0.3).0 - 0.3).abs() < 1e-6);
        assert!(knee(1e6).0 <= KNEE_CEILING && knee(1e6).0 > KNEE_CEILING * 0.999999);
        for &y in &[-1.1, -0.5, 0.0, 0.2, 0.9, 1.18] {
            assert!((knee(knee_inverse(y)).0 - y).abs() < 1e-12);
        }
        // Derivative against a central difference.
        for &x in &[-2.0, -0.9, 0.4, 1.0, 1.5] {
            let h = 1e-6;
            let fd = (knee(x + h).0 - knee(x - h).0) / (2.0 * h);
            assert!((fd - knee(x).1).abs() < 1e-8, "{x}");
        }
    }

    /// The rails against the exact knee: the table within 1e-10 of the ceiling above onset, the
    /// series within 4e-8 of `x` below it (its `f32` correction), on both builds and at a
    /// non-unit onset voltage.
    #[test]
    fn rails_match_the_knee() {
        use crate::dsp::simd::{Fma, HwFma, SoftFma};
        fn worst<F: Fma>(v_peak: f64) -> (f64, f64) {
            let (t, s) = (knee_table(), RailScale::new(v_peak, 1.0 / v_peak));
            let (mut table, mut series) = (0.0f64, 0.0f64);
            for k in -200_000..200_000 {
                let x = k as f64 * 5e-5 + 1.234e-7;
                let e = (t.rail::<F>(x * v_peak, &s) / v_peak - knee(x).0).abs();
                if x.abs() < 0.999 {
                    series = series.max(e / x.abs());
                } else if x.abs() > 1.001 {
                    table = table.max(e);
                }
            }
            (table, series)
        }
        for v_peak in [1.0, 2.9] {
            let (table, series) = worst::<SoftFma>(v_peak);
            assert!(table < 1e-10 && series < 4e-8, "{v_peak}: table {table:e}, series {series:e}");
            if crate::dsp::simd::has_avx2_fma() {
                // SAFETY: the CPU has AVX2 and FMA.
                let (table, series) = unsafe { hw(v_peak) };
                assert!(table < 1e-10 && series < 4e-8, "{v_peak}: table {table:e}, series {series:e}");
            }
        }
        #[target_feature(enable = "avx2,fma")]
        unsafe fn hw(v_peak: f64) -> (f64, f64) {
            worst::<HwFma>(v_peak)
        }
    }

    #[test]
    fn solver_satisfies_the_element_law() {
        let e = OutputElement { i_max_a: 0.1, v_knee_v: 0.1 * 40.0, r_mod_ohm: 0.5, v_xo_v: 0.01, i_xo_a: 1e-3 };
        let mut w = 0.0;
        for &rp in &[0.3, 32.0, 600.0] {
            for k in -200..=200 {
                let u = k as f64 * 0.1;
                let i = e.solve(u, rp, &mut w);
                let resid = rp * i + e.drop_v(i) - u;
                assert!(resid.abs() < 1e-9 * (1.0 + u.abs()), "rp {rp} u {u} resid {resid}");
                assert!(i.abs() < KNEE_CEILING * 0.1);
            }
        }
    }

    #[test]
    fn resistive_load_sees_the_knee_in_current() {
        // With R_p = R_ref the law reduces to i = I·S(u/(R·I)).
        let (r, imax) = (32.0, 0.05);
        let e = OutputElement { i_max_a: imax, v_knee_v: imax * r, ..OutputElement::IDEAL };
        let mut w = 0.0;
        for &x in &[0.1, 0.9, 1.0, 1.3, 3.0] {
            let i = e.solve(x * r * imax, r, &mut w);
            assert!((i / imax - knee(x).0).abs() < 1e-10);
        }
    }
}

#[cfg(test)]
mod clip_runs {
    use super::*;
    use crate::dsp::simd::{has_avx2_fma, HwFma, SoftFma};

    /// The block rails, in place and from `f32`, equal the per-sample rails bit for bit, whatever
    /// mix of series-range, table-range, far and non-finite samples the runs of `CLIP_RUN` hold,
    /// for buffer lengths that split runs and groups of four or eight anywhere.
    #[test]
    fn block_rails_equal_per_sample_rails() {
        let t = knee_table();
        let (v_peak, inv) = (2.3, 1.0 / 2.3);
        let xs: Vec<f64> = (0..700)
            .map(|k| match k % 97 {
                13 => f64::NAN,
                29 => 40.0 * v_peak,
                _ => {
                    1.3 * v_peak * (k as f64 * 0.05).sin() * (1.0 + 0.5 * (k as f64 * 0.003).cos())
                }
            })
            .collect();
        for len in [1usize, 5, 31, 32, 33, 100, 700] {
            let xs = &xs[..len];
            let mut got = xs.to_vec();
            let s = RailScale::new(v_peak, inv);
            t.clip_block::<SoftFma>(&mut got, v_peak, inv);
            assert_same_bits(&got, xs.iter().map(|&v| t.rail::<SoftFma>(v, &s)));
            // From f32 (the oversampler's hand-over), on both builds: the rail of each widened sample.
            let xs32: Vec<f32> = xs.iter().map(|&v| v as f32).collect();
            let mut got = vec![0.0; len];
            t.clip_widen::<SoftFma>(&xs32, &mut got, v_peak, inv);
            assert_same_bits(&got, xs32.iter().map(|&v| t.rail::<SoftFma>(v as f64, &s)));
            if has_avx2_fma() {
                // SAFETY: the CPU has AVX2 and FMA (checked above).
                unsafe { widen_hw(t, &xs32, &mut got, v_peak, inv) };
                assert_same_bits(&got, xs32.iter().map(|&v| t.rail::<HwFma>(v as f64, &s)));
            }
            if has_avx2_fma() {
                let mut got = xs.to_vec();
                // SAFETY: the CPU has AVX2 and FMA (checked above).
                unsafe { clip_hw(t, &mut got, v_peak, inv) };
                assert_same_bits(&got, xs.iter().map(|&v| t.rail::<HwFma>(v, &s)));
            }
        }
    }

    fn assert_same_bits(got: &[f64], want: impl Iterator<Item = f64>) {
        for (p, q) in got.iter().zip(want) {
            assert!(p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan()), "{p} vs {q}");
        }
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn clip_hw(t: &KneeTable, buf: &mut [f64], v_peak: f64, inv: f64) {
        t.clip_block::<HwFma>(buf, v_peak, inv)
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn widen_hw(t: &KneeTable, src: &[f32], dst: &mut [f64], v_peak: f64, inv: f64) {
        t.clip_widen::<HwFma>(src, dst, v_peak, inv)
    }
}
