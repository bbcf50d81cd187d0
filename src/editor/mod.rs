//! The editor (egui through nice-plug-egui): the A/B strip, both slots' presets, headphones and
//! stage knobs, plots of the load and the response drawn from the model the DSP runs
//! ([`model`]), and live meters for the slot being heard.
//!
//! Threads: everything here runs on the GUI thread. Parameters change through the host's
//! [`ParamSetter`]; imported curves go into [`SharedState`] (the audio thread picks them up through
//! its own handover); meters arrive through [`MeterReader`], whose atomics the audio thread
//! writes without ever waiting for us.

pub mod knob;
mod meters_view;
mod specs_form;
pub mod model;
pub mod plot;

use crate::library::{self, Load, StagePreset};
use crate::plugin::params::{LevelMode, LoadlineParams, ListenChoice, SlotChoice, StageValues};
use crate::processor::listening::{level_for_spl, spl_for_level, REFERENCE_HZ};
use crate::dsp::stage::v_to_dbu;
use crate::plugin::presets::apply_stage_preset;
use crate::plugin::state::SharedState;
use crate::processor::config::ImportedCurve;
use crate::processor::meters::MeterReader;
use meters_view::MeterView;
use crate::dsp::{Network, StageParams};
use egui::{vec2, Color32, RichText, Ui};
use model::Curves;
use nice_plug::context::gui::{GuiContext, ParamSetter};
use nice_plug_egui::resizable_window::ResizableWindow;
use nice_plug_egui::{EguiEditorState, EguiNiceSettings, NiceEguiApp};
use plot::{HLine, Marker, Series, YAxis};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::sync::{Arc, Mutex};

/// Default window size, logical pixels (fits a 1366×768 laptop screen with a host's chrome).
pub const DEFAULT_SIZE: (u32, u32) = (1120, 700);
/// Smallest useful window size, logical pixels.
pub const MIN_SIZE: (f32, f32) = (820.0, 560.0);
/// Slot colours: A amber, B teal.
pub const SLOT_COLORS: [Color32; 2] = [Color32::from_rgb(240, 160, 48), Color32::from_rgb(64, 196, 210)];
/// How long the clip and current-limit lights stay on after the event, seconds.
pub const LIGHT_HOLD_S: f64 = 2.0;
/// How long a peak reading holds before it falls, seconds.
pub const PEAK_HOLD_S: f64 = 1.5;
/// Meter refresh interval, seconds.
const METER_REFRESH_S: f64 = 1.0 / 30.0;
/// File types the importer reads.
const IMPORT_EXTENSIONS: [&str; 6] = ["zma", "txt", "csv", "frd", "dat", "toml"];

/// The editor's window state (size and open flag), shared with the plugin.
pub fn default_state() -> Arc<EguiEditorState> {
    EguiEditorState::from_size(nice_plug::editor::dpi::LogicalSize::new(DEFAULT_SIZE.0, DEFAULT_SIZE.1), 1.0)
}

/// Builds the editor for a plugin instance.
pub fn create(
    params: Arc<LoadlineParams>,
    meters: Arc<Mutex<MeterReader>>,
    state: Arc<EguiEditorState>,
) -> Option<nice_plug_egui::EguiEditor<LoadlineEditor>> {
    use nice_plug::prelude::ResizeHint;
    use nice_plug::editor::dpi::LogicalSize;
    let hint = ResizeHint::resizable().with_min_logical_size(LogicalSize::new(MIN_SIZE.0, MIN_SIZE.1));
    let settings = EguiNiceSettings::new().with_tile("Loadline").with_resize_hint(hint);
    nice_plug_egui::create_egui_editor(state, Default::default(), settings, LoadlineEditor::new(params, meters))
}

/// Outcome of an import, sent from the worker thread.
struct ImportOutcome {
    name: String,
    result: Result<(ImportedCurve, Vec<String>), String>,
}

/// What the slot's import line shows.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportStatus {
    /// A file is being read and fitted.
    Busy(String),
    /// Imported: the curve's name and the fit report.
    Done { name: String, report: Vec<String> },
    /// Failed: the reason. The slot's load was left as it was.
    Failed { name: String, error: String },
}

