//! Linear-phase FIR oversampling around the nonlinear circuit: a cascade of 2× half-band stages up;
//! down, the same half-band stages in reverse except the outermost, a general FIR decimator that
//! stops at the base rate's Nyquist frequency.
//!
//! ## Filters
//! Every 2× interpolator, and every decimator but the outermost, is a half-band filter
//! (Vaidyanathan, *Multirate Systems and Filter Banks*, 1993, §4.6; Harris, *Multirate Signal
//! Processing for Communication Systems*, 2004, on half-band filters): its response obeys
//! `H(f) + H(½ − f) = 1` (f in cycles per sample of the higher rate), so every other
//! tap is exactly zero except the centre one, one polyphase branch is a pure delay, and the other
//! ("dense") branch does all the arithmetic at the lower rate. The passband ripple equals the
//! stopband ripple mirrored about a quarter of the higher rate, so one stopband specification
//! fixes both. Taps are a Kaiser-windowed sinc with cut-off ¼ (Kaiser, "Nonrecursive digital filter
//! design using the I0-sinh window function", ISCAS 1974; starting length from Kaiser's formula
//! `N ≈ (A − 7.95)/(14.36·Δf)`, Oppenheim & Schafer, *Discrete-Time Signal Processing*, 3rd ed.,
//! §7.6); the design then searches the window's β and the shortest length whose response, evaluated
//! on a dense grid, actually meets the attenuation (Kaiser's formula is a few taps conservative).
//!
//! The outermost decimator (2·fs → fs) is an ordinary Kaiser-windowed sinc of odd length, cut-off
//! midway between `f_pass` and fs/2, every tap non-zero, designed the same way (β and shortest
//! length searched on a dense grid against both its passband and its stopband). It is computed as
//! its two polyphase branches at the base rate (even taps on one sample of each input pair, odd
//! taps on the other), one output per input pair, `N` multiply-adds per output.
//!
//! Symmetric taps are not folded: each multiply-add takes its line samples as a memory operand,
//! and folding a pair of taps costs a reversing permute (the vectors run over taps, see
//! [`Dense`]) and an add, more instructions than the multiply-add it saves. (Both polyphase
//! branches of the outer decimator are themselves symmetric, with the same trade.)
//!
//! ## Precision
//! The taps are designed in `f64` and stored, like the delay lines and all the filter arithmetic,
//! in `f32` (eight lanes per AVX2 register rather than four); samples are rounded to `f32` on the
//! way in and widened back to `f64` on the way out. Rounding the taps moves each by at most 2⁻²⁴
//! of itself (symmetric taps stay exactly symmetric, so the phase stays linear), which leaves
//! the stopbands near −140 dB, far below the 110 dB of [`Quality::High`]; the arithmetic's
//! rounding noise is of the same order (about −140 dB of full scale per output; the up-then-down
//! impulse response is symmetric and its DC gain unity to within 1e-7).
//!
//! ## Bands
//! * Outer interpolator (base rate fs → 2·fs), half-band: passband to `f_pass` = 20 kHz
//!   (0.4535·fs below 44.1 kHz), images of 0…f_pass (from `fs − f_pass`) attenuated by the
//!   quality's stopband figure (90 dB Default, 110 dB High).
//! * Outer decimator (2·fs → fs), general FIR: passband 0…f_pass flat to ±0.001 dB. From 48 kHz
//!   up its stopband starts at fs/2 itself, attenuated by the quality's figure, so nothing the
//!   nonlinearity creates above fs/2 folds anywhere into 0…fs/2 above that figure (a half-band
//!   would stop only at `fs − f_pass`, 28 kHz at 48 kHz, letting 24–28 kHz fold into 20–24 kHz).
//!   Its transition band is then half the half-band's, so it needs about twice the taps, all
//!   non-zero: 139 at 48 kHz for 90 dB, 173 for 110 dB. At 44.1 kHz fs/2 is only 2.05 kHz above
//!   the band, which would double that again (251 taps, 101 samples of latency); there the
//!   stopband starts at `fs − 21 kHz` = 23.1 kHz instead, so aliases land only in 21–22.05 kHz,
//!   above the band and above hearing: 165 taps for 90 dB (see [`design::bands`]).
//! * Inner stages (rate_in = 2^(s−1)·fs ↔ 2·rate_in), half-band both ways: passband to fs/2,
//!   stopband from `rate_in − fs/2`, a wide transition and so short filters. Going down, every
//!   frequency above fs/2 outside the inner stopbands (`rate_in ± fs/2` modulo `2·rate_in`) lies,
//!   modulo 2·fs, within fs/2…3·fs/2, which is the outer decimator's stopband from 48 kHz up: the
//!   whole decimation chain rejects everything that would fold into 0…fs/2 (into 0…21 kHz at
//!   44.1 kHz).
//!
//! ## Delay lines and latency
//! Each dense branch reads contiguous windows of a linear history buffer (every sample written
//! once, the newest history moved back to the top now and then; see [`Line`]), so its dot
//! products are straight loops; the kernels are compiled twice, for
//! AVX2+FMA (taken when the CPU has it, checked once in [`Oversampler::new`]) and for the
//! baseline. Both evaluate the same expression for every output (see [`Dense`]); the AVX2 build
//! rounds each multiply-add once (fused), the baseline twice, so the two differ by `f32`
//! rounding (below 5e-7 of full scale), while within one build the per-sample and block forms
//! give identical results.
//!
//! A half-band stage with `4k + 3` taps delays by `2k + 1` samples of its higher rate on the way
//! up. On the way down the output may be taken at either sample of each input pair (delay `2k` or
//! `2k + 1`; for the outer decimator with `2m + 1` taps, `m − 1` or `m`); those choices are made
//! from the innermost stage outwards so that the total up-then-down delay is an exact whole
//! number of base-rate samples (reported by [`Oversampler::latency`]) without lengthening any
//! filter.
//!
//! ## Speed
//! [`Oversampler::up`] and [`Oversampler::down`] work one base-rate sample at a time. Two things
//! dominate their cost on current x86 cores, and shape the code:
//! * A wide load that overlaps data stored moments before (one or more narrower stores) cannot be
//!   forwarded from the store buffer and waits ~15 ns for the stores to leave the pipeline. So
//!   the newest samples of each branch live in a [`Recent`] vector (saved and reloaded whole),
//!   delay lines are read only where they were written calls earlier, the caller's buffer is read
//!   and written one scalar at a time, and values the compiler knows to be adjacent in memory are
//!   passed through registers (`opaque`) rather than merged into one wide load.
//! * The filters' arithmetic is small next to the bookkeeping around it, and each output waits
//!   for its input. So each output is split into the part from earlier samples (a dot product
//!   that needs nothing from the current call and runs ahead) and a few multiply-adds for the new
//!   samples.
//!
//! [`Oversampler::up_block`] and [`Oversampler::down_block`] do the same filtering a block at a
//! time (the interpolator does not depend on the circuit, so a caller can upsample a whole block,
//! run the circuit sample by sample, then decimate the block): a fraction of the cost per sample,
//! with eight outputs computed together, each coefficient vector loaded once for all of those of
//! its phase and the eight summed across lanes together (see [`Dense`] and [`Ker::group`]).
//! The two forms share their state, give identical results and can be mixed.

