//! `loadline plot`: the editor's three plots as an SVG or PNG file (plotters): |Z| of the loads
//! (log-log), their phase, and the response `20·log10|Z/(Z+Zs)|` of each configuration, computed
//! by the same model as the editor (`editor::model`). Legends sit beside the plots, not over the
//! curves, and only the curves asked for are drawn.

use super::output::{self, Format, Pending};
use super::settings::{slot_load, StageArgs};
use super::suggest::unknown_stage;
use anyhow::{anyhow, bail, Result};
use clap::Args;
use loadline::dsp::{Network, StageParams};
use loadline::editor::model::{deviation_db, plot_freqs, PLOT_RANGE_HZ};
use loadline::library;
use plotters::coord::combinators::LogCoord;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct PlotArgs {
    /// Output file: .svg or .png.
    #[arg(short = 'o', long = "out", value_name = "OUT.svg|OUT.png")]
    pub out: PathBuf,
    /// Loads to draw (id or name, or a headphone file from `loadline headphone new`; repeatable).
    /// Default: the configurations' loads.
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

/// Picture size, pixels.
const SIZE: (u32, u32) = (1100, 960);
/// Width of the legend column to the right of the plots, pixels.
const LEGEND_W: u32 = 330;
pub(super) const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];

/// Refuses the flags that would not change the picture: the plots are small-signal, so only the
/// source network (output impedance, coupling capacitor, and the shared ground, which a mono
/// signal's divider carries twice) and the load matter.
fn reject_inert_flags(a: &StageArgs) -> Result<()> {
    let inert = [
        ("--level", a.level.is_some()),
        ("--vmax", a.vmax.is_some()),
        ("--imax", a.imax.is_some()),
        ("--bias", a.bias.is_some()),
        ("--noise", a.noise.is_some()),
        ("--level-match", a.level_match),
        ("--listen", a.listen != super::settings::ListenArg::Emulation),
    ];
    if let Some((flag, _)) = inert.iter().find(|(_, given)| *given) {
        bail!("{flag} does not change a plot (the plots are small-signal: only the load, --zout, --ccap, --ground-ohm and the stage's source network show); leave it out");
    }
    Ok(())
}

/// `f` in hertz as an axis label ("20", "200", "2k", "20k").
pub(super) fn hz_label(f: &f64) -> String {
    if *f >= 1000.0 {
        format!("{}k", (f / 100.0).round() / 10.0)
    } else {
        format!("{}", f.round())
    }
}

/// An axis value with no more decimals than it needs ("30", "2.5", "0.25").
pub(super) fn tidy(v: f64) -> String {
    let r = (v * 1000.0).round() / 1000.0;
    if r == 0.0 { "0".to_string() } else { format!("{r}") }
}

/// One curve: its label and points (hertz, value).
type Curve = (String, Vec<(f64, f64)>);

/// The value range of `curves`, padded by 5 %, never empty.
fn span(curves: &[Curve]) -> (f64, f64) {
    let (lo, hi) = curves.iter().flat_map(|(_, p)| p.iter().map(|&(_, v)| v)).fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(v), h.max(v)));
    if !(hi - lo > 1e-9) {
        return (lo - 1.0, hi + 1.0);
    }
    let pad = 0.05 * (hi - lo);
    (lo - pad, hi + pad)
}

/// Draws one panel (a chart on the left, its legend on the right).
fn panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, title: &str, y_desc: &str, log_y: bool, curves: &[Curve]) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (chart_area, legend_area) = area.split_horizontally(SIZE.0 - LEGEND_W);
    let (lo, hi) = span(curves);
    let x = (PLOT_RANGE_HZ.0..PLOT_RANGE_HZ.1).log_scale();
    let mut builder = ChartBuilder::on(&chart_area);
    builder.caption(title, ("sans-serif", 18)).margin(8).x_label_area_size(40).y_label_area_size(70);
    if log_y {
        let (lo, hi) = (lo.max(1e-3), hi.max(lo.max(1e-3) * 1.01));
        curves_on(builder.build_cartesian_2d(x, (lo..hi).log_scale()).map_err(|e| anyhow!("cannot draw the plot: {e}"))?, y_desc, curves)?;
    } else {
        curves_on(builder.build_cartesian_2d(x, lo..hi).map_err(|e| anyhow!("cannot draw the plot: {e}"))?, y_desc, curves)?;
    }
    // Each entry: a line of its colour, its name, and a second line (the load) in grey.
    for (i, (name, _)) in curves.iter().enumerate() {
        let y = 44 + 40 * i as i32;
        let c = COLORS[i % COLORS.len()];
        let err = |e| anyhow!("cannot draw the legend: {e}");
        legend_area.draw(&PathElement::new(vec![(4, y), (30, y)], c.stroke_width(3))).map_err(err)?;
        let mut lines = name.splitn(2, '\n');
        let first = lines.next().unwrap_or_default().to_string();
        legend_area.draw(&Text::new(first, (36, y - 8), ("sans-serif", 14).into_font().color(&BLACK))).map_err(err)?;
        if let Some(second) = lines.next() {
            legend_area.draw(&Text::new(second.to_string(), (36, y + 9), ("sans-serif", 12).into_font().color(&RGBColor(90, 90, 90)))).map_err(err)?;
        }
    }
    Ok(())
}

