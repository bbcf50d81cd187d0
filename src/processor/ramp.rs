//! Small per-sample helpers for the processor: linear ramps and a fixed delay line.

/// A linear ramp towards a target, advanced once per base-rate sample. Used for crossfades, where
/// a straight line keeps the sum of two correlated signals at constant amplitude.
#[derive(Debug, Clone, Copy)]
pub struct Ramp {
    value: f64,
    target: f64,
    /// Change per sample (positive).
    step: f64,
}

impl Ramp {
    /// A ramp sitting at `value` that takes `time_s` to travel a distance of 1 at `fs_hz`.
    pub fn new(value: f64, time_s: f64, fs_hz: f64) -> Self {
        Self { value, target: value, step: 1.0 / (time_s * fs_hz).max(1.0) }
    }

    /// Sets the target (reached over time, see [`Ramp::new`]).
    #[inline]
    pub fn set(&mut self, target: f64) {
        self.target = target;
    }

    /// Jumps to the target at once.
    #[inline]
    pub fn snap(&mut self) {
        self.value = self.target;
    }

    /// True once the ramp has reached its target (`next` then returns it unchanged).
    #[inline]
    pub fn settled(&self) -> bool {
        self.value == self.target
    }

    /// True when the ramp sits at `v` and stays there.
    #[inline]
    pub fn at(&self, v: f64) -> bool {
        self.value == v && self.target == v
    }

    /// Advances one sample and returns the new value.
    #[inline]
    pub fn next(&mut self) -> f64 {
        // Within a step (allowing for rounding) we land exactly on the target.
        if (self.target - self.value).abs() <= self.step * (1.0 + 1e-9) {
            self.value = self.target;
        } else if self.value < self.target {
            self.value += self.step;
        } else {
            self.value -= self.step;
        }
        self.value
    }
}

/// A fixed delay of `len` samples (allocated once; `process` never allocates).
#[derive(Debug, Clone)]
pub struct Delay {
    line: Vec<f64>,
    pos: usize,
}

impl Delay {
    /// A delay of `len` samples (0 passes through).
    pub fn new(len: usize) -> Self {
        Self { line: vec![0.0; len], pos: 0 }
    }

    /// Pushes `x` and returns the sample from `len` samples ago: the plain reference
    /// [`Self::process_block`] is held to.
    #[cfg(test)]
    pub fn process(&mut self, x: f64) -> f64 {
        if self.line.is_empty() {
            return x;
        }
        let y = std::mem::replace(&mut self.line[self.pos], x);
        self.pos = if self.pos + 1 == self.line.len() { 0 } else { self.pos + 1 };
        y
    }

    /// [`Self::process`] for a block: `out[i]` is `x[i]` delayed (`out` as long as `x`). Copies
    /// whole runs of the line instead of stepping through it.
    pub fn process_block(&mut self, x: &[f64], out: &mut [f64]) {
        if self.line.is_empty() {
            out.copy_from_slice(x);
            return;
        }
        self.cycle(x, Some(out));
    }

    /// Pushes a block without reading the delayed samples (the line as a history of the last
    /// `len` inputs; see [`Self::oldest_first`]).
    pub fn push_block(&mut self, x: &[f64]) {
        self.cycle(x, None);
    }

    /// The last `len` samples pushed, oldest first.
    pub fn oldest_first(&self) -> impl Iterator<Item = f64> + '_ {
        self.line[self.pos..].iter().chain(&self.line[..self.pos]).copied()
    }

    /// Writes `x` into the line in runs, each slot read into `out` (what came `len` samples ago)
    /// before it is written.
    fn cycle(&mut self, x: &[f64], mut out: Option<&mut [f64]>) {
        let n = self.line.len();
        let mut done = 0;
        while n > 0 && done < x.len() {
            let seg = (x.len() - done).min(n - self.pos);
            if let Some(o) = out.as_deref_mut() {
                o[done..done + seg].copy_from_slice(&self.line[self.pos..self.pos + seg]);
            }
            self.line[self.pos..self.pos + seg].copy_from_slice(&x[done..done + seg]);
            self.pos = (self.pos + seg) % n;
            done += seg;
        }
    }

    /// Clears the line.
    pub fn reset(&mut self) {
        self.line.iter_mut().for_each(|v| *v = 0.0);
        self.pos = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_delay_equals_the_sample_delay() {
        for len in [0usize, 1, 7, 59, 101] {
            let x: Vec<f64> = (0..1000).map(|k| (k as f64 * 0.37).sin()).collect();
            let mut a = Delay::new(len);
            let want: Vec<f64> = x.iter().map(|&v| a.process(v)).collect();
            let mut b = Delay::new(len);
            let mut got = vec![0.0; x.len()];
            let mut i = 0;
            for size in [1usize, 3, 200, 64, 500, 232].iter().cycle() {
                if i >= x.len() {
                    break;
                }
                let k = (*size).min(x.len() - i);
                b.process_block(&x[i..i + k], &mut got[i..i + k]);
                i += k;
            }
            assert_eq!(got, want, "delay {len}");
            // As a history: the last `len` inputs, oldest first, however they were pushed.
            let mut h = Delay::new(len);
            for c in x.chunks(77) {
                h.push_block(c);
            }
            assert!(h.oldest_first().eq(x[x.len() - len..].iter().copied()), "history {len}");
        }
    }

    #[test]
    fn ramp_reaches_target_in_time() {
        // 10 ms at 1 kHz is 10 steps of 0.1.
        let mut r = Ramp::new(0.0, 0.010, 1000.0);
        r.set(1.0);
        let v: Vec<f64> = (0..12).map(|_| r.next()).collect();
        assert!((v[4] - 0.5).abs() < 1e-12);
        assert_eq!(v[9], 1.0);
        assert_eq!(v[11], 1.0);
    }

    #[test]
    fn delay_delays() {
        let mut d = Delay::new(3);
        let y: Vec<f64> = [1.0, 2.0, 3.0, 4.0, 5.0].iter().map(|&x| d.process(x)).collect();
        assert_eq!(y, [0.0, 0.0, 0.0, 1.0, 2.0]);
        let mut z = Delay::new(0);
        assert_eq!(z.process(7.0), 7.0);
    }
}
