//! The library of loads (headphones, IEMs, line inputs) and output-stage presets.
//!
//! Both live in readable data files (`data/loads.toml`, `data/stages.toml`) compiled into the
//! binary, so the figures the engine uses, the ones `loadline list` prints and the ones the editor
//! shows are the same numbers.

pub mod export;
pub mod figures;
pub mod json;
pub mod netlist;
pub mod specsheet;
pub mod suggest;

pub use export::{write_csv, write_zma};
pub use figures::Figures;
pub use json::list_json;
pub use suggest::suggest;

use crate::dsp::network::Network;
use crate::dsp::stage::StageParams;
use serde::Deserialize;
use std::sync::OnceLock;

/// A headphone or other load, with the published figures it was fitted to.
#[derive(Debug, Clone)]
pub struct Load {
    /// Stable identifier (used in state, CLI and data files).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Archetype: dynamic, planar, ba, multi-ba, dynamic-iem, line-input.
    pub kind: String,
    /// The electrical model.
    pub network: Network,
    /// Rated ("nominal") impedance, ohms, as published or as the archetype's class.
    pub nominal_ohm: f64,
    /// Sensitivity, dB SPL for 1 V RMS at 1 kHz (0 for loads that are not transducers).
    pub sensitivity_db_spl_per_v: f64,
    /// The published sensitivity the dB/V figure was derived from, or why it is assumed.
    pub sensitivity_spec: String,
    /// The |Z| figures the network was fitted to (checked by `tests/library_loads.rs`).
    pub fitted: Figures,
    /// What the model was fitted to, in words and figures.
    pub basis: String,
    /// Where the figures come from.
    pub sources: Vec<String>,
    /// Figures that are assumed rather than published (shown as such by `list` and the editor).
    pub assumed: Vec<String>,
}

impl Load {
    /// Sensitivity, dB SPL for 1 V RMS at 1 kHz (`None` for a load that is not a transducer,
    /// whose data-file figure is 0).
    pub fn sensitivity(&self) -> Option<f64> {
        (self.sensitivity_db_spl_per_v > 0.0).then_some(self.sensitivity_db_spl_per_v)
    }
}

/// An output-stage preset.
#[derive(Debug, Clone)]
pub struct StagePreset {
    pub id: String,
    pub name: String,
    pub params: StageParams,
    pub basis: String,
    pub sources: Vec<String>,
    /// Fields that are assumed rather than published (shown as such by `list` and the editor).
    pub assumed: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoadFile {
    load: Vec<LoadRaw>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoadRaw {
    id: String,
    name: String,
    kind: String,
    network: String,
    nominal_ohm: f64,
    sensitivity_db_spl_per_v: f64,
    sensitivity_spec: String,
    fitted: Figures,
    basis: String,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    assumed: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StageFile {
    stage: Vec<StageRaw>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StageRaw {
    id: String,
    name: String,
    params: StageParams,
    basis: String,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    assumed: Vec<String>,
}

const LOADS_TOML: &str = include_str!("../../data/loads.toml");
const STAGES_TOML: &str = include_str!("../../data/stages.toml");

/// Every library load, parsed once (the data files are checked by the test suite, so a parse
/// failure here is a build defect, not user input).
pub fn loads() -> &'static [Load] {
    static L: OnceLock<Vec<Load>> = OnceLock::new();
    L.get_or_init(|| parse_loads(LOADS_TOML).expect("data/loads.toml"))
}

/// Every stage preset, parsed once.
pub fn stages() -> &'static [StagePreset] {
    static S: OnceLock<Vec<StagePreset>> = OnceLock::new();
    S.get_or_init(|| parse_stages(STAGES_TOML).expect("data/stages.toml"))
}

/// Parses a loads file (the format of `data/loads.toml`).
pub fn parse_loads(text: &str) -> Result<Vec<Load>, String> {
    let f: LoadFile = toml::from_str(text).map_err(|e| e.to_string())?;
    f.load
        .into_iter()
        .map(|r| {
            let network = netlist::parse(&r.network).map_err(|e| format!("load {}: {e}", r.id))?;
            Ok(Load {
                id: r.id,
                name: r.name,
                kind: r.kind,
                network,
                nominal_ohm: r.nominal_ohm,
                sensitivity_db_spl_per_v: r.sensitivity_db_spl_per_v,
                sensitivity_spec: r.sensitivity_spec,
                fitted: r.fitted,
                basis: r.basis,
                sources: r.sources,
                assumed: r.assumed,
            })
        })
        .collect()
}

/// Parses a stages file (the format of `data/stages.toml`).
pub fn parse_stages(text: &str) -> Result<Vec<StagePreset>, String> {
    let f: StageFile = toml::from_str(text).map_err(|e| e.to_string())?;
    f.stage
        .into_iter()
        .map(|r| {
            r.params.validate().map_err(|e| format!("stage {}: {e}", r.id))?;
            Ok(StagePreset { id: r.id, name: r.name, params: r.params, basis: r.basis, sources: r.sources, assumed: r.assumed })
        })
        .collect()
}

/// Finds a load by id or name, either in any letter case.
pub fn find_load(key: &str) -> Option<&'static Load> {
    loads().iter().find(|l| l.id.eq_ignore_ascii_case(key) || l.name.eq_ignore_ascii_case(key))
}

/// Finds a stage preset by id or name, either in any letter case.
pub fn find_stage(key: &str) -> Option<&'static StagePreset> {
    stages().iter().find(|s| s.id.eq_ignore_ascii_case(key) || s.name.eq_ignore_ascii_case(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_files_parse_and_ids_are_unique() {
        let l = loads();
        let s = stages();
        assert!(!l.is_empty() && !s.is_empty());
        let mut ids: Vec<&str> = l.iter().map(|x| x.id.as_str()).chain(s.iter().map(|x| x.id.as_str())).collect();
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate ids");
    }
}