/// Per-slot editor state.
#[derive(Default)]
struct SlotUi {
    /// The path field.
    path: String,
    status: Option<ImportStatus>,
    pending: Option<Receiver<ImportOutcome>>,
    /// The imported curve as last read, by generation (so we do not clone it every frame).
    imported: Option<(u64, Option<ImportedCurve>)>,
    /// "New from specs…".
    spec: specs_form::SpecForm,
}

/// The editor app.
pub struct LoadlineEditor {
    params: Arc<LoadlineParams>,
    meters: Arc<Mutex<MeterReader>>,
    gui: Option<GuiContext>,
    slots: [SlotUi; 2],
    meter: MeterView,
}

pub fn matching_preset(params: &LoadlineParams, k: usize) -> Option<&'static StagePreset> {
    let p = params.slot(k);
    let now = [
        p.output_impedance.value(),
        p.coupling_cap.value(),
        p.level.value(),
        p.max_voltage.value(),
        p.max_current.value(),
        p.bias.value(),
        p.noise.value(),
        p.ground_return.value(),
    ];
    let close = |a: f32, b: f32| (a - b).abs() <= 1e-3 * a.abs().max(b.abs()) + 2e-3;
    library::stages().iter().find(|s| {
        let v = StageValues::from_stage(&s.params);
        let want = [v.zout_ohm, v.ccap_uf, v.level_dbu, v.vmax_v, v.imax_ma, v.bias_pct, v.noise_dbv, v.ground_ohm];
        now.iter().zip(want).all(|(a, b)| close(*a, b))
    })
}

impl LoadlineEditor {
    pub fn new(params: Arc<LoadlineParams>, meters: Arc<Mutex<MeterReader>>) -> Self {
        Self { params, meters, gui: None, slots: Default::default(), meter: MeterView::default() }
    }

    /// Slot `k`'s import line (for tests).
    pub fn import_status(&self, k: usize) -> Option<&ImportStatus> {
        self.slots[k].status.as_ref()
    }

    /// True while an import is running for any slot.
    pub fn import_busy(&self) -> bool {
        self.slots.iter().any(|s| s.pending.is_some())
    }

    /// Starts importing `path` into slot `k` on a worker thread. The slot's load changes only if
    /// the import succeeds.
    pub fn start_import(&mut self, k: usize, path: PathBuf) {
        let (tx, rx) = mpsc::channel();
        let name = path.display().to_string();
        self.slots[k].status = Some(ImportStatus::Busy(name.clone()));
        self.slots[k].pending = Some(rx);
        std::thread::spawn(move || {
            let result = ImportedCurve::from_file(&path);
            let _ = tx.send(ImportOutcome { name, result });
        });
    }

    /// Opens the file dialog on a worker thread (it blocks while open) and imports the chosen
    /// file into slot `k`.
    fn start_import_dialog(&mut self, k: usize) {
        let (tx, rx) = mpsc::channel();
        self.slots[k].status = Some(ImportStatus::Busy("choosing a file…".into()));
        self.slots[k].pending = Some(rx);
        std::thread::spawn(move || {
            let picked = rfd::FileDialog::new()
                .set_title("Import an impedance curve (ZMA, REW text, CSV)")
                .add_filter("Impedance curves", &IMPORT_EXTENSIONS)
                .add_filter("All files", &["*"])
                .pick_file();
            let outcome = match picked {
                Some(path) => ImportOutcome { name: path.display().to_string(), result: ImportedCurve::from_file(&path) },
                None => ImportOutcome { name: String::new(), result: Err(String::new()) },
            };
            let _ = tx.send(outcome);
        });
    }

    /// Builds a headphone from its spec sheet on a worker thread; it arrives like an import.
    fn start_spec(&mut self, k: usize, spec: crate::library::specsheet::Spec) {
        let (tx, rx) = mpsc::channel();
        self.slots[k].status = Some(ImportStatus::Busy(spec.name.clone()));
        self.slots[k].pending = Some(rx);
        std::thread::spawn(move || {
            let _ = tx.send(ImportOutcome { name: spec.name.clone(), result: ImportedCurve::from_spec(&spec) });
        });
    }

