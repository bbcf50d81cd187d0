//! From impedance samples to a passive network the engine can drive, with its fit error.
//!
//! Steps: normalise (|Z| by its geometric mean, frequency by the band's geometric centre), pick
//! at most [`FIT_POINTS`] samples evenly spaced in log frequency, then for increasing model order
//! identify poles by vector fitting ([`super::vfit`]) for both Z and Y = 1/Z, fit passive
//! residues and realise them ([`super::realize`]), and keep the network with the smallest worst
//! relative error `max |Z_fit/Z − 1|` over *all* samples. That error bounds the divider error for
//! any resistive source: with Re Z ≥ 0 and Zs ≥ 0, `|Zs/(Z+Zs)| ≤ 1`, so
//! `|ΔH/H| = |ΔZ/Z|·|Zs/(Z+Zs)| ≤ |ΔZ/Z|`.
//!
//! This is plain batch work (tens to hundreds of milliseconds): run it off the audio thread.

use super::realize::{self, Form};
use super::refine;
use super::vfit::{self, Poles};
use crate::dsp::network::Network;
use num_complex::Complex64;
use std::f64::consts::PI;

/// Samples used for the least-squares fits (the error is still measured on every sample).
pub const FIT_POINTS: usize = 200;
/// Highest model order (number of poles) tried.
pub const MAX_ORDER: usize = 24;
/// Stop raising the order once `max |Z_fit/Z − 1|` is below this (≈ 0.017 dB).
pub const GOOD_ENOUGH: f64 = 0.002;
/// Vector-fitting iterations per order.
pub const VF_ITERS: usize = 12;
/// Levenberg–Marquardt iterations when the Foster fit is not yet good enough.
pub const REFINE_ITERS: usize = 80;
/// How many of the best Foster candidates are refined.
pub const REFINE_CANDIDATES: usize = 4;
/// Source resistances over which the divider error is reported, ohms.
pub const REPORT_ZS_OHM: [f64; 8] = [0.1, 1.0, 3.0, 10.0, 32.0, 100.0, 300.0, 1000.0];

/// How well the network matches the samples it was fitted to.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FitReport {
    /// Largest |20·log10|Z_fit/Z|| over the samples, dB.
    pub max_mag_error_db: f64,
    /// RMS of the same, dB.
    pub rms_mag_error_db: f64,
    /// Largest |arg Z_fit − arg Z| over the samples, degrees.
    pub max_phase_error_deg: f64,
    /// Largest error of the divider response 20·log10|Z/(Z+Zs)| over the samples and
    /// [`REPORT_ZS_OHM`], dB.
    pub max_divider_error_db: f64,
    /// Number of poles of the rational model.
    pub order: usize,
    /// Foster form used.
    pub form: Form,
    /// R, L and C elements in the network.
    pub elements: usize,
    /// Frequency range of the samples, hertz.
    pub f_lo_hz: f64,
    pub f_hi_hz: f64,
    /// How the network behaves outside that range, in words.
    pub extrapolation: String,
}

