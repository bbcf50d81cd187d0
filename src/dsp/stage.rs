//! The parameters of an output stage, in SI units, with their ranges.
//!
//! One struct serves the engine, the preset library, the plugin's parameters and the renderer's
//! flags. Ranges live here so every front end validates against the same numbers.

use num_complex::Complex64;
use serde::{Deserialize, Serialize};

/// Everything that defines an output stage driving a load. `None` means "absent" (no rail clip,
/// no current limit, direct coupling, no noise).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageParams {
    /// Open-circuit RMS output voltage for a 0 dBFS sine (the stage's "Level", including any
    /// volume control), volts.
    pub level_v: f64,
    /// RMS voltage of a sine at the onset of rail clipping, volts.
    pub v_max_v: Option<f64>,
    /// Peak output current at the onset of current limiting, amperes.
    pub i_max_a: Option<f64>,
    /// Output-stage bias from class B (0) through AB to class A (1). Sets crossover distortion.
    pub bias: f64,
    /// Crossover dead-band voltage of the class-B stage after feedback, volts (scaled by
    /// `(1 − bias)²`).
    #[serde(default)]
    pub xo_v: f64,
    /// Output resistance added at full current (`R_OUT = R_O + r_mod·(i/I_max)²`), ohms.
    #[serde(default)]
    pub r_mod_ohm: f64,
    /// Series output resistance (the "output impedance"), ohms.
    pub r_out_ohm: f64,
    /// Series output inductance, henries (0: none).
    #[serde(default)]
    pub l_out_h: f64,
    /// Series DC-blocking capacitor, farads.
    pub c_block_f: Option<f64>,
    /// Output noise floor, dBV RMS in a 20 Hz–20 kHz bandwidth (white).
    pub noise_dbv: Option<f64>,
    /// Resistance of the ground return both channels share (jack contact, cable, plug), ohms; 0:
    /// separate returns, as in a balanced output (`stereo.rs`).
    #[serde(default)]
    pub r_ground_ohm: f64,
}

/// Inclusive range of a parameter, in its SI unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    /// Field name as in [`StageParams`].
    pub name: &'static str,
    pub min: f64,
    pub max: f64,
    /// Unit shown to users.
    pub unit: &'static str,
}

/// Ranges of every continuous field (SI). The plugin maps its own display units onto these.
pub const RANGES: &[Range] = &[
    Range { name: "level_v", min: 0.001, max: 40.0, unit: "V" },
    Range { name: "v_max_v", min: 0.01, max: 50.0, unit: "V" },
    Range { name: "i_max_a", min: 0.0005, max: 5.0, unit: "A" },
    Range { name: "bias", min: 0.0, max: 1.0, unit: "" },
    Range { name: "xo_v", min: 0.0, max: 0.5, unit: "V" },
    Range { name: "r_mod_ohm", min: 0.0, max: 1000.0, unit: "Ω" },
    Range { name: "r_out_ohm", min: 0.0, max: 10_000.0, unit: "Ω" },
    Range { name: "l_out_h", min: 0.0, max: 0.01, unit: "H" },
    Range { name: "c_block_f", min: 0.1e-6, max: 0.1, unit: "F" },
    Range { name: "noise_dbv", min: -160.0, max: -20.0, unit: "dBV" },
    Range { name: "r_ground_ohm", min: 0.0, max: 10.0, unit: "Ω" },
];

impl Default for StageParams {
    /// The ideal stage: 0 Ω, no limits, no noise, 1 V RMS at 0 dBFS.
    fn default() -> Self {
        Self::IDEAL
    }
}

impl StageParams {
    /// The ideal stage: an exactly transparent reference.
    pub const IDEAL: Self = Self {
        level_v: 1.0,
        v_max_v: None,
        i_max_a: None,
        bias: 1.0,
        xo_v: 0.0,
        r_mod_ohm: 0.0,
        r_out_ohm: 0.0,
        l_out_h: 0.0,
        c_block_f: None,
        noise_dbv: None,
        r_ground_ohm: 0.0,
    };

    /// The source impedance the load sees, `Zs(f)`, ohms (see [`super::circuit::source_impedance`]:
    /// Level Match, the editor's plots, `loadline plot` and the renderer's report all use it).
    pub fn source_impedance(&self, f_hz: f64) -> Complex64 {
        super::circuit::source_impedance(self.r_out_ohm, self.l_out_h, self.c_block_f, f_hz)
    }

