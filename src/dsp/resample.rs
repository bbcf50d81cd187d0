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
//! * Outer decimator (2·fs → fs), general FIR: passband 0…f_pass flat to ±0.001 dB, stopband from
//!   fs/2 itself attenuated by the quality's figure, so nothing the nonlinearity creates above
//!   fs/2 folds anywhere into 0…fs/2 above that figure (a half-band would stop only at
//!   `fs − f_pass`, 28 kHz at 48 kHz, letting 24–28 kHz fold into 20–24 kHz). Its transition band
//!   is half the half-band's, so it needs about twice the taps, all non-zero: 139 at 48 kHz and
//!   251 at 44.1 kHz for 90 dB, 173 and 311 for 110 dB.
//! * Inner stages (rate_in = 2^(s−1)·fs ↔ 2·rate_in), half-band both ways: passband to fs/2,
//!   stopband from `rate_in − fs/2`, a wide transition and so short filters. Going down, every
//!   frequency above fs/2 outside the inner stopbands (`rate_in ± fs/2` modulo `2·rate_in`) lies,
//!   modulo 2·fs, within fs/2…3·fs/2, the outer decimator's stopband: the whole decimation chain
//!   rejects everything that would fold into 0…fs/2.
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

use super::simd::has_avx2_fma;
use std::f64::consts::PI;

/// Zeroth-order modified Bessel function of the first kind (power series; converges fast for the
/// arguments a Kaiser window needs).
fn bessel_i0(x: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
    let q = x * x / 4.0;
    for k in 1..200 {
        term *= q / (k * k) as f64;
        sum += term;
        if term < 1e-17 * sum {
            break;
        }
    }
    sum
}

/// Kaiser's β for a stopband attenuation of `atten_db` (> 50 dB).
fn kaiser_beta(atten_db: f64) -> f64 {
    0.1102 * (atten_db - 8.7)
}

/// The non-zero off-centre taps of a Kaiser-windowed half-band filter with `4k + 3` taps:
/// `d[i] = h[c ± (2i + 1)]` for `i = 0..=k`, scaled so `Σ 2·d[i] = ½` (unit DC gain with the
/// centre tap ½, and an exact zero at the higher rate's Nyquist frequency).
fn halfband_side_taps(k: usize, beta: f64) -> Vec<f64> {
    let m = (2 * k + 2) as f64; // window half-length: the outermost non-zero tap sits at ±(2k+1)
    let i0b = bessel_i0(beta);
    let mut d: Vec<f64> = (0..=k)
        .map(|i| {
            let t = (2 * i + 1) as f64;
            let sinc = (0.5 * PI * t).sin() / (PI * t);
            let r = t / m;
            sinc * bessel_i0(beta * (1.0 - r * r).sqrt()) / i0b
        })
        .collect();
    let s: f64 = d.iter().sum::<f64>() * 2.0;
    d.iter_mut().for_each(|x| *x *= 0.5 / s);
    d
}

/// Peak stopband magnitude (linear) of a half-band filter with side taps `d` over `[0.5 − fp, 0.5]`
/// (cycles per sample), on a grid of about 32 points per ripple. By the half-band symmetry this is
/// also the peak passband deviation over `[0, fp]`.
fn halfband_stopband_peak(d: &[f64], fp: f64) -> f64 {
    let n_ripple = fp * 2.0 * (2 * d.len()) as f64;
    let pts = (32.0 * n_ripple).ceil() as usize + 16;
    let mut peak = 0.0f64;
    for g in 0..=pts {
        let f = 0.5 - fp * g as f64 / pts as f64;
        let th = 2.0 * PI * f;
        let (c1, c2) = (th.cos(), 2.0 * (2.0 * th).cos());
        // cos((2i+1)θ) by the recurrence cos((t+2)θ) = 2cos(2θ)cos(tθ) − cos((t−2)θ).
        let (mut prev, mut cur) = (c1, c1);
        let mut a = 0.5;
        for &di in d {
            a += 2.0 * di * cur;
            let next = c2 * cur - prev;
            prev = cur;
            cur = next;
        }
        peak = peak.max(a.abs());
    }
    peak
}

/// A half-band low-pass prototype (centre tap ½, unit DC gain): `side[i]` is the tap at offset
/// `±(2i + 1)` from the centre, `side.len() = k + 1` with `k` odd so the dense polyphase branch
/// (`2k + 2` taps) is a whole number of 4-wide vectors.
#[derive(Debug, Clone)]
struct Halfband {
    /// Non-zero off-centre taps, nearest the centre first.
    side: Vec<f64>,
    /// Measured peak stopband attenuation (dB) on the design grid.
    atten_db: f64,
}

impl Halfband {
    /// `k` in `4k + 3`.
    fn k(&self) -> usize {
        self.side.len() - 1
    }
    /// The dense polyphase branch, newest-sample tap first, times `gain`.
    fn dense(&self, gain: f64) -> Vec<f64> {
        self.side.iter().rev().chain(self.side.iter()).map(|&d| gain * d).collect()
    }
}

/// Shortest Kaiser half-band filter whose passband reaches `fp` and whose stopband (from `0.5 − fp`)
/// is attenuated by at least `atten_db`, both in cycles per sample of the higher rate (`fp < ¼`).
fn design_halfband(fp: f64, atten_db: f64) -> Halfband {
    assert!(fp > 0.0 && fp < 0.25, "half-band passband edge {fp} must be inside (0, 1/4)");
    let df = 0.5 - 2.0 * fp;
    let n_est = (atten_db - 7.95) / (14.36 * df) + 1.0;
    // Start a little below Kaiser's estimate (the β search usually beats it) and go up.
    let mut k = (((0.85 * n_est - 3.0) / 4.0).floor().max(1.0) as usize) | 1;
    let margin_db = 0.3; // the grid peak can miss the true one by a few hundredths of a dB
    loop {
        let mut best: Option<Halfband> = None;
        for extra in [-4.0, -2.0, 0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0] {
            let side = halfband_side_taps(k, kaiser_beta(atten_db + extra));
            let a = -20.0 * halfband_stopband_peak(&side, fp).log10();
            if best.as_ref().is_none_or(|b| a > b.atten_db) {
                best = Some(Halfband { side, atten_db: a });
            }
        }
        let best = best.expect("at least one β tried");
        if best.atten_db >= atten_db + margin_db || k > 1000 {
            return best;
        }
        k += 2;
    }
}

/// Taps `h[t]`, `t = 0..=m`, at offsets `±t` from the centre of a Kaiser-windowed sinc low-pass
/// with `2m + 1` taps and cut-off `fc` (cycles per sample), scaled to unit DC gain. The window
/// reaches zero one tap beyond each end, so the outermost taps are not wasted.
fn lowpass_half_taps(m: usize, fc: f64, beta: f64) -> Vec<f64> {
    let i0b = bessel_i0(beta);
    let w = (m + 1) as f64;
    let mut h: Vec<f64> = (0..=m)
        .map(|t| {
            let t = t as f64;
            let sinc = if t == 0.0 { 2.0 * fc } else { (2.0 * PI * fc * t).sin() / (PI * t) };
            let r = t / w;
            sinc * bessel_i0(beta * (1.0 - r * r).sqrt()) / i0b
        })
        .collect();
    let s = h[0] + 2.0 * h[1..].iter().sum::<f64>();
    h.iter_mut().for_each(|x| *x /= s);
    h
}

/// Whether `|A(f) − target| > limit` anywhere on `[f0, f1]` (either order, cycles per sample),
/// `A(f) = h[0] + 2·Σ h[t]·cos(2πft)` being the zero-phase response of the symmetric filter whose
/// half is `h`. The grid has about 32 points per ripple and starts at `f0`: with `f0` at a band
/// edge, where a windowed design's largest ripple sits, a failing filter is rejected within
/// a few points.
fn band_exceeds(h: &[f64], f0: f64, f1: f64, target: f64, limit: f64) -> bool {
    let n_ripple = (f1 - f0).abs() * (2 * h.len()) as f64;
    let pts = (32.0 * n_ripple).ceil() as usize + 16;
    (0..=pts).any(|g| {
        let th = 2.0 * PI * (f0 + (f1 - f0) * g as f64 / pts as f64);
        let c2 = 2.0 * th.cos();
        // cos(tθ) by the recurrence cos((t+1)θ) = 2cos θ·cos(tθ) − cos((t−1)θ).
        let (mut prev, mut cur) = (1.0, 0.5 * c2);
        let mut a = h[0];
        for &ht in &h[1..] {
            a += 2.0 * ht * cur;
            let next = c2 * cur - prev;
            prev = cur;
            cur = next;
        }
        (a - target).abs() > limit
    })
}

/// Passband flatness of the outermost decimator (±dB).
const DECIMATOR_PASS_DB: f64 = 0.001;

/// Shortest Kaiser-windowed low-pass (odd length, unit DC gain, all taps) flat to
/// ±[`DECIMATOR_PASS_DB`] over `[0, fp]` and attenuated by at least `atten_db` over `[¼, ½]`, in
/// cycles per sample of the higher rate (`fp < ¼`): a decimator by 2 whose stopband starts at the
/// lower rate's Nyquist frequency. Returns all `2m + 1` taps.
fn design_decimator(fp: f64, atten_db: f64) -> Vec<f64> {
    assert!(fp > 0.0 && fp < 0.25, "decimator passband edge {fp} must be inside (0, 1/4)");
    let (f_stop, df) = (0.25, 0.25 - fp);
    let fc = 0.5 * (fp + f_stop);
    let n_est = (atten_db - 7.95) / (14.36 * df) + 1.0;
    let mut m = ((0.9 * n_est - 1.0) / 2.0).floor().max(1.0) as usize;
    // Margins, as in `design_halfband`, for what the grid can miss.
    let stop = 10f64.powf(-(atten_db + 0.3) / 20.0);
    let pass = 1.0 - 10f64.powf(-0.9 * DECIMATOR_PASS_DB / 20.0);
    loop {
        for extra in [0.0, 2.0, -2.0, 4.0, 6.0, -4.0, 8.0, 10.0, 12.0, 14.0] {
            let h = lowpass_half_taps(m, fc, kaiser_beta(atten_db + extra));
            if !band_exceeds(&h, f_stop, 0.5, 0.0, stop) && !band_exceeds(&h, fp, 0.0, 1.0, pass) {
                return h.iter().rev().chain(&h[1..]).copied().collect();
            }
        }
        assert!(m < 2000, "no decimator meets fp {fp}, {atten_db} dB");
        m += 1;
    }
}