mod design;
mod lanes;
mod line;
mod dense;
mod stages;

use super::simd::has_avx2_fma;
use design::*;
#[cfg(target_arch = "x86_64")]
use lanes::avx;
use lanes::{Elem, Lanes, Plain};
use line::Line;
use dense::*;
use stages::*;

/// Render quality: how far above the band the nonlinearity runs and how deep the filters stop.
///
/// The internal rate is set by anti-aliasing, not by linear accuracy (the circuit model is exact at
/// any rate): a smooth soft clip driven 6 dB over produces harmonics that fall below −100 dBc only
/// beyond about the 30th, so at 4× (176.4/192 kHz) for 44.1/48 kHz the products that fold back into
/// the audio band stay below −100 dBc.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Quality {
    /// Real-time default: internal rate ≥ 176.4 kHz (4× at 44.1/48 kHz, 2× at 88.2/96 kHz, none
    /// at 176.4/192 kHz), filters with ≥ 90 dB image and alias rejection.
    #[default]
    Default,
    /// Offline bounces: internal rate ≥ 352.8 kHz (8× at 44.1/48 kHz), ≥ 110 dB filters.
    High,
}

impl Quality {
    fn min_internal_rate_hz(self) -> f64 {
        match self {
            Quality::Default => 176_400.0,
            Quality::High => 352_800.0,
        }
    }
    /// Stopband attenuation the filters are designed for (dB).
    fn atten_db(self) -> f64 {
        match self {
            Quality::Default => 90.0,
            Quality::High => 110.0,
        }
    }
}

