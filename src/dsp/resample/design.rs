//! The filters' design: Kaiser-windowed half-band interpolators and the decimator, searched for
//! the shortest filters that meet the passband and stopband targets (see the parent module's docs).
//! Runs when an oversampler is built (allocates); nothing here runs per sample.

use std::f64::consts::PI;

/// Zeroth-order modified Bessel function of the first kind (power series; converges fast for the
/// arguments a Kaiser window needs).
pub(super) fn bessel_i0(x: f64) -> f64 {
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
pub(super) fn kaiser_beta(atten_db: f64) -> f64 {
    0.1102 * (atten_db - 8.7)
}

/// The non-zero off-centre taps of a Kaiser-windowed half-band filter with `4k + 3` taps:
/// `d[i] = h[c ± (2i + 1)]` for `i = 0..=k`, scaled so `Σ 2·d[i] = ½` (unit DC gain with the
/// centre tap ½, and an exact zero at the higher rate's Nyquist frequency).
pub(super) fn halfband_side_taps(k: usize, beta: f64) -> Vec<f64> {
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
pub(super) fn halfband_stopband_peak(d: &[f64], fp: f64) -> f64 {
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
pub(super) struct Halfband {
    /// Non-zero off-centre taps, nearest the centre first.
    pub(super) side: Vec<f64>,
    /// Measured peak stopband attenuation (dB) on the design grid.
    pub(super) atten_db: f64,
}

impl Halfband {
    /// `k` in `4k + 3`.
    pub(super) fn k(&self) -> usize {
        self.side.len() - 1
    }
    /// The dense polyphase branch, newest-sample tap first, times `gain`.
    pub(super) fn dense(&self, gain: f64) -> Vec<f64> {
        self.side.iter().rev().chain(self.side.iter()).map(|&d| gain * d).collect()
    }
}

/// Shortest Kaiser half-band filter whose passband reaches `fp` and whose stopband (from `0.5 − fp`)
/// is attenuated by at least `atten_db`, both in cycles per sample of the higher rate (`fp < ¼`).
pub(super) fn design_halfband(fp: f64, atten_db: f64) -> Halfband {
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
pub(super) fn lowpass_half_taps(m: usize, fc: f64, beta: f64) -> Vec<f64> {
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
pub(super) fn band_exceeds(h: &[f64], f0: f64, f1: f64, target: f64, limit: f64) -> bool {
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
pub(super) const DECIMATOR_PASS_DB: f64 = 0.001;

/// The audio band and the outermost decimator's stopband edge at base rate `fs_hz`, hertz:
/// `(f_pass, f_stop)`.
///
/// `f_pass` is 20 kHz (0.4535·fs below 44.1 kHz). The decimator stops at fs/2 where that leaves a
/// transition band of at least [`MIN_TRANSITION_HZ`] (48 kHz and up), so nothing folds anywhere
/// into 0…fs/2. At 44.1 kHz fs/2 is only 2.05 kHz above the band, which doubles the filter's length
/// and latency; there it stops at `fs − (f_pass + ALIAS_GUARD_HZ)` instead (23.1 kHz), so what
/// folds lands only in 21–22.05 kHz, above the band and above hearing (never below fs/2 itself).
pub(super) fn bands(fs_hz: f64) -> (f64, f64) {
    let f_pass = (20_000.0f64).min(0.4535 * fs_hz);
    let nyquist = 0.5 * fs_hz;
    let f_stop = if nyquist - f_pass >= MIN_TRANSITION_HZ { nyquist } else { (fs_hz - f_pass - ALIAS_GUARD_HZ).max(nyquist) };
    (f_pass, f_stop)
}

/// The narrowest transition band for which the outermost decimator still stops at fs/2 (hertz):
/// the 48 kHz figure.
pub(super) const MIN_TRANSITION_HZ: f64 = 4_000.0;

/// Where fs/2 is closer than that, the gap between the passband edge and the lowest frequency
/// anything may fold to (hertz).
pub(super) const ALIAS_GUARD_HZ: f64 = 1_000.0;

/// Shortest Kaiser-windowed low-pass (odd length, unit DC gain, all taps) flat to
/// ±[`DECIMATOR_PASS_DB`] over `[0, fp]` and attenuated by at least `atten_db` over `[f_stop, ½]`,
/// in cycles per sample of the higher rate (`fp < f_stop`, `¼ ≤ f_stop < ½`): a decimator by 2
/// whose stopband starts at or above the lower rate's Nyquist frequency (see [`bands`]). Returns
/// all `2m + 1` taps.
pub(super) fn design_decimator(fp: f64, f_stop: f64, atten_db: f64) -> Vec<f64> {
    assert!(fp > 0.0 && fp < f_stop && (0.25..0.5).contains(&f_stop), "decimator bands {fp}…{f_stop} out of order");
    let df = f_stop - fp;
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