/// A history line that keeps the last `len` samples contiguous, newest first, so any window of
/// them is a plain slice: a linear buffer of `len` plus a spare of at least `2·len` and eight
/// chunks' worth of samples, filled downwards from the top, whose newest `len` samples are moved
/// back to the top when the next append would run off the bottom (at most once every two
/// appends, since an append is at most `len` samples, and in the block path at most once every
/// eight chunks: the move then costs well under one instruction per base sample). Each sample is
/// written once, rather than twice as in a double-length circular buffer. Samples (`f32`, see
/// the module docs) arrive in blocks of `block` (the calls of one stage), and the newest sample
/// is at `pos`.
#[derive(Debug, Clone)]
struct Line {
    buf: Vec<f32>,
    pos: usize,
    len: usize,
}

impl Line {
    fn new(min_len: usize, block: usize) -> Self {
        let len = min_len.max(1).div_ceil(block) * block;
        let spare = (2 * len).max(8 * BLOCK * block);
        Self { buf: vec![0.0; len + spare], pos: spare, len }
    }
    /// Makes room for `n ≤ len` samples below `pos` and moves `pos` down onto them.
    #[inline(always)]
    fn make_room(&mut self, n: usize) {
        assert!(n <= self.len);
        if self.pos < n {
            self.shift();
        }
        self.pos -= n;
    }
    /// Moves the newest `len` samples to the top of the buffer.
    #[cold]
    #[inline(never)]
    fn shift(&mut self) {
        let top = self.buf.len() - self.len;
        self.buf.copy_within(self.pos..self.pos + self.len, top);
        self.pos = top;
    }
    /// Appends `x` (time order).
    #[inline(always)]
    fn push_block<const N: usize>(&mut self, x: &[f32; N]) {
        self.make_room(N);
        debug_assert!(self.pos + N <= self.buf.len());
        // SAFETY: pos + N ≤ buf.len() (make_room leaves len ≥ N samples above pos).
        unsafe {
            let p = self.buf.as_mut_ptr().add(self.pos);
            for (i, &v) in x.iter().enumerate() {
                *p.add(N - 1 - i) = v;
            }
        }
    }
    /// Appends `x` (time order, at most `len` samples, rounded to `f32`), eight at a time
    /// reversed in registers.
    #[inline(always)]
    fn push<V: Lanes, E: Elem>(&mut self, x: &[E]) {
        let n = x.len();
        self.make_room(n);
        // SAFETY: sample t goes to `pos + n − 1 − t`, inside the buffer (make_room); the reads
        // are inside `x`.
        unsafe {
            let top = self.buf.as_mut_ptr().add(self.pos + n);
            let s = x.as_ptr();
            let mut t = 0;
            while t + 8 <= n {
                E::load8::<V>(s.add(t)).reverse().storeu(top.sub(t + 8));
                t += 8;
            }
            while t < n {
                *top.sub(t + 1) = (*s.add(t)).to32();
                t += 1;
            }
        }
    }
    /// Appends the pairs of `v` (time order, `2n` samples, `n ≤ len`, rounded to `f32`): the
    /// first sample of each pair to `a`, the second to `b`, sixteen samples split and reversed in
    /// registers at a time.
    #[inline(always)]
    fn push_pairs<V: Lanes, E: Elem>(a: &mut Line, b: &mut Line, v: &[E]) {
        let n = v.len() / 2;
        a.make_room(n);
        b.make_room(n);
        // SAFETY: pair t goes to `pos + n − 1 − t` of each line, inside its buffer (make_room);
        // the reads are inside `v` (2n samples).
        unsafe {
            let ta = a.buf.as_mut_ptr().add(a.pos + n);
            let tb = b.buf.as_mut_ptr().add(b.pos + n);
            let s = v.as_ptr();
            let mut t = 0;
            while t + 8 <= n {
                let (e, o) = V::split_rev(E::load8::<V>(s.add(2 * t)), E::load8::<V>(s.add(2 * t + 8)));
                e.storeu(ta.sub(t + 8));
                o.storeu(tb.sub(t + 8));
                t += 8;
            }
            while t < n {
                *ta.sub(t + 1) = (*s.add(2 * t)).to32();
                *tb.sub(t + 1) = (*s.add(2 * t + 1)).to32();
                t += 1;
            }
        }
    }
    /// The sample `age` back from the newest (`age < len`).
    #[inline(always)]
    fn at(&self, age: usize) -> f32 {
        debug_assert!(age < self.len);
        // SAFETY: pos + len ≤ buf.len() and age < len.
        unsafe { *self.buf.get_unchecked(self.pos + age) }
    }
    fn clear(&mut self) {
        self.buf.iter_mut().for_each(|x| *x = 0.0);
    }
}

/// A sample type at the interface of a block kernel: `f64` (the caller's buffers) or `f32` (the
/// scratch between stages).
trait Elem: Copy {
    /// Eight samples from `p`, rounded to `f32` (to nearest).
    ///
    /// # Safety
    /// `p` must be valid for reading eight samples.
    unsafe fn load8<V: Lanes>(p: *const Self) -> V;
    /// Stores `[y0, d0, y1, d1, …, y7, d7]` at `p` from `y = [y7, …, y0]` and `d = [d7, …, d0]`.
    ///
    /// # Safety
    /// `p` must be valid for writing sixteen samples.
    unsafe fn store_zip<V: Lanes>(p: *mut Self, y: V, d: V);
    fn to32(self) -> f32;
    fn from32(x: f32) -> Self;
    /// `x` as stored in this type (rounded to nearest for `f32`).
    fn from64(x: f64) -> Self;
}

impl Elem for f32 {
    #[inline(always)]
    unsafe fn load8<V: Lanes>(p: *const Self) -> V {
        // SAFETY: the caller's.
        unsafe { V::load(p) }
    }
    #[inline(always)]
    unsafe fn store_zip<V: Lanes>(p: *mut Self, y: V, d: V) {
        let (a, b) = V::zip_rev(y, d);
        // SAFETY: the caller's.
        unsafe {
            a.storeu(p);
            b.storeu(p.add(8));
        }
    }
    #[inline(always)]
    fn to32(self) -> f32 {
        self
    }
    #[inline(always)]
    fn from32(x: f32) -> Self {
        x
    }
    #[inline(always)]
    fn from64(x: f64) -> Self {
        x as f32
    }
}

impl Elem for f64 {
    #[inline(always)]
    unsafe fn load8<V: Lanes>(p: *const Self) -> V {
        // SAFETY: the caller's.
        unsafe { V::load_f64(p) }
    }
    #[inline(always)]
    unsafe fn store_zip<V: Lanes>(p: *mut Self, y: V, d: V) {
        // SAFETY: the caller's.
        unsafe { V::store_zip_f64(y, d, p) }
    }
    #[inline(always)]
    fn to32(self) -> f32 {
        self as f32
    }
    #[inline(always)]
    fn from32(x: f32) -> Self {
        x as f64
    }
    #[inline(always)]
    fn from64(x: f64) -> Self {
        x
    }
}

/// Eight `f32` lanes: AVX2+FMA registers, or plain arrays for the baseline build. Every
/// operation but [`Lanes::madd`] and [`Lanes::fma1`] rounds the same way in both.
trait Lanes: Copy {
    fn zero() -> Self;
    /// # Safety
    /// `p` must be valid for reading eight `f32`.
    unsafe fn load(p: *const f32) -> Self;
    /// # Safety
    /// `p` must be valid for writing eight `f32` and 32-byte aligned.
    unsafe fn store(self, p: *mut f32);
    /// # Safety
    /// `p` must be valid for writing eight `f32` (any alignment).
    unsafe fn storeu(self, p: *mut f32);
    /// Eight `f64` from `p`, rounded to `f32`.
    ///
    /// # Safety
    /// `p` must be valid for reading eight `f64`.
    unsafe fn load_f64(p: *const f64) -> Self;
    /// The lanes, widened to `f64`, to `p`.
    ///
    /// # Safety
    /// `p` must be valid for writing eight `f64`.
    unsafe fn store_f64(self, p: *mut f64);
    /// `[x; 8]`.
    fn splat(x: f32) -> Self;
    fn mul(a: Self, b: Self) -> Self;
    fn add(self, b: Self) -> Self;
    /// `a·b + self` (fused in the AVX2 build).
    fn madd(self, a: Self, b: Self) -> Self;
    /// `a·b + c` on one lane, rounded as [`Lanes::madd`].
    fn fma1(a: f32, b: f32, c: f32) -> f32;
    /// `((v0 + v1) + (v2 + v3)) + ((v4 + v5) + (v6 + v7))`.
    fn hsum(self) -> f32;
    /// Lane `r` is `a[r].hsum()`, summed in the same order.
    fn hsum8(a: &[Self; 8]) -> Self;
    /// `[v7, v6, …, v0]`.
    fn reverse(self) -> Self;
    /// `[x, v0, …, v6]`.
    fn shift1(v: Self, x: f32) -> Self;
    /// `[x1, x0, v0, …, v5]`.
    fn shift2(v: Self, x1: f32, x0: f32) -> Self;
    /// `[x[0], x[1], x[2], x[3], v0, …, v3]`.
    fn shift4(v: Self, x: [f32; 4]) -> Self;
    /// `[x[0], …, x[7]]`.
    fn from8(x: [f32; 8]) -> Self;
    /// From `a = [x0, …, x7]` and `b = [x8, …, x15]`: the even and odd samples, each reversed,
    /// `([x14, x12, …, x0], [x15, x13, …, x1])`.
    fn split_rev(a: Self, b: Self) -> (Self, Self);
    /// From `y = [y7, …, y0]` and `d = [d7, …, d0]`: `[y0, d0, y1, d1, …, y3, d3]` and
    /// `[y4, d4, …, y7, d7]`, the two in time order and interleaved.
    fn zip_rev(y: Self, d: Self) -> (Self, Self);
    /// [`Lanes::zip_rev`] widened to `f64`: sixteen `f64` to `p`.
    ///
    /// # Safety
    /// `p` must be valid for writing sixteen `f64`.
    unsafe fn store_zip_f64(y: Self, d: Self, p: *mut f64);
}

/// Baseline lanes (the compiler maps them onto whatever vector unit the target has).
#[derive(Clone, Copy)]
struct Plain([f32; 8]);

impl Plain {
    #[inline(always)]
    fn map2(a: Self, b: Self, f: impl Fn(f32, f32) -> f32) -> Self {
        Plain(std::array::from_fn(|i| f(a.0[i], b.0[i])))
    }
}

