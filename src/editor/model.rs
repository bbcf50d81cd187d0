//! What the plots show, computed from the same model the DSP runs: [`Network::impedance`] for the
//! load and the stage's series elements for the source. No egui here, so the numbers are tested
//! on their own.

use crate::dsp::network::log_grid;
use crate::dsp::{Network, StageParams};

/// Frequency range of every plot, hertz.
pub const PLOT_RANGE_HZ: (f64, f64) = (20.0, 20_000.0);
/// Points per curve.
pub const PLOT_POINTS: usize = 240;
/// The level drop is stated at this frequency, hertz (the frequency Level Match uses).
pub const DROP_AT_HZ: f64 = crate::processor::LEVEL_MATCH_HZ;
/// Rule of thumb: colouration becomes audible once the source impedance exceeds the load's
/// minimum impedance divided by this.
pub const DAMPING_RULE: f64 = 8.0;

/// The plot frequencies (log-spaced over [`PLOT_RANGE_HZ`]).
pub fn plot_freqs() -> impl Iterator<Item = f64> + Clone {
    log_grid(PLOT_RANGE_HZ.0, PLOT_RANGE_HZ.1, PLOT_POINTS)
}

/// The divider the stage and load form: `20·log10|Z/(Z+Zs)|`, decibels; with a shared ground,
/// a mono signal's (`Zs + 2·R_g`, `StageParams::mono_source_impedance`).
pub fn deviation_db(load: &Network, stage: &StageParams, f_hz: f64) -> f64 {
    let z = load.impedance(f_hz);
    let zs = stage.mono_source_impedance(f_hz);
    20.0 * (z / (z + zs)).norm().max(1e-12).log10()
}

/// One slot's plot data.
#[derive(Debug, Clone, PartialEq)]
pub struct Curves {
    /// `[f, |Z| Ω]`.
    pub magnitude: Vec<[f64; 2]>,
    /// `[f, phase °]`.
    pub phase: Vec<[f64; 2]>,
    /// `[f, dB]`.
    pub deviation: Vec<[f64; 2]>,
    /// Deviation at [`DROP_AT_HZ`], dB.
    pub drop_1k_db: f64,
    /// |Zs| at [`DROP_AT_HZ`], ohms.
    pub zs_ohm: f64,
    /// Smallest |Z| over the plot range, ohms, and where, hertz.
    pub zmin_ohm: f64,
    pub zmin_hz: f64,
    /// True when `zs_ohm > zmin_ohm / DAMPING_RULE`.
    pub rule_exceeded: bool,
    /// `[f, dB]`: crosstalk through the shared ground with one channel driven,
    /// `20·log10|v_R/v_L|` (`stereo::crosstalk`); empty with separate returns.
    pub crosstalk: Vec<[f64; 2]>,
}

/// The crosstalk through `stage`'s shared ground into `load` at `f_hz`, dB (−∞ with separate
/// returns).
pub fn crosstalk_db(load: &Network, stage: &StageParams, f_hz: f64) -> f64 {
    let x = crate::dsp::stereo::crosstalk(stage.source_impedance(f_hz), load.impedance(f_hz), stage.r_ground_ohm);
    20.0 * x.norm().log10()
}

impl Curves {
    /// Computes everything for `load` driven by `stage`.
    pub fn compute(load: &Network, stage: &StageParams) -> Self {
        let mut magnitude = Vec::with_capacity(PLOT_POINTS);
        let mut phase = Vec::with_capacity(PLOT_POINTS);
        let mut deviation = Vec::with_capacity(PLOT_POINTS);
        let (mut zmin_ohm, mut zmin_hz) = (f64::INFINITY, PLOT_RANGE_HZ.0);
        for f in plot_freqs() {
            let z = load.impedance(f);
            let m = z.norm();
            if m < zmin_ohm {
                zmin_ohm = m;
                zmin_hz = f;
            }
            magnitude.push([f, m]);
            phase.push([f, z.arg().to_degrees()]);
            deviation.push([f, deviation_db(load, stage, f)]);
        }
        let zs_ohm = stage.source_impedance(DROP_AT_HZ).norm();
        let crosstalk = if stage.r_ground_ohm > 0.0 { plot_freqs().map(|f| [f, crosstalk_db(load, stage, f)]).collect() } else { Vec::new() };
        Self {
            magnitude,
            phase,
            deviation,
            drop_1k_db: deviation_db(load, stage, DROP_AT_HZ),
            zs_ohm,
            zmin_ohm,
            zmin_hz,
            rule_exceeded: zs_ohm > zmin_ohm / DAMPING_RULE,
            crosstalk,
        }
    }
}

/// SPL for `v_rms` volts at the headphone with sensitivity `sens_db_per_v` (dB SPL at 1 V RMS,
/// 1 kHz): `sens + 20·log10(v)`. A broadband estimate: it ignores the response's shape.
pub fn spl_estimate_db(sens_db_per_v: f64, v_rms: f64) -> f64 {
    sens_db_per_v + 20.0 * v_rms.max(1e-9).log10()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::network::build::*;

    #[test]
    fn divider_closed_forms() {
        // 32 Ω resistive load from 32 Ω: exactly −6.02 dB everywhere, and 32 > 32/8.
        let st = StageParams { r_out_ohm: 32.0, ..StageParams::IDEAL };
        let c = Curves::compute(&r(32.0), &st);
        assert!((c.drop_1k_db + 6.0206).abs() < 1e-3, "{}", c.drop_1k_db);
        assert!(c.rule_exceeded);
        assert!(c.deviation.iter().all(|p| (p[1] + 6.0206).abs() < 1e-3));
        // From 1 Ω: 1 < 32/8, no marker.
        let st = StageParams { r_out_ohm: 1.0, ..StageParams::IDEAL };
        assert!(!Curves::compute(&r(32.0), &st).rule_exceeded);
        // Ideal stage: 0 dB.
        assert!(Curves::compute(&r(32.0), &StageParams::IDEAL).drop_1k_db.abs() < 1e-12);
        assert!((spl_estimate_db(100.0, 0.1) - 80.0).abs() < 1e-9);
        // 1 Ω ground, 1 Ω source, 30 Ω resistive load: −20·log10(32) everywhere; none at 0 Ω.
        let st = StageParams { r_out_ohm: 1.0, r_ground_ohm: 1.0, ..StageParams::IDEAL };
        let c = Curves::compute(&r(30.0), &st);
        assert!(c.crosstalk.iter().all(|p| (p[1] + 20.0 * 32f64.log10()).abs() < 1e-9));
        // And a mono signal's divider carries both currents through it: 30/(30 + 1 + 2).
        assert!((c.drop_1k_db - 20.0 * (30.0f64 / 33.0).log10()).abs() < 1e-9, "{}", c.drop_1k_db);
        assert!(Curves::compute(&r(30.0), &StageParams::IDEAL).crosstalk.is_empty());
    }
}
