//! Linear-phase FIR oversampling (2× stages, cascaded) around the nonlinear circuit.
//!
//! Filters are Kaiser-windowed sinc designs (Kaiser, "Nonrecursive digital filter design using the
//! I0-sinh window function", ISCAS 1974; tap count from Kaiser's formula `N ≈ (A − 7.95)/(14.36·Δf)`,
//! Oppenheim & Schafer, *Discrete-Time Signal Processing*, 3rd ed., §7.6). The outermost decimator
//! stops at the base rate's Nyquist frequency, so nothing the nonlinearity creates above it can fold
//! back anywhere in the output band; the passband reaches 20 kHz (or 0.4535·fs below 44.1 kHz).
//!
//! Each stage's delay is a whole number of base-rate samples, so the total latency reported to the
//! host is exact.

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

/// Windowed-sinc low-pass with `taps` (odd) coefficients, cutoff `fc` in cycles per sample,
/// DC gain `gain`.
pub fn design_lowpass(taps: usize, fc: f64, atten_db: f64, gain: f64) -> Vec<f64> {
    let beta = kaiser_beta(atten_db);
    let m = (taps - 1) as f64 / 2.0;
    let i0b = bessel_i0(beta);
    let mut h: Vec<f64> = (0..taps)
        .map(|n| {
            let t = n as f64 - m;
            let sinc = if t == 0.0 { 2.0 * fc } else { (2.0 * PI * fc * t).sin() / (PI * t) };
            let r = t / m.max(1.0);
            let w = bessel_i0(beta * (1.0 - r * r).max(0.0).sqrt()) / i0b;
            sinc * w
        })
        .collect();
    let s: f64 = h.iter().sum();
    h.iter_mut().for_each(|x| *x *= gain / s);
    h
}

/// Tap count for a transition width `df` (cycles/sample), rounded up to `q·k + 1` so the group
/// delay `(N − 1)/2` is a multiple of `q/2` samples.
fn tap_count(atten_db: f64, df: f64, q: usize) -> usize {
    let n = ((atten_db - 7.95) / (14.36 * df)).ceil() as usize + 1;
    n.div_ceil(q) * q + 1
}

/// A history line that keeps the last `len` samples contiguous (written twice), so the FIR dot
/// product is a plain slice product the compiler vectorises.
#[derive(Debug, Clone)]
struct Line {
    buf: Vec<f64>,
    pos: usize,
    len: usize,
}

impl Line {
    fn new(len: usize) -> Self {
        Self { buf: vec![0.0; 2 * len], pos: 0, len }
    }
    #[inline]
    fn push(&mut self, x: f64) {
        self.pos = if self.pos == 0 { self.len - 1 } else { self.pos - 1 };
        self.buf[self.pos] = x;
        self.buf[self.pos + self.len] = x;
    }
    /// Newest first.
    #[inline]
    fn window(&self) -> &[f64] {
        &self.buf[self.pos..self.pos + self.len]
    }
    fn clear(&mut self) {
        self.buf.iter_mut().for_each(|x| *x = 0.0);
    }
}

use super::simd::dot;

/// One polyphase branch: dense taps, or a single tap (the centre of a half-band filter, whose
/// other taps in that branch are exactly zero).
#[derive(Debug, Clone)]
enum Branch {
    Dense(Vec<f64>),
    Single(usize, f64),
}

impl Branch {
    fn new(taps: Vec<f64>) -> Self {
        let nz: Vec<usize> = (0..taps.len()).filter(|&k| taps[k].abs() > 1e-15).collect();
        if nz.len() == 1 {
            Branch::Single(nz[0], taps[nz[0]])
        } else {
            Branch::Dense(taps)
        }
    }
    fn len(&self) -> usize {
        match self {
            Branch::Dense(t) => t.len(),
            Branch::Single(k, _) => k + 1,
        }
    }
    #[inline]
    fn apply(&self, w: &[f64]) -> f64 {
        match self {
            Branch::Dense(t) => dot(t, w),
            Branch::Single(k, h) => h * w[*k],
        }
    }
}

