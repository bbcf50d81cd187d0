//! The listening level: a slot's level set as the sound pressure a listener hears instead of the
//! stage's output voltage.
//!
//! `L` dB SPL means that a 1 kHz sine at [`REFERENCE_DBFS`] (−14 dBFS RMS, sine-referenced: the
//! −14 LUFS of ITU-R BS.1770 that streaming services normalise to) produces `L` dB SPL in the
//! headphone. The headphone's sensitivity `S` (dB SPL for 1 V RMS at 1 kHz) turns that into a load
//! voltage, `V_load = 10^((L − S)/20)` V RMS, and the divider at 1 kHz into the stage's
//! open-circuit voltage, `V_src = V_load/|Z/(Z + Zs)|`. The stage's Level (RMS volts for a 0 dBFS
//! sine) is then `V_src/10^(−14/20)`. The stage's limits stay physical: a level the rails or the
//! current limit cannot give clips or limits, exactly as a Level set in dBu would.
//!
//! Threading: plain arithmetic, any thread, no allocation.

use super::LEVEL_MATCH_HZ;
use crate::dsp::stage::{StageParams, RANGES};
use num_complex::Complex64;

/// The reference signal's level, dBFS RMS (a sine: 0 dBFS RMS is a full-scale sine).
pub const REFERENCE_DBFS: f64 = -14.0;

/// The frequency of the reference sine and of the divider the level is computed from, hertz.
pub const REFERENCE_HZ: f64 = LEVEL_MATCH_HZ;

/// Range of the listening level, dB SPL.
pub const SPL_RANGE_DB: (f64, f64) = (40.0, 130.0);

/// The stage Level (V RMS at 0 dBFS) that makes the reference sine `spl_db` dB SPL in a load of
/// sensitivity `sens_db_spl_per_v` and impedance `z_load_1k_ohm` at 1 kHz, driven by `stage`'s
/// source network (and shared ground, for the sine in both channels); limited to the Level's range. Returns the level and whether the range cut it
/// short.
pub fn level_for_spl(spl_db: f64, sens_db_spl_per_v: f64, z_load_1k_ohm: Complex64, stage: &StageParams) -> (f64, bool) {
    let zs = stage.mono_source_impedance(REFERENCE_HZ);
    let h = (z_load_1k_ohm / (z_load_1k_ohm + zs)).norm();
    let (lo, hi) = level_range();
    if !(h.is_finite() && h > 0.0 && spl_db.is_finite() && sens_db_spl_per_v.is_finite()) {
        return (stage.level_v, false);
    }
    let v_load = 10f64.powf((spl_db - sens_db_spl_per_v) / 20.0);
    let v = v_load / h / 10f64.powf(REFERENCE_DBFS / 20.0);
    (v.clamp(lo, hi), !(lo..=hi).contains(&v))
}

/// The inverse of [`level_for_spl`]: the dB SPL the reference sine makes with `stage`'s own Level.
pub fn spl_for_level(sens_db_spl_per_v: f64, z_load_1k_ohm: Complex64, stage: &StageParams) -> f64 {
    let zs = stage.mono_source_impedance(REFERENCE_HZ);
    let h = (z_load_1k_ohm / (z_load_1k_ohm + zs)).norm();
    spl_of(stage.level_v * 10f64.powf(REFERENCE_DBFS / 20.0) * h, sens_db_spl_per_v)
}

/// The sound pressure, dB SPL, of a load voltage of `v_rms` volts in a load of sensitivity
/// `sens_db_spl_per_v` (the meters and the renderer's report).
pub fn spl_of(v_rms: f64, sens_db_spl_per_v: f64) -> f64 {
    sens_db_spl_per_v + 20.0 * v_rms.max(1e-12).log10()
}

/// The range of the stage's Level, V RMS (from the stage's parameter ranges).
fn level_range() -> (f64, f64) {
    RANGES.iter().find(|r| r.name == "level_v").map_or((0.001, 40.0), |r| (r.min, r.max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_sine_reaches_the_asked_level_through_the_divider() {
        let stage = StageParams { r_out_ohm: 75.0, ..StageParams::IDEAL };
        let z = Complex64::new(32.0, 5.0);
        let (v, capped) = level_for_spl(85.0, 110.0, z, &stage);
        assert!(!capped);
        let v_load = v * 10f64.powf(REFERENCE_DBFS / 20.0) * (z / (z + 75.0)).norm();
        assert!((spl_of(v_load, 110.0) - 85.0).abs() < 1e-9);
        let played = StageParams { level_v: v, ..stage };
        assert!((spl_for_level(110.0, z, &played) - 85.0).abs() < 1e-9);
        // Far beyond any stage: capped at the top of the range.
        let (v, capped) = level_for_spl(130.0, 80.0, z, &stage);
        assert!(capped && v == level_range().1);
    }
}
