//! The meters panel: headphone voltage, load current, power and the sound pressure of the slot
//! being heard, with peak holds and the clip and current-limit lights.
//!
//! Threads: GUI thread; it reads the audio thread's [`MeterReader`] atomics under the editor's own
//! lock, which the audio thread never takes.

use super::{model, LoadlineEditor, LIGHT_HOLD_S, METER_REFRESH_S, PEAK_HOLD_S, SLOT_COLORS};
use crate::plugin::params::SlotChoice;
use crate::processor::meters::MeterSnapshot;
use egui::{vec2, Color32, RichText, Ui};

/// Meter readings with hold.
#[derive(Default)]
pub(super) struct MeterView {
    last: MeterSnapshot,
    last_read_s: f64,
    v_peak_hold: (f64, f64),
    i_peak_hold: (f64, f64),
    /// The sound pressure's peak hold, dB SPL, and when it was set.
    spl_hold: (f64, f64),
    clip_until_s: f64,
    limit_until_s: f64,
}

impl LoadlineEditor {
    pub(super) fn meters_panel(&mut self, ui: &mut Ui) {
        let active = if self.params.active_slot.value() == SlotChoice::A { 0 } else { 1 };
        let loads = [self.slot_load(0), self.slot_load(1)];
        let now = ui.input(|i| i.time);
        // Read the audio thread's atomics (cheap; the lock is ours).
        if now - self.meter.last_read_s >= METER_REFRESH_S * 0.9 || self.meter.last_read_s == 0.0 {
            if let Ok(m) = self.meters.lock() {
                let s = m.read();
                self.meter.last = s;
                self.meter.last_read_s = now;
                let hold = |h: &mut (f64, f64), v: f64| {
                    if v >= h.0 || now - h.1 > PEAK_HOLD_S {
                        *h = (v, now);
                    }
                };
                hold(&mut self.meter.v_peak_hold, s.v_peak);
                if let Some(i) = s.i_peak {
                    hold(&mut self.meter.i_peak_hold, i);
                }
                if s.clipped {
                    self.meter.clip_until_s = now + LIGHT_HOLD_S;
                }
                if s.limited {
                    self.meter.limit_until_s = now + LIGHT_HOLD_S;
                }
            }
        }
        let s = self.meter.last;
        let color = SLOT_COLORS[active];
        let stage = self.stage(active);
        let (_, hp_name, _, sens) = &loads[active];
        let live = s.blocks > 0;
        egui::Frame::group(ui.style()).inner_margin(8.0).show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal(|ui| {
                ui.label(RichText::new(format!("Meters · slot {} · {hp_name}", if active == 0 { "A" } else { "B" })).strong().color(color));
                if !live {
                    ui.label(RichText::new("(no audio yet)").weak());
                }
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    light(ui, "I LIMIT", now < self.meter.limit_until_s, Color32::from_rgb(255, 150, 40), stage.i_max_a.is_some());
                    light(ui, "CLIP", now < self.meter.clip_until_s, Color32::from_rgb(240, 60, 50), stage.v_max_v.is_some());
                });
            });
            let bar_w = (ui.available_width() - 330.0).max(80.0);
            // Voltage on a dB scale: −60 dBV to the rail (or +20 dBV).
            let v_top = stage.v_max_v.map_or(10.0, |v| v * std::f64::consts::SQRT_2 * 1.12);
            let dbv = |v: f64| 20.0 * v.max(1e-6).log10();
            let frac_v = |v: f64| ((dbv(v) + 60.0) / (dbv(v_top) + 60.0)).clamp(0.0, 1.0) as f32;
            ui.horizontal(|ui| {
                ui.add_sized(vec2(64.0, 18.0), egui::Label::new("Voltage"));
                bar(ui, bar_w, frac_v(s.v_rms), Some(frac_v(self.meter.v_peak_hold.0)), color);
                ui.label(RichText::new(format!("{} RMS · {} peak", fmt_v(s.v_rms), fmt_v(self.meter.v_peak_hold.0))).monospace());
            });
            ui.horizontal(|ui| {
                ui.add_sized(vec2(64.0, 18.0), egui::Label::new("Current"));
                let i_max = stage.i_max_a;
                let i_hold = self.meter.i_peak_hold.0;
                let top = i_max.unwrap_or_else(|| (i_hold * 2.0).max(0.01));
                bar(ui, bar_w, (s.i_peak.unwrap_or(0.0) / top).clamp(0.0, 1.0) as f32, Some((i_hold / top).clamp(0.0, 1.0) as f32), color);
                let max = i_max.map_or("no limit".to_string(), |i| format!("of {} max", fmt_a(i)));
                let text = match s.i_peak {
                    Some(_) => format!("{} peak {max}", fmt_a(i_hold)),
                    None => "—".to_string(),
                };
                ui.label(RichText::new(text).monospace());
            });
            ui.horizontal(|ui| {
                let p = s.power_w.map_or("—".into(), |p| format!("{:.3} mW", p * 1e3));
                ui.label(RichText::new(format!("Power {p}")).monospace());
                ui.add_space(16.0);
                let spl = match sens {
                    Some(_) if live && s.v_rms < 1e-5 => "— (silence)".into(),
                    Some(sv) if live => {
                        // The sound pressure now, and its peak held for PEAK_HOLD_S.
                        let now_db = model::spl_estimate_db(*sv, s.v_rms);
                        let h = &mut self.meter.spl_hold;
                        if now_db >= h.0 || now - h.1 > PEAK_HOLD_S {
                            *h = (now_db, now);
                        }
                        format!("≈ {now_db:.1} dB SPL · peak {:.1}", h.0)
                    }
                    Some(_) => "—".into(),
                    None => "— (no sensitivity for this load)".into(),
                };
                ui.label(RichText::new(format!("SPL {spl}")).monospace())
                    .on_hover_text("From the load's sensitivity at 1 kHz and the RMS voltage; ignores the response's shape");
            });
        });
    }

}

