//! A small log-frequency plot painter (our own, so the axes are exactly what we want: 20 Hz to
//! 20 kHz, decade grid, log or linear y).

use super::model::PLOT_RANGE_HZ;
use egui::{pos2, Align2, Color32, FontId, Pos2, Rect, Response, Role, Sense, Shape, Stroke, Ui, Vec2, WidgetInfo};

/// Frequencies with grid lines; the labelled ones are in [`FREQ_LABELS`].
const FREQ_GRID: [f64; 28] = [
    20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0, 800.0, 900.0,
    1e3, 2e3, 3e3, 4e3, 5e3, 6e3, 7e3, 8e3, 9e3, 10e3, 20e3,
];
const FREQ_LABELS: [(f64, &str); 7] =
    [(20.0, "20"), (100.0, "100"), (200.0, "200"), (1e3, "1k"), (2e3, "2k"), (10e3, "10k"), (20e3, "20k")];

/// The y axis.
#[derive(Debug, Clone)]
pub struct YAxis {
    pub min: f64,
    pub max: f64,
    pub log: bool,
    /// Unit shown after tick labels.
    pub unit: &'static str,
    pub ticks: Vec<f64>,
}

impl YAxis {
    /// A log axis covering `lo..hi` (rounded out to 1-2-5 steps), with 1-2-5 ticks.
    pub fn log_fit(lo: f64, hi: f64, unit: &'static str) -> Self {
        let lo = lo.max(1e-3);
        let hi = hi.max(lo * 1.5);
        let step_down = |x: f64| {
            let d = 10f64.powf(x.log10().floor());
            [5.0, 2.0, 1.0].iter().map(|m| m * d).find(|v| *v <= x).unwrap_or(d)
        };
        let step_up = |x: f64| {
            let d = 10f64.powf(x.log10().floor());
            [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * d).find(|v| *v >= x).unwrap_or(10.0 * d)
        };
        let (min, max) = (step_down(lo * 0.85), step_up(hi * 1.15));
        let mut ticks = Vec::new();
        let mut d = 10f64.powf(min.log10().floor());
        while d <= max * 1.0001 {
            for m in [1.0, 2.0, 5.0] {
                let t = m * d;
                if t >= min * 0.9999 && t <= max * 1.0001 {
                    ticks.push(t);
                }
            }
            d *= 10.0;
        }
        if ticks.len() > 7 {
            ticks.retain(|t| {
                let m = t / 10f64.powf(t.log10().floor());
                (m - 1.0).abs() < 1e-6 || (m - 10.0).abs() < 1e-6
            });
        }
        Self { min, max, log: true, unit, ticks }
    }

    /// A linear axis with about five ticks at a 1-2-5 step.
    pub fn linear(min: f64, max: f64, unit: &'static str) -> Self {
        let span = (max - min).max(1e-9);
        let raw = span / 5.0;
        let d = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * d).find(|s| *s >= raw).unwrap_or(10.0 * d);
        let mut ticks = Vec::new();
        let mut t = (min / step).ceil() * step;
        while t <= max + 1e-9 {
            ticks.push(if t.abs() < 1e-9 { 0.0 } else { t });
            t += step;
        }
        Self { min, max, log: false, unit, ticks }
    }

    fn frac(&self, y: f64) -> f64 {
        if self.log {
            (y.max(1e-12).ln() - self.min.ln()) / (self.max.ln() - self.min.ln())
        } else {
            (y - self.min) / (self.max - self.min)
        }
    }
}

/// One curve.
pub struct Series<'a> {
    pub color: Color32,
    pub points: &'a [[f64; 2]],
    pub width: f32,
    pub dashed: bool,
    /// Draw as dots (measured points) instead of a line.
    pub dots: bool,
}

/// A point marker with a short label.
pub struct Marker {
    pub at: [f64; 2],
    pub color: Color32,
    pub label: String,
}

/// A horizontal reference line.
pub struct HLine {
    pub y: f64,
    pub color: Color32,
    pub label: String,
}

/// Maps data to screen coordinates inside the plot area.
#[derive(Clone, Copy)]
struct Transform<'a> {
    area: Rect,
    y: &'a YAxis,
}

impl Transform<'_> {
    fn x(&self, f: f64) -> f32 {
        let t = (f.ln() - PLOT_RANGE_HZ.0.ln()) / (PLOT_RANGE_HZ.1.ln() - PLOT_RANGE_HZ.0.ln());
        self.area.left() + self.area.width() * t as f32
    }
    fn y(&self, v: f64) -> f32 {
        let t = self.y.frac(v).clamp(-0.02, 1.02);
        self.area.bottom() - self.area.height() * t as f32
    }
    fn p(&self, d: [f64; 2]) -> Pos2 {
        pos2(self.x(d[0]), self.y(d[1]))
    }
}

fn fmt_tick(v: f64, unit: &str) -> String {
    let s = if v.abs() >= 1000.0 {
        format!("{}k", v / 1000.0)
    } else if v.fract().abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    };
    if unit.is_empty() { s } else { format!("{s}{unit}") }
}

