//! Applying a stage preset to a slot in one action (the editor's preset menu).

use super::params::{stage_extras, LoadlineParams, StageValues};
use crate::library::StagePreset;
use nice_plug::prelude::*;

/// The normalised values a preset gives slot `k`'s stage parameters, as `(parameter, value)`
/// pairs; the editor sets them between `begin_set_parameter`/`end_set_parameter`. Also stores the
/// preset's non-parameter fields (crossover, modulated resistance, inductance) for the slot.
pub fn apply_stage_preset(params: &LoadlineParams, k: usize, preset: &StagePreset) -> Vec<(ParamPtr, f32)> {
    let p = params.slot(k);
    let v = StageValues::from_stage(&preset.params);
    params.shared.set_extras(k, stage_extras(&preset.params));
    vec![
        (p.output_impedance.as_ptr(), p.output_impedance.preview_normalized(v.zout_ohm)),
        (p.coupling_cap.as_ptr(), p.coupling_cap.preview_normalized(v.ccap_uf)),
        (p.level.as_ptr(), p.level.preview_normalized(v.level_dbu)),
        (p.max_voltage.as_ptr(), p.max_voltage.preview_normalized(v.vmax_v)),
        (p.max_current.as_ptr(), p.max_current.preview_normalized(v.imax_ma)),
        (p.bias.as_ptr(), p.bias.preview_normalized(v.bias_pct)),
        (p.noise.as_ptr(), p.noise.preview_normalized(v.noise_dbv)),
        (p.ground_return.as_ptr(), p.ground_return.preview_normalized(v.ground_ohm)),
    ]
}
