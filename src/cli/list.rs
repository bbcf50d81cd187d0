//! `loadline list` and `loadline impedance`.

use super::suggest::unknown_load;
use anyhow::{anyhow, Result};
use clap::Args;
use loadline::dsp::network::log_grid;
use loadline::library;
use std::f64::consts::PI;

/// Prints the library, as a table or as JSON (`library::json::list_json`).
pub fn list(json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(&library::json::list_json())?);
        return Ok(());
    }
    let loads = library::loads();
    let stages = library::stages();
    println!("Loads ({}):", loads.len());
    for l in loads {
        let z = l.network.impedance(1000.0);
        println!("  {:<28} {:<48} |Z(1 kHz)| {:>7.1} Ω  {:>4.0} dB SPL/V", l.id, l.name, z.norm(), l.sensitivity_db_spl_per_v);
    }
    println!("Stage presets ({}):", stages.len());
    for s in stages {
        println!("  {:<28} {:<40} Zout {:>6.1} Ω  level {:>5.2} V", s.id, s.name, s.params.r_out_ohm, s.params.level_v);
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct ImpedanceArgs {
    /// Load id or name.
    pub load: String,
    /// Points per decade-spanning sweep (20 Hz–20 kHz, logarithmic).
    #[arg(long, default_value_t = 31)]
    pub points: usize,
    /// CSV output (frequency Hz, |Z| Ω, phase °).
    #[arg(long)]
    pub csv: bool,
    /// Write the load as a ZMA file (frequency, |Z|, phase) for other tools, instead of printing.
    #[arg(long, value_name = "OUT.zma")]
    pub zma: Option<std::path::PathBuf>,
}

/// Prints |Z| and phase of a library load, or writes it as ZMA (`library::export`).
pub fn impedance(a: ImpedanceArgs) -> Result<()> {
    let l = library::find_load(&a.load).ok_or_else(|| anyhow!(unknown_load(&a.load)))?;
    if let Some(out) = &a.zma {
        let text = library::export::write_zma(&l.network, &library::export::default_freqs());
        std::fs::write(out, text).map_err(|e| anyhow!("cannot write {}: {e}", out.display()))?;
        println!("wrote {}", out.display());
        return Ok(());
    }
    if a.csv {
        println!("frequency_hz,magnitude_ohm,phase_deg");
    } else {
        println!("{} ({})\n{:>10}  {:>10}  {:>8}", l.name, library::netlist::format(&l.network), "Hz", "|Z| Ω", "phase °");
    }
    for f in log_grid(20.0, 20_000.0, a.points.max(2)) {
        let z = l.network.impedance(f);
        if a.csv {
            println!("{f:.3},{:.4},{:.3}", z.norm(), z.arg() * 180.0 / PI);
        } else {
            println!("{f:>10.1}  {:>10.2}  {:>8.2}", z.norm(), z.arg() * 180.0 / PI);
        }
    }
    Ok(())
}
