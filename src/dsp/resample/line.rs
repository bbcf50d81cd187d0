//! The stages' history lines (see [`Line`]).

use super::lanes::{Elem, Lanes};
use super::BLOCK;

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
pub(super) struct Line {
    pub(super) buf: Vec<f32>,
    pub(super) pos: usize,
    pub(super) len: usize,
}

impl Line {
    pub(super) fn new(min_len: usize, block: usize) -> Self {
        let len = min_len.max(1).div_ceil(block) * block;
        let spare = (2 * len).max(8 * BLOCK * block);
        Self { buf: vec![0.0; len + spare], pos: spare, len }
    }
    /// Makes room for `n ≤ len` samples below `pos` and moves `pos` down onto them.
    #[inline(always)]
    pub(super) fn make_room(&mut self, n: usize) {
        assert!(n <= self.len);
        if self.pos < n {
            self.shift();
        }
        self.pos -= n;
    }
    /// Moves the newest `len` samples to the top of the buffer.
    #[cold]
    #[inline(never)]
    pub(super) fn shift(&mut self) {
        let top = self.buf.len() - self.len;
        self.buf.copy_within(self.pos..self.pos + self.len, top);
        self.pos = top;
    }
    /// Appends `x` (time order).
    #[inline(always)]
    pub(super) fn push_block<const N: usize>(&mut self, x: &[f32; N]) {
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
    pub(super) fn push<V: Lanes, E: Elem>(&mut self, x: &[E]) {
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
    pub(super) fn push_pairs<V: Lanes, E: Elem>(a: &mut Line, b: &mut Line, v: &[E]) {
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
    pub(super) fn at(&self, age: usize) -> f32 {
        debug_assert!(age < self.len);
        // SAFETY: pos + len ≤ buf.len() and age < len.
        unsafe { *self.buf.get_unchecked(self.pos + age) }
    }
    pub(super) fn clear(&mut self) {
        self.buf.iter_mut().for_each(|x| *x = 0.0);
    }
}