/// Draws the grid, the labelled axes and the curves on a chart with any y scale.
fn curves_on<DB, Y>(mut chart: ChartContext<DB, Cartesian2d<LogCoord<f64>, Y>>, y_desc: &str, curves: &[Curve]) -> Result<()>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc("Frequency (Hz)")
        .y_desc(y_desc)
        .x_label_formatter(&hz_label)
        .y_label_formatter(&|v| tidy(*v))
        .x_labels(12)
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(|e| anyhow!("cannot draw the plot: {e}"))?;
    for (i, (_, pts)) in curves.iter().enumerate() {
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), COLORS[i % COLORS.len()].stroke_width(2)))
            .map_err(|e| anyhow!("cannot draw the plot: {e}"))?;
    }
    Ok(())
}

/// Draws the three panels on `root`.
fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, loads: &[(String, Network)], configs: &[(String, Network, StageParams)]) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| anyhow!("cannot draw: {e}"))?;
    let rows = root.split_evenly((3, 1));
    let grid: Vec<f64> = plot_freqs().collect();
    let curve = |f: &dyn Fn(f64) -> f64| grid.iter().map(|&x| (x, f(x))).collect::<Vec<_>>();
    let mag: Vec<Curve> = loads.iter().map(|(n, z)| (n.clone(), curve(&|f| z.impedance(f).norm()))).collect();
    let ph: Vec<Curve> = loads.iter().map(|(n, z)| (n.clone(), curve(&|f| z.impedance(f).arg().to_degrees()))).collect();
    let dev: Vec<Curve> = configs.iter().map(|(n, z, p)| (n.clone(), curve(&|f| deviation_db(z, p, f)))).collect();
    panel(&rows[0], "Load impedance |Z|", "|Z| (Ω)", true, &mag)?;
    panel(&rows[1], "Load impedance phase", "Phase (°)", false, &ph)?;
    panel(&rows[2], "Response at the headphone, 20·log10|Z/(Z+Zs)|", "Level (dB)", false, &dev)?;
    root.present().map_err(|e| anyhow!("cannot draw: {e}"))?;
    Ok(())
}

/// A configuration's legend: its name and source network, then (second line) its load.
fn describe(name: &str, load: &str, p: &StageParams) -> String {
    let cap = p.c_block_f.map_or(String::new(), |c| format!(" + {} µF", c * 1e6));
    format!("{name}: {} Ω{cap}\ninto {load}", p.r_out_ohm)
}

pub fn run(a: PlotArgs) -> Result<()> {
    let format = output::check(&a.out, &[Format::Svg, Format::Png], a.force, &[], false)?;
    reject_inert_flags(&a.stage)?;
    let cfg = a.stage.session()?;
    // Configurations: both slots of a settings file (A against B), or the one the flags describe;
    // then the presets to compare on the active slot's load.
    let active = cfg.active();
    let mut configs: Vec<(String, Network, StageParams)> = Vec::new();
    if a.stage.config.is_some() {
        for (label, s) in [("A", &cfg.a), ("B", &cfg.b)] {
            let (name, net) = slot_load(s)?;
            configs.push((describe(label, &name, &s.stage), net, s.stage));
        }
    } else {
        let (name, net) = slot_load(active)?;
        let stage = a.stage.stage.as_deref().and_then(library::find_stage).map_or("stage", |s| s.id.as_str());
        configs.push((describe(stage, &name, &active.stage), net, active.stage));
    }
    for key in &a.compare {
        let st = library::find_stage(key).ok_or_else(|| anyhow!(unknown_stage(key)))?;
        let (name, net) = slot_load(active)?;
        configs.push((describe(&st.id, &name, &st.params), net, st.params));
    }
    let mut loads: Vec<(String, Network)> = Vec::new();
    for key in &a.loads {
        loads.push(super::headphone::resolve_load(key)?);
    }
    if loads.is_empty() {
        for (_, net, _) in &configs {
            if !loads.iter().any(|x| x.1 == *net) {
                loads.push((loads_name(&cfg, net), net.clone()));
            }
        }
    }
    let (pending, file) = Pending::create(&a.out, a.force)?;
    drop(file);
    let tmp = pending.path().to_path_buf();
    register_font();
    match format {
        Format::Png => {
            draw(BitMapBackend::new(&tmp, SIZE).into_drawing_area(), &loads, &configs)?;
        }
        _ => draw(SVGBackend::new(&tmp, SIZE).into_drawing_area(), &loads, &configs)?,
    }
    pending.commit()?;
    super::print(&format!("wrote {}\n", a.out.display()))
}

/// The display name of a configuration's load network.
fn loads_name(cfg: &loadline::processor::config::SessionConfig, net: &Network) -> String {
    for s in [&cfg.a, &cfg.b] {
        if let Ok((name, n)) = slot_load(s) {
            if n == *net {
                return name;
            }
        }
    }
    "load".to_string()
}

/// Gives plotters a font from bytes (egui's bundled Ubuntu Light) for PNG text and SVG layout, so
/// no system font lookup is needed.
pub(super) fn register_font() {
    let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, epaint_default_fonts::UBUNTU_LIGHT);
}