impl Lanes for Plain {
    #[inline(always)]
    fn zero() -> Self {
        Plain([0.0; 8])
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller guarantees eight readable f32.
        Plain(unsafe { p.cast::<[f32; 8]>().read_unaligned() })
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        // SAFETY: the caller guarantees eight writable f32.
        unsafe { p.cast::<[f32; 8]>().write_unaligned(self.0) }
    }
    #[inline(always)]
    unsafe fn storeu(self, p: *mut f32) {
        // SAFETY: the caller guarantees eight writable f32.
        unsafe { p.cast::<[f32; 8]>().write_unaligned(self.0) }
    }
    #[inline(always)]
    unsafe fn load_f64(p: *const f64) -> Self {
        // SAFETY: the caller guarantees eight readable f64.
        let v = unsafe { p.cast::<[f64; 8]>().read_unaligned() };
        Plain(v.map(|x| x as f32))
    }
    #[inline(always)]
    unsafe fn store_f64(self, p: *mut f64) {
        // SAFETY: the caller guarantees eight writable f64.
        unsafe { p.cast::<[f64; 8]>().write_unaligned(self.0.map(|x| x as f64)) }
    }
    #[inline(always)]
    fn splat(x: f32) -> Self {
        Plain([x; 8])
    }
    #[inline(always)]
    fn mul(a: Self, b: Self) -> Self {
        Self::map2(a, b, |x, y| x * y)
    }
    #[inline(always)]
    fn add(self, b: Self) -> Self {
        Self::map2(self, b, |x, y| x + y)
    }
    #[inline(always)]
    fn madd(self, a: Self, b: Self) -> Self {
        Plain(std::array::from_fn(|i| self.0[i] + a.0[i] * b.0[i]))
    }
    #[inline(always)]
    fn fma1(a: f32, b: f32, c: f32) -> f32 {
        a * b + c
    }
    #[inline(always)]
    fn hsum(self) -> f32 {
        let v = self.0;
        ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]))
    }
    #[inline(always)]
    fn hsum8(a: &[Self; 8]) -> Self {
        Plain(std::array::from_fn(|r| a[r].hsum()))
    }
    #[inline(always)]
    fn reverse(self) -> Self {
        let v = self.0;
        Plain(std::array::from_fn(|i| v[7 - i]))
    }
    #[inline(always)]
    fn shift1(v: Self, x: f32) -> Self {
        let v = v.0;
        Plain([x, v[0], v[1], v[2], v[3], v[4], v[5], v[6]])
    }
    #[inline(always)]
    fn shift2(v: Self, x1: f32, x0: f32) -> Self {
        let v = v.0;
        Plain([x1, x0, v[0], v[1], v[2], v[3], v[4], v[5]])
    }
    #[inline(always)]
    fn shift4(v: Self, x: [f32; 4]) -> Self {
        let v = v.0;
        Plain([x[0], x[1], x[2], x[3], v[0], v[1], v[2], v[3]])
    }
    #[inline(always)]
    fn from8(x: [f32; 8]) -> Self {
        Plain(x)
    }
    #[inline(always)]
    fn split_rev(a: Self, b: Self) -> (Self, Self) {
        let x: [f32; 16] = std::array::from_fn(|i| if i < 8 { a.0[i] } else { b.0[i - 8] });
        (Plain(std::array::from_fn(|i| x[14 - 2 * i])), Plain(std::array::from_fn(|i| x[15 - 2 * i])))
    }
    #[inline(always)]
    fn zip_rev(y: Self, d: Self) -> (Self, Self) {
        let z: [f32; 16] = std::array::from_fn(|i| if i % 2 == 0 { y.0[7 - i / 2] } else { d.0[7 - i / 2] });
        (Plain(std::array::from_fn(|i| z[i])), Plain(std::array::from_fn(|i| z[8 + i])))
    }
    #[inline(always)]
    unsafe fn store_zip_f64(y: Self, d: Self, p: *mut f64) {
        let (a, b) = Self::zip_rev(y, d);
        // SAFETY: the caller's.
        unsafe {
            a.store_f64(p);
            b.store_f64(p.add(8));
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx {
    use std::arch::x86_64::*;

    /// `x` in the low lane of a register, taken as it is: the compiler must not fetch scalars it
    /// knows to be adjacent in memory with one wide load (they were stored one at a time, and
    /// such a load waits for all the stores to retire).
    #[inline(always)]
    fn opaque(x: f32) -> __m128 {
        // SAFETY: SSE is baseline on x86_64.
        let mut v = unsafe { _mm_set1_ps(x) };
        // SAFETY: an empty asm block that claims to change `v`; no memory, no stack.
        unsafe { std::arch::asm!("/* {0} */", inout(xmm_reg) v, options(pure, nomem, nostack, preserves_flags)) };
        v
    }

    /// `[a, b, c, d]` from four scalars in registers.
    #[inline(always)]
    fn from4(x: [f32; 4]) -> __m128 {
        // SAFETY: SSE is baseline on x86_64.
        unsafe {
            let lo = _mm_unpacklo_ps(opaque(x[0]), opaque(x[1]));
            let hi = _mm_unpacklo_ps(opaque(x[2]), opaque(x[3]));
            _mm_movelh_ps(lo, hi)
        }
    }

    /// AVX2+FMA lanes; only used inside `#[target_feature(enable = "avx2,fma")]` functions.
    #[derive(Clone, Copy)]
    pub(super) struct Avx(__m256);

    /// The lane permutation `[i0, …, i7]` (output lane `m` takes input lane `i_m`).
    #[inline(always)]
    fn perm(v: __m256, i: [i32; 8]) -> __m256 {
        // SAFETY: as below.
        unsafe { _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(i[0], i[1], i[2], i[3], i[4], i[5], i[6], i[7])) }
    }

    // SAFETY (every `unsafe` block below): `Avx` values exist only in code compiled and run with
    // AVX2 and FMA (see `Oversampler::up`), and pointer arguments are the caller's responsibility.
    impl super::Lanes for Avx {
        #[inline(always)]
        fn zero() -> Self {
            Avx(unsafe { _mm256_setzero_ps() })
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            Avx(unsafe { _mm256_loadu_ps(p) })
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            // Volatile: one 32-byte store, never split (a later 32-byte load of the same place is
            // forwarded only from a single store that covers it).
            unsafe { std::ptr::write_volatile(p.cast::<__m256>(), self.0) }
        }
        #[inline(always)]
        unsafe fn storeu(self, p: *mut f32) {
            unsafe { _mm256_storeu_ps(p, self.0) }
        }
        #[inline(always)]
        unsafe fn load_f64(p: *const f64) -> Self {
            unsafe {
                let lo = _mm256_cvtpd_ps(_mm256_loadu_pd(p));
                let hi = _mm256_cvtpd_ps(_mm256_loadu_pd(p.add(4)));
                Avx(_mm256_insertf128_ps::<1>(_mm256_castps128_ps256(lo), hi))
            }
        }
        #[inline(always)]
        unsafe fn store_f64(self, p: *mut f64) {
            unsafe {
                _mm256_storeu_pd(p, _mm256_cvtps_pd(_mm256_castps256_ps128(self.0)));
                _mm256_storeu_pd(p.add(4), _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(self.0)));
            }
        }
        #[inline(always)]
        fn splat(x: f32) -> Self {
            Avx(unsafe { _mm256_set1_ps(x) })
        }
        #[inline(always)]
        fn mul(a: Self, b: Self) -> Self {
            Avx(unsafe { _mm256_mul_ps(a.0, b.0) })
        }
        #[inline(always)]
        fn add(self, b: Self) -> Self {
            Avx(unsafe { _mm256_add_ps(self.0, b.0) })
        }
        #[inline(always)]
        fn madd(self, a: Self, b: Self) -> Self {
            Avx(unsafe { _mm256_fmadd_ps(a.0, b.0, self.0) })
        }
        #[inline(always)]
        fn fma1(a: f32, b: f32, c: f32) -> f32 {
            a.mul_add(b, c)
        }
        #[inline(always)]
        fn hsum(self) -> f32 {
            unsafe {
                // [v0+v1, v2+v3, v4+v5, v6+v7], then [(v0+v1)+(v2+v3), (v4+v5)+(v6+v7), …].
                let h = _mm_hadd_ps(_mm256_castps256_ps128(self.0), _mm256_extractf128_ps::<1>(self.0));
                let h = _mm_hadd_ps(h, h);
                _mm_cvtss_f32(_mm_add_ss(h, _mm_movehdup_ps(h)))
            }
        }
        #[inline(always)]
        fn hsum8(a: &[Self; 8]) -> Self {
            unsafe {
                // t01 = [a0(01), a0(23), a1(01), a1(23) | a0(45), a0(67), a1(45), a1(67)], …;
                // u0 = [a0(0123), a1(0123), a2(0123), a3(0123) | a0(4567), …, a3(4567)].
                let t01 = _mm256_hadd_ps(a[0].0, a[1].0);
                let t23 = _mm256_hadd_ps(a[2].0, a[3].0);
                let t45 = _mm256_hadd_ps(a[4].0, a[5].0);
                let t67 = _mm256_hadd_ps(a[6].0, a[7].0);
                let u0 = _mm256_hadd_ps(t01, t23);
                let u1 = _mm256_hadd_ps(t45, t67);
                Avx(_mm256_add_ps(_mm256_permute2f128_ps::<0x20>(u0, u1), _mm256_permute2f128_ps::<0x31>(u0, u1)))
            }
        }
        #[inline(always)]
        fn reverse(self) -> Self {
            Avx(perm(self.0, [7, 6, 5, 4, 3, 2, 1, 0]))
        }
        #[inline(always)]
        fn shift1(v: Self, x: f32) -> Self {
            unsafe { Avx(_mm256_blend_ps::<0b0000_0001>(perm(v.0, [0, 0, 1, 2, 3, 4, 5, 6]), _mm256_castps128_ps256(opaque(x)))) }
        }
        #[inline(always)]
        fn shift2(v: Self, x1: f32, x0: f32) -> Self {
            unsafe {
                let x = _mm_unpacklo_ps(opaque(x1), opaque(x0));
                Avx(_mm256_blend_ps::<0b0000_0011>(perm(v.0, [0, 0, 0, 1, 2, 3, 4, 5]), _mm256_castps128_ps256(x)))
            }
        }
        #[inline(always)]
        fn shift4(v: Self, x: [f32; 4]) -> Self {
            unsafe { Avx(_mm256_insertf128_ps::<1>(_mm256_castps128_ps256(from4(x)), _mm256_castps256_ps128(v.0))) }
        }
        #[inline(always)]
        fn from8(x: [f32; 8]) -> Self {
            unsafe {
                let lo = from4([x[0], x[1], x[2], x[3]]);
                let hi = from4([x[4], x[5], x[6], x[7]]);
                Avx(_mm256_insertf128_ps::<1>(_mm256_castps128_ps256(lo), hi))
            }
        }
        #[inline(always)]
        fn split_rev(a: Self, b: Self) -> (Self, Self) {
            unsafe {
                // [x0, x2, x8, x10 | x4, x6, x12, x14] and [x1, x3, x9, x11 | x5, x7, x13, x15].
                let e = _mm256_shuffle_ps::<0b10_00_10_00>(a.0, b.0);
                let o = _mm256_shuffle_ps::<0b11_01_11_01>(a.0, b.0);
                let i = [7, 6, 3, 2, 5, 4, 1, 0];
                (Avx(perm(e, i)), Avx(perm(o, i)))
            }
        }
        #[inline(always)]
        fn zip_rev(y: Self, d: Self) -> (Self, Self) {
            unsafe {
                let (y, d) = (y.reverse().0, d.reverse().0);
                // [y0, d0, y1, d1 | y4, d4, y5, d5] and [y2, d2, y3, d3 | y6, d6, y7, d7].
                let (lo, hi) = (_mm256_unpacklo_ps(y, d), _mm256_unpackhi_ps(y, d));
                (Avx(_mm256_permute2f128_ps::<0x20>(lo, hi)), Avx(_mm256_permute2f128_ps::<0x31>(lo, hi)))
            }
        }
        #[inline(always)]
        unsafe fn store_zip_f64(y: Self, d: Self, p: *mut f64) {
            unsafe {
                let (y, d) = (y.reverse().0, d.reverse().0);
                // [y0, d0, y1, d1 | y4, d4, y5, d5] and [y2, d2, y3, d3 | y6, d6, y7, d7], each
                // half widened and stored in place.
                let (lo, hi) = (_mm256_unpacklo_ps(y, d), _mm256_unpackhi_ps(y, d));
                _mm256_storeu_pd(p, _mm256_cvtps_pd(_mm256_castps256_ps128(lo)));
                _mm256_storeu_pd(p.add(4), _mm256_cvtps_pd(_mm256_castps256_ps128(hi)));
                _mm256_storeu_pd(p.add(8), _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(lo)));
                _mm256_storeu_pd(p.add(12), _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(hi)));
            }
        }
    }
}