/// Maximum oversampling factor (11.025 kHz at high quality needs 32×).
pub const MAX_FACTOR: usize = 32;

/// A cascade of 2× half-band stages up to `factor`; back down through the same half-band stages
/// but for the outermost, a general FIR decimator stopping at fs/2.
#[derive(Debug, Clone)]
pub struct Oversampler {
    /// The base rate (hertz) and quality it was designed for.
    fs_hz: f64,
    quality: Quality,
    factor: usize,
    /// Outermost first.
    up: Vec<Up2>,
    /// The inner decimators (all but the outermost), innermost first.
    down: Vec<Down2>,
    /// The outermost decimator (`None` at factor 1).
    outer: Option<DownOuter>,
    latency: usize,
    /// Block scratch between stages, `BLOCK·factor` samples each.
    scratch: [Vec<f32>; 2],
    /// Run the AVX2+FMA build of the kernels.
    avx2: bool,
}

/// Base-rate samples per internal chunk of [`Oversampler::up_block`] and
/// [`Oversampler::down_block`].
const BLOCK: usize = 64;

impl Oversampler {
    /// Designs the cascade for base rate `fs_hz` (allocates; call from `prepare`).
    pub fn new(fs_hz: f64, quality: Quality) -> Self {
        let factor = Self::factor_for(fs_hz, quality);
        let stages = factor.trailing_zeros() as usize;
        let atten = quality.atten_db();
        let (f_pass, f_stop) = bands(fs_hz);
        // Stage s (1-based) runs between rates 2^(s−1)·fs and 2^s·fs.
        let hbs: Vec<Halfband> = (1..=stages)
            .map(|s| {
                let rate_out = (1usize << s) as f64 * fs_hz;
                let edge = if s == 1 { f_pass } else { 0.5 * fs_hz };
                design_halfband(edge / rate_out, atten)
            })
            .collect();
        // The outermost decimator (see the module docs and `bands`): passband to f_pass,
        // stopband from f_stop (fs/2 from 48 kHz up).
        let dec = (stages >= 1).then(|| design_decimator(f_pass / (2.0 * fs_hz), f_stop / (2.0 * fs_hz), atten));
        // Stage s delays up-then-down by T_s samples of 2^s·fs; the total Σ T_s / 2^s must be a
        // whole number. Going from the innermost stage out, each stage's parity is fixed by the
        // stages inside it; a stage whose natural T_s has the wrong parity takes its decimator's
        // `late` form (+1). Inner stages: T_s = (2k + 1) + 2k; outermost: (2k + 1) + (m − 1).
        let mut late = vec![false; stages + 1];
        let mut acc = 0usize; // Σ_{inner stages} T_s · 2^(S − s)
        for s in (1..=stages).rev() {
            let unit = 1usize << (stages - s);
            let k = hbs[s - 1].k();
            let mut t = if s == 1 { 2 * k + 1 + dec.as_ref().map_or(0, |h| h.len() / 2 - 1) } else { 4 * k + 1 };
            if (acc / unit + t) % 2 == 1 {
                late[s] = true;
                t += 1;
            }
            acc += t * unit;
        }
        debug_assert!(acc.is_multiple_of(factor));
        let up: Vec<Up2> = (1..=stages).map(|s| Up2::new(&hbs[s - 1], 1 << (s - 1))).collect();
        let down: Vec<Down2> = (2..=stages).rev().map(|s| Down2::new(&hbs[s - 1], late[s], 1 << (s - 1))).collect();
        let outer = dec.map(|h| DownOuter::new(&h, late[1]));
        let latency_hi: usize = up.iter().enumerate().map(|(i, u)| u.delay() << (stages - 1 - i)).sum::<usize>()
            + down.iter().enumerate().map(|(i, d)| d.delay() << i).sum::<usize>()
            + outer.as_ref().map_or(0, |o| o.delay() << (stages - 1));
        debug_assert_eq!(latency_hi, acc);
        let scratch = [vec![0.0; BLOCK * factor], vec![0.0; BLOCK * factor]];
        Self { fs_hz, quality, factor, up, down, outer, latency: acc / factor, scratch, avx2: has_avx2_fma() }
    }

