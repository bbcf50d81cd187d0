//! The listener panel (`loadline panel`, issue 18): a mix heard through a dozen common listening
//! setups at one listening level. This module holds the panel's setups (`data/panel.toml` or the
//! user's own file) and the analysis of each render ([`analysis`]); the command line renders.
//!
//! Threading: a command's own threads (allocates).

pub mod analysis;
pub mod render;

use crate::library::{self, Load, StagePreset};
use serde::Deserialize;

/// One listening setup: a stage preset driving a library headphone.
#[derive(Debug, Clone)]
pub struct Setup {
    /// Letters, digits, '-' and '_': names the rendered file.
    pub id: String,
    pub name: String,
    pub stage: &'static StagePreset,
    pub headphone: &'static Load,
    /// Who listens this way (may be empty).
    pub why: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PanelFile {
    setup: Vec<SetupRaw>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetupRaw {
    id: String,
    name: String,
    stage: String,
    headphone: String,
    #[serde(default)]
    why: String,
}

const PANEL_TOML: &str = include_str!("../../data/panel.toml");

/// Most setups a panel may hold (each is a full render of the mix).
pub const MAX_SETUPS: usize = 64;

/// The shipped panel (checked by the test suite, so a failure is a build defect).
pub fn shipped() -> Vec<Setup> {
    parse(PANEL_TOML).expect("data/panel.toml")
}

/// Parses a panel file. Errors name the setup and field at fault (TOML errors carry their line):
/// an unknown stage or headphone, a headphone without a sensitivity (a listening level needs
/// one), an id that could not name a file, a repeated id, an empty or oversized panel.
pub fn parse(text: &str) -> Result<Vec<Setup>, String> {
    let f: PanelFile = toml::from_str(text).map_err(|e| e.to_string().replace('\n', " ").trim().to_string())?;
    if f.setup.is_empty() {
        return Err("no [[setup]] in the panel".to_string());
    }
    if f.setup.len() > MAX_SETUPS {
        return Err(format!("{} setups; a panel holds at most {MAX_SETUPS}", f.setup.len()));
    }
    let mut out: Vec<Setup> = Vec::with_capacity(f.setup.len());
    for (k, r) in f.setup.into_iter().enumerate() {
        let at = format!("setup {} ({:?})", k + 1, r.id);
        if r.id.is_empty() || r.id.len() > 64 || !r.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(format!("{at}: id must be 1 to 64 letters, digits, '-' or '_' (it names the rendered file)"));
        }
        if out.iter().any(|s| s.id.eq_ignore_ascii_case(&r.id)) {
            return Err(format!("{at}: id is used twice"));
        }
        if r.name.trim().is_empty() {
            return Err(format!("{at}: name is empty"));
        }
        let stage = library::find_stage(&r.stage).ok_or_else(|| format!("{at}: stage {:?} is not a library preset (see `loadline list`)", r.stage))?;
        let headphone = library::find_load(&r.headphone).ok_or_else(|| format!("{at}: headphone {:?} is not a library load (see `loadline list`)", r.headphone))?;
        if headphone.sensitivity().is_none() {
            return Err(format!("{at}: headphone {:?} has no sensitivity, so no listening level can be set for it", headphone.id));
        }
        out.push(Setup { id: r.id, name: r.name, stage, headphone, why: r.why });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped panel: at least 12 setups, from a phone dongle with IEMs to a line out with a
    /// 300 Ω headphone, every stage and headphone in the library, every headphone with a sensitivity.
    #[test]
    fn the_shipped_panel_spans_the_common_setups() {
        let p = shipped();
        assert!(p.len() >= 12, "{} setups", p.len());
        assert!(p.iter().any(|s| s.stage.id == "phone-dongle" && s.headphone.kind.contains("iem")), "no phone dongle with an IEM");
        assert!(p.iter().any(|s| s.stage.id.contains("line-out") && s.headphone.id == "open-dynamic-300"));
    }

    #[test]
    fn bad_panels_name_the_setup_and_field() {
        let ok = "[[setup]]\nid = \"a\"\nname = \"A\"\nstage = \"laptop-jack\"\nheadphone = \"closed-dynamic-32\"\n";
        assert_eq!(parse(ok).unwrap().len(), 1);
        let cases = [
            (ok.replace("laptop-jack", "toaster"), "stage \"toaster\""),
            (ok.replace("closed-dynamic-32", "nope"), "headphone \"nope\""),
            (ok.replace("closed-dynamic-32", "line-input-10k"), "no sensitivity"),
            (ok.replace("id = \"a\"", "id = \"../x\""), "id must be"),
            (format!("{ok}{ok}"), "used twice"),
            (ok.replace("name = \"A\"", "name = \" \""), "name is empty"),
            (ok.replace("stage =", "stag ="), "unknown field"),
            (String::new(), "missing field"),
            ("[[setup]]\nid = 3".to_string(), "line"),
        ];
        for (text, says) in cases {
            let e = parse(&text).unwrap_err();
            assert!(e.contains(says) && !e.contains('\n'), "{text:?}: {e}");
        }
    }
}