    /// Collects finished imports; a success installs the curve and selects it, a failure only
    /// shows the reason.
    fn poll_imports(&mut self, setter: &ParamSetter) {
        for k in 0..2 {
            let Some(rx) = &self.slots[k].pending else { continue };
            let outcome = match rx.try_recv() {
                Ok(o) => o,
                Err(TryRecvError::Empty) => continue,
                Err(TryRecvError::Disconnected) => {
                    ImportOutcome { name: String::new(), result: Err("the import stopped unexpectedly".into()) }
                }
            };
            self.slots[k].pending = None;
            self.slots[k].status = match outcome.result {
                Ok((curve, report)) => {
                    let name = curve.name.clone();
                    self.params.shared.set_imported(k, Some(curve));
                    let hp = &self.params.slot(k).headphone;
                    setter.begin_set_parameter(hp);
                    setter.set_parameter(hp, library::loads().len() as i32);
                    setter.end_set_parameter(hp);
                    Some(ImportStatus::Done { name, report })
                }
                // A cancelled dialog: nothing to say.
                Err(e) if e.is_empty() => None,
                Err(error) => Some(ImportStatus::Failed { name: outcome.name, error }),
            };
        }
    }

    /// Slot `k`'s imported curve (cached by generation).
    fn imported(&mut self, k: usize) -> Option<ImportedCurve> {
        let shared: &SharedState = &self.params.shared;
        let g = shared.generation(k);
        match &self.slots[k].imported {
            Some((cached, c)) if *cached == g => c.clone(),
            _ => {
                let c = shared.imported(k);
                self.slots[k].imported = Some((g, c.clone()));
                c
            }
        }
    }

    /// The load slot `k` plays: its index, display name, network and sensitivity (dB SPL/V).
    fn slot_load(&mut self, k: usize) -> (usize, String, Network, Option<f64>) {
        let loads = library::loads();
        let idx = self.params.slot(k).headphone.value().max(0) as usize;
        if let Some(l) = loads.get(idx) {
            return (idx, l.name.clone(), l.network.clone(), l.sensitivity());
        }
        match self.imported(k) {
            Some(c) => (idx, format!("Imported: {}", c.name), c.network, c.sensitivity_db_spl_per_v),
            // No curve: the processor plays the first library load.
            None => (0, loads[0].name.clone(), loads[0].network.clone(), loads[0].sensitivity()),
        }
    }

    fn stage(&self, k: usize) -> StageParams {
        self.params.slot(k).stage(self.params.shared.extras(k))
    }

    /// Draws the whole editor into `ui` (the plugin window, or a test harness).
    pub fn draw(&mut self, ui: &mut Ui, gui: &GuiContext) {
        let setter = gui.param_setter();
        self.poll_imports(&setter);
        if self.import_busy() {
            ui.ctx().request_repaint_after(std::time::Duration::from_millis(50));
        }
        self.keys(ui, &setter);
        self.strip(ui, &setter);
        ui.separator();
        let w = ui.available_width();
        let left_w = (w * 0.42).clamp(390.0, 640.0);
        let h = ui.available_height();
        ui.horizontal_top(|ui| {
            ui.allocate_ui_with_layout(vec2(left_w, h), egui::Layout::top_down(egui::Align::LEFT), |ui| {
                egui::ScrollArea::vertical().id_salt("slots").auto_shrink([false, false]).show(ui, |ui| {
                    ui.set_width(left_w - 14.0);
                    for k in 0..2 {
                        self.slot_panel(ui, gui, &setter, k);
                        ui.add_space(6.0);
                    }
                });
            });
            ui.separator();
            let right_w = ui.available_width();
            ui.allocate_ui_with_layout(vec2(right_w, h), egui::Layout::top_down(egui::Align::LEFT), |ui| {
                ui.set_max_width(right_w);
                self.meters_panel(ui);
                ui.add_space(4.0);
                self.plots(ui, right_w);
            });
        });
        ui.ctx().request_repaint_after(std::time::Duration::from_secs_f64(METER_REFRESH_S));
    }

    /// A and B select a slot, X switches; ignored while typing. Space is left alone: it is every
    /// host's transport key. Whether the editor sees keys at all is up to the host.
    fn keys(&self, ui: &Ui, setter: &ParamSetter) {
        if ui.ctx().egui_wants_keyboard_input() {
            return;
        }
        let p = &self.params.active_slot;
        let (a, b, toggle) = ui.input(|i| {
            (i.key_pressed(egui::Key::A), i.key_pressed(egui::Key::B), i.key_pressed(egui::Key::X))
        });
        let now = p.value();
        let want = if a {
            SlotChoice::A
        } else if b {
            SlotChoice::B
        } else if toggle {
            if now == SlotChoice::A { SlotChoice::B } else { SlotChoice::A }
        } else {
            return;
        };
        if want != now {
            setter.begin_set_parameter(p);
            setter.set_parameter(p, want);
            setter.end_set_parameter(p);
        }
    }