/// A horizontal bar with an optional peak tick.
fn bar(ui: &mut Ui, width: f32, frac: f32, peak: Option<f32>, color: Color32) {
    let (rect, _) = ui.allocate_exact_size(vec2(width, 14.0), egui::Sense::hover());
    let p = ui.painter();
    p.rect_filled(rect, 3.0, ui.visuals().extreme_bg_color);
    let mut fill = rect;
    fill.set_width(rect.width() * frac.clamp(0.0, 1.0));
    p.rect_filled(fill, 3.0, color.gamma_multiply(0.85));
    if let Some(pk) = peak {
        let x = rect.left() + rect.width() * pk.clamp(0.0, 1.0);
        p.line_segment([egui::pos2(x, rect.top()), egui::pos2(x, rect.bottom())], egui::Stroke::new(2.0, Color32::WHITE));
    }
}

/// An indicator light; dimmed when the limit it watches is off.
fn light(ui: &mut Ui, text: &str, on: bool, color: Color32, armed: bool) {
    let bg = if on { color } else { ui.visuals().extreme_bg_color };
    let fg = if on {
        Color32::BLACK
    } else if armed {
        ui.visuals().text_color()
    } else {
        ui.visuals().weak_text_color().gamma_multiply(0.5)
    };
    let r = ui.label(RichText::new(format!(" {text} ")).strong().monospace().color(fg).background_color(bg));
    r.on_hover_text(if armed { "Lights for 2 s after the limit is reached" } else { "This limit is off for the live slot" });
}

fn fmt_v(v: f64) -> String {
    if v < 0.1 { format!("{:.1} mV", v * 1e3) } else { format!("{v:.3} V") }
}

fn fmt_a(i: f64) -> String {
    if i < 1.0 { format!("{:.1} mA", i * 1e3) } else { format!("{i:.2} A") }
}

