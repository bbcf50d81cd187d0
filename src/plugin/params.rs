//! The plugin's parameters. IDs are short, stable and never renamed once released (the README
//! lists them); slot parameters are nested with the prefixes `a_` and `b_`.

use super::format::{parse_number, s2v_bias, s2v_with_off, sig3, v2s_bias, v2s_with_off};
use super::state::SharedState;
use crate::dsp::stage::{dbu_to_v, v_to_dbu};
use crate::dsp::StageParams;
use crate::library;
use crate::processor::config::IMPORTED_LOAD_ID;
use crate::processor::{Listen, SlotId, TRIM_RANGE_DB};
use nice_plug::prelude::*;
use std::sync::Arc;

/// Output Impedance range, ohms (the skew makes the knob roughly logarithmic: 1 Ω at 25 %,
/// 100 Ω at 50 %, 1 kΩ at 70 %).
pub const ZOUT_RANGE: FloatRange = FloatRange::Skewed { min: 0.0, max: 10_000.0, factor: 0.15 };
/// Coupling Cap range, µF; the top position is Off (direct coupling).
pub const CCAP_RANGE: FloatRange = FloatRange::Skewed { min: 0.1, max: CCAP_OFF_UF, factor: 0.2 };
pub const CCAP_OFF_UF: f32 = 10_000.0;
/// Level range, dBu at 0 dBFS.
pub const LEVEL_RANGE: FloatRange = FloatRange::Linear { min: -40.0, max: 30.0 };
/// Max Voltage range, V RMS; the top position is Off (no rail clipping).
pub const VMAX_RANGE: FloatRange = FloatRange::Skewed { min: 0.1, max: VMAX_OFF_V, factor: 0.4 };
pub const VMAX_OFF_V: f32 = 30.0;
/// Max Current range, mA (peak); the top position is Off (no current limit).
pub const IMAX_RANGE: FloatRange = FloatRange::Skewed { min: 1.0, max: IMAX_OFF_MA, factor: 0.3 };
pub const IMAX_OFF_MA: f32 = 2000.0;
/// Bias range, percent from class B (0) to class A (100).
pub const BIAS_RANGE: FloatRange = FloatRange::Linear { min: 0.0, max: 100.0 };
/// Noise range, dBV in 20 Hz–20 kHz; the bottom position is Off.
pub const NOISE_RANGE: FloatRange = FloatRange::Linear { min: NOISE_OFF_DBV, max: -40.0 };
pub const NOISE_OFF_DBV: f32 = -160.0;
/// Ground Return range, ohms (skewed towards the small values of real cables and jacks: 0.1 Ω
/// near 14 %, 1 Ω near 45 %).
pub const GROUND_RANGE: FloatRange = FloatRange::Skewed { min: 0.0, max: 10.0, factor: 0.4 };
/// Listening Level range, dB SPL of the reference sine (1 kHz at −14 dBFS RMS).
pub const SPL_RANGE: FloatRange = FloatRange::Linear { min: 40.0, max: 130.0 };
/// The default listening level, dB SPL: a moderate, common level.
pub const SPL_DEFAULT_DB: f32 = 80.0;

/// Step sizes, in each parameter's display unit. A host stores a value as its normalised position
/// and sets it back when a session reopens; nice-plug maps that through the range in `f32`, which
/// moves a skewed value by up to 2.4e-7 Ω, 6e-5 µF, 4e-6 V or 2.4e-4 mA. Snapping to a step far
/// coarser than that error (and far finer than anything audible) makes every value come back
/// bit-identical, so a reopened session renders exactly what was saved.
pub const ZOUT_STEP_OHM: f32 = 0.001;
pub const CCAP_STEP_UF: f32 = 0.01;
pub const LEVEL_STEP_DB: f32 = 0.01;
pub const VMAX_STEP_V: f32 = 0.001;
pub const IMAX_STEP_MA: f32 = 0.01;
pub const BIAS_STEP_PCT: f32 = 0.01;
pub const NOISE_STEP_DB: f32 = 0.01;
pub const SPL_STEP_DB: f32 = 0.01;
pub const GROUND_STEP_OHM: f32 = 0.001;

