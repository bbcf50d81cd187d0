//! Stage and session flags shared by `render` and `plot`: a preset or settings file, then
//! individual flags on top (flags win).

use super::suggest::unknown_stage;
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use super::report::Setting;
use loadline::dsp::stage::{dbu_to_v, v_to_dbu};
use loadline::library;
use loadline::plugin::params::{default_stage, DEFAULT_STAGE_A};
use loadline::dsp::Network;
use loadline::processor::config::{load_index, ImportedCurve, SessionConfig, SlotConfig, IMPORTED_LOAD_ID};
use loadline::processor::listening::SPL_RANGE_DB;
use loadline::processor::Listen;
use std::path::PathBuf;

/// Flags that describe the slot being rendered.
#[derive(Args, Debug, Clone, Default)]
pub struct StageArgs {
    /// Settings file saved by the editor (TOML or JSON); its active slot is used.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Stage preset id or name (see `loadline list`).
    #[arg(long, value_name = "PRESET")]
    pub stage: Option<String>,
    /// Load id or name from the library, or a headphone file made by `loadline headphone new`.
    #[arg(long, value_name = "LOAD", conflicts_with = "impedance")]
    pub headphone: Option<String>,
    /// Measured impedance file to use as the load.
    #[arg(long, value_name = "FILE")]
    pub impedance: Option<PathBuf>,
    /// Output impedance, ohms (0 to 10000).
    #[arg(long, value_name = "OHM", allow_hyphen_values = true)]
    pub zout: Option<f64>,
    /// Coupling capacitor, µF, or "off".
    #[arg(long, value_name = "UF", allow_hyphen_values = true)]
    pub ccap: Option<String>,
    /// Level, dBu at 0 dBFS.
    #[arg(long, value_name = "DBU", allow_hyphen_values = true, conflicts_with = "spl")]
    pub level: Option<f64>,
    /// Listening level instead of --level: the dB SPL a 1 kHz sine at −14 dBFS RMS (−14 LUFS)
    /// makes in the headphone, from its sensitivity and the divider at 1 kHz (40 to 130).
    #[arg(long, value_name = "DB", allow_hyphen_values = true)]
    pub spl: Option<f64>,
    /// Rail-clip onset, V RMS, or "off".
    #[arg(long, value_name = "VRMS", allow_hyphen_values = true)]
    pub vmax: Option<String>,
    /// Current-limit onset, mA peak, or "off".
    #[arg(long, value_name = "MA", allow_hyphen_values = true)]
    pub imax: Option<String>,
    /// Bias from class B (0) to class A (100), percent.
    #[arg(long, value_name = "PCT", allow_hyphen_values = true)]
    pub bias: Option<f64>,
    /// Noise floor, dBV (20 Hz–20 kHz), or "off".
    #[arg(long, value_name = "DBV", allow_hyphen_values = true)]
    pub noise: Option<String>,
    /// Resistance of the ground return both channels share (jack contact, cable, plug), ohms (0
    /// to 10; 0: separate returns, as in a balanced output). Default: the stage preset's.
    #[arg(long, value_name = "OHM", allow_hyphen_values = true)]
    pub ground_ohm: Option<f64>,
    /// Scale so the small-signal gain at 1 kHz is 0 dB.
    #[arg(long)]
    pub level_match: bool,
    /// What to render.
    #[arg(long, value_enum, default_value_t = ListenArg::Emulation)]
    pub listen: ListenArg,
}

/// `--listen` values.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ListenArg {
    #[default]
    Emulation,
    Ideal,
    Difference,
}

/// A number or "off" (→ `None`).
fn opt_num(flag: &str, s: &str) -> Result<Option<f64>> {
    if s.eq_ignore_ascii_case("off") || s.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    s.trim().parse::<f64>().map(Some).map_err(|_| anyhow!("--{flag}: {s:?} is not a number or \"off\""))
}

fn check(flag: &str, v: f64, lo: f64, hi: f64, unit: &str) -> Result<f64> {
    if !(v.is_finite() && v >= lo && v <= hi) {
        bail!("--{flag} {v} is out of range ({lo} to {hi} {unit})");
    }
    Ok(v)
}

impl StageArgs {
    /// Where a stage value came from: its flag, else the preset, else the settings file, else the
    /// default stage.
    fn source(&self, flag_given: bool) -> String {
        match &self.stage {
            Some(p) if !flag_given => format!("preset {}", library::find_stage(p).map_or(p.as_str(), |s| s.id.as_str())),
            _ => self.session_source(flag_given, &format!("default: preset {DEFAULT_STAGE_A}")),
        }
    }