    /// The A/B strip.
    fn strip(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        let active = self.params.active_slot.value();
        ui.horizontal(|ui| {
            ui.label(RichText::new("LOADLINE").strong().size(18.0));
            ui.add_space(10.0);
            for (k, choice) in [(0, SlotChoice::A), (1, SlotChoice::B)] {
                let preset = matching_preset(&self.params, k).map_or("Custom stage", |s| s.name.as_str());
                let (_, hp, _, _) = self.slot_load(k);
                let live = active == choice;
                let letter = if k == 0 { "A" } else { "B" };
                let text = RichText::new(format!("{letter}  {preset} · {hp}"))
                    .size(14.0)
                    .color(if live { Color32::BLACK } else { SLOT_COLORS[k] });
                let button = egui::Button::selectable(live, text)
                    .min_size(vec2(200.0, 30.0))
                    .fill(if live { SLOT_COLORS[k] } else { ui.visuals().widgets.inactive.weak_bg_fill })
                    .truncate();
                let r = ui.add_sized(vec2(((ui.available_width() - 560.0) / 2.0).clamp(150.0, 360.0), 30.0), button);
                if r.clicked() && !live {
                    let p = &self.params.active_slot;
                    setter.begin_set_parameter(p);
                    setter.set_parameter(p, choice);
                    setter.end_set_parameter(p);
                }
                r.on_hover_text(format!("Listen to slot {letter} (keys A / B; X switches)"));
            }
            ui.add_space(10.0);
            let lm = &self.params.level_match;
            let on = lm.value();
            if ui
                .add(egui::Button::selectable(on, "Level Match"))
                .on_hover_text("Scale each slot so its small-signal gain at 1 kHz is 0 dB")
                .clicked()
            {
                setter.begin_set_parameter(lm);
                setter.set_parameter(lm, !on);
                setter.end_set_parameter(lm);
            }
            ui.add_space(8.0);
            ui.label("Listen");
            let listen = &self.params.listen;
            for (c, name, tip) in [
                (ListenChoice::Emulation, "Emulation", "The emulated stage driving the load"),
                (ListenChoice::Ideal, "Ideal", "The same signal from a 0 Ω, unlimited stage"),
                (ListenChoice::Difference, "Difference", "Emulation minus ideal: what the stage and load change"),
            ] {
                if ui.add(egui::Button::selectable(listen.value() == c, name)).on_hover_text(tip).clicked() {
                    setter.begin_set_parameter(listen);
                    setter.set_parameter(listen, c);
                    setter.end_set_parameter(listen);
                }
            }
            ui.add_space(8.0);
            self.offline_bypass(ui);
        });
    }

    /// "Bypass in offline renders" (saved with the session, not a parameter): when on, the
    /// button says so in amber, so nobody exports a dry mix by surprise.
    fn offline_bypass(&self, ui: &mut Ui) {
        let shared = &self.params.shared;
        let on = shared.bypass_offline();
        let text = if on {
            RichText::new("Exports: dry").color(Color32::from_rgb(0xF0, 0xA0, 0x30)).strong()
        } else {
            RichText::new("Exports: emulated")
        };
        let tip = if on {
            "Bypass in offline renders is on: exports and bounces pass the input through \
             (latency compensated). Click to render through the emulation."
        } else {
            "Exports and bounces go through the emulation. Click to bypass Loadline in offline \
             renders only (for monitoring without regret)."
        };
        if ui.add(egui::Button::selectable(on, text)).on_hover_text(tip).clicked() {
            shared.set_bypass_offline(!on);
        }
    }