/// The value a host gets back after storing `v` as a normalised position: `v` snapped to `step`
/// through the range the way nice-plug sets a parameter. Defaults and presets pass through this,
/// so they are values the parameter can hold and a host's round trip leaves them unchanged.
pub fn on_grid(range: FloatRange, step: f32, v: f32) -> f32 {
    range.snap_to_step(range.unnormalize(range.normalize(v)), step)
}

/// How a slot's level is set: the stage's Level in dBu, or the Listening Level in dB SPL.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelMode {
    #[id = "dbu"]
    #[name = "dBu"]
    Dbu,
    #[id = "spl"]
    #[name = "dB SPL"]
    Spl,
}

/// Active Slot choices.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotChoice {
    #[id = "a"]
    #[name = "A"]
    A,
    #[id = "b"]
    #[name = "B"]
    B,
}

/// Listen choices.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenChoice {
    #[id = "emu"]
    #[name = "Emulation"]
    Emulation,
    #[id = "ideal"]
    #[name = "Ideal"]
    Ideal,
    #[id = "diff"]
    #[name = "Difference"]
    Difference,
}

impl From<SlotChoice> for SlotId {
    fn from(c: SlotChoice) -> Self {
        match c {
            SlotChoice::A => SlotId::A,
            SlotChoice::B => SlotId::B,
        }
    }
}

impl From<ListenChoice> for Listen {
    fn from(c: ListenChoice) -> Self {
        match c {
            ListenChoice::Emulation => Listen::Emulation,
            ListenChoice::Ideal => Listen::Ideal,
            ListenChoice::Difference => Listen::Difference,
        }
    }
}

/// One slot's parameters. Display names carry the slot letter so they are unique plugin-wide.
#[derive(Params)]
pub struct SlotParams {
    /// The load: library index, or the last value for the slot's imported curve.
    #[id = "hp"]
    pub headphone: IntParam,
    /// Series output resistance, ohms.
    #[id = "zout"]
    pub output_impedance: FloatParam,
    /// Series coupling capacitor, µF (top position: Off).
    #[id = "ccap"]
    pub coupling_cap: FloatParam,
    /// Open-circuit level for a 0 dBFS sine, dBu.
    #[id = "level"]
    pub level: FloatParam,
    /// Rail-clip onset, V RMS (top position: Off).
    #[id = "vmax"]
    pub max_voltage: FloatParam,
    /// Current-limit onset, mA peak (top position: Off).
    #[id = "imax"]
    pub max_current: FloatParam,
    /// Output-stage bias, percent from class B to class A.
    #[id = "bias"]
    pub bias: FloatParam,
    /// Output noise floor, dBV (bottom position: Off).
    #[id = "noise"]
    pub noise: FloatParam,
    /// Whether the level is the stage's Level (dBu) or the Listening Level (dB SPL).
    #[id = "lvlmode"]
    pub level_mode: EnumParam<LevelMode>,
    /// dB SPL of the reference sine in the headphone, when Level Mode is dB SPL (a load without
    /// a sensitivity figure keeps the dBu Level; the editor says so).
    #[id = "spl"]
    pub listening_level: FloatParam,
    /// The ground return both channels share (jack contact, cable, plug), ohms; 0: separate
    /// returns, as in a balanced output.
    #[id = "gnd"]
    pub ground_return: FloatParam,
}

