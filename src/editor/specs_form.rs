//! "New from specs…": a slot's form for a headphone made from its spec sheet
//! (`library::specsheet`). The network is built on a worker thread and arrives like an imported
//! curve, so it is saved with the session and plays click-free.
//!
//! Threads: GUI thread (the form); the build runs on a worker the editor spawns.

use crate::library::specsheet::{Kind, Spec};
use egui::{Color32, RichText, Ui};

/// The form's fields as typed (empty: not given).
pub struct SpecForm {
    pub open: bool,
    pub name: String,
    pub kind: Kind,
    pub nominal: String,
    pub sensitivity: String,
    /// The sensitivity is in dB SPL per mW (else per V).
    pub per_mw: bool,
    pub resonance: String,
    pub peak: String,
    pub min: String,
    pub z20k: String,
    /// Voice-coil inductance, µH.
    pub coil: String,
    pub dc: String,
    /// Why the last "Make" was refused.
    pub error: Option<String>,
}

impl Default for SpecForm {
    fn default() -> Self {
        Self {
            open: false,
            name: String::new(),
            kind: Kind::ClosedDynamic,
            nominal: String::new(),
            sensitivity: String::new(),
            per_mw: true,
            resonance: String::new(),
            peak: String::new(),
            min: String::new(),
            z20k: String::new(),
            coil: String::new(),
            dc: String::new(),
            error: None,
        }
    }
}

/// A typed number: empty is `None`; anything else must parse (the error names the field).
fn number(field: &str, s: &str) -> Result<Option<f64>, String> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<f64>().map(Some).map_err(|_| format!("{field}: {t:?} is not a number"))
}

impl SpecForm {
    /// The spec the fields describe (numbers only; the figures are checked when it is built).
    pub fn to_spec(&self) -> Result<Spec, String> {
        let nominal = number("Nominal", &self.nominal)?.ok_or("Nominal: give the rated impedance")?;
        let sens = number("Sensitivity", &self.sensitivity)?;
        Ok(Spec {
            name: if self.name.trim().is_empty() { format!("{} {nominal} Ω", self.kind.id()) } else { self.name.trim().to_string() },
            kind: self.kind,
            nominal_ohm: nominal,
            sensitivity_db_per_mw: sens.filter(|_| self.per_mw),
            sensitivity_db_per_v: sens.filter(|_| !self.per_mw),
            resonance_hz: number("Resonance", &self.resonance)?,
            peak_ohm: number("Peak |Z|", &self.peak)?,
            min_ohm: number("Minimum |Z|", &self.min)?,
            z_20k_ohm: number("|Z| at 20 kHz", &self.z20k)?,
            voice_coil_h: number("Coil inductance", &self.coil)?.map(|uh| uh * 1e-6),
            dc_ohm: number("DC resistance", &self.dc)?,
        })
    }

    /// Draws the form while it is open (the import line's "New from specs…" button opens it);
    /// returns the spec when "Make" is clicked and the fields parse.
    pub fn ui(&mut self, ui: &mut Ui, id: egui::Id, busy: bool) -> Option<Spec> {
        let mut made = None;
        if !self.open {
            return None;
        }
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.label(RichText::new("New headphone from its spec sheet").strong());
            egui::Grid::new(id.with("grid")).num_columns(2).spacing(egui::vec2(8.0, 3.0)).show(ui, |ui| {
                let row = |ui: &mut Ui, label: &str, value: &mut String, hint: &str| {
                    ui.label(label);
                    ui.add(egui::TextEdit::singleline(value).hint_text(hint).desired_width(120.0));
                    ui.end_row();
                };
                row(ui, "Name", &mut self.name, "My headphone");
                ui.label("Type");
                egui::ComboBox::from_id_salt(id.with("type")).selected_text(self.kind.id()).show_ui(ui, |ui| {
                    for k in Kind::ALL {
                        ui.selectable_value(&mut self.kind, k, k.id());
                    }
                });
                ui.end_row();
                row(ui, "Nominal (Ω)", &mut self.nominal, "required");
                ui.label("Sensitivity");
                ui.horizontal(|ui| {
                    ui.add(egui::TextEdit::singleline(&mut self.sensitivity).hint_text("required").desired_width(60.0));
                    ui.selectable_value(&mut self.per_mw, true, "dB/mW");
                    ui.selectable_value(&mut self.per_mw, false, "dB/V");
                });
                ui.end_row();
                row(ui, "Resonance (Hz)", &mut self.resonance, "optional");
                row(ui, "Peak |Z| (Ω)", &mut self.peak, "optional");
                row(ui, "Minimum |Z| (Ω)", &mut self.min, "optional, measured");
                row(ui, "|Z| at 20 kHz (Ω)", &mut self.z20k, "optional");
                row(ui, "Coil inductance (µH)", &mut self.coil, "or this, optional");
                row(ui, "DC resistance (Ω)", &mut self.dc, "optional");
            });
            let make = ui.horizontal(|ui| {
                let make = ui.add_enabled(!busy, egui::Button::new("Make")).clicked();
                if ui.button("Close").clicked() {
                    self.open = false;
                }
                make
            });
            if make.inner {
                match self.to_spec() {
                    Ok(s) => {
                        self.error = None;
                        made = Some(s);
                    }
                    Err(e) => self.error = Some(e),
                }
            }
            if let Some(e) = &self.error {
                ui.label(RichText::new(e).color(Color32::from_rgb(240, 90, 80)));
            }
        });
        made
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_become_a_spec_and_bad_numbers_name_the_field() {
        let f = SpecForm { nominal: "300".into(), sensitivity: "97".into(), per_mw: false, resonance: " 95 ".into(), ..SpecForm::default() };
        let s = f.to_spec().unwrap();
        assert_eq!((s.nominal_ohm, s.sensitivity_db_per_v, s.sensitivity_db_per_mw, s.resonance_hz, s.peak_ohm), (300.0, Some(97.0), None, Some(95.0), None));
        assert!(s.build().is_ok());
        let bad = SpecForm { nominal: "300".into(), sensitivity: "97".into(), peak: "lots".into(), ..SpecForm::default() };
        assert!(bad.to_spec().unwrap_err().starts_with("Peak |Z|"));
        assert!(SpecForm::default().to_spec().unwrap_err().starts_with("Nominal"));
    }
}