    /// One slot: preset and headphone menus, import line, stage knobs.
    fn slot_panel(&mut self, ui: &mut Ui, gui: &GuiContext, setter: &ParamSetter, k: usize) {
        let color = SLOT_COLORS[k];
        let live = self.params.active_slot.value() == if k == 0 { SlotChoice::A } else { SlotChoice::B };
        let letter = if k == 0 { "A" } else { "B" };
        let stroke = egui::Stroke::new(if live { 2.0 } else { 1.0 }, if live { color } else { color.gamma_multiply(0.35) });
        egui::Frame::group(ui.style()).stroke(stroke).inner_margin(8.0).show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal(|ui| {
                ui.label(RichText::new(format!("Slot {letter}")).strong().size(16.0).color(color));
                if live {
                    ui.label(RichText::new("LIVE").small().strong().color(Color32::BLACK).background_color(color));
                }
            });
            egui::Grid::new(("slot-menus", k)).num_columns(2).spacing(vec2(8.0, 6.0)).show(ui, |ui| {
                let label = ui.label("Stage").id;
                self.stage_menu(ui, gui, k, label);
                ui.end_row();
                let label = ui.label("Headphone").id;
                self.headphone_menu(ui, setter, k, label);
                ui.end_row();
                ui.label("");
                self.import_line(ui, k);
                ui.end_row();
            });
            let busy = self.slots[k].pending.is_some();
            let id = ui.make_persistent_id(("specs", k));
            if let Some(spec) = self.slots[k].spec.ui(ui, id, busy) {
                self.start_spec(k, spec);
            }
            self.import_status_line(ui, k);
            ui.add_space(4.0);
            let params = self.params.clone();
            let p = params.slot(k);
            ui.horizontal_wrapped(|ui| {
                ui.spacing_mut().item_spacing.x = 2.0;
                knob::knob(ui, setter, &p.output_impedance, "Output Z", color);
                knob::knob(ui, setter, &p.coupling_cap, "Coupling Cap", color);
                self.level_knob(ui, setter, k, color);
                knob::knob(ui, setter, &p.max_voltage, "Max Voltage", color);
                knob::knob(ui, setter, &p.max_current, "Max Current", color);
                knob::knob(ui, setter, &p.bias, "Bias", color);
                knob::knob(ui, setter, &p.noise, "Noise", color);
                knob::knob(ui, setter, &p.ground_return, "Ground", color);
            });
            self.level_line(ui, setter, k);
        });
    }

    /// The Level knob in dBu, or the Listening Level knob in dB SPL.
    fn level_knob(&mut self, ui: &mut Ui, setter: &ParamSetter, k: usize, color: Color32) {
        let p = self.params.slot(k);
        if p.level_mode.value() == LevelMode::Spl {
            knob::knob(ui, setter, &p.listening_level, "Listening Level", color);
        } else {
            knob::knob(ui, setter, &p.level, "Level (0 dBFS)", color);
        }
    }

    /// Under the knobs: the level in the other unit (the same conversion the processor makes,
    /// `processor::listening`) and the switch between dBu and dB SPL.
    fn level_line(&mut self, ui: &mut Ui, setter: &ParamSetter, k: usize) {
        let (_, _, net, sens) = self.slot_load(k);
        let stage = self.stage(k);
        let p = self.params.slot(k);
        let z = net.impedance(REFERENCE_HZ);
        let spl_mode = p.level_mode.value() == LevelMode::Spl;
        ui.horizontal(|ui| {
            let other = match (spl_mode, sens) {
                (true, Some(sv)) => {
                    let (v, capped) = level_for_spl(p.listening_level.value() as f64, sv, z, &stage);
                    format!("Listening Level = Level {:+.1} dBu{}", v_to_dbu(v), if capped { " (at its limit)" } else { "" })
                }
                (true, None) => format!("no sensitivity for this headphone: Level {:+.1} dBu applies", p.level.value()),
                (false, Some(sv)) => format!("Level ≈ {:.1} dB SPL", spl_for_level(sv, z, &stage)),
                (false, None) => "no sensitivity for this headphone".to_string(),
            };
            ui.label(RichText::new(other).small()).on_hover_text("dB SPL of a 1 kHz sine at −14 dBFS RMS (−14 LUFS) in this headphone");
            let to = if spl_mode { LevelMode::Dbu } else { LevelMode::Spl };
            if ui.small_button(if spl_mode { "set in dBu" } else { "set in dB SPL" }).clicked() {
                setter.begin_set_parameter(&p.level_mode);
                setter.set_parameter(&p.level_mode, to);
                setter.end_set_parameter(&p.level_mode);
            }
        });
    }

    fn stage_menu(&mut self, ui: &mut Ui, gui: &GuiContext, k: usize, label: egui::Id) {
        let current = matching_preset(&self.params, k).map_or("Custom".to_string(), |s| s.name.clone());
        let mut chosen = None;
        let r = egui::ComboBox::from_id_salt(("stage", k)).selected_text(current.clone()).width(ui.available_width().min(330.0)).show_ui(ui, |ui| {
            for s in library::stages() {
                if ui.selectable_label(s.name == current, with_assumed(&s.name, &s.assumed)).on_hover_text(hover(&s.basis, &s.assumed)).clicked() {
                    chosen = Some(s);
                }
            }
        });
        let _ = r.response.labelled_by(label);
        if let Some(s) = chosen {
            for (ptr, n) in apply_stage_preset(&self.params, k, s) {
                // SAFETY: the pointers come from our own parameters, which outlive the editor.
                unsafe {
                    gui.raw_begin_set_parameter(ptr);
                    gui.raw_set_parameter_normalized(ptr, n);
                    gui.raw_end_set_parameter(ptr);
                }
            }
        }
    }

    fn headphone_menu(&mut self, ui: &mut Ui, setter: &ParamSetter, k: usize, label: egui::Id) {
        let loads: &[Load] = library::loads();
        let (idx, name, _, _) = self.slot_load(k);
        let imported = self.imported(k);
        let mut chosen = None;
        let mut import = false;
        let r = egui::ComboBox::from_id_salt(("headphone", k)).selected_text(name).width(ui.available_width().min(330.0)).show_ui(ui, |ui| {
            for (i, l) in loads.iter().enumerate() {
                let text = with_assumed(&format!("{}  ({:.0} Ω)", l.name, l.nominal_ohm), &l.assumed);
                if ui.selectable_label(i == idx, text).on_hover_text(hover(&l.basis, &l.assumed)).clicked() {
                    chosen = Some(i);
                }
            }
            if let Some(c) = &imported {
                ui.separator();
                if ui.selectable_label(idx == loads.len(), format!("Imported: {}", c.name)).clicked() {
                    chosen = Some(loads.len());
                }
            }
            ui.separator();
            if ui.selectable_label(false, "Import curve…").clicked() {
                import = true;
            }
        });
        let _ = r.response.labelled_by(label);
        if let Some(i) = chosen {
            let hp = &self.params.slot(k).headphone;
            setter.begin_set_parameter(hp);
            setter.set_parameter(hp, i as i32);
            setter.end_set_parameter(hp);
        }
        if import {
            self.start_import_dialog(k);
        }
    }

    /// The path field: an alternative to the dialog (and the way in when no desktop portal runs).
    fn import_line(&mut self, ui: &mut Ui, k: usize) {
        ui.horizontal(|ui| {
            let s = &mut self.slots[k];
            let field = egui::TextEdit::singleline(&mut s.path)
                .hint_text("…or a file path (.zma, .txt, .csv, headphone .toml)")
                .desired_width((ui.available_width() - 190.0).clamp(100.0, 260.0));
            let r = ui.add(field);
            let r = r.on_hover_text("Path of an impedance measurement to import into this slot");
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let busy = s.pending.is_some();
            let clicked = ui.add_enabled(!busy && !s.path.trim().is_empty(), egui::Button::new("Import")).clicked();
            if ui.selectable_label(s.spec.open, "New from specs…").on_hover_text("Make this slot's headphone from its spec sheet").clicked() {
                s.spec.open = !s.spec.open;
            }
            if (clicked || enter) && !busy && !s.path.trim().is_empty() {
                let path = PathBuf::from(s.path.trim());
                self.start_import(k, path);
            }
        });
    }

    fn import_status_line(&mut self, ui: &mut Ui, k: usize) {
        match &self.slots[k].status {
            None => {}
            Some(ImportStatus::Busy(name)) => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(format!("Importing {name}…"));
                });
            }
            Some(ImportStatus::Done { name, report }) => {
                ui.label(RichText::new(format!("Imported {name}")).color(Color32::from_rgb(120, 200, 120)));
                for line in report {
                    ui.label(RichText::new(line).small().weak());
                }
            }
            Some(ImportStatus::Failed { name, error }) => {
                ui.label(
                    RichText::new(format!("Import failed ({name}): {error}. The load was not changed."))
                        .color(Color32::from_rgb(240, 90, 80)),
                );
            }
        }
    }

    /// Live meters for the slot being heard.
    /// The three plots.
    fn plots(&mut self, ui: &mut Ui, w: f32) {
        let loads = [self.slot_load(0), self.slot_load(1)];
        let stages = [self.stage(0), self.stage(1)];
        let curves = [Curves::compute(&loads[0].2, &stages[0]), Curves::compute(&loads[1].2, &stages[1])];
        let imported = [self.imported(0), self.imported(1)];
        let h = (ui.available_height() - 64.0).max(300.0);
        let dim = |k: usize| SLOT_COLORS[k].gamma_multiply(0.45);

        // |Z|, log-log, with each slot's 8·|Zs| line (below it the rule of thumb is broken).
        let lo = curves.iter().flat_map(|c| c.magnitude.iter().map(|p| p[1])).fold(f64::INFINITY, f64::min);
        let hi = curves.iter().flat_map(|c| c.magnitude.iter().map(|p| p[1])).fold(0.0, f64::max);
        let mut series = Vec::new();
        let mut meas: [Vec<[f64; 2]>; 2] = [Vec::new(), Vec::new()];
        let mut meas_ph: [Vec<[f64; 2]>; 2] = [Vec::new(), Vec::new()];
        for k in 0..2 {
            if loads[k].0 >= library::loads().len() {
                if let Some(c) = &imported[k] {
                    meas[k] = c.points.iter().filter(|p| p[0] >= 20.0 && p[0] <= 20e3).map(|p| [p[0], p[1]]).collect();
                    meas_ph[k] = c.points.iter().filter(|p| p[0] >= 20.0 && p[0] <= 20e3).map(|p| [p[0], p[2]]).collect();
                }
            }
        }
        for k in 0..2 {
            series.push(Series { color: dim(k), points: &meas[k], width: 1.0, dashed: false, dots: true });
            series.push(Series { color: SLOT_COLORS[k], points: &curves[k].magnitude, width: 2.0, dashed: k == 1, dots: false });
        }
        let hl: Vec<HLine> = (0..2)
            .filter(|&k| curves[k].zs_ohm > 0.0)
            .map(|k| HLine {
                y: curves[k].zs_ohm * model::DAMPING_RULE,
                color: dim(k),
                label: format!("{} 8·|Zs| = {}", if k == 0 { "A" } else { "B" }, fmt_ohm(curves[k].zs_ohm * model::DAMPING_RULE)),
            })
            .collect();
        let y = YAxis::log_fit(lo, hi, " Ω");
        // With a shared ground in either slot a fourth plot, its crosstalk, takes room from |Z|.
        let grounded = curves.iter().any(|c| !c.crosstalk.is_empty());
        plot::plot(ui, "Impedance |Z| (Ω)", vec2(w, h * if grounded { 0.22 } else { 0.38 }), &y, &series, &hl, &[]);

        let mut series = Vec::new();
        for k in 0..2 {
            series.push(Series { color: dim(k), points: &meas_ph[k], width: 1.0, dashed: false, dots: true });
            series.push(Series { color: SLOT_COLORS[k], points: &curves[k].phase, width: 2.0, dashed: k == 1, dots: false });
        }
        let mut y = YAxis::linear(-90.0, 90.0, "°");
        y.ticks = vec![-90.0, -45.0, 0.0, 45.0, 90.0];
        plot::plot(ui, "Impedance phase (°)", vec2(w, h * if grounded { 0.19 } else { 0.22 }), &y, &series, &[], &[]);

        let dmin = curves.iter().flat_map(|c| c.deviation.iter().map(|p| p[1])).fold(0.0, f64::min);
        let dmax = curves.iter().flat_map(|c| c.deviation.iter().map(|p| p[1])).fold(0.0, f64::max);
        let y = YAxis::linear((dmin - 0.5).min(-1.0).floor(), (dmax + 0.5).max(0.5).ceil(), " dB");
        let series: Vec<Series> = (0..2)
            .map(|k| Series { color: SLOT_COLORS[k], points: &curves[k].deviation, width: 2.0, dashed: k == 1, dots: false })
            .collect();
        let markers: Vec<Marker> = (0..2)
            .filter(|&k| curves[k].rule_exceeded)
            .map(|k| Marker {
                at: [curves[k].zmin_hz, model::deviation_db(&loads[k].2, &stages[k], curves[k].zmin_hz)],
                color: SLOT_COLORS[k],
                label: format!("{}: Zs > Zmin/8", if k == 0 { "A" } else { "B" }),
            })
            .collect();
        plot::plot(ui, "Response deviation 20·log10|Z/(Z+Zs)| (dB)", vec2(w, h * if grounded { 0.36 } else { 0.40 }), &y, &series, &[], &markers);
        if grounded {
            self.crosstalk_plot(ui, &curves, vec2(w, h * 0.18));
        }
        for k in 0..2 {
            let c = &curves[k];
            let letter = if k == 0 { "A" } else { "B" };
            let rule = if c.rule_exceeded {
                format!("|Zs| {} > Zmin/8 = {}: audible colouration likely", fmt_ohm(c.zs_ohm), fmt_ohm(c.zmin_ohm / model::DAMPING_RULE))
            } else {
                format!("|Zs| {} ≤ Zmin/8 = {}", fmt_ohm(c.zs_ohm), fmt_ohm(c.zmin_ohm / model::DAMPING_RULE))
            };
            ui.label(
                RichText::new(format!("{letter}: {:+.2} dB at 1 kHz · {rule}", c.drop_1k_db))
                    .color(if c.rule_exceeded { SLOT_COLORS[k] } else { ui.visuals().text_color() }),
            );
        }
    }
}