    /// Runs the AVX2 stages (`on`, and only on a CPU that has AVX2 and FMA) or the portable ones.
    /// The engine sets it from its one instruction-set choice, so its baseline runs are baseline
    /// throughout.
    pub fn set_avx2(&mut self, on: bool) {
        self.avx2 = on && has_avx2_fma();
    }

    /// The factor [`Oversampler::new`] chooses for `fs_hz` and `quality`: the smallest power of
    /// two that reaches the quality's internal rate, at most [`MAX_FACTOR`] (no design work).
    pub fn factor_for(fs_hz: f64, quality: Quality) -> usize {
        let mut factor = 1;
        while (factor as f64) * fs_hz < quality.min_internal_rate_hz() * 0.999 && factor < MAX_FACTOR {
            factor *= 2;
        }
        factor
    }

    /// The base rate it was designed for, hertz.
    pub fn sample_rate(&self) -> f64 {
        self.fs_hz
    }

    /// The quality it was designed for.
    pub fn quality(&self) -> Quality {
        self.quality
    }

    /// Oversampling factor (a power of two up to [`MAX_FACTOR`]).
    pub fn factor(&self) -> usize {
        self.factor
    }

    /// Delay of up-then-down, in base-rate samples (exact).
    pub fn latency(&self) -> usize {
        self.latency
    }

    /// Taps (including the zero ones) of each half-band stage, outermost first.
    #[cfg(test)]
    fn stage_taps(&self) -> Vec<usize> {
        self.up.iter().map(|u| 4 * u.k + 3).collect()
    }

    /// Taps of the outermost decimator (0 at factor 1).
    #[cfg(test)]
    fn decimator_taps(&self) -> usize {
        self.outer.as_ref().map_or(0, DownOuter::taps)
    }

