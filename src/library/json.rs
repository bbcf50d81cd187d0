//! `loadline list --json`: every load and stage with the figures the engine uses and their basis.
//!
//! Load figures are computed from the network itself (`Network::impedance`), not copied from the
//! data file, so the list cannot disagree with what the engine simulates. The recorded figures
//! the network was fitted to are listed beside them (`fitted`).

use super::{loads, netlist, stages, Load, StagePreset};
use crate::dsp::network::log_grid;
use serde_json::{json, Value};

/// Frequencies at which each load's |Z| and phase are listed, hertz.
pub const LIST_FREQS_HZ: [f64; 6] = [20.0, 100.0, 1000.0, 5000.0, 10_000.0, 20_000.0];

/// `{"loads": [...], "stages": [...]}` for the whole library.
pub fn list_json() -> Value {
    json!({
        "loads": loads().iter().map(load_json).collect::<Vec<_>>(),
        "stages": stages().iter().map(stage_json).collect::<Vec<_>>(),
    })
}

/// One load: identity, rated figures, the simulated |Z| at [`LIST_FREQS_HZ`] and its extremes over
/// 20 Hz–20 kHz, the network in text form, and the basis.
pub fn load_json(l: &Load) -> Value {
    let n = &l.network;
    let z: Vec<Value> = LIST_FREQS_HZ
        .iter()
        .map(|&f| {
            let z = n.impedance(f);
            json!({"hz": f, "ohm": round(z.norm()), "phase_deg": round(z.arg().to_degrees())})
        })
        .collect();
    let (mut lo, mut hi) = ((0.0, f64::INFINITY), (0.0, 0.0));
    for f in log_grid(20.0, 20_000.0, 1000) {
        let m = n.impedance(f).norm();
        if m < lo.1 {
            lo = (f, m);
        }
        if m > hi.1 {
            hi = (f, m);
        }
    }
    json!({
        "id": l.id,
        "name": l.name,
        "kind": l.kind,
        "nominal_ohm": l.nominal_ohm,
        "dc_ohm": round(n.dc_resistance()),
        "sensitivity_db_spl_per_v": l.sensitivity_db_spl_per_v,
        "sensitivity_spec": l.sensitivity_spec,
        "z": z,
        "min_ohm": round(lo.1), "min_hz": round(lo.0),
        "max_ohm": round(hi.1), "max_hz": round(hi.0),
        "network": netlist::format(n),
        "elements": n.element_count(),
        "fitted": serde_json::to_value(&l.fitted).unwrap_or(Value::Null),
        "basis": l.basis,
        "sources": l.sources,
        "assumed": l.assumed,
    })
}

/// One stage preset: every engine parameter (SI units; `null` = absent), basis and sources.
pub fn stage_json(s: &StagePreset) -> Value {
    json!({
        "id": s.id,
        "name": s.name,
        "params": serde_json::to_value(s.params).unwrap_or(Value::Null),
        "basis": s.basis,
        "sources": s.sources,
        "assumed": s.assumed,
    })
}

/// Four significant figures are plenty for a listing and keep the JSON readable.
fn round(v: f64) -> f64 {
    if !v.is_finite() || v == 0.0 {
        return v;
    }
    let mag = 10f64.powi(3 - v.abs().log10().floor() as i32);
    (v * mag).round() / mag
}
