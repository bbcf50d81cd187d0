//! The settings file: a whole A/B session as readable text (TOML or JSON), written by the editor
//! and read by `loadline render --config`, so DAW settings carry over to batch renders.

use super::{Listen, Settings, SlotId, SlotSettings};
use crate::dsp::{Network, StageParams};
use crate::library;
use crate::library::specsheet::Spec;
use serde::{Deserialize, Serialize};

/// Name used for a slot's imported curve wherever a load is named.
pub const IMPORTED_LOAD_ID: &str = "imported";

/// An impedance curve imported from a measurement file, embedded so a session reopens without
/// the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportedCurve {
    /// Display name (usually the file name).
    pub name: String,
    /// The network fitted to the measurement.
    pub network: Network,
    /// The measured points `[frequency Hz, |Z| Ω, phase °]`, for plotting (may be empty).
    #[serde(default)]
    pub points: Vec<[f64; 3]>,
    /// Sensitivity, dB SPL for 1 V at 1 kHz, when known (a headphone made from its spec sheet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitivity_db_spl_per_v: Option<f64>,
}

impl ImportedCurve {
    /// Reads, parses and fits an impedance file (a worker thread: tens to hundreds of
    /// milliseconds), named after the file. Returns the curve and the fit report the editor and the
    /// CLI show (worst errors, element count, extrapolation, reconstructed phase).
    pub fn from_file(path: &std::path::Path) -> Result<(Self, Vec<String>), String> {
        let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        // A headphone file from `loadline headphone new` is a spec sheet, not a measurement.
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml")) {
            let text = String::from_utf8(bytes).map_err(|_| "not a text file".to_string())?;
            return Self::from_spec(&Spec::from_toml(&text)?);
        }
        Self::from_bytes(&name, &bytes)
    }

    /// A headphone made from its spec sheet (a worker thread: tens of milliseconds), named after
    /// it and carrying its sensitivity. Returns the curve and the report (what was given, met and
    /// assumed).
    pub fn from_spec(spec: &Spec) -> Result<(Self, Vec<String>), String> {
        let b = spec.build().map_err(|e| e.to_string())?;
        let mut report = b.report.clone();
        report.extend(b.checks.iter().map(|c| format!("met: {} {} (network {:.4}, {:+.3} %)", c.field, c.given, c.got, 100.0 * c.deviation())));
        let curve = Self { name: spec.name.clone(), network: b.network, points: Vec::new(), sensitivity_db_spl_per_v: Some(b.sensitivity_db_spl_per_v) };
        Ok((curve, report))
    }

    /// Whether a curve that came from outside (a saved session, a settings file) is safe to
    /// compile: at most [`CURVE_MAX_ELEMENTS`] elements nested at most [`CURVE_MAX_DEPTH`] deep,
    /// every value a physical one ([`CURVE_ELEMENT_RANGES`]), at most [`CURVE_MAX_POINTS`] finite
    /// plot points. Every curve the importer makes passes; a hostile or corrupt state gets a
    /// one-line reason instead of seconds of fitting on the host's thread. The limits bound the
    /// fit that compiles the curve (at most about 40 ms at the element limit); a curve within them
    /// that the engine still cannot fit is dropped where it is compiled. Cheap: no fit here.
    pub fn check(&self) -> Result<(), String> {
        let net = &self.network;
        net.validate().map_err(|e| e.to_string())?;
        if self.name.len() > 1024 {
            return Err(format!("its name is {} bytes long (at most 1024)", self.name.len()));
        }
        let n = net.element_count();
        if n > CURVE_MAX_ELEMENTS {
            return Err(format!("its network has {n} elements (at most {CURVE_MAX_ELEMENTS})"));
        }
        let d = depth(net);
        if d > CURVE_MAX_DEPTH {
            return Err(format!("its network is nested {d} deep (at most {CURVE_MAX_DEPTH})"));
        }
        check_values(net)?;
        if self.points.len() > CURVE_MAX_POINTS {
            return Err(format!("it has {} plot points (at most {CURVE_MAX_POINTS})", self.points.len()));
        }
        if let Some(s) = self.sensitivity_db_spl_per_v.filter(|s| !(s.is_finite() && (SENSITIVITY_RANGE_DB.0..=SENSITIVITY_RANGE_DB.1).contains(s))) {
            return Err(format!("its sensitivity {s} dB SPL/V is outside {}…{}", SENSITIVITY_RANGE_DB.0, SENSITIVITY_RANGE_DB.1));
        }
        match self.points.iter().find(|p| !(p[0] > 0.0 && p[1] >= 0.0 && p.iter().all(|v| v.is_finite()))) {
            Some(p) => Err(format!("plot point {p:?} is not a positive frequency, |Z| and a finite phase")),
            None => Ok(()),
        }
    }

    /// As [`Self::from_file`], from the file's bytes.
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<(Self, Vec<String>), String> {
        let c = crate::import::import_impedance(bytes).map_err(|e| e.to_string())?;
        let points = c.samples.iter().map(|s| [s.freq_hz, s.z.norm(), s.z.arg().to_degrees()]).collect();
        Ok((Self { name: name.to_string(), network: c.network, points, sensitivity_db_spl_per_v: None }, c.notes))
    }
}

