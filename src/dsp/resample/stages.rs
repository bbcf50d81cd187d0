//! The oversampler's stages: the half-band interpolator ([`Up2`]), the half-band decimator
//! ([`Down2`]) and the outer decimator that ends at the base rate ([`DownOuter`]).

use super::*;

/// 2× half-band interpolator (gain 2): each input sample gives a dense-branch output followed by
/// a pure delay (centre tap 2·½ = 1).
#[derive(Debug, Clone)]
pub(super) struct Up2 {
    pub(super) dense: Dense,
    pub(super) k: usize,
}

impl Up2 {
    /// `block`: input samples per call.
    pub(super) fn new(hb: &Halfband, block: usize) -> Self {
        Self { dense: Dense::new(&hb.dense(2.0), block), k: hb.k() }
    }
    /// Delay at the higher rate.
    pub(super) fn delay(&self) -> usize {
        2 * self.k + 1
    }
    /// `N` samples (time order) in; the dense-branch outputs and the delayed inputs out, to be
    /// interleaved.
    #[inline(always)]
    pub(super) fn process<V: Lanes, const N: usize>(&mut self, x: &[f32; N]) -> ([f32; N], [f32; N]) {
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
    pub(super) fn process_block<V: Lanes, const N: usize, I: Elem, O: Elem>(&mut self, u: &[I], w: &mut [O]) {
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
    pub(super) fn clear(&mut self) {
        self.dense.clear();
    }
}

/// 2× half-band decimator (gain 1). Block `i` is `(x[2i], x[2i+1])`; the output is the filter
/// evaluated at `x[2i+1]` (delay 2k at the higher rate: dense branch on the odd samples, centre tap
/// on the even ones), or, if `late`, at `x[2i]` (delay 2k + 1: dense branch on the even samples).
/// The centre tap is added last, `y = dense + ½·u` (`½·u` exact).
#[derive(Debug, Clone)]
pub(super) struct Down2 {
    pub(super) dense: Dense,
    pub(super) k: usize,
    pub(super) late: bool,
    /// The other phase, read only at the centre tap.
    pub(super) centre: Line,
}

impl Down2 {
    /// `block`: output samples per call.
    pub(super) fn new(hb: &Halfband, late: bool, block: usize) -> Self {
        let centre = Line::new(hb.k() + 1 + BLOCK * block, block);
        Self { dense: Dense::new(&hb.dense(1.0), block), k: hb.k(), late, centre }
    }
    pub(super) fn delay(&self) -> usize {
        2 * self.k + self.late as usize
    }
    /// First (`a`) and second (`b`) samples of `N` pairs in, `N` outputs out.
    #[inline(always)]
    pub(super) fn process<V: Lanes, const N: usize>(&mut self, a: &[f32; N], b: &[f32; N]) -> [f32; N] {
        // Two copies rather than a select, which the compiler would do through memory.
        if self.late {
            self.phase::<V, N, true>(a, b)
        } else {
            self.phase::<V, N, false>(b, a)
        }
    }
    /// Dense branch on `xd`, centre tap on `xo`.
    #[inline(always)]
    pub(super) fn phase<V: Lanes, const N: usize, const LATE: bool>(&mut self, xd: &[f32; N], xo: &[f32; N]) -> [f32; N] {
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
    pub(super) fn process_block<V: Lanes, const N: usize, I: Elem>(&mut self, v: &[I], y: &mut [f32]) {
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
    pub(super) fn clear(&mut self) {
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
pub(super) struct DownOuter {
    /// On the sample the output is evaluated at (`x[2i+1]`, or `x[2i]` if late): taps `h[0], h[2], …`.
    pub(super) aligned: Dense,
    /// On the other sample: `h[1], h[3], …` on `x[2i]`, or, if late, `0, h[1], h[3], …` on
    /// `x[2i+1]` (that is, `h[2j+1]` on `x[2(i − 1 − j) + 1]`).
    pub(super) other: Dense,
    pub(super) m: usize,
    pub(super) late: bool,
}

impl DownOuter {
    /// `h`: all `2m + 1` taps (symmetric).
    pub(super) fn new(h: &[f64], late: bool) -> Self {
        assert!(h.len() % 2 == 1 && h.len() >= 3);
        let even: Vec<f64> = h.iter().step_by(2).copied().collect();
        let odd = h.iter().skip(1).step_by(2).copied();
        let other: Vec<f64> = if late { std::iter::once(0.0).chain(odd).collect() } else { odd.collect() };
        Self { aligned: Dense::new(&even, 1), other: Dense::new(&other, 1), m: h.len() / 2, late }
    }
    #[cfg(test)]
    pub(super) fn taps(&self) -> usize {
        2 * self.m + 1
    }
    /// Delay at the higher rate.
    pub(super) fn delay(&self) -> usize {
        self.m - 1 + self.late as usize
    }
    /// One pair `(x[2i], x[2i+1])` in, one output out.
    #[inline(always)]
    pub(super) fn process<V: Lanes>(&mut self, a: f32, b: f32) -> f64 {
        // Two copies rather than a select, as in `Down2::process`.
        if self.late {
            self.phase::<V>(a, b)
        } else {
            self.phase::<V>(b, a)
        }
    }
    /// `aligned` on `p`, `other` on `q`.
    #[inline(always)]
    pub(super) fn phase<V: Lanes>(&mut self, p: f32, q: f32) -> f64 {
        let (mut y0, mut y1) = ([0.0], [0.0]);
        self.aligned.run::<V, 1>(&[p], &mut y0);
        self.other.run::<V, 1>(&[q], &mut y1);
        (y0[0] + y1[0]) as f64
    }
    /// Block form: `v` (time order, `2n` samples, `n` at most `BLOCK`) in, `y[..n]` out.
    #[inline(always)]
    pub(super) fn process_block<V: Lanes, I: Elem>(&mut self, v: &[I], y: &mut [f64]) {
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
    pub(super) fn clear(&mut self) {
        self.aligned.clear();
        self.other.clear();
    }
}