/// The newest samples of a dense branch, newest first, kept as whole vectors between calls.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(32))]
struct Recent([f32; 32]);

/// How many samples [`Recent`] holds (a multiple of 8) for a stage taking `n` per call: enough
/// that the [`Line`] is only read where it was written two or more calls earlier.
const fn recent_len(n: usize) -> usize {
    if n <= 4 {
        8
    } else {
        2 * n
    }
}

/// A dense polyphase branch `y[n] = Σ_j c[j]·u[n − j]` fed `N` samples per call.
///
/// ## Arithmetic
/// Every output is computed by one fixed expression, the same in [`Dense::run`] (one call at a
/// time) and [`Ker::group`] / [`Ker::single`] (a block of calls), so the two give identical `f32`
/// results and can be mixed. For output `p` of a call (`p < N`), with `x` the call's samples:
/// * the taps on earlier calls' samples, `j = p + 1, p + 2, …`, in vectors of eight consecutive
///   taps (zero-padded to `8·Q`, `Q = ⌈(taps − 1)/8⌉` vectors for every `p`), are multiplied and
///   added lane-wise, vector by vector from the newest samples back, then summed across the lanes
///   as [`Lanes::hsum`]; this part needs nothing from the current call, so in the per-sample
///   path it runs ahead while upstream is still busy;
/// * then the taps on this call's samples, `y ← c[j]·x[p − j] + y` for `j = p` down to 0 (the
///   newest sample last, so the circuit between `up` and `down` waits for one multiply-add).
///
/// One call at a time, one vector of line samples serves all `N` outputs. In blocks, eight
/// outputs are computed together, each in its own accumulator (lanes over taps, as above); each
/// coefficient vector is loaded once for the outputs of its phase, and the line vectors are
/// operands of the multiply-adds; the eight accumulators are summed across lanes together
/// ([`Lanes::hsum8`], nine instructions), giving a vector of eight outputs, newest first, to
/// which the taps on the outputs' own calls are added with per-lane coefficient vectors (zero
/// where a tap reaches before its output's call: `0·u + y = y` exactly).
///
/// In the per-sample path the newest `R` samples come from [`Recent`], shifted in registers and
/// saved whole, and the rest from the [`Line`], read only where it was written at least two
/// calls earlier: on current x86 cores a wide load that overlaps a sample stored moments before
/// cannot be forwarded from the store buffer and waits about 15 ns for the store to leave the
/// pipeline.
#[derive(Debug, Clone)]
struct Dense {
    /// For phase `p` (output `p` of a call), `hist[p·8Q + 8q + t] = c[p + 1 + 8q + t]` (zero past
    /// the end).
    hist: Vec<f32>,
    /// `Q`, the history vectors per output.
    q: usize,
    /// `c[0..N]`, for the call's own samples.
    head: Vec<f32>,
    /// For block group `g` (outputs `8g…8g + 7` of a call, phase `8g + 7 − r` in lane `r`) and
    /// tap `k < N`: `headv[(g·N + k)·8 + r] = c[k]` if `k ≤` the lane's phase, else 0.
    headv: Vec<f32>,
    line: Line,
    recent: Recent,
}

impl Dense {
    /// `c`: taps (at least two), newest-sample tap first; `block` samples arrive per call.
    fn new(c: &[f64], block: usize) -> Self {
        assert!(c.len() >= 2 && (block <= 8 || block.is_multiple_of(8)));
        let q = (c.len() - 1).div_ceil(8);
        let tap = |j: usize| c.get(j).map_or(0.0, |&v| v as f32);
        let hist = (0..block).flat_map(|p| (0..8 * q).map(move |m| tap(p + 1 + m))).collect();
        let head = (0..block).map(tap).collect();
        let groups = block.div_ceil(8);
        let headv = (0..groups)
            .flat_map(|g| (0..block).flat_map(move |k| (0..8).map(move |r| if k <= (8 * g + 7 - r) % block { tap(k) } else { 0.0 })))
            .collect();
        let line = Line::new(8 * q + BLOCK * block + 8, block);
        Self { hist, q, head, headv, line, recent: Recent::default() }
    }

    /// The block kernel over the newest `n` samples of the line, already appended (see
    /// [`Line::push`], [`Line::push_pairs`]); `n` a multiple of `N` at most `BLOCK·N`.
    #[inline(always)]
    fn ker<const N: usize>(&self, n: usize) -> Ker {
        assert!(n.is_multiple_of(N) && n <= BLOCK * N && self.line.len >= n + 8 * self.q);
        assert!(self.hist.len() == N * 8 * self.q && self.headv.len() == N.div_ceil(8) * N * 8);
        // SAFETY: pos + len ≤ buf.len().
        let lp = unsafe { self.line.buf.as_ptr().add(self.line.pos) };
        Ker { lp, n, hp: self.hist.as_ptr(), q8: 8 * self.q, head: self.head.as_ptr(), hv: self.headv.as_ptr() }
    }

    /// Saves the newest samples of the line to [`Recent`] after a block.
    #[inline(always)]
    fn save_recent<V: Lanes, const N: usize>(&mut self) {
        let rp = self.recent.0.as_mut_ptr();
        for q in 0..recent_len(N) / 8 {
            // SAFETY: `Recent` holds 32 ≥ recent_len f32, 32-byte aligned; the line holds
            // len ≥ recent_len samples from pos.
            unsafe { V::load(self.line.buf.as_ptr().add(self.line.pos + 8 * q)).store(rp.add(8 * q)) };
        }
    }

    /// Writes the branch output for each of `x` (time order) to `y` and appends `x`.
    #[inline(always)]
    fn run<V: Lanes, const N: usize>(&mut self, x: &[f32; N], y: &mut [f32; N]) {
        let rq = recent_len(N) / 8;
        let rp = self.recent.0.as_mut_ptr();
        // (No closures in this function: they would not be compiled for AVX2.)
        let mut old = [V::zero(); 4];
        for (q, o) in old.iter_mut().enumerate().take(rq) {
            // SAFETY: `Recent` holds 32 ≥ 8·rq f32, 32-byte aligned.
            *o = unsafe { V::load(rp.add(8 * q)) };
        }
        // History part first: it needs nothing from this call, so it runs while the new samples
        // are still being computed upstream.
        let h = self.history::<V, N>(&old);
        let head: &[f32; N] = self.head[..].try_into().expect("N head taps");
        for p in 0..N {
            let mut s = h[p];
            for j in (0..=p).rev() {
                s = V::fma1(head[j], x[p - j], s);
            }
            y[p] = s;
        }
        self.line.push_block(x);
        // New samples in, oldest out, in registers; saved whole.
        let mut w = old;
        match N {
            1 => w[0] = V::shift1(old[0], x[0]),
            2 => w[0] = V::shift2(old[0], x[1], x[0]),
            4 => w[0] = V::shift4(old[0], [x[3], x[2], x[1], x[0]]),
            _ => {
                for q in 0..rq {
                    w[q] = if 8 * q < N {
                        let t = N - 8 - 8 * q; // x[t + 7] … x[t]
                        V::from8([x[t + 7], x[t + 6], x[t + 5], x[t + 4], x[t + 3], x[t + 2], x[t + 1], x[t]])
                    } else {
                        old[q - N / 8]
                    };
                }
            }
        }
        for (q, v) in w.iter().enumerate().take(rq) {
            // SAFETY: as above.
            unsafe { v.store(rp.add(8 * q)) };
        }
    }

