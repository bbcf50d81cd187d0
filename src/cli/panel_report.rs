//! The listener panel's report: a text table (standard output), `report.json`, the overlaid
//! response chart (PNG file, and the same chart as inline SVG) and `report.html`, one page with
//! nothing to fetch, so it opens in any browser and can be mailed as is.

use super::panel::Row;
use super::plot::{hz_label, register_font, tidy};
use anyhow::{anyhow, Result};
use loadline::panel::analysis::{BASS_HZ, DISTORTION_FLOOR_DB, TREBLE_HZ, WINDOW_S};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Chart size, pixels, and the legend column's width.
const SIZE: (u32, u32) = (1400, 760);
const LEGEND_W: u32 = 470;

/// Thresholds past which the report marks a figure: a tonal change of 1 dB, any clipping or
/// limiting above 0.1 % of the time, distortion above 1 %.
const TONE_MARK_DB: f64 = 1.0;
const SHARE_MARK_PCT: f64 = 0.1;
const DISTORTION_MARK_PCT: f64 = 1.0;

/// Setup `i`'s colour, the same in the chart and the table.
fn color(i: usize) -> RGBColor {
    // Hues spread around the circle, alternating lightness so neighbours differ.
    let h = (i as f64 * 0.618_034).fract();
    let l = if i.is_multiple_of(2) { 0.42 } else { 0.55 };
    let c = HSLColor(h, 0.75, l).to_backend_color().rgb;
    RGBColor(c.0, c.1, c.2)
}

fn err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("cannot draw the panel chart: {e}")
}

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, rows: &[Row]) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    let (area, legend) = root.split_horizontally(SIZE.0 - LEGEND_W);
    let pts = rows.iter().flat_map(|r| r.result.findings.curve.iter().map(|p| p.1));
    let (lo, hi) = pts.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(v), h.max(v)));
    let (lo, hi) = if lo.is_finite() { ((lo - 0.5).min(-1.0), (hi + 0.5).max(1.0)) } else { (-1.0, 1.0) };
    let mut c = ChartBuilder::on(&area)
        .caption("Response as heard: each setup relative to its own 1 kHz level (measured from the renders)", ("sans-serif", 18))
        .margin(14)
        .x_label_area_size(42)
        .y_label_area_size(60)
        .build_cartesian_2d((20.0..20_000.0).log_scale(), lo..hi)
        .map_err(err)?;
    c.configure_mesh()
        .x_desc("Frequency (Hz)")
        .y_desc("Change relative to 1 kHz (dB)")
        .x_label_formatter(&hz_label)
        .y_label_formatter(&|v| tidy(*v))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(err)?;
    for (i, r) in rows.iter().enumerate() {
        c.draw_series(LineSeries::new(r.result.findings.curve.iter().copied(), color(i).stroke_width(2))).map_err(err)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let y = 30 + 36 * i as i32;
        legend.draw(&PathElement::new(vec![(6, y), (34, y)], color(i).stroke_width(4))).map_err(err)?;
        legend.draw(&Text::new(r.setup.name.clone(), (42, y - 9), ("sans-serif", 15).into_font().color(&BLACK))).map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(())
}

/// The chart as a PNG file.
pub fn chart_png(rows: &[Row], path: &Path) -> Result<()> {
    register_font();
    draw(BitMapBackend::new(path, SIZE).into_drawing_area(), rows)
}

/// The chart as SVG text, for the HTML page.
fn chart_svg(rows: &[Row]) -> Result<String> {
    register_font();
    let mut s = String::new();
    draw(SVGBackend::with_string(&mut s, SIZE).into_drawing_area(), rows)?;
    Ok(s)
}

/// `report.json`: the listening level and every setup's findings.
pub fn json(mix: &str, spl: f64, rows: &[Row]) -> Result<String> {
    let setups: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let mut v = serde_json::to_value(&r.result)?;
            if let Some(o) = v.as_object_mut() {
                o.insert("id".into(), r.setup.id.clone().into());
                o.insert("name".into(), r.setup.name.clone().into());
                o.insert("stage".into(), r.setup.stage.id.clone().into());
                o.insert("headphone".into(), r.setup.headphone.id.clone().into());
                o.insert("file".into(), r.file.clone().into());
            }
            Ok(v)
        })
        .collect::<Result<_, serde_json::Error>>()?;
    Ok(serde_json::to_string_pretty(&serde_json::json!({ "mix": mix, "listening_level_db_spl": spl, "setups": setups }))?)
}

fn db(v: Option<f64>) -> String {
    v.map_or("–".to_string(), |v| format!("{v:+.1} dB"))
}

fn pct(v: f64) -> String {
    if v == 0.0 { "0".to_string() } else if v < 0.01 { "< 0.01 %".to_string() } else { format!("{v:.2} %") }
}

/// The table on standard output.
pub fn text(mix: &str, spl: f64, rows: &[Row], dir: &Path) -> String {
    let mut s = format!("panel: {mix} at {spl} dB SPL, {} setups\n", rows.len());
    s += &format!("  {:<44} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10}\n", "setup", "at 1 kHz", "bass", "treble", "clipping", "limiting", "distortion");
    for r in rows {
        let f = &r.result.findings;
        s += &format!(
            "  {:<44} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10}\n",
            r.setup.name.chars().take(44).collect::<String>(),
            db(f.level_1k_db),
            db(f.bass_db),
            db(f.treble_db),
            pct(r.result.clipping_pct),
            pct(r.result.limiting_pct),
            f.worst_distortion_pct.map_or("–".to_string(), pct)
        );
    }
    s += &format!("wrote {} renders, {}, {} and {} in {}\n", rows.len(), super::panel::CHART, super::panel::JSON, super::panel::HTML, dir.display());
    s
}