impl SlotParams {
    /// The parameters of slot `letter` ("A" or "B"), starting at `stage` and library load `load`.
    pub fn new(letter: &'static str, slot: usize, load: usize, stage: &StageParams, shared: Arc<SharedState>) -> Self {
        let n_loads = library::loads().len() as i32;
        let name = |s: &str| format!("{letter} {s}");
        let v = StageValues::from_stage(stage);
        Self {
            headphone: IntParam::new(name("Headphone"), load as i32, IntRange::Linear { min: 0, max: n_loads })
                .with_value_to_string(Arc::new(|k| load_display_name(k as usize)))
                .with_string_to_value(Arc::new(|s| parse_load(s).map(|k| k as i32)))
                .with_callback(Arc::new(move |k| shared.set_headphone_index(slot, k as usize))),
            output_impedance: FloatParam::new(name("Output Impedance"), v.zout_ohm, ZOUT_RANGE)
                .with_unit(" Ω")
                .with_step_size(ZOUT_STEP_OHM)
                .with_value_to_string(Arc::new(sig3))
                .with_string_to_value(Arc::new(|s| parse_number(s, &["Ω", "ohms", "ohm"]))),
            coupling_cap: FloatParam::new(name("Coupling Cap"), v.ccap_uf, CCAP_RANGE)
                .with_step_size(CCAP_STEP_UF)
                .with_value_to_string(v2s_with_off("µF", Some(CCAP_OFF_UF), None))
                .with_string_to_value(s2v_with_off(&["µF", "uF"], Some(CCAP_OFF_UF))),
            level: FloatParam::new(name("Level"), v.level_dbu, LEVEL_RANGE)
                .with_unit(" dBu")
                .with_step_size(LEVEL_STEP_DB)
                .with_string_to_value(Arc::new(|s| parse_number(s, &["dBu"]))),
            max_voltage: FloatParam::new(name("Max Voltage"), v.vmax_v, VMAX_RANGE)
                .with_step_size(VMAX_STEP_V)
                .with_value_to_string(v2s_with_off("V", Some(VMAX_OFF_V), None))
                .with_string_to_value(s2v_with_off(&["Vrms", "V"], Some(VMAX_OFF_V))),
            max_current: FloatParam::new(name("Max Current"), v.imax_ma, IMAX_RANGE)
                .with_step_size(IMAX_STEP_MA)
                .with_value_to_string(v2s_with_off("mA", Some(IMAX_OFF_MA), None))
                .with_string_to_value(s2v_with_off(&["mA"], Some(IMAX_OFF_MA))),
            bias: FloatParam::new(name("Bias"), v.bias_pct, BIAS_RANGE)
                .with_step_size(BIAS_STEP_PCT)
                .with_value_to_string(v2s_bias())
                .with_string_to_value(s2v_bias()),
            noise: FloatParam::new(name("Noise"), v.noise_dbv, NOISE_RANGE)
                .with_step_size(NOISE_STEP_DB)
                .with_value_to_string(v2s_with_off("dBV", None, Some(NOISE_OFF_DBV)))
                .with_string_to_value(s2v_with_off(&["dBV"], Some(NOISE_OFF_DBV))),
            level_mode: EnumParam::new(name("Level Mode"), LevelMode::Dbu),
            listening_level: FloatParam::new(name("Listening Level"), SPL_DEFAULT_DB, SPL_RANGE)
                .with_unit(" dB SPL")
                .with_step_size(SPL_STEP_DB)
                .with_string_to_value(Arc::new(|s| parse_number(s, &["dB SPL", "dBSPL", "dB"]))),
            ground_return: FloatParam::new(name("Ground Return"), v.ground_ohm, GROUND_RANGE)
                .with_unit(" Ω")
                .with_step_size(GROUND_STEP_OHM)
                .with_value_to_string(Arc::new(sig3))
                .with_string_to_value(Arc::new(|s| parse_number(s, &["Ω", "ohms", "ohm"]))),
        }
    }

    /// The listening level asked for, dB SPL (`None` in dBu mode).
    pub fn spl_db(&self) -> Option<f64> {
        (self.level_mode.value() == LevelMode::Spl).then(|| self.listening_level.value() as f64)
    }

