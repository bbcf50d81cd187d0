//! `loadline list` and `loadline impedance`.

use super::output::{self, Format, Pending};
use super::print;
use loadline::dsp::stage::v_to_dbu;
use std::fmt::Write;
use anyhow::Result;
use clap::Args;
use loadline::dsp::network::log_grid;
use loadline::library;
use std::f64::consts::PI;

/// Prints the library, as a table or as JSON (`library::json::list_json`).
pub fn list(json: bool) -> Result<()> {
    if json {
        return print(&format!("{}\n", serde_json::to_string_pretty(&library::json::list_json())?));
    }
    let loads = library::loads();
    let stages = library::stages();
    let mut t = format!("Loads ({}):\n", loads.len());
    for l in loads {
        let z = l.network.impedance(1000.0);
        let _ = writeln!(t, "  {:<28} {:<52} |Z(1 kHz)| {:>7.1} Ω  {:>4.0} dB SPL/V", l.id, l.name, z.norm(), l.sensitivity_db_spl_per_v);
        assumed_line(&mut t, &l.assumed);
    }
    let _ = writeln!(t, "Stage presets ({}):", stages.len());
    for s in stages {
        // One channel's output impedance as an analyser reads it (the other idle): its own
        // resistance plus the shared ground, which is also shown.
        let p = &s.params;
        let ground = if p.r_ground_ohm > 0.0 { format!("  (ground {:.2} Ω shared)", p.r_ground_ohm) } else { String::new() };
        let _ = writeln!(t, "  {:<28} {:<52} Zout {:>6.1} Ω  level {:>+6.1} dBu{ground}", s.id, s.name, p.r_out_ohm + p.r_ground_ohm, v_to_dbu(p.level_v));
        assumed_line(&mut t, &s.assumed);
    }
    print(&t)
}

/// Under a named reference, the figures that are assumed rather than published.
fn assumed_line(t: &mut String, assumed: &[String]) {
    if !assumed.is_empty() {
        let _ = writeln!(t, "  {:<28} assumed (not published): {}", "", assumed.join(", "));
    }
}

#[derive(Args, Debug)]
pub struct ImpedanceArgs {
    /// Load id or name, or a headphone file made by `loadline headphone new`.
    pub load: String,
    /// Points of the sweep from 20 Hz to 20 kHz, logarithmic (2 to 100000).
    #[arg(long, default_value_t = 31, value_parser = clap::value_parser!(u32).range(2..=100_000))]
    pub points: u32,
    /// CSV output (frequency Hz, |Z| Ω, phase °).
    #[arg(long)]
    pub csv: bool,
    /// Write the load as a ZMA file (frequency, |Z|, phase) for other tools, instead of printing.
    #[arg(long, value_name = "OUT.zma")]
    pub zma: Option<std::path::PathBuf>,
    /// Replace the --zma file if it exists.
    #[arg(long, requires = "zma")]
    pub force: bool,
}

/// Prints |Z| and phase of a library load, or writes it as ZMA (`library::export`).
pub fn impedance(a: ImpedanceArgs) -> Result<()> {
    let (name, network) = super::headphone::resolve_load(&a.load)?;
    if let Some(out) = &a.zma {
        output::check(out, &[Format::Zma], a.force, &[], false)?;
        let text = library::export::write_zma(&network, &library::export::default_freqs());
        Pending::write_all(out, a.force, text.as_bytes())?;
        return print(&format!("wrote {}\n", out.display()));
    }
    let mut t = String::new();
    if a.csv {
        t.push_str("frequency_hz,magnitude_ohm,phase_deg\n");
    } else {
        let _ = writeln!(t, "{} ({})\n{:>10}  {:>10}  {:>8}", name, library::netlist::format(&network), "Hz", "|Z| Ω", "phase °");
    }
    for f in log_grid(20.0, 20_000.0, a.points as usize) {
        let z = network.impedance(f);
        if a.csv {
            let _ = writeln!(t, "{f:.3},{:.4},{:.3}", z.norm(), z.arg() * 180.0 / PI);
        } else {
            let _ = writeln!(t, "{f:>10.1}  {:>10.2}  {:>8.2}", z.norm(), z.arg() * 180.0 / PI);
        }
    }
    print(&t)
}