/// Splits `h` into its even and odd polyphase branches.
fn polyphase(h: &[f64]) -> [Branch; 2] {
    [
        Branch::new(h.iter().step_by(2).copied().collect()),
        Branch::new(h.iter().skip(1).step_by(2).copied().collect()),
    ]
}

/// 2× interpolator: one input sample in, two out (polyphase; a half-band prototype makes the even
/// branch a single tap).
#[derive(Debug, Clone)]
struct Up2 {
    ph: [Branch; 2],
    line: Line,
}

impl Up2 {
    fn new(h: &[f64]) -> Self {
        let ph = polyphase(h);
        let len = ph[0].len().max(ph[1].len());
        Self { ph, line: Line::new(len) }
    }
    #[inline]
    fn process(&mut self, x: f64) -> [f64; 2] {
        self.line.push(x);
        let w = self.line.window();
        [self.ph[0].apply(w), self.ph[1].apply(w)]
    }
    fn clear(&mut self) {
        self.line.clear();
    }
}

/// 2× decimator: two input samples in, one out, aligned with the even input sample so each stage
/// delays by exactly (N − 1)/2 samples of its input rate. Polyphase:
/// `y[n] = Σ_j h[2j]·x_even[n−j] + Σ_j h[2j+1]·x_odd[n−1−j]`.
#[derive(Debug, Clone)]
struct Down2 {
    ph: [Branch; 2],
    even: Line,
    odd: Line,
}

impl Down2 {
    fn new(h: &[f64]) -> Self {
        let ph = polyphase(h);
        let (l0, l1) = (ph[0].len().max(1), ph[1].len().max(1));
        Self { ph, even: Line::new(l0), odd: Line::new(l1) }
    }
    #[inline]
    fn process(&mut self, x: [f64; 2]) -> f64 {
        self.even.push(x[0]);
        let y = self.ph[0].apply(self.even.window()) + self.ph[1].apply(self.odd.window());
        self.odd.push(x[1]);
        y
    }
    fn clear(&mut self) {
        self.even.clear();
        self.odd.clear();
    }
}

/// Render quality: how far above the band the nonlinearity runs and how deep the filters stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Quality {
    /// Real-time default: internal rate ≥ 384 kHz (for ±0.1 dB linear accuracy to 20 kHz, see
    /// docs/MODEL.md), 90 dB filters.
    #[default]
    Default,
    /// Offline bounces: internal rate ≥ 768 kHz, 115 dB filters.
    High,
}

impl Quality {
    fn min_internal_rate_hz(self) -> f64 {
        match self {
            Quality::Default => 384_000.0,
            Quality::High => 768_000.0,
        }
    }
    fn atten_db(self) -> f64 {
        match self {
            Quality::Default => 90.0,
            Quality::High => 115.0,
        }
    }
}

/// Maximum oversampling factor (22.05 kHz at high quality needs 32×).
pub const MAX_FACTOR: usize = 32;

/// A cascade of 2× stages up to `factor`, then back down.
#[derive(Debug, Clone)]
pub struct Oversampler {
    factor: usize,
    up: Vec<Up2>,
    down: Vec<Down2>,
    latency: usize,
}