    /// The stage these parameters describe; `extras` supplies the fields that are not parameters
    /// (crossover voltage, modulated resistance, output inductance) from the last preset.
    pub fn stage(&self, extras: [f64; 3]) -> StageParams {
        StageValues {
            zout_ohm: self.output_impedance.value(),
            ccap_uf: self.coupling_cap.value(),
            level_dbu: self.level.value(),
            vmax_v: self.max_voltage.value(),
            imax_ma: self.max_current.value(),
            bias_pct: self.bias.value(),
            noise_dbv: self.noise.value(),
            ground_ohm: self.ground_return.value(),
        }
        .to_stage(extras)
    }
}

/// A slot's parameter values in display units (the mapping between [`StageParams`] and the
/// parameters, shared by the plugin, presets and tests).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StageValues {
    pub zout_ohm: f32,
    pub ccap_uf: f32,
    pub level_dbu: f32,
    pub vmax_v: f32,
    pub imax_ma: f32,
    pub bias_pct: f32,
    pub noise_dbv: f32,
    pub ground_ohm: f32,
}

impl StageValues {
    /// Display values for `p`: clamped into the parameter ranges ("absent" maps to Off) and put
    /// on the parameters' steps ([`on_grid`]), so they are the values the parameters will hold.
    pub fn from_stage(p: &StageParams) -> Self {
        let zout = (p.r_out_ohm as f32).clamp(0.0, 10_000.0);
        let ccap = p.c_block_f.map_or(CCAP_OFF_UF, |c| ((c * 1e6) as f32).clamp(0.1, CCAP_OFF_UF));
        let level = (v_to_dbu(p.level_v) as f32).clamp(-40.0, 30.0);
        let vmax = p.v_max_v.map_or(VMAX_OFF_V, |v| (v as f32).clamp(0.1, VMAX_OFF_V));
        let imax = p.i_max_a.map_or(IMAX_OFF_MA, |i| ((i * 1e3) as f32).clamp(1.0, IMAX_OFF_MA));
        let bias = ((p.bias * 100.0) as f32).clamp(0.0, 100.0);
        let noise = p.noise_dbv.map_or(NOISE_OFF_DBV, |n| (n as f32).clamp(NOISE_OFF_DBV, -40.0));
        let ground = (p.r_ground_ohm as f32).clamp(0.0, 10.0);
        Self {
            zout_ohm: on_grid(ZOUT_RANGE, ZOUT_STEP_OHM, zout),
            ccap_uf: on_grid(CCAP_RANGE, CCAP_STEP_UF, ccap),
            level_dbu: on_grid(LEVEL_RANGE, LEVEL_STEP_DB, level),
            vmax_v: on_grid(VMAX_RANGE, VMAX_STEP_V, vmax),
            imax_ma: on_grid(IMAX_RANGE, IMAX_STEP_MA, imax),
            bias_pct: on_grid(BIAS_RANGE, BIAS_STEP_PCT, bias),
            noise_dbv: on_grid(NOISE_RANGE, NOISE_STEP_DB, noise),
            ground_ohm: on_grid(GROUND_RANGE, GROUND_STEP_OHM, ground),
        }
    }

    /// The stage for these values plus the non-parameter `extras` `[xo_v, r_mod_ohm, l_out_h]`.
    pub fn to_stage(&self, extras: [f64; 3]) -> StageParams {
        StageParams {
            level_v: dbu_to_v(self.level_dbu as f64),
            v_max_v: (self.vmax_v < VMAX_OFF_V).then_some(self.vmax_v as f64),
            i_max_a: (self.imax_ma < IMAX_OFF_MA).then_some(self.imax_ma as f64 * 1e-3),
            bias: self.bias_pct as f64 / 100.0,
            xo_v: extras[0],
            r_mod_ohm: extras[1],
            r_out_ohm: self.zout_ohm as f64,
            l_out_h: extras[2],
            c_block_f: (self.ccap_uf < CCAP_OFF_UF).then_some(self.ccap_uf as f64 * 1e-6),
            noise_dbv: (self.noise_dbv > NOISE_OFF_DBV).then_some(self.noise_dbv as f64),
            r_ground_ohm: self.ground_ohm as f64,
        }
        .sanitized()
    }
}