/// Fits a passive network to complex impedance samples (hertz, ohms). Returns `None` only if no
/// order produced a valid network (non-finite data; the caller validates first).
pub fn fit_network(freq_hz: &[f64], z: &[Complex64]) -> Option<(Network, FitReport)> {
    let n = freq_hz.len();
    if n < 2 || z.len() != n {
        return None;
    }
    let (f_lo, f_hi) = (freq_hz[0], freq_hz[n - 1]);
    let w_ref = 2.0 * PI * (f_lo * f_hi).sqrt();
    let z_ref = (z.iter().map(|z| z.norm().ln()).sum::<f64>() / n as f64).exp();
    if !(w_ref.is_finite() && z_ref.is_finite() && z_ref > 0.0) {
        return None;
    }
    let idx = log_subset(freq_hz, FIT_POINTS);
    let s: Vec<Complex64> = idx.iter().map(|&i| Complex64::new(0.0, 2.0 * PI * freq_hz[i] / w_ref)).collect();
    let zn: Vec<Complex64> = idx.iter().map(|&i| z[i] / z_ref).collect();
    let yn: Vec<Complex64> = zn.iter().map(|z| 1.0 / z).collect();
    let (w_lo, w_hi) = (f_lo * 2.0 * PI / w_ref, f_hi * 2.0 * PI / w_ref);

    // Every candidate: (worst relative error, network, order, form).
    let mut cands: Vec<(f64, Network, usize, Form)> = Vec::new();
    for order in 0..=MAX_ORDER {
        for form in [Form::Impedance, Form::Admittance] {
            let target = if form == Form::Impedance { &zn } else { &yn };
            let w: Vec<f64> = target.iter().map(|t| 1.0 / t.norm()).collect();
            let poles = if order == 0 {
                Some(Poles { real: Vec::new(), pairs: Vec::new() })
            } else {
                vfit::identify(&s, target, &w, Poles::start(order, w_lo, w_hi), VF_ITERS)
            };
            let Some(poles) = poles else { continue };
            let Some(sec) = realize::fit(&poles, &s, target, &w, true) else { continue };
            if let Some(net) = realize::to_network(&sec, form, z_ref, w_ref) {
                let e = worst_relative_error(&net, freq_hz, z);
                if e.is_finite() {
                    cands.push((e, net, order, form));
                }
            }
        }
        if cands.iter().any(|c| c.0 < GOOD_ENOUGH) {
            break;
        }
    }
    // Best first; among near-equal errors the smaller network.
    cands.sort_by(|a, b| a.0.total_cmp(&b.0));
    if cands.first()?.0 >= GOOD_ENOUGH {
        // Not exact: refine the few best candidates' element values and keep the best result.
        let fs: Vec<f64> = idx.iter().map(|&i| freq_hz[i]).collect();
        let zs: Vec<Complex64> = idx.iter().map(|&i| z[i]).collect();
        let refined: Vec<(f64, Network, usize, Form)> = cands
            .iter()
            .take(REFINE_CANDIDATES)
            .filter_map(|(_, net, order, form)| {
                let better = refine::refine(net, &fs, &zs, REFINE_ITERS)?;
                Some((worst_relative_error(&better, freq_hz, z), better, *order, *form))
            })
            .collect();
        cands.extend(refined);
        cands.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    let best_e = cands.first()?.0;
    let (_, net, order, form) = cands.into_iter().filter(|c| c.0 <= best_e * 1.02).min_by_key(|c| c.1.element_count())?;
    let report = report(&net, freq_hz, z, order, form);
    Some((net, report))
}

/// `max |Z_fit/Z − 1|` over all samples.
fn worst_relative_error(net: &Network, f: &[f64], z: &[Complex64]) -> f64 {
    f.iter().zip(z).map(|(&f, &z)| (net.impedance(f) / z - 1.0).norm()).fold(0.0, f64::max)
}

/// The error figures of `net` against the samples.
pub fn report(net: &Network, f: &[f64], z: &[Complex64], order: usize, form: Form) -> FitReport {
    let (mut mx, mut ss, mut ph, mut dv) = (0.0f64, 0.0, 0.0f64, 0.0f64);
    for (&fi, &zi) in f.iter().zip(z) {
        let zf = net.impedance(fi);
        let r = zf / zi;
        let db = 20.0 * r.norm().log10();
        mx = mx.max(db.abs());
        ss += db * db;
        ph = ph.max(r.arg().to_degrees().abs());
        for zs in REPORT_ZS_OHM {
            let h = |z: Complex64| 20.0 * (z / (z + zs)).norm().log10();
            dv = dv.max((h(zf) - h(zi)).abs());
        }
    }
    let (lo, hi) = (f[0], f[f.len() - 1]);
    let extrapolation = format!(
        "Outside {lo:.4} Hz to {hi:.4} Hz the impedance is the fitted network's own: a passive \
         rational function whose poles lie in the left half-plane, so below the range it tends to \
         {:.4} Ω at DC and above it to a resistance, an inductive rise or a capacitive fall \
         set by the outermost sections ({:.4} Ω at 40 kHz).",
        net.dc_resistance(),
        net.impedance(40_000.0).norm()
    );
    FitReport {
        max_mag_error_db: mx,
        rms_mag_error_db: (ss / f.len() as f64).sqrt(),
        max_phase_error_deg: ph,
        max_divider_error_db: dv,
        order,
        form,
        elements: net.element_count(),
        f_lo_hz: lo,
        f_hi_hz: hi,
        extrapolation,
    }
}

/// Indices of at most `m` samples nearest to an even log-frequency grid (always the first and
/// last), in increasing order without repeats.
pub fn log_subset(f: &[f64], m: usize) -> Vec<usize> {
    let n = f.len();
    if n <= m {
        return (0..n).collect();
    }
    let (l0, l1) = (f[0].ln(), f[n - 1].ln());
    let mut out: Vec<usize> = Vec::with_capacity(m);
    let mut j = 0;
    for k in 0..m {
        let target = l0 + (l1 - l0) * k as f64 / (m - 1) as f64;
        while j + 1 < n && (f[j + 1].ln() - target).abs() <= (f[j].ln() - target).abs() {
            j += 1;
        }
        if out.last() != Some(&j) {
            out.push(j);
        }
    }
    out
}
