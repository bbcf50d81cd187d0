//! `loadline plot`: an SVG with |Z| and phase of the loads and the small-signal response
//! deviation of one or more configurations (e.g. slots A and B of a settings file).

use super::output::{self, Format, Pending};
use super::settings::StageArgs;
use super::suggest::{unknown_load, unknown_stage};
use anyhow::{anyhow, Result};
use clap::Args;
use loadline::dsp::network::log_grid;
use loadline::dsp::{Network, StageParams};
use loadline::library;
use loadline::processor::config::SessionConfig;
use std::f64::consts::PI;
use std::fmt::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct PlotArgs {
    /// Output SVG.
    #[arg(short = 'o', long = "out", value_name = "OUT.svg")]
    pub out: PathBuf,
    /// Loads to draw (id or name; repeatable). Default: the configurations' loads.
    #[arg(long = "load", value_name = "LOAD")]
    pub loads: Vec<String>,
    /// Stage presets to compare on the configuration's load (repeatable).
    #[arg(long = "compare", value_name = "PRESET")]
    pub compare: Vec<String>,
    #[command(flatten)]
    pub stage: StageArgs,
    /// Replace the output file if it exists.
    #[arg(long)]
    pub force: bool,
}

/// `20·log10 |Z/(Z+Zs)|` relative to its value at 1 kHz, dB.
fn deviation_db(load: &Network, p: &StageParams, f_hz: f64) -> f64 {
    let h = |f: f64| {
        let z = load.impedance(f);
        20.0 * (z / (z + p.source_impedance(f))).norm().log10()
    };
    h(f_hz) - h(1000.0)
}

const COLORS: [&str; 6] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf"];

/// One panel: log-frequency x axis 20 Hz–20 kHz, linear y.
fn panel(svg: &mut String, y0: f64, title: &str, unit: &str, series: &[(String, Vec<(f64, f64)>)]) {
    let (x0, w, h) = (70.0, 760.0, 220.0);
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (_, s) in series {
        for &(_, v) in s {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if !(hi - lo > 1e-9) {
        lo -= 1.0;
        hi += 1.0;
    }
    let pad = 0.05 * (hi - lo);
    let (lo, hi) = (lo - pad, hi + pad);
    let fx = |f: f64| x0 + w * (f / 20.0).log10() / 3.0;
    let fy = |v: f64| y0 + h * (1.0 - (v - lo) / (hi - lo));
    let _ = writeln!(svg, r##"<text x="{x0}" y="{}" font-size="14" font-weight="bold">{title}</text>"##, y0 - 8.0);
    let _ = writeln!(svg, r##"<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#888"/>"##);
    for f in [20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0, 20000.0] {
        let x = fx(f);
        let label = if f >= 1000.0 { format!("{}k", f / 1000.0) } else { format!("{f}") };
        let _ = writeln!(svg, r##"<line x1="{x:.1}" y1="{y0}" x2="{x:.1}" y2="{}" stroke="#ddd"/><text x="{x:.1}" y="{}" font-size="10" text-anchor="middle">{label}</text>"##, y0 + h, y0 + h + 12.0);
    }
    for k in 0..=4 {
        let v = lo + (hi - lo) * k as f64 / 4.0;
        let y = fy(v);
        let _ = writeln!(svg, r##"<line x1="{x0}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#eee"/><text x="{}" y="{:.1}" font-size="10" text-anchor="end">{v:.2} {unit}</text>"##, x0 + w, x0 - 4.0, y + 3.0);
    }
    for (i, (name, s)) in series.iter().enumerate() {
        let c = COLORS[i % COLORS.len()];
        let pts: Vec<String> = s.iter().map(|&(f, v)| format!("{:.1},{:.1}", fx(f), fy(v))).collect();
        let _ = writeln!(svg, r##"<polyline fill="none" stroke="{c}" stroke-width="1.6" points="{}"/>"##, pts.join(" "));
        let _ = writeln!(svg, r##"<text x="{}" y="{:.1}" font-size="11" fill="{c}">{}</text>"##, x0 + 8.0, y0 + 14.0 + 13.0 * i as f64, xml(name));
    }
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

pub fn run(a: PlotArgs) -> Result<()> {
    output::check(&a.out, &[Format::Svg], a.force, &[], false)?;
    let cfg: SessionConfig = a.stage.session()?;
    // Configurations: both slots of the session (A vs B), plus any presets to compare.
    let mut configs: Vec<(String, Network, StageParams)> = Vec::new();
    for (label, s) in [("A", &cfg.a), ("B", &cfg.b)] {
        let (name, net) = super::settings::slot_load(s)?;
        configs.push((format!("{label}: {name}, Zout {:.1} Ω", s.stage.r_out_ohm), net, s.stage));
    }
    let active = if cfg.active_slot.index() == 0 { &cfg.a } else { &cfg.b };
    for key in &a.compare {
        let st = library::find_stage(key).ok_or_else(|| anyhow!(unknown_stage(key)))?;
        let (name, net) = super::settings::slot_load(active)?;
        configs.push((format!("{}: {name}", st.name), net, st.params));
    }
    let mut loads: Vec<(String, Network)> = Vec::new();
    for key in &a.loads {
        let l = library::find_load(key).ok_or_else(|| anyhow!(unknown_load(key)))?;
        loads.push((l.name.clone(), l.network.clone()));
    }
    if loads.is_empty() {
        for s in [&cfg.a, &cfg.b] {
            let l = super::settings::slot_load(s)?;
            if !loads.iter().any(|x| x.0 == l.0) {
                loads.push(l);
            }
        }
    }
    let grid: Vec<f64> = log_grid(20.0, 20_000.0, 300).collect();
    let mag: Vec<(String, Vec<(f64, f64)>)> =
        loads.iter().map(|(n, z)| (n.clone(), grid.iter().map(|&f| (f, z.impedance(f).norm())).collect())).collect();
    let ph: Vec<(String, Vec<(f64, f64)>)> =
        loads.iter().map(|(n, z)| (n.clone(), grid.iter().map(|&f| (f, z.impedance(f).arg() * 180.0 / PI)).collect())).collect();
    let dev: Vec<(String, Vec<(f64, f64)>)> =
        configs.iter().map(|(n, z, p)| (n.clone(), grid.iter().map(|&f| (f, deviation_db(z, p, f))).collect())).collect();
    let mut svg = String::new();
    let _ = writeln!(svg, r##"<svg xmlns="http://www.w3.org/2000/svg" width="860" height="860" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>"##);
    panel(&mut svg, 30.0, "Load impedance |Z|", "Ω", &mag);
    panel(&mut svg, 310.0, "Load impedance phase", "°", &ph);
    panel(&mut svg, 590.0, "Response deviation re 1 kHz (small signal)", "dB", &dev);
    svg.push_str("</svg>\n");
    Pending::write_all(&a.out, a.force, svg.as_bytes())?;
    super::print(&format!("wrote {}\n", a.out.display()))
}