impl Oversampler {
    /// Designs the cascade for base rate `fs_hz` (allocates; call from `prepare`).
    pub fn new(fs_hz: f64, quality: Quality) -> Self {
        let mut factor = 1;
        while (factor as f64) * fs_hz < quality.min_internal_rate_hz() * 0.999 && factor < MAX_FACTOR {
            factor *= 2;
        }
        let atten = quality.atten_db();
        let f_pass = (20_000.0f64).min(0.4535 * fs_hz);
        let mut up = vec![];
        let mut down = vec![];
        let mut latency_num = 0.0f64;
        let mut stage = 1usize; // output rate = 2^stage · fs
        while (1 << stage) <= factor {
            let rate_out = (1usize << stage) as f64 * fs_hz;
            let rate_in = rate_out / 2.0;
            // Samples of the output rate per base sample: a delay multiple of `q/2` output samples
            // with q = 2^(stage+1) is a whole number of base samples.
            let q = 1usize << (stage + 1);
            // Interpolator: keep [0, f_pass] (outer stage) or [0, fs/2] (inner), reject images above
            // rate_in − (that edge).
            let edge = if stage == 1 { f_pass } else { 0.5 * fs_hz };
            let df_up = (rate_in - 2.0 * edge) / rate_out;
            let n_up = tap_count(atten, df_up, q);
            let h_up = design_lowpass(n_up, (rate_in / 2.0) / rate_out, atten, 2.0);
            // Decimator: the outer stage stops at fs/2 (no folding into the output band at all);
            // inner stages stop where folding would reach the base band.
            let (df_dn, fc_dn) = if stage == 1 {
                ((0.5 * fs_hz - f_pass) / rate_out, (0.5 * (0.5 * fs_hz + f_pass)) / rate_out)
            } else {
                ((rate_in - fs_hz) / rate_out, (0.5 * rate_in) / rate_out)
            };
            let n_dn = tap_count(atten, df_dn, q);
            let h_dn = design_lowpass(n_dn, fc_dn, atten, 1.0);
            latency_num += ((n_up - 1) / 2 + (n_dn - 1) / 2) as f64 / (1usize << stage) as f64;
            up.push(Up2::new(&h_up));
            down.push(Down2::new(&h_dn));
            stage += 1;
        }
        debug_assert!((latency_num - latency_num.round()).abs() < 1e-9);
        down.reverse(); // innermost first when going down
        Self { factor, up, down, latency: latency_num.round() as usize }
    }

    /// Oversampling factor (a power of two up to [`MAX_FACTOR`]).
    pub fn factor(&self) -> usize {
        self.factor
    }

    /// Delay of up-then-down, in base-rate samples (exact).
    pub fn latency(&self) -> usize {
        self.latency
    }

    /// Upsamples one base-rate sample into `out[..factor]`.
    #[inline]
    pub fn up(&mut self, x: f64, out: &mut [f64; MAX_FACTOR]) {
        out[0] = x;
        let mut n = 1;
        let mut tmp = [0.0; MAX_FACTOR];
        for st in self.up.iter_mut() {
            // Samples must enter each filter in time order.
            tmp[..n].copy_from_slice(&out[..n]);
            for k in 0..n {
                let y = st.process(tmp[k]);
                out[2 * k] = y[0];
                out[2 * k + 1] = y[1];
            }
            n *= 2;
        }
    }

    /// Decimates `buf[..factor]` (modified in place) to one base-rate sample.
    #[inline]
    pub fn down(&mut self, buf: &mut [f64; MAX_FACTOR]) -> f64 {
        let mut n = self.factor;
        for st in self.down.iter_mut() {
            for k in 0..n / 2 {
                buf[k] = st.process([buf[2 * k], buf[2 * k + 1]]);
            }
            n /= 2;
        }
        buf[0]
    }

    /// Clears all filter histories.
    pub fn reset(&mut self) {
        self.up.iter_mut().for_each(Up2::clear);
        self.down.iter_mut().for_each(Down2::clear);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(os: &mut Oversampler, x: &[f64]) -> Vec<f64> {
        let mut buf = [0.0; MAX_FACTOR];
        x.iter()
            .map(|&v| {
                os.up(v, &mut buf);
                os.down(&mut buf)
            })
            .collect()
    }

    #[test]
    fn impulse_peaks_at_reported_latency() {
        for &fs in &[22_050.0, 44_100.0, 48_000.0, 96_000.0, 192_000.0] {
            for q in [Quality::Default, Quality::High] {
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
}