    /// Upsamples one base-rate sample into `out[..factor]`.
    #[inline]
    pub fn up(&mut self, x: f64, out: &mut [f64; MAX_FACTOR]) {
        if self.factor == 1 {
            out[0] = x;
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is set only when the CPU has AVX2 and FMA.
            return unsafe { self.up_avx2(x, out) };
        }
        self.up_plain(x, out)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn up_avx2(&mut self, x: f64, out: &mut [f64; MAX_FACTOR]) {
        self.up_body::<avx::Avx>(x, out)
    }

    #[inline(never)]
    fn up_plain(&mut self, x: f64, out: &mut [f64; MAX_FACTOR]) {
        self.up_body::<Plain>(x, out)
    }

    #[inline(always)]
    fn up_body<V: Lanes>(&mut self, x: f64, out: &mut [f64; MAX_FACTOR]) {
        // Stage outputs stay in small local arrays (registers); `out` is written once.
        let st = &mut self.up[..];
        let s = st.len();
        let (y, d) = st[0].process::<V, 1>(&[x as f32]);
        let v: [f32; 2] = interleave(&y, &d);
        if s == 1 {
            return scatter(&v, out);
        }
        let (y, d) = st[1].process::<V, 2>(&v);
        let v: [f32; 4] = interleave(&y, &d);
        if s == 2 {
            return scatter(&v, out);
        }
        let (y, d) = st[2].process::<V, 4>(&v);
        let v: [f32; 8] = interleave(&y, &d);
        if s == 3 {
            return scatter(&v, out);
        }
        let (y, d) = st[3].process::<V, 8>(&v);
        let v: [f32; 16] = interleave(&y, &d);
        if s == 4 {
            return scatter(&v, out);
        }
        let (y, d) = st[4].process::<V, 16>(&v);
        scatter::<32>(&interleave(&y, &d), out);
    }

    /// Decimates `buf[..factor]` to one base-rate sample.
    #[inline]
    pub fn down(&mut self, buf: &mut [f64; MAX_FACTOR]) -> f64 {
        if self.factor == 1 {
            return buf[0];
        }
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is set only when the CPU has AVX2 and FMA.
            return unsafe { self.down_avx2(buf) };
        }
        self.down_plain(buf)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn down_avx2(&mut self, buf: &[f64; MAX_FACTOR]) -> f64 {
        self.down_body::<avx::Avx>(buf)
    }

    #[inline(never)]
    fn down_plain(&mut self, buf: &[f64; MAX_FACTOR]) -> f64 {
        self.down_body::<Plain>(buf)
    }

    #[inline(always)]
    fn down_body<V: Lanes>(&mut self, buf: &[f64; MAX_FACTOR]) -> f64 {
        // Innermost stage first; `buf` is read once, sample by sample, and stage outputs stay in
        // small local arrays (registers).
        let Some(outer) = self.outer.as_mut() else {
            return buf[0];
        };
        let y: [f32; 2] = match &mut self.down[..] {
            [] => [gather::<1>(buf, 0)[0], gather::<1>(buf, 1)[0]],
            [s2] => s2.process::<V, 2>(&gather(buf, 0), &gather(buf, 1)),
            [s3, s2] => {
                let y = s3.process::<V, 4>(&gather(buf, 0), &gather(buf, 1));
                let (a, b) = deinterleave::<4, 2>(&y);
                s2.process::<V, 2>(&a, &b)
            }
            [s4, s3, s2] => {
                let y = s4.process::<V, 8>(&gather(buf, 0), &gather(buf, 1));
                let (a, b) = deinterleave::<8, 4>(&y);
                let y = s3.process::<V, 4>(&a, &b);
                let (a, b) = deinterleave::<4, 2>(&y);
                s2.process::<V, 2>(&a, &b)
            }
            [s5, s4, s3, s2] => {
                let y = s5.process::<V, 16>(&gather(buf, 0), &gather(buf, 1));
                let (a, b) = deinterleave::<16, 8>(&y);
                let y = s4.process::<V, 8>(&a, &b);
                let (a, b) = deinterleave::<8, 4>(&y);
                let y = s3.process::<V, 4>(&a, &b);
                let (a, b) = deinterleave::<4, 2>(&y);
                s2.process::<V, 2>(&a, &b)
            }
            _ => unreachable!("1 to 5 stages"),
        };
        outer.process::<V>(y[0], y[1])
    }

    /// Upsamples a block: `out[..x.len()·factor]` gets what [`Oversampler::up`] would give for
    /// each sample of `x` in turn (the same bits, tested), with far less work per sample. The two
    /// can be mixed freely.
    ///
    /// # Panics
    /// If `out` is shorter than `x.len()·factor`.
    pub fn up_block(&mut self, x: &[f64], out: &mut [f64]) {
        self.up_block_to(x, out)
    }

    /// [`Self::up_block`] with `f32` output: the same values (every output is an `f32` widened
    /// on the way out), for a caller whose next step reads `f32` (the rails). Needs `factor ≥ 2`.
    ///
    /// # Panics
    /// If `out` is shorter than `x.len()·factor`, or the factor is 1.
    pub fn up_block_f32(&mut self, x: &[f64], out: &mut [f32]) {
        assert!(self.factor > 1, "up_block_f32: no oversampling");
        self.up_block_to(x, out)
    }

    #[inline(always)]
    fn up_block_to<O: Elem>(&mut self, x: &[f64], out: &mut [O]) {
        let f = self.factor;
        assert!(out.len() >= x.len() * f, "up_block: output too short");
        for (xc, oc) in x.chunks(BLOCK).zip(out.chunks_mut(BLOCK * f)) {
            if f == 1 {
                for (o, &x) in oc.iter_mut().zip(xc) {
                    *o = O::from64(x);
                }
                continue;
            }
            #[cfg(target_arch = "x86_64")]
            if self.avx2 {
                // SAFETY: `avx2` is set only when the CPU has AVX2 and FMA.
                unsafe { self.up_block_avx2(xc, oc) };
                continue;
            }
            self.up_block_plain(xc, oc);
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn up_block_avx2<O: Elem>(&mut self, x: &[f64], out: &mut [O]) {
        self.up_block_body::<avx::Avx, O>(x, out)
    }

    #[inline(never)]
    fn up_block_plain<O: Elem>(&mut self, x: &[f64], out: &mut [O]) {
        self.up_block_body::<Plain, O>(x, out)
    }

    /// One chunk (at most `BLOCK` samples): stage by stage through the `f32` scratch buffers,
    /// the first stage from `x`, the last straight into `out`.
    #[inline(always)]
    fn up_block_body<V: Lanes, O: Elem>(&mut self, x: &[f64], out: &mut [O]) {
        let s = self.up.len();
        let [a, b] = &mut self.scratch;
        let n = x.len();
        if s == 1 {
            return self.up[0].process_block::<V, 1, f64, O>(x, out);
        }
        self.up[0].process_block::<V, 1, f64, f32>(x, a);
        for (i, st) in self.up.iter_mut().enumerate().skip(1) {
            // Input: a, b, a, …; output: b, a, …, `out` for the last stage.
            let m = n << i;
            let (src, dst) = if i % 2 == 1 { (&a[..m], &mut b[..]) } else { (&b[..m], &mut a[..]) };
            if i + 1 == s {
                match i {
                    1 => st.process_block::<V, 2, f32, O>(src, out),
                    2 => st.process_block::<V, 4, f32, O>(src, out),
                    3 => st.process_block::<V, 8, f32, O>(src, out),
                    _ => st.process_block::<V, 16, f32, O>(src, out),
                }
            } else {
                match i {
                    1 => st.process_block::<V, 2, f32, f32>(src, dst),
                    2 => st.process_block::<V, 4, f32, f32>(src, dst),
                    _ => st.process_block::<V, 8, f32, f32>(src, dst),
                }
            }
        }
    }

    /// Decimates a block: `y[i]` gets what [`Oversampler::down`] would give for
    /// `v[i·factor..(i + 1)·factor]` (the same bits, tested). The two can be mixed freely.
    ///
    /// # Panics
    /// If `v` is shorter than `y.len()·factor`.
    pub fn down_block(&mut self, v: &[f64], y: &mut [f64]) {
        let f = self.factor;
        assert!(v.len() >= y.len() * f, "down_block: input too short");
        for (vc, yc) in v.chunks(BLOCK * f).zip(y.chunks_mut(BLOCK)) {
            if f == 1 {
                yc.copy_from_slice(&vc[..yc.len()]);
                continue;
            }
            #[cfg(target_arch = "x86_64")]
            if self.avx2 {
                // SAFETY: `avx2` is set only when the CPU has AVX2 and FMA.
                unsafe { self.down_block_avx2(vc, yc) };
                continue;
            }
            self.down_block_plain(vc, yc);
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn down_block_avx2(&mut self, v: &[f64], y: &mut [f64]) {
        self.down_block_body::<avx::Avx>(v, y)
    }

    #[inline(never)]
    fn down_block_plain(&mut self, v: &[f64], y: &mut [f64]) {
        self.down_block_body::<Plain>(v, y)
    }

    /// One chunk (at most `BLOCK` outputs), innermost stage first, through the `f32` scratch
    /// buffers; the innermost stage from `v`, the outermost decimator straight into `y`.
    #[inline(always)]
    fn down_block_body<V: Lanes>(&mut self, v: &[f64], y: &mut [f64]) {
        let s = self.down.len();
        let [a, b] = &mut self.scratch;
        let mut n = y.len() * self.factor;
        let Some(outer) = self.outer.as_mut() else { return };
        if s == 0 {
            return outer.process_block::<V, f64>(&v[..n], y);
        }
        for (i, st) in self.down.iter_mut().enumerate() {
            // Inner stage i is stage s + 1 − i, fed 2^(s − i) outputs' worth per call.
            // Input: v, then alternately a and b; output: a, b, ….
            if i == 0 {
                match s {
                    1 => st.process_block::<V, 2, f64>(&v[..n], a),
                    2 => st.process_block::<V, 4, f64>(&v[..n], a),
                    3 => st.process_block::<V, 8, f64>(&v[..n], a),
                    _ => st.process_block::<V, 16, f64>(&v[..n], a),
                }
            } else {
                let (src, dst) = if i % 2 == 1 { (&a[..n], &mut b[..]) } else { (&b[..n], &mut a[..]) };
                match s - i {
                    1 => st.process_block::<V, 2, f32>(src, dst),
                    2 => st.process_block::<V, 4, f32>(src, dst),
                    _ => st.process_block::<V, 8, f32>(src, dst),
                }
            }
            n /= 2;
        }
        let src = if s % 2 == 1 { &a[..n] } else { &b[..n] };
        outer.process_block::<V, f32>(src, y);
    }

    /// Clears all filter histories.
    pub fn reset(&mut self) {
        self.up.iter_mut().for_each(Up2::clear);
        self.down.iter_mut().for_each(Down2::clear);
        self.outer.iter_mut().for_each(DownOuter::clear);
    }
}

#[cfg(test)]
mod tests;