    /// The history part of each output `p` of this call, `Σ_{m ≥ 1} c[p + m]·u[−m]` summed as
    /// described on [`Dense`], `u[−1]` being the newest sample before it: the newest `R` from
    /// `w`, the rest from the line.
    #[inline(always)]
    fn history<V: Lanes, const N: usize>(&self, w: &[V; 4]) -> [f32; N] {
        let rq = recent_len(N) / 8;
        let q8 = 8 * self.q;
        debug_assert!(self.hist.len() == N * q8 && self.line.len >= q8);
        let mut h = [0.0; N];
        // SAFETY: `hist` holds N·8Q coefficients; the line window `[pos, pos + 8Q)` lies inside
        // its newest len ≥ 8Q samples.
        unsafe {
            let lw = self.line.buf.as_ptr().add(self.line.pos);
            let hp = self.hist.as_ptr();
            let mut a = [V::zero(); N];
            for (p, ap) in a.iter_mut().enumerate() {
                *ap = V::mul(V::load(hp.add(p * q8)), w[0]);
            }
            let mut q = 1;
            while 8 * q < q8 {
                let d = if q < rq { w[q] } else { V::load(lw.add(8 * q)) };
                for (p, ap) in a.iter_mut().enumerate() {
                    *ap = ap.madd(V::load(hp.add(p * q8 + 8 * q)), d);
                }
                q += 1;
            }
            for (hp, ap) in h.iter_mut().zip(&a) {
                *hp = ap.hsum();
            }
        }
        h
    }

    fn clear(&mut self) {
        self.line.clear();
        self.recent = Recent::default();
    }
}

/// A [`Dense`] branch's block kernel: its line and coefficients as raw pointers, taken once per
/// block so the loops keep them in registers (see [`Dense::ker`] for what they point to).
#[derive(Clone, Copy)]
struct Ker {
    /// The newest sample of the line.
    lp: *const f32,
    /// Samples of this block (the newest `n` of the line).
    n: usize,
    hp: *const f32,
    q8: usize,
    head: *const f32,
    hv: *const f32,
}

impl Ker {
    /// Block form of [`Dense::run`]: the eight outputs `i + 7, i + 6, …, i` (newest first) of
    /// the block; `i` is a multiple of 8 and `i + 8 ≤ n`.
    ///
    /// # Safety
    /// As stated ([`Dense::ker`] checks the rest).
    #[inline(always)]
    unsafe fn group<V: Lanes, const N: usize>(self, i: usize) -> V {
        let Ker { lp, n, hp, q8, hv, .. } = self;
        debug_assert!(i.is_multiple_of(8) && i + 8 <= n);
        // SAFETY: output o's history window `[lp + n − s, … + 8Q)`, s ≥ 0 its call's first
        // sample, and its call's samples `[lp + n − 1 − o, lp + n − s)` lie inside the line's
        // newest `len ≥ n + 8Q` samples; `hist` holds N·8Q and `headv` ⌈N/8⌉·N·8 coefficients
        // (all checked in `Dense::ker`).
        unsafe {
            // Lane r: output o = i + 7 − r, phase p = o mod N, call start s = o − p.
            let g = if N > 8 { (i % N) / 8 } else { 0 };
            let mut c = [hp; 8];
            let mut d = [lp; 8];
            for r in 0..8 {
                let p = if N > 8 { 8 * g + 7 - r } else { (7 - r) % N };
                c[r] = hp.add(p * q8);
                d[r] = lp.add(n - (i + 7 - r - p));
            }
            let mut a = [V::zero(); 8];
            for r in 0..8 {
                a[r] = V::mul(V::load(c[r]), V::load(d[r]));
            }
            // Two vectors per trip (loop overhead 3 instructions per 21).
            let mut off = 8;
            while off + 16 <= q8 {
                for u in [off, off + 8] {
                    for r in 0..8 {
                        a[r] = a[r].madd(V::load(c[r].add(u)), V::load(d[r].add(u)));
                    }
                }
                off += 16;
            }
            if off < q8 {
                for r in 0..8 {
                    a[r] = a[r].madd(V::load(c[r].add(off)), V::load(d[r].add(off)));
                }
            }
            let mut y = V::hsum8(&a);
            // Lane r of the vector at `b + k` is u[o − k].
            let b = lp.add(n - 8 - i);
            let kmax = if N > 8 { 8 * g + 8 } else { N };
            let hv = hv.add(g * N * 8);
            for k in (0..kmax).rev() {
                y = y.madd(V::load(hv.add(8 * k)), V::load(b.add(k)));
            }
            y
        }
    }

    /// Output `o` (`o < n`) of the block, one at a time: the same expression as
    /// [`Ker::group`] and [`Dense::run`].
    ///
    /// # Safety
    /// As for [`Ker::group`].
    #[inline(always)]
    unsafe fn single<V: Lanes, const N: usize>(self, o: usize) -> f32 {
        let Ker { lp, n, hp, q8, head, .. } = self;
        debug_assert!(o < n);
        // SAFETY: as in `group`.
        unsafe {
            let p = o % N;
            let c = hp.add(p * q8);
            let d = lp.add(n - (o - p));
            let mut a = V::mul(V::load(c), V::load(d));
            let mut off = 8;
            while off < q8 {
                a = a.madd(V::load(c.add(off)), V::load(d.add(off)));
                off += 8;
            }
            let mut y = a.hsum();
            for j in (0..=p).rev() {
                y = V::fma1(*head.add(j), *lp.add(n - 1 - o + j), y);
            }
            y
        }
    }
}

/// `buf[start + 2i]` for `i < N`, one scalar load each, rounded to `f32`.
///
/// The caller (the circuit between `up` and `down`) has just stored these one at a time; a
/// vector load spanning several such stores cannot be forwarded from the store buffer and stalls
/// until they retire, so the loads are kept scalar (volatile, or the compiler merges them).
#[inline(always)]
fn gather<const N: usize>(buf: &[f64; MAX_FACTOR], start: usize) -> [f32; N] {
    let mut v = [0.0; N];
    for (i, vi) in v.iter_mut().enumerate() {
        // SAFETY: a valid, aligned reference.
        *vi = unsafe { std::ptr::read_volatile(&buf[start + 2 * i]) } as f32;
    }
    v
}

/// `out[..N] = v`, one scalar store each (the circuit reads them one at a time; see [`gather`]).
#[inline(always)]
fn scatter<const N: usize>(v: &[f32; N], out: &mut [f64; MAX_FACTOR]) {
    for (o, &x) in out.iter_mut().zip(v) {
        // SAFETY: a valid, aligned reference.
        unsafe { std::ptr::write_volatile(o, x as f64) };
    }
}

/// `[a0, b0, a1, b1, …]` (`M = 2N`).
#[inline(always)]
fn interleave<const N: usize, const M: usize>(a: &[f32; N], b: &[f32; N]) -> [f32; M] {
    debug_assert!(M == 2 * N);
    let mut v = [0.0; M];
    for i in 0..N {
        v[2 * i] = a[i];
        v[2 * i + 1] = b[i];
    }
    v
}

/// Even- and odd-indexed halves of `v` (`N = 2H`).
#[inline(always)]
fn deinterleave<const N: usize, const H: usize>(v: &[f32; N]) -> ([f32; H], [f32; H]) {
    debug_assert!(N == 2 * H);
    let (mut a, mut b) = ([0.0; H], [0.0; H]);
    for i in 0..H {
        a[i] = v[2 * i];
        b[i] = v[2 * i + 1];
    }
    (a, b)
}

/// 2× half-band interpolator (gain 2): each input sample gives a dense-branch output followed by
/// a pure delay (centre tap 2·½ = 1).
#[derive(Debug, Clone)]
struct Up2 {
    dense: Dense,
    k: usize,
}

impl Up2 {
    /// `block`: input samples per call.
    fn new(hb: &Halfband, block: usize) -> Self {
        Self { dense: Dense::new(&hb.dense(2.0), block), k: hb.k() }
    }
    /// Delay at the higher rate.
    fn delay(&self) -> usize {
        2 * self.k + 1
    }
    /// `N` samples (time order) in; the dense-branch outputs and the delayed inputs out, to be
    /// interleaved.
    #[inline(always)]
    fn process<V: Lanes, const N: usize>(&mut self, x: &[f32; N]) -> ([f32; N], [f32; N]) {
        let k = self.k;
        // u[i − k]: from this call, or `k − i − 1` back from the newest sample before it.
        let mut d = [0.0; N];
        for (i, di) in d.iter_mut().enumerate() {
            *di = if k <= i { x[i - k] } else { self.dense.line.at(k - i - 1) };
        }
        let mut y = [0.0; N];
        self.dense.run::<V, N>(x, &mut y);
        (y, d)
    }
    /// Block form: `u` (time order, a multiple of `N` samples, at most `BLOCK·N`) in,
    /// `w[..2·u.len()]` out. The pure delay `u[i − k]` is read from the line (which holds the
    /// samples before this block contiguously with it) and interleaved with the dense outputs in
    /// registers as they are stored.
    #[inline(always)]
    fn process_block<V: Lanes, const N: usize, I: Elem, O: Elem>(&mut self, u: &[I], w: &mut [O]) {
        let n = u.len();
        self.dense.line.push::<V, I>(u);
        let k = self.k;
        let ker = self.dense.ker::<N>(n);
        assert!(2 * n <= w.len() && n + k <= self.dense.line.len);
        // SAFETY: `group`'s and `single`'s conditions hold (`Dense::ker` checks the line and
        // coefficients); the delayed input u[o − k] lies within the newest n + k ≤ len samples;
        // the writes are inside `w` (asserted).
        unsafe {
            let lp = ker.lp;
            let wp = w.as_mut_ptr();
            let mut i = 0;
            while i + 8 <= n {
                O::store_zip::<V>(wp.add(2 * i), ker.group::<V, N>(i), V::load(lp.add(n - 8 - i + k)));
                i += 8;
            }
            while i < n {
                *wp.add(2 * i) = O::from32(ker.single::<V, N>(i));
                *wp.add(2 * i + 1) = O::from32(*lp.add(n - 1 - i + k));
                i += 1;
            }
        }
        self.dense.save_recent::<V, N>();
    }
    fn clear(&mut self) {
        self.dense.clear();
    }
}

/// 2× half-band decimator (gain 1). Block `i` is `(x[2i], x[2i+1])`; the output is the filter
/// evaluated at `x[2i+1]` (delay 2k at the higher rate: dense branch on the odd samples, centre tap
/// on the even ones), or, if `late`, at `x[2i]` (delay 2k + 1: dense branch on the even samples).
/// The centre tap is added last, `y = dense + ½·u` (`½·u` exact).
#[derive(Debug, Clone)]
struct Down2 {
    dense: Dense,
    k: usize,
    late: bool,
    /// The other phase, read only at the centre tap.
    centre: Line,
}

