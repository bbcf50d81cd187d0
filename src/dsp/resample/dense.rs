//! The dot-product machinery of the stages: a dense polyphase branch ([`Dense`]) with its
//! newest samples kept as vectors ([`Recent`]), and the block kernel ([`Ker`]) that computes eight
//! outputs together; the per-sample and block forms give identical results.

use super::*;

/// The newest samples of a dense branch, newest first, kept as whole vectors between calls.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(32))]
pub(super) struct Recent(pub(super) [f32; 32]);

/// How many samples [`Recent`] holds (a multiple of 8) for a stage taking `n` per call: enough
/// that the [`Line`] is only read where it was written two or more calls earlier.
pub(super) const fn recent_len(n: usize) -> usize {
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
pub(super) struct Dense {
    /// For phase `p` (output `p` of a call), `hist[p·8Q + 8q + t] = c[p + 1 + 8q + t]` (zero past
    /// the end).
    pub(super) hist: Vec<f32>,
    /// `Q`, the history vectors per output.
    pub(super) q: usize,
    /// `c[0..N]`, for the call's own samples.
    pub(super) head: Vec<f32>,
    /// For block group `g` (outputs `8g…8g + 7` of a call, phase `8g + 7 − r` in lane `r`) and
    /// tap `k < N`: `headv[(g·N + k)·8 + r] = c[k]` if `k ≤` the lane's phase, else 0.
    pub(super) headv: Vec<f32>,
    pub(super) line: Line,
    pub(super) recent: Recent,
}

impl Dense {
    /// `c`: taps (at least two), newest-sample tap first; `block` samples arrive per call.
    pub(super) fn new(c: &[f64], block: usize) -> Self {
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
    pub(super) fn ker<const N: usize>(&self, n: usize) -> Ker {
        assert!(n.is_multiple_of(N) && n <= BLOCK * N && self.line.len >= n + 8 * self.q);
        assert!(self.hist.len() == N * 8 * self.q && self.headv.len() == N.div_ceil(8) * N * 8);
        // SAFETY: pos + len ≤ buf.len().
        let lp = unsafe { self.line.buf.as_ptr().add(self.line.pos) };
        Ker { lp, n, hp: self.hist.as_ptr(), q8: 8 * self.q, head: self.head.as_ptr(), hv: self.headv.as_ptr() }
    }

    /// Saves the newest samples of the line to [`Recent`] after a block.
    #[inline(always)]
    pub(super) fn save_recent<V: Lanes, const N: usize>(&mut self) {
        let rp = self.recent.0.as_mut_ptr();
        for q in 0..recent_len(N) / 8 {
            // SAFETY: `Recent` holds 32 ≥ recent_len f32, 32-byte aligned; the line holds
            // len ≥ recent_len samples from pos.
            unsafe { V::load(self.line.buf.as_ptr().add(self.line.pos + 8 * q)).store(rp.add(8 * q)) };
        }
    }

    /// Writes the branch output for each of `x` (time order) to `y` and appends `x`.
    #[inline(always)]
    pub(super) fn run<V: Lanes, const N: usize>(&mut self, x: &[f32; N], y: &mut [f32; N]) {
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
    pub(super) fn history<V: Lanes, const N: usize>(&self, w: &[V; 4]) -> [f32; N] {
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

    pub(super) fn clear(&mut self) {
        self.line.clear();
        self.recent = Recent::default();
    }
}

/// A [`Dense`] branch's block kernel: its line and coefficients as raw pointers, taken once per
/// block so the loops keep them in registers (see [`Dense::ker`] for what they point to).
#[derive(Clone, Copy)]
pub(super) struct Ker {
    /// The newest sample of the line.
    pub(super) lp: *const f32,
    /// Samples of this block (the newest `n` of the line).
    pub(super) n: usize,
    pub(super) hp: *const f32,
    pub(super) q8: usize,
    pub(super) head: *const f32,
    pub(super) hv: *const f32,
}

impl Ker {
    /// Block form of [`Dense::run`]: the eight outputs `i + 7, i + 6, …, i` (newest first) of
    /// the block; `i` is a multiple of 8 and `i + 8 ≤ n`.
    ///
    /// # Safety
    /// As stated ([`Dense::ker`] checks the rest).
    #[inline(always)]
    pub(super) unsafe fn group<V: Lanes, const N: usize>(self, i: usize) -> V {
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
    pub(super) unsafe fn single<V: Lanes, const N: usize>(self, o: usize) -> f32 {
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
pub(super) fn gather<const N: usize>(buf: &[f64; MAX_FACTOR], start: usize) -> [f32; N] {
    let mut v = [0.0; N];
    for (i, vi) in v.iter_mut().enumerate() {
        // SAFETY: a valid, aligned reference.
        *vi = unsafe { std::ptr::read_volatile(&buf[start + 2 * i]) } as f32;
    }
    v
}

/// `out[..N] = v`, one scalar store each (the circuit reads them one at a time; see [`gather`]).
#[inline(always)]
pub(super) fn scatter<const N: usize>(v: &[f32; N], out: &mut [f64; MAX_FACTOR]) {
    for (o, &x) in out.iter_mut().zip(v) {
        // SAFETY: a valid, aligned reference.
        unsafe { std::ptr::write_volatile(o, x as f64) };
    }
}

/// `[a0, b0, a1, b1, …]` (`M = 2N`).
#[inline(always)]
pub(super) fn interleave<const N: usize, const M: usize>(a: &[f32; N], b: &[f32; N]) -> [f32; M] {
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
pub(super) fn deinterleave<const N: usize, const H: usize>(v: &[f32; N]) -> ([f32; H], [f32; H]) {
    debug_assert!(N == 2 * H);
    let (mut a, mut b) = ([0.0; H], [0.0; H]);
    for i in 0..H {
        a[i] = v[2 * i];
        b[i] = v[2 * i + 1];
    }
    (a, b)
}