/// Most elements an imported curve's network may have: the importer's highest order (24 poles)
/// realises at most about 50; the engine's fit of 64 takes about 40 ms.
pub const CURVE_MAX_ELEMENTS: usize = 64;
/// Deepest nesting of series and parallel groups in an imported curve's network.
pub const CURVE_MAX_DEPTH: usize = 16;
/// Most plot points an imported curve may carry (measurement files have hundreds).
pub const CURVE_MAX_POINTS: usize = 20_000;
/// Physical element values an imported curve may use: R in ohms, L in henries, C in farads,
/// each far wider than any headphone's (milliohm contacts to megohm inputs, picohenries to
/// henries, picofarads to farads).
pub const CURVE_ELEMENT_RANGES: [(&str, f64, f64); 3] = [("R", 1e-4, 1e8), ("L", 1e-13, 10.0), ("C", 1e-14, 10.0)];

fn depth(n: &Network) -> usize {
    match n {
        Network::Series(v) | Network::Parallel(v) => 1 + v.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn check_values(n: &Network) -> Result<(), String> {
    let (kind, v) = match n {
        Network::R(v) => ("R", *v),
        Network::L(v) => ("L", *v),
        Network::C(v) => ("C", *v),
        Network::Series(g) | Network::Parallel(g) => return g.iter().try_for_each(check_values),
    };
    let (_, lo, hi) = CURVE_ELEMENT_RANGES.iter().find(|r| r.0 == kind).copied().unwrap_or((kind, 0.0, 0.0));
    if (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(format!("element {kind} = {v:e} is outside {lo:e}..{hi:e}"))
    }
}

/// Sensitivities a curve may carry, dB SPL for 1 V (the spec-sheet builder's range, 70 dB/mW into
/// 2 kΩ to 150 dB/V, with margin).
pub const SENSITIVITY_RANGE_DB: (f64, f64) = (50.0, 160.0);

/// One slot of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlotConfig {
    /// Load id from the library, or [`IMPORTED_LOAD_ID`].
    pub headphone: String,
    /// The output stage (SI units, as in `data/stages.toml`).
    pub stage: StageParams,
    /// The slot's imported curve, if any.
    pub imported: Option<ImportedCurve>,
    /// The listening level, dB SPL (`None`: the stage's Level in dBu is used).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spl_db: Option<f64>,
}

impl Default for SlotConfig {
    fn default() -> Self {
        Self {
            headphone: library::loads().first().map(|l| l.id.clone()).unwrap_or_default(),
            stage: StageParams::IDEAL,
            imported: None,
            spl_db: None,
        }
    }
}

/// A whole session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    pub active_slot: SlotId,
    pub level_match: bool,
    pub listen: Listen,
    /// Output Trim, decibels.
    pub output_trim_db: f64,
    pub a: SlotConfig,
    pub b: SlotConfig,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            active_slot: SlotId::A,
            level_match: false,
            listen: Listen::Emulation,
            output_trim_db: 0.0,
            a: SlotConfig::default(),
            b: SlotConfig::default(),
        }
    }
}

