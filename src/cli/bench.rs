//! `loadline bench`: the emulated setup measured as an audio analyser would (`loadline::bench`),
//! drawn as one PNG or SVG (`bench_chart.rs`) with an optional JSON of every reading, and summed
//! up on standard output.

use super::output::{self, Format, Pending};
use super::settings::{slot_load, slot_sensitivity, StageArgs};
use anyhow::{bail, Result};
use clap::Args;
use loadline::bench::{measure, Analyser, Measurement};
use loadline::dsp::StageParams;
use loadline::processor::listening::{level_for_spl, spl_of, REFERENCE_HZ};
use serde::Serialize;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// The chart: .png or .svg.
    #[arg(short = 'o', long = "out", value_name = "OUT.png|OUT.svg")]
    pub out: PathBuf,
    /// Also write every reading as JSON.
    #[arg(long, value_name = "FILE.json")]
    pub json: Option<PathBuf>,
    #[command(flatten)]
    pub stage: StageArgs,
    /// Replace output files that already exist.
    #[arg(long)]
    pub force: bool,
}

/// What was measured, with the measurement (the JSON file's content).
#[derive(Serialize)]
pub struct BenchReport {
    pub stage: String,
    pub headphone: String,
    /// The stage as measured (its Level follows a listening level when one is set).
    pub level_v_rms: f64,
    pub r_out_ohm: f64,
    pub v_max_v_rms: Option<f64>,
    pub i_max_a: Option<f64>,
    pub sensitivity_db_spl_per_v: Option<f64>,
    /// Sound pressure of the maximum into the headphone, when its sensitivity is known.
    pub max_spl_db: Option<f64>,
    #[serde(flatten)]
    pub measurement: Measurement,
}

/// Refuses the flags that do not change a bench reading (it measures the emulation alone).
fn reject_inert_flags(a: &StageArgs) -> Result<()> {
    if a.level_match {
        bail!("--level-match does not change a bench reading (the bench measures the stage's own output); leave it out");
    }
    if a.listen != super::settings::ListenArg::Emulation {
        bail!("--listen does not change a bench reading (the bench measures the emulation); leave it out");
    }
    Ok(())
}

pub fn run(a: BenchArgs) -> Result<()> {
    reject_inert_flags(&a.stage)?;
    let format = output::check(&a.out, &[Format::Png, Format::Svg], a.force, &[], false)?;
    if let Some(j) = &a.json {
        output::check(j, &[Format::Json], a.force, std::slice::from_ref(&a.out), false)?;
    }
    let cfg = a.stage.session()?;
    let slot = cfg.active();
    let (headphone, load) = slot_load(slot)?;
    let sensitivity = slot_sensitivity(slot);
    // A listening level sets the Level the processor would play (and so where full scale sits).
    let mut stage: StageParams = slot.stage;
    if let (Some(db), Some(s)) = (slot.spl_db, sensitivity) {
        stage.level_v = level_for_spl(db, s, load.impedance(REFERENCE_HZ), &stage).0;
    }
    let name = match (&a.stage.stage, &a.stage.config) {
        (Some(key), _) => loadline::library::find_stage(key).map_or(key.clone(), |s| s.name.clone()),
        (None, Some(c)) => format!("slot {} of {}", ["A", "B"][cfg.active_slot.index()], c.display()),
        (None, None) => format!("default stage ({})", loadline::plugin::params::DEFAULT_STAGE_A),
    };
    let measurement = measure(&Analyser::default(), &stage, &load);
    let report = BenchReport {
        stage: name,
        headphone,
        level_v_rms: stage.level_v,
        r_out_ohm: stage.r_out_ohm,
        v_max_v_rms: stage.v_max_v,
        i_max_a: stage.i_max_a,
        sensitivity_db_spl_per_v: sensitivity,
        max_spl_db: sensitivity.map(|s| spl_of(measurement.max_into_headphone.v_rms, s)),
        measurement,
    };
    // Both files are written to temporary names first and moved into place together at the end.
    let (chart, file) = Pending::create(&a.out, a.force)?;
    drop(file);
    super::bench_chart::draw(&report, format, chart.path())?;
    let json = match &a.json {
        Some(j) => {
            let (p, mut w) = Pending::create(j, a.force)?;
            serde_json::to_writer_pretty(&mut w, &report)?;
            std::io::Write::flush(&mut w)?;
            Some(p)
        }
        None => None,
    };
    chart.commit()?;
    let mut text = summary(&report);
    text += &format!("wrote {}\n", a.out.display());
    if let (Some(p), Some(j)) = (json, &a.json) {
        p.commit()?;
        text += &format!("wrote {}\n", j.display());
    }
    super::print(&text)
}

/// The reading in a few lines, as an analyser's summary page.
pub fn summary(r: &BenchReport) -> String {
    let m = &r.measurement;
    let mut s = format!("bench: {} into {} (read from audio rendered at {} kHz)\n", r.stage, r.headphone, m.fs_hz / 1000.0);
    s += &format!("  output impedance at {} Hz (600 Ω and 32 Ω loads): {:.2} Ω\n", m.test_hz, m.output_impedance_ohm);
    let (lo, hi) = m.response.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), p| (l.min(p.measured_db), h.max(p.measured_db)));
    let at_1k = m.response.iter().min_by(|a, b| (a.f_hz.ln() - 1000f64.ln()).abs().total_cmp(&(b.f_hz.ln() - 1000f64.ln()).abs()));
    if let Some(p) = at_1k {
        s += &format!("  response at the headphone against an ideal source: {:+.2} dB at 1 kHz, {:+.2} to {:+.2} dB from 20 Hz to 20 kHz\n", p.measured_db, lo, hi);
    }
    if let Some(p) = m.crosstalk.iter().min_by(|a, b| (a.f_hz.ln() - 1000f64.ln()).abs().total_cmp(&(b.f_hz.ln() - 1000f64.ln()).abs())) {
        let w = m.crosstalk.iter().max_by(|a, b| a.measured_db.total_cmp(&b.measured_db)).unwrap_or(p);
        s += &format!("  crosstalk through the shared ground (left driven): {:.1} dB at 1 kHz, worst {:.1} dB at {} Hz\n", p.measured_db, w.measured_db, super::plot::hz_label(&w.f_hz));
    }
    let h = &m.max_into_headphone;
    let why = if h.at_full_scale { "at 0 dBFS, below 1 % THD" } else { "at 1 % THD" };
    let spl = r.max_spl_db.map_or(String::new(), |db| format!(", {db:.1} dB SPL"));
    s += &format!("  maximum into the headphone (|Z| {:.1} Ω at 1 kHz), {why}: {:.3} V RMS, {:.2} mW{spl}\n", h.r_load_ohm, h.v_rms, h.p_w * 1e3);
    s += "  maximum output at 1 % THD (* full scale comes first):\n";
    for o in &m.max_output {
        s += &format!("    {:>5} Ω  {:>7.3} V RMS  {:>8.2} mW{}\n", o.r_load_ohm, o.v_rms, o.p_w * 1e3, if o.at_full_scale { " *" } else { "" });
    }
    s
}
