//! `loadline headphone new`: a headphone from its spec sheet (`library::specsheet`), saved as a
//! small TOML file that `render --headphone`, `plot --load` and `impedance` accept wherever a
//! library load is accepted.

use super::output::{self, Format, Pending};
use super::print;
use super::suggest::unknown_load;
use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use loadline::dsp::Network;
use loadline::library::{self, netlist, specsheet::{Built, Kind, Spec}};
use std::fmt::Write;
use std::path::{Path, PathBuf};

#[derive(Subcommand, Debug)]
pub enum HeadphoneCmd {
    /// Make a headphone from its spec sheet and save it as a file usable wherever a load is.
    New(NewArgs),
}

#[derive(Args, Debug)]
pub struct NewArgs {
    /// Display name.
    #[arg(long)]
    pub name: String,
    /// closed-dynamic, open-dynamic, planar, ba, multi-ba or hybrid.
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: String,
    /// Rated impedance, ohms.
    #[arg(long, value_name = "OHM", allow_hyphen_values = true)]
    pub nominal: f64,
    /// Sensitivity, dB SPL for 1 mW at 1 kHz.
    #[arg(long, value_name = "DB", allow_hyphen_values = true)]
    pub sens_mw: Option<f64>,
    /// Sensitivity, dB SPL for 1 V RMS at 1 kHz.
    #[arg(long, value_name = "DB", allow_hyphen_values = true)]
    pub sens_v: Option<f64>,
    /// Frequency of the main resonance (the maximum of |Z|), Hz.
    #[arg(long, value_name = "HZ", allow_hyphen_values = true)]
    pub resonance: Option<f64>,
    /// |Z| at the resonance, ohms.
    #[arg(long, value_name = "OHM", allow_hyphen_values = true)]
    pub peak: Option<f64>,
    /// A measured minimum of |Z| from 20 Hz to 20 kHz, ohms.
    #[arg(long, value_name = "OHM", allow_hyphen_values = true)]
    pub min: Option<f64>,
    /// |Z| at 20 kHz, ohms.
    #[arg(long, value_name = "OHM", allow_hyphen_values = true)]
    pub z20k: Option<f64>,
    /// Voice-coil inductance, µH.
    #[arg(long, value_name = "UH", allow_hyphen_values = true)]
    pub coil_uh: Option<f64>,
    /// DC resistance, ohms.
    #[arg(long, value_name = "OHM", allow_hyphen_values = true)]
    pub dc: Option<f64>,
    /// Output file (.toml).
    #[arg(short = 'o', long = "out", value_name = "OUT.toml")]
    pub out: PathBuf,
    /// Replace the output file if it exists.
    #[arg(long)]
    pub force: bool,
}

pub fn run(cmd: HeadphoneCmd) -> Result<()> {
    match cmd {
        HeadphoneCmd::New(a) => new(a),
    }
}

fn new(a: NewArgs) -> Result<()> {
    output::check(&a.out, &[Format::Toml], a.force, &[], false)?;
    let spec = Spec {
        name: a.name,
        kind: Kind::parse(&a.kind).map_err(|e| anyhow!("--{e}"))?,
        nominal_ohm: a.nominal,
        sensitivity_db_per_mw: a.sens_mw,
        sensitivity_db_per_v: a.sens_v,
        resonance_hz: a.resonance,
        peak_ohm: a.peak,
        min_ohm: a.min,
        z_20k_ohm: a.z20k,
        voice_coil_h: a.coil_uh.map(|uh| uh * 1e-6),
        dc_ohm: a.dc,
    };
    let built = spec.build().map_err(|e| anyhow!("{}: {}", flag(e.field), e.message))?;
    let text = spec_file(&spec, &built)?;
    Pending::write_all(&a.out, a.force, text.as_bytes())?;
    let mut t = String::new();
    for line in &built.report {
        let _ = writeln!(t, "  {line}");
    }
    for c in &built.checks {
        let _ = writeln!(t, "  met: {} {} → {:.4} ({:+.3} %)", c.field, c.given, c.got, 100.0 * c.deviation());
    }
    let _ = writeln!(t, "  network: {}\nwrote {}", netlist::format(&built.network), a.out.display());
    print(&t)
}

/// The command-line flag of a spec field, for error messages.
fn flag(field: &str) -> &'static str {
    match field {
        "name" => "--name",
        "type" => "--type",
        "nominal_ohm" => "--nominal",
        "sensitivity_db_per_mw" => "--sens-mw",
        "sensitivity_db_per_v" => "--sens-v",
        "resonance_hz" => "--resonance",
        "peak_ohm" => "--peak",
        "min_ohm" => "--min",
        "z_20k_ohm" => "--z20k",
        "voice_coil_h" => "--coil-uh",
        "dc_ohm" => "--dc",
        _ => "spec",
    }
}

/// The file: the spec itself (what is read back) under comments with the report and network.
fn spec_file(spec: &Spec, built: &Built) -> Result<String> {
    let mut t = String::from("# A headphone from its spec sheet, made by `loadline headphone new`.\n# Use it wherever a load is accepted: render --headphone FILE, plot --load FILE, impedance FILE.\n# The network is rebuilt from the figures below when the file is read.\n#\n");
    for line in &built.report {
        let _ = writeln!(t, "# {line}");
    }
    let _ = writeln!(t, "# network: {}\n", netlist::format(&built.network));
    t.push_str(&toml::to_string(spec).map_err(|e| anyhow!("cannot write the spec: {e}"))?);
    Ok(t)
}

/// Reads a spec file and builds its headphone: one line naming the file, and the line and field
/// at fault.
pub fn read_spec(path: &Path) -> Result<(Spec, Built)> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| anyhow!("{shown}: cannot read: {e}"))?;
    let spec = Spec::from_toml(&text).map_err(|e| anyhow!("{shown}: {e}"))?;
    let built = spec.build().map_err(|e| anyhow!("{shown}: {e}"))?;
    Ok((spec, built))
}

/// A load given on the command line: a library id or name, or a spec file (`.toml`).
pub fn resolve_load(key: &str) -> Result<(String, Network)> {
    resolve_load_with_sensitivity(key).map(|(n, z, _)| (n, z))
}

/// [`resolve_load`] and the load's sensitivity, dB SPL for 1 V (`None` for a load that is not a
/// transducer).
pub fn resolve_load_with_sensitivity(key: &str) -> Result<(String, Network, Option<f64>)> {
    if let Some(l) = library::find_load(key) {
        return Ok((l.name.clone(), l.network.clone(), l.sensitivity()));
    }
    let path = Path::new(key);
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml")) {
        if !path.exists() {
            bail!("{key}: no such headphone file");
        }
        let (spec, built) = read_spec(path)?;
        return Ok((spec.name, built.network, Some(built.sensitivity_db_spl_per_v)));
    }
    bail!(unknown_load(key))
}