/// Draws a plot of `size` titled `title` (also its accessibility label). Returns the response
/// (hover shows the frequency under the pointer).
pub fn plot(
    ui: &mut Ui,
    title: &str,
    size: Vec2,
    y: &YAxis,
    series: &[Series],
    hlines: &[HLine],
    markers: &[Marker],
) -> Response {
    let (rect, response) = ui.allocate_exact_size(size, Sense::hover());
    response.widget_info(|| WidgetInfo::labeled(Role::Image, true, title));
    if !ui.is_rect_visible(rect) {
        return response;
    }
    let visuals = ui.visuals().clone();
    let p = ui.painter_at(rect.expand(1.0));
    let text = visuals.text_color();
    let weak = visuals.weak_text_color();
    let grid = visuals.widgets.noninteractive.bg_stroke.color.gamma_multiply(0.6);
    let font = FontId::proportional(10.5);
    p.rect_filled(rect, 4.0, visuals.extreme_bg_color);
    let area = Rect::from_min_max(pos2(rect.left() + 44.0, rect.top() + 20.0), pos2(rect.right() - 10.0, rect.bottom() - 18.0));
    let t = Transform { area, y };
    p.text(pos2(rect.left() + 8.0, rect.top() + 4.0), Align2::LEFT_TOP, title, FontId::proportional(12.5), text);

    // Grid.
    for f in FREQ_GRID {
        let x = t.x(f);
        let major = FREQ_LABELS.iter().any(|(g, _)| *g == f);
        let s = Stroke::new(if major { 1.0 } else { 0.5 }, if major { grid } else { grid.gamma_multiply(0.5) });
        p.line_segment([pos2(x, area.top()), pos2(x, area.bottom())], s);
    }
    for (f, l) in FREQ_LABELS {
        p.text(pos2(t.x(f), area.bottom() + 3.0), Align2::CENTER_TOP, l, font.clone(), weak);
    }
    p.text(pos2(rect.left() + 6.0, area.bottom() + 3.0), Align2::LEFT_TOP, "Hz", font.clone(), weak);
    // Label every tick if they are far enough apart, else every other one.
    let spacing = if y.ticks.len() > 1 { (t.y(y.ticks[0]) - t.y(y.ticks[1])).abs() } else { f32::INFINITY };
    let every = if spacing < 20.0 { 2 } else { 1 };
    for (n, &v) in y.ticks.iter().enumerate() {
        let yy = t.y(v);
        p.line_segment([pos2(area.left(), yy), pos2(area.right(), yy)], Stroke::new(0.8, grid));
        if n % every == 0 {
            p.text(pos2(area.left() - 4.0, yy), Align2::RIGHT_CENTER, fmt_tick(v, y.unit), font.clone(), weak);
        }
    }
    p.rect_stroke(area, 0.0, Stroke::new(1.0, grid), egui::StrokeKind::Inside);

    let clip = p.with_clip_rect(area.expand(2.0));
    for h in hlines {
        if y.frac(h.y) < 0.0 || y.frac(h.y) > 1.0 {
            continue;
        }
        let yy = t.y(h.y);
        clip.extend(Shape::dashed_line(&[pos2(area.left(), yy), pos2(area.right(), yy)], Stroke::new(1.2, h.color), 6.0, 4.0));
        clip.text(pos2(area.left() + 4.0, yy - 2.0), Align2::LEFT_BOTTOM, &h.label, font.clone(), h.color);
    }
    for s in series {
        let pts: Vec<Pos2> = s.points.iter().map(|d| t.p(*d)).collect();
        if s.dots {
            for q in pts {
                clip.circle_filled(q, 1.6, s.color);
            }
        } else if s.dashed {
            clip.extend(Shape::dashed_line(&pts, Stroke::new(s.width, s.color), 7.0, 4.0));
        } else {
            clip.add(Shape::line(pts, Stroke::new(s.width, s.color)));
        }
    }
    for m in markers {
        let q = t.p(m.at);
        clip.circle_stroke(q, 5.0, Stroke::new(2.0, m.color));
        clip.text(q + egui::vec2(7.0, -4.0), Align2::LEFT_BOTTOM, &m.label, font.clone(), m.color);
    }
    // Hover readout: the frequency under the pointer.
    if let Some(h) = response.hover_pos().filter(|h| area.contains(*h)) {
        let frac = ((h.x - area.left()) / area.width()) as f64;
        let f = (PLOT_RANGE_HZ.0.ln() + frac * (PLOT_RANGE_HZ.1.ln() - PLOT_RANGE_HZ.0.ln())).exp();
        p.line_segment([pos2(h.x, area.top()), pos2(h.x, area.bottom())], Stroke::new(1.0, weak));
        let label = if f >= 1000.0 { format!("{:.2} kHz", f / 1000.0) } else { format!("{f:.0} Hz") };
        p.text(pos2(h.x + 4.0, area.top() + 2.0), Align2::LEFT_TOP, label, font, text);
    }
    response
}