    /// Where a value came from when no preset sets it: its flag, else the settings file, else
    /// `default`.
    fn session_source(&self, flag_given: bool, default: &str) -> String {
        match &self.config {
            _ if flag_given => "flag".to_string(),
            Some(c) => format!("settings file {}", c.display()),
            None => default.to_string(),
        }
    }

    /// Every setting of the rendered slot with its value and source, for the report.
    pub fn provenance(&self, cfg: &SessionConfig) -> Vec<Setting> {
        let slot = cfg.active();
        let p = &slot.stage;
        let off = |v: Option<String>| v.unwrap_or_else(|| "off".to_string());
        let load_name = match &slot.imported {
            Some(c) if slot.headphone == IMPORTED_LOAD_ID => format!("imported curve {}", c.name),
            _ => slot.headphone.clone(),
        };
        let load_source = self.session_source(self.impedance.is_some() || self.headphone.is_some(), "default: the first library load");
        vec![
            Setting { name: "headphone", value: load_name, source: load_source },
            match slot.spl_db {
                Some(db) => Setting { name: "listening level", value: format!("{db} dB SPL (1 kHz at −14 dBFS RMS)"), source: self.session_source(self.spl.is_some(), "default") },
                None => Setting { name: "level", value: format!("{:+.1} dBu", v_to_dbu(p.level_v)), source: self.source(self.level.is_some()) },
            },
            Setting { name: "zout", value: format!("{} Ω", p.r_out_ohm), source: self.source(self.zout.is_some()) },
            Setting { name: "ccap", value: off(p.c_block_f.map(|c| format!("{} µF", c * 1e6))), source: self.source(self.ccap.is_some()) },
            Setting { name: "vmax", value: off(p.v_max_v.map(|v| format!("{v} V RMS"))), source: self.source(self.vmax.is_some()) },
            Setting { name: "imax", value: off(p.i_max_a.map(|i| format!("{} mA", i * 1e3))), source: self.source(self.imax.is_some()) },
            Setting { name: "bias", value: format!("{} %", p.bias * 100.0), source: self.source(self.bias.is_some()) },
            Setting { name: "noise", value: off(p.noise_dbv.map(|n| format!("{n} dBV"))), source: self.source(self.noise.is_some()) },
            Setting { name: "output inductance", value: format!("{} µH", p.l_out_h * 1e6), source: self.source(false) },
            Setting {
                name: "ground return",
                value: if p.r_ground_ohm > 0.0 { format!("{} Ω shared by both channels", p.r_ground_ohm) } else { "separate (0 Ω)".to_string() },
                source: self.source(self.ground_ohm.is_some()),
            },
            Setting { name: "level match", value: if cfg.level_match { "on" } else { "off" }.to_string(), source: self.session_source(self.level_match, "default") },
            Setting {
                name: "listen",
                value: format!("{:?}", cfg.listen).to_lowercase(),
                source: self.session_source(self.listen != ListenArg::Emulation, "default"),
            },
        ]
    }

    /// One line when the render leans on the default stage (no --stage and no --config).
    pub fn defaults_note(&self) -> Option<String> {
        (self.stage.is_none() && self.config.is_none()).then(|| {
            format!(
                "no --stage or --config given, so the stage is the default preset {DEFAULT_STAGE_A} (with its coupling capacitor and limits) plus the flags; add --stage ideal for a bare output impedance"
            )
        })
    }