/// The non-parameter stage fields `[xo_v, r_mod_ohm, l_out_h]` of `p`.
pub fn stage_extras(p: &StageParams) -> [f64; 3] {
    [p.xo_v, p.r_mod_ohm, p.l_out_h]
}

/// Display name of load index `k` (the last index is the imported curve).
pub fn load_display_name(k: usize) -> String {
    library::loads().get(k).map_or_else(|| "Imported curve".to_string(), |l| l.name.clone())
}

/// Parses a load by index, id, name or "imported".
pub fn parse_load(s: &str) -> Option<usize> {
    let s = s.trim();
    let loads = library::loads();
    if s.eq_ignore_ascii_case(IMPORTED_LOAD_ID) || s.eq_ignore_ascii_case("Imported curve") {
        return Some(loads.len());
    }
    if let Ok(k) = s.parse::<usize>() {
        return (k <= loads.len()).then_some(k);
    }
    loads.iter().position(|l| l.id.eq_ignore_ascii_case(s) || l.name.eq_ignore_ascii_case(s))
}

/// Stage preset ids a fresh slot A and B start from.
pub const DEFAULT_STAGE_A: &str = "laptop-jack";
pub const DEFAULT_STAGE_B: &str = "ideal";

/// Stage preset a fresh slot starts from: A the laptop jack, B the ideal stage.
pub fn default_stage(slot: usize) -> StageParams {
    let id = if slot == 0 { DEFAULT_STAGE_A } else { DEFAULT_STAGE_B };
    library::find_stage(id).map_or(StageParams::IDEAL, |s| s.params)
}

/// Every parameter, plus the persisted non-parameter state.
#[derive(Params)]
pub struct LoadlineParams {
    /// Which slot is heard (crossfaded over 20 ms).
    #[id = "slot"]
    pub active_slot: EnumParam<SlotChoice>,
    /// Scales each slot so its small-signal gain at 1 kHz is 0 dB.
    #[id = "lmatch"]
    pub level_match: BoolParam,
    /// Emulation, Ideal or Difference.
    #[id = "listen"]
    pub listen: EnumParam<ListenChoice>,
    /// Output gain, dB.
    #[id = "trim"]
    pub output_trim: FloatParam,
    /// Host bypass: the dry signal, delayed by the latency.
    #[id = "bypass"]
    pub bypass: BoolParam,
    #[nested(id_prefix = "a", group = "Slot A")]
    pub a: SlotParams,
    #[nested(id_prefix = "b", group = "Slot B")]
    pub b: SlotParams,
    /// Imported curves, headphone ids and preset extras (see [`SharedState`]).
    #[persist = "loadline"]
    pub shared: Arc<SharedState>,
}

impl Default for LoadlineParams {
    fn default() -> Self {
        let shared = Arc::new(SharedState::default());
        let stages = [default_stage(0), default_stage(1)];
        for (k, s) in stages.iter().enumerate() {
            shared.set_extras(k, stage_extras(s));
        }
        Self {
            active_slot: EnumParam::new("Active Slot", SlotChoice::A),
            level_match: BoolParam::new("Level Match", false),
            listen: EnumParam::new("Listen", ListenChoice::Emulation),
            output_trim: FloatParam::new(
                "Output Trim",
                0.0,
                FloatRange::Linear { min: TRIM_RANGE_DB.0 as f32, max: TRIM_RANGE_DB.1 as f32 },
            )
            .with_unit(" dB")
            .with_step_size(LEVEL_STEP_DB)
            .with_string_to_value(Arc::new(|s| parse_number(s, &["dB"]))),
            bypass: BoolParam::new("Bypass", false).make_bypass(),
            a: SlotParams::new("A", 0, 0, &stages[0], shared.clone()),
            b: SlotParams::new("B", 1, 0, &stages[1], shared.clone()),
            shared,
        }
    }
}

impl LoadlineParams {
    /// Slot `k`'s parameters.
    pub fn slot(&self, k: usize) -> &SlotParams {
        if k == 0 { &self.a } else { &self.b }
    }
}