    /// The impedance in series with each earpiece for a mono signal (both channels alike, as
    /// centred material is): `Zs(f) + 2·R_g`, ohms, since the shared ground carries both
    /// channels' currents (`stereo.rs`). The level and response the editor's divider plot, Level
    /// Match and the listening level use; `Zs` itself with separate returns.
    pub fn mono_source_impedance(&self, f_hz: f64) -> Complex64 {
        self.source_impedance(f_hz) + 2.0 * self.r_ground_ohm
    }

    /// Checks every field against [`RANGES`]; the error names the field, its value and the range.
    pub fn validate(&self) -> Result<(), String> {
        let fields: [(&str, Option<f64>); 11] = [
            ("level_v", Some(self.level_v)),
            ("v_max_v", self.v_max_v),
            ("i_max_a", self.i_max_a),
            ("bias", Some(self.bias)),
            ("xo_v", Some(self.xo_v)),
            ("r_mod_ohm", Some(self.r_mod_ohm)),
            ("r_out_ohm", Some(self.r_out_ohm)),
            ("l_out_h", Some(self.l_out_h)),
            ("c_block_f", self.c_block_f),
            ("noise_dbv", self.noise_dbv),
            ("r_ground_ohm", Some(self.r_ground_ohm)),
        ];
        for (name, v) in fields {
            if let Some(v) = v {
                let r = range(name);
                if !(v.is_finite() && v >= r.min && v <= r.max) {
                    return Err(format!(
                        "{name} = {v} is out of range ({} to {} {})",
                        r.min, r.max, r.unit
                    ));
                }
            }
        }
        Ok(())
    }

    /// Returns a copy with every field clamped into range and non-finite values replaced by the
    /// ideal stage's, so the engine can never be driven outside the envelope it was tested in.
    pub fn sanitized(&self) -> Self {
        let c = |name: &str, v: f64, fallback: f64| {
            let r = range(name);
            if v.is_finite() { v.clamp(r.min, r.max) } else { fallback.clamp(r.min, r.max) }
        };
        let co = |name: &str, v: Option<f64>| v.filter(|x| !x.is_nan()).map(|x| c(name, x, x.signum() * f64::MAX));
        Self {
            level_v: c("level_v", self.level_v, 1.0),
            v_max_v: co("v_max_v", self.v_max_v),
            i_max_a: co("i_max_a", self.i_max_a),
            bias: c("bias", self.bias, 1.0),
            xo_v: c("xo_v", self.xo_v, 0.0),
            r_mod_ohm: c("r_mod_ohm", self.r_mod_ohm, 0.0),
            r_out_ohm: c("r_out_ohm", self.r_out_ohm, 0.0),
            l_out_h: c("l_out_h", self.l_out_h, 0.0),
            c_block_f: co("c_block_f", self.c_block_f),
            noise_dbv: co("noise_dbv", self.noise_dbv),
            r_ground_ohm: c("r_ground_ohm", self.r_ground_ohm, 0.0),
        }
    }
}

/// The range of field `name` (panics on an unknown name: a programming error).
pub fn range(name: &str) -> Range {
    *RANGES.iter().find(|r| r.name == name).expect("unknown stage field")
}

/// dBu (re 0.775 V RMS) to volts RMS.
pub fn dbu_to_v(dbu: f64) -> f64 {
    0.774_596_669 * 10f64.powf(dbu / 20.0)
}

/// Volts RMS to dBu.
pub fn v_to_dbu(v: f64) -> f64 {
    20.0 * (v / 0.774_596_669).log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_and_sanitizing() {
        assert!(StageParams::IDEAL.validate().is_ok());
        let bad = StageParams { r_out_ohm: -1.0, ..StageParams::IDEAL };
        let e = bad.validate().unwrap_err();
        assert!(e.contains("r_out_ohm"), "{e}");
        let s = StageParams { level_v: f64::NAN, i_max_a: Some(1e9), ..StageParams::IDEAL }.sanitized();
        assert!(s.validate().is_ok());
        assert!((dbu_to_v(4.0) - 1.228).abs() < 1e-3);
    }
}