impl Down2 {
    /// `block`: output samples per call.
    fn new(hb: &Halfband, late: bool, block: usize) -> Self {
        let centre = Line::new(hb.k() + 1 + BLOCK * block, block);
        Self { dense: Dense::new(&hb.dense(1.0), block), k: hb.k(), late, centre }
    }
    fn delay(&self) -> usize {
        2 * self.k + self.late as usize
    }
    /// First (`a`) and second (`b`) samples of `N` pairs in, `N` outputs out.
    #[inline(always)]
    fn process<V: Lanes, const N: usize>(&mut self, a: &[f32; N], b: &[f32; N]) -> [f32; N] {
        // Two copies rather than a select, which the compiler would do through memory.
        if self.late {
            self.phase::<V, N, true>(a, b)
        } else {
            self.phase::<V, N, false>(b, a)
        }
    }
    /// Dense branch on `xd`, centre tap on `xo`.
    #[inline(always)]
    fn phase<V: Lanes, const N: usize, const LATE: bool>(&mut self, xd: &[f32; N], xo: &[f32; N]) -> [f32; N] {
        let ck = self.k + LATE as usize;
        let mut c = [0.0; N];
        for (i, ci) in c.iter_mut().enumerate() {
            *ci = if ck <= i { xo[i - ck] } else { self.centre.at(ck - i - 1) };
        }
        self.centre.push_block(xo);
        let mut y = [0.0; N];
        self.dense.run::<V, N>(xd, &mut y);
        for i in 0..N {
            y[i] += 0.5 * c[i];
        }
        y
    }
    /// Block form: `v` (time order, `2n` samples, `n` a multiple of `N`, at most `BLOCK·N`) in,
    /// `y[..n]` out.
    #[inline(always)]
    fn process_block<V: Lanes, const N: usize, I: Elem>(&mut self, v: &[I], y: &mut [f32]) {
        let n = v.len() / 2;
        let ck = self.k + self.late as usize;
        // Both phases appended in one pass over the pairs.
        if self.late {
            Line::push_pairs::<V, I>(&mut self.dense.line, &mut self.centre, v);
        } else {
            Line::push_pairs::<V, I>(&mut self.centre, &mut self.dense.line, v);
        }
        let (ker, c) = (self.dense.ker::<N>(n), &self.centre);
        assert!(n <= y.len() && n + ck <= c.len);
        // SAFETY: as in `Up2::process_block`; the centre sample u[o − ck] lies within the
        // centre line's newest n + ck ≤ len samples.
        unsafe {
            let cp = c.buf.as_ptr().add(c.pos);
            let yp = y.as_mut_ptr();
            let half = V::splat(0.5);
            let mut i = 0;
            while i + 8 <= n {
                let u = V::load(cp.add(n - 8 - i + ck));
                ker.group::<V, N>(i).add(V::mul(half, u)).reverse().storeu(yp.add(i));
                i += 8;
            }
            while i < n {
                *yp.add(i) = ker.single::<V, N>(i) + 0.5 * *cp.add(n - 1 - i + ck);
                i += 1;
            }
        }
        self.dense.save_recent::<V, N>();
    }
    fn clear(&mut self) {
        self.dense.clear();
        self.centre.clear();
    }
}

/// The outermost 2× decimator (2·fs → fs, gain 1): a general linear-phase low-pass `h` with
/// `2m + 1` taps, all non-zero (see [`design_decimator`]), in two polyphase branches at the base
/// rate, `2m + 1` multiply-adds per output in all, the two branches' outputs added last. Pair `i`
/// is `(x[2i], x[2i+1])`; the output is the filter evaluated at `x[2i+1]`,
/// `y[i] = Σ_j h[j]·x[2i + 1 − j]` (delay `m − 1` at 2·fs), or, if `late`, at `x[2i]` (delay `m`).
#[derive(Debug, Clone)]
struct DownOuter {
    /// On the sample the output is evaluated at (`x[2i+1]`, or `x[2i]` if late): taps `h[0], h[2], …`.
    aligned: Dense,
    /// On the other sample: `h[1], h[3], …` on `x[2i]`, or, if late, `0, h[1], h[3], …` on
    /// `x[2i+1]` (that is, `h[2j+1]` on `x[2(i − 1 − j) + 1]`).
    other: Dense,
    m: usize,
    late: bool,
}

