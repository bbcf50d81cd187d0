//! "Did you mean ...?" for unknown load and preset names (through `library::suggest`).

use loadline::library;
use loadline::library::suggest::suggest_among;

fn hint(near: Option<String>) -> String {
    near.map(|n| format!("; did you mean {n:?}?")).unwrap_or_default()
}

/// Error text for an unknown load.
pub fn unknown_load(key: &str) -> String {
    let near = suggest_among(key, library::loads().iter().map(|l| (l.id.as_str(), l.name.as_str())));
    format!("unknown headphone {key:?}{} (see `loadline list`)", hint(near))
}

/// Error text for an unknown stage preset.
pub fn unknown_stage(key: &str) -> String {
    let near = suggest_among(key, library::stages().iter().map(|s| (s.id.as_str(), s.name.as_str())));
    format!("unknown stage preset {key:?}{} (see `loadline list`)", hint(near))
}