    /// The session these flags describe: the settings file (or the plugin's defaults for slot A)
    /// with the preset and every given flag applied to the active slot.
    pub fn session(&self) -> Result<SessionConfig> {
        let mut cfg = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
                SessionConfig::parse(&text).map_err(|e| anyhow!("{}: {e}", path.display()))?
            }
            None => {
                let mut c = SessionConfig::default();
                c.a.stage = default_stage(0);
                c.b.stage = default_stage(1);
                c
            }
        };
        if self.level_match {
            cfg.level_match = true;
        }
        if self.listen != ListenArg::Emulation || self.config.is_none() {
            cfg.listen = match self.listen {
                ListenArg::Emulation => Listen::Emulation,
                ListenArg::Ideal => Listen::Ideal,
                ListenArg::Difference => Listen::Difference,
            };
        }
        let active = cfg.active_slot;
        let slot = cfg.slot_mut(active);
        if let Some(key) = &self.stage {
            slot.stage = library::find_stage(key).ok_or_else(|| anyhow!(unknown_stage(key)))?.params;
        }
        if let Some(key) = &self.headphone {
            match library::find_load(key) {
                Some(l) => slot.headphone = l.id.clone(),
                // A headphone file from `loadline headphone new` plays as the slot's own curve,
                // as it does when the editor makes one.
                None => {
                    let (name, network, sensitivity_db_spl_per_v) = super::headphone::resolve_load_with_sensitivity(key)?;
                    slot.imported = Some(ImportedCurve { name, network, points: Vec::new(), sensitivity_db_spl_per_v });
                    slot.headphone = IMPORTED_LOAD_ID.to_string();
                }
            }
        }
        if let Some(path) = &self.impedance {
            let (curve, report) = ImportedCurve::from_file(path).map_err(|e| anyhow!("{}: {e}", path.display()))?;
            // The same fit report the editor shows under its menu.
            for line in report {
                eprintln!("loadline: {}: {line}", path.display());
            }
            slot.imported = Some(curve);
            slot.headphone = IMPORTED_LOAD_ID.to_string();
        }
        let p = &mut slot.stage;
        if let Some(v) = self.zout {
            p.r_out_ohm = check("zout", v, 0.0, 10_000.0, "Ω")?;
        }
        if let Some(s) = &self.ccap {
            p.c_block_f = opt_num("ccap", s)?.map(|v| check("ccap", v, 0.1, 100_000.0, "µF")).transpose()?.map(|uf| uf * 1e-6);
        }
        if let Some(v) = self.level {
            p.level_v = dbu_to_v(check("level", v, -40.0, 30.0, "dBu")?);
            slot.spl_db = None;
        }
        if let Some(s) = &self.vmax {
            p.v_max_v = opt_num("vmax", s)?.map(|v| check("vmax", v, 0.01, 50.0, "V")).transpose()?;
        }
        if let Some(s) = &self.imax {
            p.i_max_a = opt_num("imax", s)?.map(|v| check("imax", v, 0.5, 5000.0, "mA")).transpose()?.map(|ma| ma * 1e-3);
        }
        if let Some(v) = self.bias {
            p.bias = check("bias", v, 0.0, 100.0, "%")? / 100.0;
        }
        if let Some(v) = self.ground_ohm {
            p.r_ground_ohm = check("ground-ohm", v, 0.0, 10.0, "Ω")?;
        }
        if let Some(s) = &self.noise {
            p.noise_dbv = opt_num("noise", s)?.map(|v| check("noise", v, -160.0, -20.0, "dBV")).transpose()?;
        }
        p.validate().map_err(|e| anyhow!("stage: {e}"))?;
        if slot.headphone == IMPORTED_LOAD_ID && slot.imported.is_none() {
            bail!("the active slot uses an imported curve but none is embedded");
        }
        if let Some(db) = self.spl {
            let db = check("spl", db, SPL_RANGE_DB.0, SPL_RANGE_DB.1, "dB SPL")?;
            if slot_sensitivity(slot).is_none() {
                let (name, _) = slot_load(slot)?;
                bail!("--spl {db}: {name} has no sensitivity figure, so no listening level can be set for it; give --level in dBu instead");
            }
            slot.spl_db = Some(db);
        }
        Ok(cfg)
    }
}

/// A slot's load: its display name and network (the library's, or the slot's imported curve).
pub fn slot_load(s: &SlotConfig) -> Result<(String, Network)> {
    match (&s.imported, load_index(&s.headphone)) {
        (Some(c), Some(k)) if k == library::loads().len() => Ok((c.name.clone(), c.network.clone())),
        (_, Some(k)) if k < library::loads().len() => {
            let l = &library::loads()[k];
            Ok((l.name.clone(), l.network.clone()))
        }
        _ => bail!("unknown headphone {:?}", s.headphone),
    }
}

/// A slot's load sensitivity, dB SPL for 1 V at 1 kHz (`None`: not a transducer, or not known).
pub fn slot_sensitivity(s: &SlotConfig) -> Option<f64> {
    match (&s.imported, load_index(&s.headphone)) {
        (Some(c), Some(k)) if k == library::loads().len() => c.sensitivity_db_spl_per_v,
        (_, Some(k)) => library::loads().get(k).and_then(|l| l.sensitivity()),
        _ => None,
    }
}

/// The load of the session's active slot (the one a render plays).
pub fn active_load(cfg: &SessionConfig) -> Result<(String, Network)> {
    slot_load(cfg.active())
}
