//! The bench's chart (`loadline bench -o`): four panels with labelled axes and units, drawn with
//! plotters from a [`BenchReport`]: the response at the headphone (measured, with the plots'
//! model beside it), THD+N and THD against output level, and the maximum output voltage and power
//! at 1 % THD against load resistance.

use super::bench::BenchReport;
use super::output::Format;
use super::plot::{hz_label, register_font, tidy, COLORS};
use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Picture size, pixels.
const SIZE: (u32, u32) = (1400, 1000);

/// Draws the chart for `r` into `path` as `format` (PNG or SVG).
pub fn draw(r: &BenchReport, format: Format, path: &Path) -> Result<()> {
    register_font();
    match format {
        Format::Svg => panels(SVGBackend::new(path, SIZE).into_drawing_area(), r),
        _ => panels(BitMapBackend::new(path, SIZE).into_drawing_area(), r),
    }
}

fn err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("cannot draw the bench chart: {e}")
}

/// A value on a log axis with up to three significant figures and no exponent ("0.0001", "0.25", "10").
fn sig(v: f64) -> String {
    if !(v.is_finite() && v > 0.0) {
        return "0".to_string();
    }
    let decimals = (2 - v.log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

/// (low, high) of `v`, padded by `pad` of the span (or ±1 when flat).
fn range(v: impl Iterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) = v.filter(|x| x.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| (l.min(x), h.max(x)));
    if (hi - lo).is_nan() || hi - lo <= 1e-6 {
        return (lo - 1.0, hi + 1.0);
    }
    (lo - pad * (hi - lo), hi + pad * (hi - lo))
}

/// A log range around positive values `v`, a little wider than they span.
fn log_range(v: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = v.filter(|x| x.is_finite() && *x > 0.0).fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| (l.min(x), h.max(x)));
    if !(lo.is_finite() && hi.is_finite()) {
        return (1e-3, 1.0);
    }
    (lo / 1.5, (hi * 1.5).max(lo * 10.0))
}