impl LoadlineEditor {
    /// Crosstalk through each slot's shared ground, one channel driven (`model::crosstalk_db`).
    fn crosstalk_plot(&self, ui: &mut Ui, curves: &[model::Curves], size: egui::Vec2) {
        let lo = curves.iter().flat_map(|c| c.crosstalk.iter().map(|p| p[1])).fold(0.0, f64::min);
        let hi = curves.iter().flat_map(|c| c.crosstalk.iter().map(|p| p[1])).fold(-200.0, f64::max);
        let y = YAxis::linear((lo - 3.0).max(-120.0).floor(), (hi + 3.0).min(0.0).ceil(), " dB");
        let series: Vec<Series> = (0..2)
            .map(|k| Series { color: SLOT_COLORS[k], points: &curves[k].crosstalk, width: 2.0, dashed: k == 1, dots: false })
            .collect();
        plot::plot(ui, "Crosstalk via the shared ground, 20·log10|v_R/v_L| (dB)", size, &y, &series, &[], &[]);
    }
}

/// A named reference's menu entry marks that some of its figures are assumed.
fn with_assumed(name: &str, assumed: &[String]) -> String {
    if assumed.is_empty() { name.to_string() } else { format!("{name}  *") }
}

/// The basis, and for a named reference which of its figures are assumed rather than published.
fn hover(basis: &str, assumed: &[String]) -> String {
    if assumed.is_empty() { basis.to_string() } else { format!("{basis}\n\n* Assumed (not published): {}", assumed.join(", ")) }
}