impl DownOuter {
    /// `h`: all `2m + 1` taps (symmetric).
    fn new(h: &[f64], late: bool) -> Self {
        assert!(h.len() % 2 == 1 && h.len() >= 3);
        let even: Vec<f64> = h.iter().step_by(2).copied().collect();
        let odd = h.iter().skip(1).step_by(2).copied();
        let other: Vec<f64> = if late { std::iter::once(0.0).chain(odd).collect() } else { odd.collect() };
        Self { aligned: Dense::new(&even, 1), other: Dense::new(&other, 1), m: h.len() / 2, late }
    }
    #[cfg(test)]
    fn taps(&self) -> usize {
        2 * self.m + 1
    }
    /// Delay at the higher rate.
    fn delay(&self) -> usize {
        self.m - 1 + self.late as usize
    }
    /// One pair `(x[2i], x[2i+1])` in, one output out.
    #[inline(always)]
    fn process<V: Lanes>(&mut self, a: f32, b: f32) -> f64 {
        // Two copies rather than a select, as in `Down2::process`.
        if self.late {
            self.phase::<V>(a, b)
        } else {
            self.phase::<V>(b, a)
        }
    }
    /// `aligned` on `p`, `other` on `q`.
    #[inline(always)]
    fn phase<V: Lanes>(&mut self, p: f32, q: f32) -> f64 {
        let (mut y0, mut y1) = ([0.0], [0.0]);
        self.aligned.run::<V, 1>(&[p], &mut y0);
        self.other.run::<V, 1>(&[q], &mut y1);
        (y0[0] + y1[0]) as f64
    }
    /// Block form: `v` (time order, `2n` samples, `n` at most `BLOCK`) in, `y[..n]` out.
    #[inline(always)]
    fn process_block<V: Lanes, I: Elem>(&mut self, v: &[I], y: &mut [f64]) {
        let n = v.len() / 2;
        // Both phases appended in one pass over the pairs.
        if self.late {
            Line::push_pairs::<V, I>(&mut self.aligned.line, &mut self.other.line, v);
        } else {
            Line::push_pairs::<V, I>(&mut self.other.line, &mut self.aligned.line, v);
        }
        let (a, b) = (self.aligned.ker::<1>(n), self.other.ker::<1>(n));
        assert!(n <= y.len());
        // SAFETY: as in `Up2::process_block`; the writes are inside `y` (asserted).
        unsafe {
            let yp = y.as_mut_ptr();
            let mut i = 0;
            while i + 8 <= n {
                let s = a.group::<V, 1>(i).add(b.group::<V, 1>(i));
                s.reverse().store_f64(yp.add(i));
                i += 8;
            }
            while i < n {
                *yp.add(i) = (a.single::<V, 1>(i) + b.single::<V, 1>(i)) as f64;
                i += 1;
            }
        }
        self.aligned.save_recent::<V, 1>();
        self.other.save_recent::<V, 1>();
    }
    fn clear(&mut self) {
        self.aligned.clear();
        self.other.clear();
    }
}

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
        let mut factor = 1;
        while (factor as f64) * fs_hz < quality.min_internal_rate_hz() * 0.999 && factor < MAX_FACTOR {
            factor *= 2;
        }
        let stages = factor.trailing_zeros() as usize;
        let atten = quality.atten_db();
        let f_pass = (20_000.0f64).min(0.4535 * fs_hz);
        // Stage s (1-based) runs between rates 2^(s−1)·fs and 2^s·fs.
        let hbs: Vec<Halfband> = (1..=stages)
            .map(|s| {
                let rate_out = (1usize << s) as f64 * fs_hz;
                let edge = if s == 1 { f_pass } else { 0.5 * fs_hz };
                design_halfband(edge / rate_out, atten)
            })
            .collect();
        // The outermost decimator stops at fs/2 (see the module docs): passband to f_pass,
        // stopband from a quarter of 2·fs.
        let dec = (stages >= 1).then(|| design_decimator(f_pass / (2.0 * fs_hz), atten));
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
        Self { factor, up, down, outer, latency: acc / factor, scratch, avx2: has_avx2_fma() }
    }

    /// Runs the AVX2 stages (`on`, and only on a CPU that has AVX2 and FMA) or the portable ones.
    /// The engine sets it from its one instruction-set choice, so its baseline runs are baseline
    /// throughout.
    pub fn set_avx2(&mut self, on: bool) {
        self.avx2 = on && has_avx2_fma();
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
mod tests {
    use super::*;
    use realfft::RealFftPlanner;

    const RATES: [f64; 7] = [22_050.0, 44_100.0, 48_000.0, 88_200.0, 96_000.0, 176_400.0, 192_000.0];
    const QUALITIES: [Quality; 2] = [Quality::Default, Quality::High];

    fn through(os: &mut Oversampler, x: &[f64]) -> Vec<f64> {
        let mut buf = [0.0; MAX_FACTOR];
        x.iter()
            .map(|&v| {
                os.up(v, &mut buf);
                os.down(&mut buf)
            })
            .collect()
    }

    fn f_pass(fs: f64) -> f64 {
        (20_000.0f64).min(0.4535 * fs)
    }

    /// `|DFT(h)|` on `n` bins (zero-padded), bin `i` at `i/n` cycles per sample.
    fn magnitude(h: &[f64], n: usize) -> Vec<f64> {
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n);
        let mut x = vec![0.0; n];
        x[..h.len()].copy_from_slice(h);
        let mut s = fft.make_output_vec();
        fft.process(&mut x, &mut s).unwrap();
        s.iter().map(|c| c.norm()).collect()
    }

    /// Up-then-down impulse response at the base rate.
    fn base_ir(os: &mut Oversampler) -> Vec<f64> {
        os.reset();
        let mut x = vec![0.0; 2 * os.latency() + 64];
        x[0] = 1.0;
        through(os, &x)
    }

    /// Interpolator impulse response at the internal rate.
    fn up_ir(os: &mut Oversampler) -> Vec<f64> {
        os.reset();
        let f = os.factor();
        let mut buf = [0.0; MAX_FACTOR];
        let mut h = vec![];
        for n in 0..2 * os.latency() + 64 {
            os.up(if n == 0 { 1.0 } else { 0.0 }, &mut buf);
            h.extend_from_slice(&buf[..f]);
        }
        h
    }

    /// The decimator as one filter `g` at the internal rate: output `n` is `Σ_d g[d]·v[F·n − d]`,
    /// returned from `d = −(F − 1)` on.
    fn down_ir(os: &mut Oversampler) -> Vec<f64> {
        let f = os.factor();
        let blocks = 2 * os.latency() + 64;
        let mut g = vec![0.0; f * blocks + f];
        for p in f..2 * f {
            os.reset();
            let mut buf = [0.0; MAX_FACTOR];
            for n in 0..blocks {
                buf[..f].iter_mut().enumerate().for_each(|(i, v)| *v = if n * f + i == p { 1.0 } else { 0.0 });
                let y = os.down(&mut buf);
                if n * f + f > p {
                    g[n * f + f - 1 - p] = y; // d = F·n − p, stored at d + F − 1
                }
            }
        }
        g
    }

    /// Peak of `mag / dc` (dB) over `|f − k·fs| ≤ width`, `k ≥ 1`, up to the internal Nyquist.
    fn image_peak_db(mag: &[f64], dc: f64, fs: f64, factor: usize, width: f64) -> f64 {
        let n = 2 * (mag.len() - 1);
        let rate = fs * factor as f64;
        let mut peak = f64::NEG_INFINITY;
        for (i, m) in mag.iter().enumerate() {
            let f = i as f64 * rate / n as f64;
            let k = (f / fs).round();
            if k >= 1.0 && (f - k * fs).abs() <= width {
                peak = peak.max(20.0 * (m / dc).log10());
            }
        }
        peak
    }

    fn min_atten(q: Quality) -> f64 {
        match q {
            Quality::Default => 90.0,
            Quality::High => 110.0,
        }
    }

    #[test]
    fn rates_follow_quality() {
        let f = |fs, q| Oversampler::new(fs, q).factor();
        assert_eq!([f(44_100.0, Quality::Default), f(48_000.0, Quality::Default)], [4, 4]);
        assert_eq!([f(88_200.0, Quality::Default), f(96_000.0, Quality::Default)], [2, 2]);
        assert_eq!([f(176_400.0, Quality::Default), f(192_000.0, Quality::Default)], [1, 1]);
        assert_eq!([f(44_100.0, Quality::High), f(48_000.0, Quality::High), f(22_050.0, Quality::High)], [8, 8, 16]);
        assert_eq!(f(11_025.0, Quality::High), 32);
        let os = Oversampler::new(192_000.0, Quality::Default);
        assert_eq!(os.latency(), 0);
    }

    #[test]
    fn impulse_peaks_at_reported_latency() {
        for &fs in &[11_025.0, 22_050.0, 44_100.0, 48_000.0, 96_000.0, 192_000.0] {
            for q in QUALITIES {
                let mut os = Oversampler::new(fs, q);
                let mut x = vec![0.0; 4096];
                x[100] = 1.0;
                let y = through(&mut os, &x);
                let (imax, _) = y.iter().enumerate().fold((0, 0.0), |(bi, bv), (i, &v)| {
                    if v.abs() > bv { (i, v.abs()) } else { (bi, bv) }
                });
                assert_eq!(imax, 100 + os.latency(), "fs {fs} {q:?}");
            }
        }
    }

    /// Linear phase: every filter's taps are symmetric (exactly, as stored in `f32`), and the
    /// up-then-down impulse response is symmetric about the reported latency up to the `f32`
    /// arithmetic's rounding (each sample within 1e-6 of the peak, −120 dB; measured ≤ 6e-8).
    #[test]
    fn response_is_symmetric_about_latency() {
        for fs in RATES {
            for q in QUALITIES {
                let os = Oversampler::new(fs, q);
                let sym = |c: &[f32]| c.iter().zip(c.iter().rev()).all(|(a, b)| a == b);
                for u in &os.up {
                    let d = &u.dense;
                    // Taps 1… of phase 0, then tap 0: the whole dense branch.
                    let taps: Vec<f32> = std::iter::once(d.head[0]).chain(d.hist[..8 * d.q].iter().copied()).take(2 * u.k + 2).collect();
                    assert!(sym(&taps), "fs {fs} {q:?}: up stage taps");
                }
                if let Some(o) = &os.outer {
                    let (a, b) = (&o.aligned, &o.other);
                    let even: Vec<f32> = std::iter::once(a.head[0]).chain(a.hist[..8 * a.q].iter().copied()).collect();
                    let odd: Vec<f32> = std::iter::once(b.head[0]).chain(b.hist[..8 * b.q].iter().copied()).collect();
                    let h: Vec<f32> = (0..2 * o.m + 1).map(|j| if j % 2 == 0 { even[j / 2] } else { odd[j / 2 + o.late as usize] }).collect();
                    assert!(sym(&h), "fs {fs} {q:?}: outer decimator taps");
                }
            }
        }
        for fs in RATES {
            for q in QUALITIES {
                let mut os = Oversampler::new(fs, q);
                let h = base_ir(&mut os);
                let l = os.latency();
                let peak = h[l];
                for j in 1..=l {
                    assert!((h[l - j] - h[l + j]).abs() < 1e-6 * peak, "fs {fs} {q:?} j {j}");
                }
                assert!(h[2 * l + 1..].iter().all(|v| v.abs() < 1e-12 * peak), "fs {fs} {q:?}: longer than 2·latency + 1");
            }
        }
    }

    /// Up-then-down is flat within ±0.003 dB up to 20 kHz (0.4535·fs below 44.1 kHz).
    #[test]
    fn passband_is_flat() {
        for fs in RATES {
            for q in QUALITIES {
                let mut os = Oversampler::new(fs, q);
                let n = 8192;
                let mag = magnitude(&base_ir(&mut os), n);
                let worst = mag
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i as f64 * fs / n as f64 <= f_pass(fs))
                    .map(|(_, m)| (20.0 * m.log10()).abs())
                    .fold(0.0, f64::max);
                assert!(worst <= 0.003, "fs {fs} {q:?}: passband deviation {worst:.5} dB");
            }
        }
    }

    /// Interpolator images of 0…f_pass are ≥ 90 dB (Default) / 110 dB (High) down.
    #[test]
    fn interpolator_images_are_rejected() {
        for fs in RATES {
            for q in QUALITIES {
                let mut os = Oversampler::new(fs, q);
                if os.factor() == 1 {
                    continue;
                }
                let h = up_ir(&mut os);
                let mag = magnitude(&h, (h.len() * 8).next_power_of_two());
                let peak = image_peak_db(&mag, os.factor() as f64, fs, os.factor(), f_pass(fs));
                assert!(peak <= -min_atten(q), "fs {fs} {q:?}: images at {peak:.1} dB");
            }
        }
    }

    /// Whatever would fold anywhere into 0…fs/2 on the way down (everything from fs/2 up) is
    /// ≥ 90 dB (Default) / 110 dB (High) down.
    #[test]
    fn decimator_aliases_are_rejected() {
        for fs in RATES {
            for q in QUALITIES {
                let mut os = Oversampler::new(fs, q);
                if os.factor() == 1 {
                    continue;
                }
                let g = down_ir(&mut os);
                // Unit DC gain up to the f32 taps and arithmetic (measured ≤ 1e-7).
                assert!((g.iter().sum::<f64>() - 1.0).abs() < 1e-6, "fs {fs} {q:?}: DC gain");
                let mag = magnitude(&g, (g.len() * 8).next_power_of_two());
                let peak = image_peak_db(&mag, 1.0, fs, os.factor(), 0.5 * fs);
                assert!(peak <= -min_atten(q), "fs {fs} {q:?}: aliases at {peak:.1} dB");
            }
        }
    }

    /// The outermost decimator on its own, checked by FFT: odd length, every tap non-zero, flat
    /// to ±0.001 dB up to f_pass, ≥ 90 dB (Default) / 110 dB (High) down from fs/2.
    #[test]
    fn outer_decimator_meets_its_spec() {
        for fs in [11_025.0, 22_050.0, 44_100.0, 48_000.0, 88_200.0, 96_000.0, 176_400.0] {
            for q in QUALITIES {
                let h = design_decimator(f_pass(fs) / (2.0 * fs), q.atten_db());
                assert!(h.len() % 2 == 1 && h.iter().all(|&v| v != 0.0), "fs {fs} {q:?}");
                let n = (h.len() * 64).next_power_of_two();
                let mag = magnitude(&h, n);
                let f = |i: usize| i as f64 * 2.0 * fs / n as f64;
                let pass = (0..mag.len()).filter(|&i| f(i) <= f_pass(fs)).map(|i| (20.0 * mag[i].log10()).abs()).fold(0.0, f64::max);
                let stop = (0..mag.len()).filter(|&i| f(i) >= 0.5 * fs).map(|i| 20.0 * mag[i].log10()).fold(f64::NEG_INFINITY, f64::max);
                assert!(pass <= 0.001, "fs {fs} {q:?}: passband ±{pass:.5} dB");
                assert!(stop <= -min_atten(q), "fs {fs} {q:?}: stopband {stop:.1} dB");
            }
        }
    }

    /// The outermost decimator stops at fs/2 itself, well below the half-band's `fs − f_pass`:
    /// internal-rate tones between the two, fed to `down` and `down_block`, come out (folded into
    /// f_pass…fs/2) ≥ 90 dB (Default) / 110 dB (High) down, the same from both.
    #[test]
    fn tones_between_half_rate_and_stopband_do_not_fold() {
        let cases: [(f64, &[f64]); 5] = [
            (48_000.0, &[24_100.0, 25_000.0, 27_000.0, 27_900.0]),
            (44_100.0, &[22_100.0, 23_000.0, 24_000.0]),
            (22_050.0, &[11_100.0, 11_500.0, 12_000.0]),
            (96_000.0, &[48_500.0, 60_000.0, 75_000.0]),
            (176_400.0, &[88_500.0, 150_000.0]),
        ];
        for (fs, tones) in cases {
            for q in QUALITIES {
                for &ft in tones {
                    let mut a = Oversampler::new(fs, q);
                    let f = a.factor();
                    if f == 1 {
                        continue;
                    }
                    let mut b = a.clone();
                    let n = 4096;
                    let rate = fs * f as f64;
                    let v: Vec<f64> = (0..n * f).map(|k| (2.0 * PI * ft * k as f64 / rate).sin()).collect();
                    let mut buf = [0.0; MAX_FACTOR];
                    let ya: Vec<f64> = v
                        .chunks(f)
                        .map(|c| {
                            buf[..f].copy_from_slice(c);
                            a.down(&mut buf)
                        })
                        .collect();
                    let mut yb = vec![0.0; n];
                    let mut pos = 0;
                    for len in [37, 64, 1, 200, 130].into_iter().cycle() {
                        let len = len.min(n - pos);
                        b.down_block(&v[pos * f..(pos + len) * f], &mut yb[pos..pos + len]);
                        pos += len;
                        if pos == n {
                            break;
                        }
                    }
                    for (i, (p, r)) in ya.iter().zip(&yb).enumerate() {
                        assert!((p - r).abs() < 1e-12, "fs {fs} {q:?} {ft} Hz, output {i}: {p} vs {r}");
                    }
                    // Past the start-up transient the output is the folded tone alone.
                    let peak = ya[2 * a.latency() + 64..].iter().fold(0.0f64, |m, y| m.max(y.abs()));
                    let db = 20.0 * peak.log10();
                    assert!(db <= -min_atten(q), "fs {fs} {q:?}: {ft} Hz folds to {} Hz at {db:.1} dB", fs - ft);
                }
            }
        }
    }

    fn noise(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn reset_restores_the_initial_state() {
        for q in QUALITIES {
            let x = noise(500, 1);
            let mut os = Oversampler::new(44_100.0, q);
            let first = through(&mut os, &x);
            through(&mut os, &noise(300, 2));
            os.reset();
            assert_eq!(through(&mut os, &x), first, "{q:?}");
        }
    }

    /// The AVX2 build and the baseline build differ only by rounding: the same expression for
    /// every output, the AVX2 build fusing each multiply-add (one `f32` rounding) where the
    /// baseline rounds product and sum separately. Within 32 units of `f32` rounding at full
    /// scale (3.8e-6; measured ≤ 4.8e-7).
    #[test]
    fn baseline_and_avx2_agree() {
        let tol = 32.0 * f32::EPSILON as f64;
        for &fs in &[22_050.0, 44_100.0, 96_000.0] {
            for q in QUALITIES {
                let mut a = Oversampler::new(fs, q);
                let mut b = a.clone();
                b.avx2 = false;
                let (mut ba, mut bb) = ([0.0; MAX_FACTOR], [0.0; MAX_FACTOR]);
                for (n, &v) in noise(2000, 3).iter().enumerate() {
                    a.up(v, &mut ba);
                    b.up(v, &mut bb);
                    for i in 0..a.factor() {
                        assert!((ba[i] - bb[i]).abs() < tol, "fs {fs} {q:?} up n {n}");
                    }
                    // Feed both decimators the same (nonlinear) signal.
                    let y: Vec<f64> = ba[..a.factor()].iter().map(|v| v.tanh()).collect();
                    ba[..y.len()].copy_from_slice(&y);
                    bb[..y.len()].copy_from_slice(&y);
                    assert!((a.down(&mut ba) - b.down(&mut bb)).abs() < tol, "fs {fs} {q:?} down n {n}");
                }
            }
        }
    }

    /// The block methods give exactly what the per-sample ones give, including when the two are
    /// interleaved and when blocks do not divide evenly into chunks, in the AVX2 build (where the
    /// CPU has it) and in the baseline build (each against itself; the two builds against each
    /// other: `baseline_and_avx2_agree`).
    #[test]
    fn blocks_match_samples() {
        for (fs, q, baseline) in [11_025.0, 22_050.0, 44_100.0, 48_000.0, 96_000.0, 192_000.0]
            .into_iter()
            .flat_map(|fs| QUALITIES.into_iter().flat_map(move |q| [(fs, q, false), (fs, q, true)]))
        {
            {
                let mut a = Oversampler::new(fs, q);
                if baseline {
                    a.avx2 = false;
                }
                let mut b = a.clone();
                // Upsamples every block with `f32` output.
                let mut c = a.clone();
                let f = a.factor();
                let x = noise(700, 6);
                let mut buf = [0.0; MAX_FACTOR];
                let mut pos = 0;
                for (blk, len) in [37, 1, 130, 2, 64, 200, 5, 261].into_iter().enumerate() {
                    let xs = &x[pos..pos + len];
                    pos += len;
                    let mut up_a = vec![0.0; len * f];
                    for (i, &v) in xs.iter().enumerate() {
                        a.up(v, &mut buf);
                        up_a[i * f..(i + 1) * f].copy_from_slice(&buf[..f]);
                    }
                    let mut up_b = vec![0.0; len * f];
                    if blk % 3 == 2 {
                        // Sample by sample on both sides now and then.
                        for (i, &v) in xs.iter().enumerate() {
                            b.up(v, &mut buf);
                            up_b[i * f..(i + 1) * f].copy_from_slice(&buf[..f]);
                        }
                    } else {
                        b.up_block(xs, &mut up_b);
                    }
                    for (i, (p, r)) in up_a.iter().zip(&up_b).enumerate() {
                        assert_eq!(p, r, "fs {fs} {q:?} block {blk} up {i}");
                    }
                    if f > 1 {
                        let mut up_c = vec![0.0f32; len * f];
                        c.up_block_f32(xs, &mut up_c);
                        for (i, (p, r)) in up_a.iter().zip(&up_c).enumerate() {
                            assert_eq!(*p, *r as f64, "fs {fs} {q:?} block {blk} up (f32) {i}");
                        }
                    }
                    let v: Vec<f64> = up_a.iter().map(|v| (1.5 * v).tanh()).collect();
                    let ya: Vec<f64> = v
                        .chunks(f)
                        .map(|c| {
                            buf[..f].copy_from_slice(c);
                            a.down(&mut buf)
                        })
                        .collect();
                    let mut yb = vec![0.0; len];
                    if blk % 3 == 1 {
                        for (i, c) in v.chunks(f).enumerate() {
                            buf[..f].copy_from_slice(c);
                            yb[i] = b.down(&mut buf);
                        }
                    } else {
                        b.down_block(&v, &mut yb);
                    }
                    for (i, (p, r)) in ya.iter().zip(&yb).enumerate() {
                        assert_eq!(p, r, "fs {fs} {q:?} block {blk} down {i}");
                    }
                }
            }
        }
    }

    /// Counts this thread's heap allocations.
    mod counting {
        use std::alloc::{GlobalAlloc, Layout, System};
        use std::cell::Cell;

        thread_local! {
            pub static ALLOCS: Cell<usize> = const { Cell::new(0) };
        }

        pub struct Counting;

        // SAFETY: forwards to the system allocator.
        unsafe impl GlobalAlloc for Counting {
            unsafe fn alloc(&self, l: Layout) -> *mut u8 {
                ALLOCS.with(|a| a.set(a.get() + 1));
                // SAFETY: same contract as ours.
                unsafe { System.alloc(l) }
            }
            unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
                // SAFETY: same contract as ours.
                unsafe { System.dealloc(p, l) }
            }
        }

        #[global_allocator]
        static A: Counting = Counting;
    }

    #[test]
    fn up_down_reset_do_not_allocate() {
        let before = counting::ALLOCS.with(|a| a.get());
        std::hint::black_box(vec![0u8; 16]);
        assert!(counting::ALLOCS.with(|a| a.get()) > before, "the counter counts");
        for fs in [11_025.0, 44_100.0, 96_000.0] {
            for q in QUALITIES {
                let mut os = Oversampler::new(fs, q);
                let x = noise(256, 4);
                let mut buf = [0.0; MAX_FACTOR];
                let before = counting::ALLOCS.with(|a| a.get());
                let mut acc = 0.0;
                for &v in &x {
                    os.up(v, &mut buf);
                    acc += os.down(&mut buf);
                }
                let mut hi = [0.0; 100 * MAX_FACTOR];
                let mut y = [0.0; 100];
                os.up_block(&x[..100], &mut hi);
                os.down_block(&hi, &mut y);
                os.reset();
                let after = counting::ALLOCS.with(|a| a.get());
                assert_eq!(after, before, "fs {fs} {q:?}");
                assert!(acc.is_finite());
            }
        }
    }

    /// `cargo test --release --lib resample -- --ignored --nocapture`: taps (half-band stages,
    /// outermost first, then the outermost decimator), latency, measured ripple and rejection,
    /// and ns per base sample (up + down) for each rate and quality.
    #[test]
    #[ignore]
    fn report() {
        let x = noise(48_000, 5);
        for fs in RATES {
            for q in QUALITIES {
                let t0 = std::time::Instant::now();
                let mut os = Oversampler::new(fs, q);
                let design_ms = t0.elapsed().as_secs_f64() * 1e3;
                let mag = magnitude(&base_ir(&mut os), 8192);
                let ripple = mag
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i as f64 * fs / 8192.0 <= f_pass(fs))
                    .map(|(_, m)| (20.0 * m.log10()).abs())
                    .fold(0.0, f64::max);
                let (img, ali) = if os.factor() > 1 {
                    let h = up_ir(&mut os);
                    let g = down_ir(&mut os);
                    (
                        image_peak_db(&magnitude(&h, (h.len() * 8).next_power_of_two()), os.factor() as f64, fs, os.factor(), f_pass(fs)),
                        image_peak_db(&magnitude(&g, (g.len() * 8).next_power_of_two()), 1.0, fs, os.factor(), 0.5 * fs),
                    )
                } else {
                    (f64::NEG_INFINITY, f64::NEG_INFINITY)
                };
                os.reset();
                let mut buf = [0.0; MAX_FACTOR];
                let mut acc = 0.0;
                let mut best = f64::INFINITY;
                for _ in 0..20 {
                    let t0 = std::time::Instant::now();
                    for &v in &x {
                        os.up(v, &mut buf);
                        acc += os.down(&mut buf);
                    }
                    best = best.min(t0.elapsed().as_secs_f64() * 1e9 / x.len() as f64);
                }
                let f = os.factor();
                let mut hi = vec![0.0; 64 * f];
                let mut y = vec![0.0; 64];
                let mut best_blk = f64::INFINITY;
                for _ in 0..20 {
                    let t0 = std::time::Instant::now();
                    for c in x.chunks_exact(64) {
                        os.up_block(c, &mut hi);
                        os.down_block(&hi, &mut y);
                        acc += y[0];
                    }
                    best_blk = best_blk.min(t0.elapsed().as_secs_f64() * 1e9 / x.len() as f64);
                }
                println!(
                    "fs {fs:>6} {q:<7?} {:>2}x taps {:?} decimator {:>3} latency {:>3}  ripple ±{ripple:.5} dB  images {img:.1} dB  aliases (from fs/2) {ali:.1} dB  {best:.1} ns/sample ({best_blk:.1} in blocks of 64)  design {design_ms:.1} ms {}",
                    os.factor(),
                    os.stage_taps(),
                    os.decimator_taps(),
                    os.latency(),
                    acc > 1e300
                );
            }
        }
    }
}