/// Index of a load id in the library (`library.len()` for [`IMPORTED_LOAD_ID`]).
pub fn load_index(id: &str) -> Option<usize> {
    let loads = library::loads();
    if id == IMPORTED_LOAD_ID {
        return Some(loads.len());
    }
    loads.iter().position(|l| l.id.eq_ignore_ascii_case(id) || l.name.eq_ignore_ascii_case(id))
}

/// Id of load index `k` (the inverse of [`load_index`]).
pub fn load_id(k: usize) -> String {
    library::loads().get(k).map_or_else(|| IMPORTED_LOAD_ID.to_string(), |l| l.id.clone())
}

impl SessionConfig {
    /// Parses a settings file: JSON if it starts with `{`, TOML otherwise. Unknown keys are
    /// refused (a typo must not be ignored); errors are one line naming the line.
    pub fn parse(text: &str) -> Result<Self, String> {
        let c: Self = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| e.to_string())?
        } else {
            toml::from_str(text).map_err(|e| {
                let line = e.span().map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
                let msg = e.message().trim().replace('\n', " ");
                match line {
                    Some(l) => format!("line {l}: {msg}"),
                    None => msg,
                }
            })?
        };
        for (name, s) in [("a", &c.a), ("b", &c.b)] {
            s.stage.validate().map_err(|e| format!("slot {name}: {e}"))?;
            if load_index(&s.headphone).is_none() {
                return Err(format!("slot {name}: unknown headphone {:?}", s.headphone));
            }
            if s.headphone == IMPORTED_LOAD_ID && s.imported.is_none() {
                return Err(format!("slot {name}: headphone is \"imported\" but no curve is embedded"));
            }
            if let Some(imp) = &s.imported {
                imp.check().map_err(|e| format!("slot {name} imported curve: {e}"))?;
            }
        }
        Ok(c)
    }

    /// Writes the session as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// The processor settings this session describes.
    pub fn settings(&self) -> Settings {
        let slot = |s: &SlotConfig| SlotSettings { load: load_index(&s.headphone).unwrap_or(0), stage: s.stage, spl_db: s.spl_db };
        Settings {
            active: self.active_slot,
            level_match: self.level_match,
            listen: self.listen,
            trim_db: self.output_trim_db,
            bypass: false,
            slots: [slot(&self.a), slot(&self.b)],
        }
    }

    /// The active slot's config (the one a render plays).
    pub fn active(&self) -> &SlotConfig {
        match self.active_slot {
            SlotId::A => &self.a,
            SlotId::B => &self.b,
        }
    }

    /// The slot config for `id`.
    pub fn slot_mut(&mut self, id: SlotId) -> &mut SlotConfig {
        match id {
            SlotId::A => &mut self.a,
            SlotId::B => &mut self.b,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_as_toml_and_json() {
        let mut c = SessionConfig::default();
        c.b.stage.r_out_ohm = 75.0;
        c.b.stage.c_block_f = Some(220e-6);
        c.b.imported = Some(ImportedCurve { name: "x".into(), network: Network::R(32.0), points: vec![[1000.0, 32.0, 0.0]], sensitivity_db_spl_per_v: None });
        c.b.headphone = IMPORTED_LOAD_ID.into();
        c.active_slot = SlotId::B;
        let t = c.to_toml();
        assert_eq!(SessionConfig::parse(&t).unwrap(), c, "{t}");
        let j = serde_json::to_string(&c).unwrap();
        assert_eq!(SessionConfig::parse(&j).unwrap(), c);
        assert!(SessionConfig::parse("a = 3").is_err());
        let typo = SessionConfig::parse("listen = \"ideal\"\nlevel_macth = true\n").unwrap_err();
        assert!(typo.starts_with("line 2: unknown field `level_macth`"), "{typo}");
        assert!(SessionConfig::parse("[a]\nheadphon = \"planar-14\"\n").unwrap_err().contains("headphon"));
    }
}