fn panels<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, r: &BenchReport) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let m = &r.measurement;
    root.fill(&WHITE).map_err(err)?;
    let mut title = format!("{} into {}: output impedance {:.2} Ω (measured at {} Hz from rendered audio)", r.stage, r.headphone, m.output_impedance_ohm, m.test_hz);
    // The shared ground's crosstalk at 1 kHz, read from a rendered stereo pair.
    if let Some(p) = m.crosstalk.iter().min_by(|a, b| (a.f_hz - 1000.0).abs().total_cmp(&(b.f_hz - 1000.0).abs())) {
        title += &format!("; crosstalk {:.1} dB at 1 kHz", p.measured_db);
    }
    let root = root.titled(&title, ("sans-serif", 22)).map_err(err)?;
    let cells = root.split_evenly((2, 2));
    let label_font = ("sans-serif", 15);
    let (blue, red, grey) = (COLORS[0], COLORS[1], RGBColor(150, 150, 150));

    // 1. Response at the headphone against the ideal source.
    // Room under the curves for the legend.
    let (lo, hi) = range(m.response.iter().flat_map(|p| [p.measured_db, p.model_db]), 0.1);
    let lo = lo - 0.35 * (hi - lo);
    let mut c = ChartBuilder::on(&cells[0])
        .caption("Response at the headphone against an ideal (0 Ω) source", label_font)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((20.0..20_000.0).log_scale(), lo.min(-0.5)..hi.max(0.5))
        .map_err(err)?;
    c.configure_mesh().x_desc("Frequency (Hz)").y_desc("Level (dB)").x_label_formatter(&hz_label).y_label_formatter(&|v| tidy(*v)).light_line_style(RGBColor(235, 235, 235)).draw().map_err(err)?;
    c.draw_series(LineSeries::new(m.response.iter().map(|p| (p.f_hz, p.model_db)), grey.stroke_width(5)))
        .map_err(err)?
        .label("model (the editor's plot)")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], grey.stroke_width(5)));
    c.draw_series(LineSeries::new(m.response.iter().map(|p| (p.f_hz, p.measured_db)), blue.stroke_width(2)))
        .map_err(err)?
        .label(format!("measured, multitone at {:.3} V RMS", m.response_drive_v_rms))
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], blue.stroke_width(2)));
    c.configure_series_labels().background_style(WHITE.mix(0.85)).border_style(grey).position(SeriesLabelPosition::LowerMiddle).draw().map_err(err)?;

    // 2. THD+N and THD against output level.
    let (x0, x1) = log_range(m.thd_n.iter().map(|p| p.v_rms));
    let (y0, y1) = log_range(m.thd_n.iter().flat_map(|p| [p.thd_n_pct, p.thd_pct.max(1e-4)]));
    let mut c = ChartBuilder::on(&cells[1])
        .caption(format!("THD+N and THD at {} Hz into the headphone", m.test_hz), label_font)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
                // A decade of headroom above the curves for the legend.
        .build_cartesian_2d((x0..x1).log_scale(), (y0.max(1e-5)..y1.max(2.0) * 10.0).log_scale())
        .map_err(err)?;
    c.configure_mesh().x_desc("Output (V RMS at the headphone)").y_desc("Distortion (%)").x_label_formatter(&|v| sig(*v)).y_label_formatter(&|v| sig(*v)).light_line_style(RGBColor(235, 235, 235)).draw().map_err(err)?;
    c.draw_series(LineSeries::new(m.thd_n.iter().map(|p| (p.v_rms, p.thd_n_pct)), blue.stroke_width(2)))
        .map_err(err)?
        .label("THD+N (20 Hz–20 kHz)")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], blue.stroke_width(2)));
    c.draw_series(LineSeries::new(m.thd_n.iter().filter(|p| p.thd_pct > 1e-5).map(|p| (p.v_rms, p.thd_pct)), red.stroke_width(2)))
        .map_err(err)?
        .label("THD")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], red.stroke_width(2)));
    c.draw_series(LineSeries::new([(x0, 1.0), (x1, 1.0)], grey.stroke_width(1))).map_err(err)?.label("1 %").legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], grey));
    c.configure_series_labels().background_style(WHITE.mix(0.85)).border_style(grey).position(SeriesLabelPosition::UpperMiddle).draw().map_err(err)?;

    // 3 and 4. Maximum output voltage and power against load resistance.
    let loads = (6.0..800.0).log_scale();
    let v1 = m.max_output.iter().map(|o| o.v_rms).fold(0.0, f64::max).max(1e-3) * 1.1;
    let mut c = ChartBuilder::on(&cells[2])
        .caption("Maximum output voltage at 1 % THD (hollow: 0 dBFS comes first)", label_font)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(loads.clone(), 0.0..v1)
        .map_err(err)?;
    c.configure_mesh().x_desc("Load resistance (Ω)").y_desc("Output (V RMS)").x_label_formatter(&|v: &f64| tidy(v.round())).y_label_formatter(&|v| tidy(*v)).light_line_style(RGBColor(235, 235, 235)).draw().map_err(err)?;
    max_series(&mut c, m.max_output.iter().map(|o| (o.r_load_ohm, o.v_rms, o.at_full_scale)), blue)?;
    let p1 = m.max_output.iter().map(|o| o.p_w * 1e3).fold(0.0, f64::max).max(1e-3) * 1.1;
    let mut c = ChartBuilder::on(&cells[3])
        .caption("Maximum output power at 1 % THD (hollow: 0 dBFS comes first)", label_font)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(loads, 0.0..p1)
        .map_err(err)?;
    c.configure_mesh().x_desc("Load resistance (Ω)").y_desc("Power (mW)").x_label_formatter(&|v: &f64| tidy(v.round())).y_label_formatter(&|v| tidy(*v)).light_line_style(RGBColor(235, 235, 235)).draw().map_err(err)?;
    max_series(&mut c, m.max_output.iter().map(|o| (o.r_load_ohm, o.p_w * 1e3, o.at_full_scale)), red)?;
    root.present().map_err(err)?;
    Ok(())
}

/// A line through the maximum-output points, each a dot (filled: the 1 % THD point; hollow: the
/// full-scale output, below 1 % THD).
fn max_series<DB, X, Y>(c: &mut ChartContext<DB, Cartesian2d<X, Y>>, pts: impl Iterator<Item = (f64, f64, bool)> + Clone, color: RGBColor) -> Result<()>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    c.draw_series(LineSeries::new(pts.clone().map(|(x, y, _)| (x, y)), color.stroke_width(2))).map_err(err)?;
    c.draw_series(pts.map(|(x, y, fs)| Circle::new((x, y), 5, if fs { color.stroke_width(2) } else { color.filled() }))).map_err(err)?;
    Ok(())
}