fn fmt_ohm(z: f64) -> String {
    if z >= 1000.0 {
        format!("{:.2} kΩ", z / 1000.0)
    } else if z >= 10.0 {
        format!("{z:.0} Ω")
    } else {
        format!("{z:.2} Ω")
    }
}

/// Sets up fonts-independent style: dark theme, a little more room.
fn setup_style(ctx: &egui::Context) {
    ctx.set_theme(egui::Theme::Dark);
    ctx.all_styles_mut(|s| {
        s.spacing.item_spacing = vec2(8.0, 5.0);
        s.spacing.button_padding = vec2(8.0, 4.0);
    });
}

impl NiceEguiApp for LoadlineEditor {
    fn build(
        &mut self,
        egui_ctx: egui::Context,
        gui: GuiContext,
        _frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        setup_style(&egui_ctx);
        self.gui = Some(gui);
        Ok(())
    }

    fn ui(&mut self, ui: &mut Ui, _frame: &mut nice_plug_egui::Frame) {
        let Some(gui) = self.gui.clone() else { return };
        ResizableWindow::new("loadline-editor").min_size(vec2(MIN_SIZE.0, MIN_SIZE.1)).show(ui, |ui| {
            egui::Frame::new().inner_margin(8.0).show(ui, |ui| self.draw(ui, &gui));
        });
    }

    fn editor_closed(&mut self) {
        self.gui = None;
    }
}

/// Applies the editor's style to a context (for test harnesses and screenshots).
pub fn style(ctx: &egui::Context) {
    setup_style(ctx);
}
