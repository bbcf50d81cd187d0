//! A rotary knob for a nice-plug parameter: drag up/down (Shift for fine adjustment), scroll,
//! double-click to reset to the default, click the value to type one in (Enter applies, Escape
//! cancels). Values are shown with their units through the parameter's own formatter, so the
//! knob, the host and the README agree.

use egui::{pos2, vec2, Align2, Color32, FontId, Key, Response, Role, Sense, Shape, Stroke, Ui, WidgetInfo};
use nice_plug::context::gui::ParamSetter;
use nice_plug::prelude::Param;
use std::f32::consts::PI;

/// Normalised change per pixel of vertical drag.
const DRAG_PER_PX: f32 = 1.0 / 200.0;
/// Drag and scroll are this many times finer with Shift held.
pub const FINE_FACTOR: f32 = 0.1;
/// Knob diameter, points.
pub const KNOB_DIAMETER: f32 = 44.0;
/// Width of a knob's cell (label and value text), points.
pub const KNOB_CELL_WIDTH: f32 = 84.0;
/// Rotation range of the pointer, radians (from 7 o'clock to 5 o'clock).
const SWEEP: f32 = 1.5 * PI;

/// Sets `param` to `normalized` as one gesture (begin, set, end).
pub fn set_normalized<P: Param>(setter: &ParamSetter, param: &P, normalized: f32) {
    setter.begin_set_parameter(param);
    setter.set_parameter_normalized(param, normalized.clamp(0.0, 1.0));
    setter.end_set_parameter(param);
}

/// Draws a knob for `param` with the caption `caption`, in `accent`. Returns the knob's response.
pub fn knob<P: Param>(ui: &mut Ui, setter: &ParamSetter, param: &P, caption: &str, accent: Color32) -> Response {
    let id = ui.make_persistent_id(("knob", param.name()));
    let edit_id = id.with("edit");
    let mut out = None;
    ui.allocate_ui(vec2(KNOB_CELL_WIDTH, KNOB_DIAMETER + 40.0), |ui| {
        ui.vertical_centered(|ui| {
            ui.spacing_mut().item_spacing.y = 2.0;
            ui.label(egui::RichText::new(caption).small().color(ui.visuals().weak_text_color()));
            out = Some(dial(ui, setter, param, id, accent));
            value_text(ui, setter, param, edit_id);
        });
    });
    out.expect("dial drawn")
}

/// The dial itself.
fn dial<P: Param>(ui: &mut Ui, setter: &ParamSetter, param: &P, id: egui::Id, accent: Color32) -> Response {
    let (rect, _) = ui.allocate_exact_size(vec2(KNOB_DIAMETER, KNOB_DIAMETER), Sense::hover());
    let response = ui.interact(rect, id, Sense::click_and_drag());
    let fine = ui.input(|i| i.modifiers.shift);
    let scale = if fine { DRAG_PER_PX * FINE_FACTOR } else { DRAG_PER_PX };
    if response.double_clicked() {
        set_normalized(setter, param, param.default_normalized_value());
    } else if response.drag_started() {
        setter.begin_set_parameter(param);
    }
    if response.dragged() && !response.double_clicked() {
        let d = -response.drag_delta().y * scale;
        if d != 0.0 {
            let n = (param.modulated_normalized_value() + d).clamp(0.0, 1.0);
            setter.set_parameter_normalized(param, n);
        }
    }
    if response.drag_stopped() {
        setter.end_set_parameter(param);
    }
    if response.hovered() {
        let scroll = ui.input(|i| i.smooth_scroll_delta.y);
        if scroll != 0.0 {
            let step = if fine { 0.002 } else { 0.02 };
            let n = param.modulated_normalized_value() + step * scroll.signum();
            set_normalized(setter, param, n);
        }
    }
    let value = param.modulated_normalized_value();
    let text = param.to_string();
    response.widget_info(|| {
        let mut w = WidgetInfo::slider(true, value as f64, param.name());
        w.current_text_value = Some(text.clone());
        w
    });

    // Painting: a track arc, a value arc from the start, and a pointer.
    let p = ui.painter();
    let c = rect.center();
    let r = rect.width() * 0.5 - 3.0;
    let visuals = ui.visuals();
    let track = visuals.widgets.inactive.bg_fill;
    let start = 0.75 * PI; // 7:30, clockwise in screen coordinates
    let arc = |from: f32, to: f32| -> Vec<egui::Pos2> {
        let n = 32;
        (0..=n).map(|k| {
            let a = from + (to - from) * k as f32 / n as f32;
            pos2(c.x + r * a.cos(), c.y + r * a.sin())
        })
        .collect()
    };
    p.add(Shape::line(arc(start, start + SWEEP), Stroke::new(4.0, track)));
    if value > 0.001 {
        p.add(Shape::line(arc(start, start + SWEEP * value), Stroke::new(4.0, accent)));
    }
    let body = if response.hovered() || response.dragged() { visuals.widgets.hovered.bg_fill } else { visuals.widgets.inactive.weak_bg_fill };
    p.circle_filled(c, r - 5.0, body);
    let a = start + SWEEP * value;
    let tip = pos2(c.x + (r - 7.0) * a.cos(), c.y + (r - 7.0) * a.sin());
    let base = pos2(c.x + (r - 17.0) * a.cos(), c.y + (r - 17.0) * a.sin());
    p.line_segment([base, tip], Stroke::new(2.5, visuals.strong_text_color()));
    response.on_hover_text("Drag or scroll (Shift: fine) · double-click: default · click the value to type")
}

/// The value under the knob; clicking it opens a text field.
fn value_text<P: Param>(ui: &mut Ui, setter: &ParamSetter, param: &P, edit_id: egui::Id) {
    let editing = ui.memory(|m| m.has_focus(edit_id));
    let buf_id = edit_id.with("buf");
    if editing {
        let mut text: String = ui.data_mut(|d| d.get_temp::<String>(buf_id)).unwrap_or_default();
        let r = ui.add(
            egui::TextEdit::singleline(&mut text)
                .id(edit_id)
                .desired_width(KNOB_CELL_WIDTH - 8.0)
                .align(egui::Align2::CENTER_CENTER)
                .font(egui::TextStyle::Small),
        );
        ui.data_mut(|d| d.insert_temp(buf_id, text.clone()));
        if r.lost_focus() {
            if ui.input(|i| i.key_pressed(Key::Enter)) {
                if let Some(n) = param.string_to_normalized_value(&text) {
                    set_normalized(setter, param, n);
                }
            }
            ui.data_mut(|d| d.remove::<String>(buf_id));
        }
    } else {
        let label = param.to_string();
        let r = ui.add(
            egui::Label::new(egui::RichText::new(&label).small().monospace())
                .sense(Sense::click())
                .truncate(),
        );
        if r.clicked() {
            ui.data_mut(|d| d.insert_temp(buf_id, param.normalized_value_to_string(param.modulated_normalized_value(), false)));
            ui.memory_mut(|m| m.request_focus(edit_id));
        }
        r.widget_info(|| WidgetInfo::labeled(Role::Button, true, format!("{} value {}", param.name(), label)));
    }
}

/// Paints a small caption centred at `pos` (used by plots and meters).
pub fn caption(ui: &Ui, pos: egui::Pos2, text: &str, color: Color32) {
    ui.painter().text(pos, Align2::CENTER_CENTER, text, FontId::proportional(11.0), color);
}