/// Text made safe for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// A table cell, marked when `bad`.
fn cell(text: &str, bad: bool) -> String {
    format!("<td class=\"num{}\">{}</td>", if bad { " mark" } else { "" }, esc(text))
}

/// `report.html`: the table, the chart and how to read them, with nothing to fetch.
pub fn html(mix: &str, spl: f64, rows: &[Row]) -> Result<String> {
    let mut body = String::new();
    for (i, r) in rows.iter().enumerate() {
        let f = &r.result.findings;
        let c = color(i);
        let tone = |v: Option<f64>| v.is_some_and(|v| v.abs() >= TONE_MARK_DB);
        body += &format!(
            "<tr><td><span class=\"sw\" style=\"background:rgb({},{},{})\"></span><b>{}</b><div class=\"sub\">{} &rarr; {}</div><div class=\"why\">{}</div></td>",
            c.0,
            c.1,
            c.2,
            esc(&r.setup.name),
            esc(&r.setup.stage.name),
            esc(&r.setup.headphone.name),
            esc(&r.setup.why)
        );
        body += &cell(&db(f.level_1k_db), false);
        body += &cell(&db(f.bass_db), tone(f.bass_db));
        body += &cell(&db(f.treble_db), tone(f.treble_db));
        body += &cell(&pct(r.result.clipping_pct), r.result.clipping_pct > SHARE_MARK_PCT);
        body += &cell(&pct(r.result.limiting_pct), r.result.limiting_pct > SHARE_MARK_PCT);
        let worst = match (f.worst_distortion_pct, f.worst_at_s) {
            (Some(d), Some(t)) => format!("{} at {}:{:04.1}", pct(d), (t / 60.0).floor(), t % 60.0),
            _ => "–".to_string(),
        };
        body += &cell(&worst, f.worst_distortion_pct.is_some_and(|d| d > DISTORTION_MARK_PCT));
        body += &cell(&format!("{:.1} dB", r.result.measured_spl_db), false);
        body += &format!("<td><a href=\"{0}\">{0}</a></td></tr>\n", esc(&r.file));
    }
    let svg = chart_svg(rows)?;
    Ok(format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Loadline listener panel: {mix}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }}
h1 {{ font-size: 22px; margin: 0 0 4px; }} h2 {{ font-size: 17px; margin: 26px 0 8px; }}
.lead {{ color: #555; margin: 0 0 14px; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ padding: 6px 10px; border-bottom: 1px solid #e3e3e3; vertical-align: top; text-align: left; }}
th {{ background: #f4f4f4; font-weight: 600; }}
td.num {{ text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }}
td.mark {{ background: #fde8e4; color: #a02010; font-weight: 600; }}
.sub {{ color: #555; font-size: 12px; }} .why {{ color: #888; font-size: 12px; }}
.sw {{ display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px; }}
svg {{ max-width: 100%; height: auto; }}
</style></head><body>
<h1>Listener panel: {mix_e}</h1>
<p class="lead">{n} listening setups at {spl} dB SPL: in every headphone a 1&nbsp;kHz sine at &minus;14&nbsp;dBFS RMS (&minus;14&nbsp;LUFS) plays at {spl}&nbsp;dB&nbsp;SPL, as if each listener had set the volume to the same loudness. Figures are measured from the rendered audio. Each file is level-matched at 1&nbsp;kHz, so they compare by ear at one monitor setting.</p>
<table>
<thead><tr><th>Setup</th><th>Level at 1 kHz</th><th>Bass (50 Hz)</th><th>Treble (10 kHz)</th><th>Clipping</th><th>Current limiting</th><th>Worst distortion</th><th>Mix at the ear</th><th>Render</th></tr></thead>
<tbody>
{body}</tbody></table>
<h2>Response as heard</h2>
{svg}
<h2>How to read this</h2>
<ul>
<li><b>Level at 1 kHz</b>: the headphone's level against an ideal 0&nbsp;&Omega; source, before the volume is turned up to the listening level (the output impedance's divider).</li>
<li><b>Bass</b> and <b>treble</b>: the response at {bass}&nbsp;Hz and {treble}&nbsp;Hz relative to 1&nbsp;kHz, from the input and the setup's output with its limits removed (1/6-octave bands). Marked at &plusmn;{tone}&nbsp;dB.</li>
<li><b>Clipping</b> and <b>current limiting</b>: the share of samples at the output stage's rails and of time at its current limit (at or past 95&nbsp;% of onset, as the plugin's lights). Marked above {share}&nbsp;%.</li>
<li><b>Worst distortion</b>: over {win}&nbsp;ms windows within {floor}&nbsp;dB of the loudest, the part of the output not correlated with the same setup without its limits (rails, current limit, crossover), against the signal, and where it occurs (minutes:seconds). For a sine this is its THD. Marked above {dist}&nbsp;%.</li>
<li><b>Mix at the ear</b>: the sound pressure of the whole mix in the headphone.</li>
</ul>
<p class="sub">Made by loadline {version}. The setups' stages and headphones are modelled on published figures where they exist; <code>loadline list</code> shows which were assumed.</p>
</body></html>
"#,
        mix = esc(mix),
        mix_e = esc(mix),
        n = rows.len(),
        bass = BASS_HZ,
        treble = TREBLE_HZ,
        tone = TONE_MARK_DB,
        share = SHARE_MARK_PCT,
        win = WINDOW_S * 1000.0,
        floor = DISTORTION_FLOOR_DB,
        dist = DISTORTION_MARK_PCT,
        version = env!("CARGO_PKG_VERSION"),
    ))
}
