//! The editor, rendered headlessly with egui's test harness (egui_kittest, AccessKit tree): the
//! controls and plots are there, the A/B strip switches slots, typed entry sets a knob, and a bad
//! file leaves the slot's load untouched while saying why.

use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;
use loadline::editor::{self, ImportStatus, LoadlineEditor};
use loadline::library;
use loadline::plugin::params::{LoadlineParams, SlotChoice};
use loadline::dsp::engine::LoadReading;
use loadline::processor::meters::{meters, MeterReader, MeterTarget, MeterWriter};
use loadline::processor::config::ImportedCurve;
use nice_plug::context::gui::{GuiContext, GuiContextInner};
use nice_plug::context::PluginApi;
use nice_plug::prelude::*;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A host stand-in: parameter changes go straight into the parameters.
struct TestHost;

impl GuiContextInner for TestHost {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }
    unsafe fn raw_begin_set_parameter(&self, _param: ParamPtr) {}
    unsafe fn raw_set_parameter_normalized(&self, param: ParamPtr, normalized: f32) {
        unsafe {
            param._internal_set_normalized_value(normalized);
        }
    }
    unsafe fn raw_end_set_parameter(&self, _param: ParamPtr) {}
    fn get_state(&self) -> PluginState {
        unimplemented!("not used by the editor")
    }
    fn set_state(&self, _state: PluginState) {}
    fn request_restart(&self) {}
}

struct Fixture {
    params: Arc<LoadlineParams>,
    writer: MeterWriter,
}

/// An editor over fresh parameters, in a harness of the default window size.
fn harness() -> (Harness<'static, (LoadlineEditor, GuiContext)>, Fixture) {
    let params = Arc::new(LoadlineParams::default());
    let (writer, reader) = meters();
    let reader: Arc<Mutex<MeterReader>> = Arc::new(Mutex::new(reader));
    let ed = LoadlineEditor::new(params.clone(), reader);
    let gui = GuiContext::new(Arc::new(TestHost));
    let h = Harness::builder()
        .with_size(egui::vec2(editor::DEFAULT_SIZE.0 as f32, editor::DEFAULT_SIZE.1 as f32))
        .with_max_steps(16)
        .with_context_setup(editor::style)
        .build_ui_state(|ui, (ed, gui): &mut (LoadlineEditor, GuiContext)| ed.draw(ui, gui), (ed, gui));
    (h, Fixture { params, writer })
}

/// Feeds `blocks` blocks of a full-scale 1 kHz sine through the meter writer as if the active
/// slot's engine output it unchanged into 32 Ω.
fn feed_meters(w: &mut MeterWriter, params: &LoadlineParams, blocks: usize) {
    let stage = params.slot(0).stage(params.shared.extras(0));
    let fs = 48_000.0;
    let mut n = 0u64;
    for _ in 0..blocks {
        w.begin_block(fs, MeterTarget { slot: 0, load: 0, stage });
        for _ in 0..256 {
            let x = (2.0 * std::f64::consts::PI * 1000.0 * n as f64 / fs).sin();
            w.sample(0, x, x);
            w.sample(1, x, x);
            n += 1;
        }
        let i_peak_a = std::f64::consts::SQRT_2 / 32.0;
        let r = LoadReading { steps: 1024, i_peak_a, vi_sum_w: 1024.0 / 32.0, limit_steps: 0 };
        w.load(0, &r, 256);
        w.load(1, &r, 256);
        w.end_block();
    }
}

fn step_for(h: &mut Harness<'static, (LoadlineEditor, GuiContext)>, frames: usize) {
    for _ in 0..frames {
        h.step();
    }
}

#[test]
fn controls_plots_and_meters_are_present() {
    let (mut h, mut fx) = harness();
    feed_meters(&mut fx.writer, &fx.params, 40);
    step_for(&mut h, 3);

    // The A/B strip.
    h.get_by_label_contains("A  ");
    h.get_by_label_contains("B  ");
    for l in ["Level Match", "Emulation", "Ideal", "Difference"] {
        h.get_by_label(l);
    }
    // Every stage knob of both slots, as sliders with values.
    for letter in ["A", "B"] {
        for name in ["Output Impedance", "Coupling Cap", "Level", "Max Voltage", "Max Current", "Bias", "Noise", "Ground Return"] {
            let label = format!("{letter} {name}");
            let node = h.get_by_role_and_label(Role::Slider, &label);
            assert!(node.accesskit_node().numeric_value().is_some(), "{label} has no value");
        }
        h.get_by_label(&format!("Slot {letter}"));
    }
    // Menus and the import line.
    assert!(h.query_all_by_label_contains("…or a file path").count() >= 2 || h.query_all_by_role(Role::TextInput).count() >= 2);
    assert!(h.get_all_by_label_contains(&library::loads()[0].name).count() >= 1);
    // Plots.
    for title in ["Impedance |Z| (Ω)", "Impedance phase (°)", "Response deviation 20·log10|Z/(Z+Zs)| (dB)"] {
        h.get_by_role_and_label(Role::Image, title);
    }
    // The 1 kHz drop of each slot, and the Zs > Zmin/8 verdicts.
    h.get_by_label_contains("A: ");
    h.get_by_label_contains("B: ");
    assert!(h.query_all_by_label_contains("dB at 1 kHz").count() == 2);
    // Meters for the live slot, with live numbers.
    h.get_by_label_contains("Meters · slot A");
    h.get_by_label("Voltage");
    h.get_by_label("Current");
    h.get_by_label_contains("V RMS");
    h.get_by_label_contains("Power");
    h.get_by_label_contains("· peak");
    h.get_by_label_contains("CLIP");
    h.get_by_label_contains("I LIMIT");
    assert!(h.query_by_label_contains("(no audio yet)").is_none());
    // The plots were actually painted (many shapes).
    assert!(h.output().shapes.len() > 200, "only {} shapes", h.output().shapes.len());
}

#[test]
fn ab_strip_switches_the_live_slot() {
    let (mut h, fx) = harness();
    h.step();
    assert_eq!(fx.params.active_slot.value(), SlotChoice::A);
    h.get_by_label_contains("B  ").click();
    step_for(&mut h, 2);
    assert_eq!(fx.params.active_slot.value(), SlotChoice::B);
    h.get_by_label_contains("Meters · slot B");
    // Keyboard: A selects slot A, X switches; Space is the host's transport key and is left alone.
    h.key_press(egui::Key::A);
    step_for(&mut h, 2);
    assert_eq!(fx.params.active_slot.value(), SlotChoice::A);
    h.key_press(egui::Key::Space);
    step_for(&mut h, 2);
    assert_eq!(fx.params.active_slot.value(), SlotChoice::A, "Space must stay the host's");
    h.key_press(egui::Key::X);
    step_for(&mut h, 2);
    assert_eq!(fx.params.active_slot.value(), SlotChoice::B);
    h.key_press(egui::Key::A);
    step_for(&mut h, 2);
    // Level Match toggles.
    assert!(!fx.params.level_match.value());
    h.get_by_label("Level Match").click();
    step_for(&mut h, 2);
    assert!(fx.params.level_match.value());
}

/// The level is set in dBu or as a listening level in dB SPL; each shows the other unit, from the
/// same conversion the processor makes.
#[test]
fn the_level_switches_to_a_listening_level_and_shows_both_units() {
    use loadline::dsp::stage::v_to_dbu;
    use loadline::plugin::params::LevelMode;
    use loadline::processor::listening::level_for_spl;
    let (mut h, fx) = harness();
    step_for(&mut h, 2);
    // dBu mode: the Level knob, and the SPL it gives under it.
    let text = |n: &egui_kittest::Node| n.accesskit_node().label().or(n.accesskit_node().value()).map(|l| l.to_string());
    let labels: Vec<String> = h.query_all_by_label_contains("dB SPL").filter_map(|n| text(&n)).collect();
    assert_eq!(labels.iter().filter(|l| l.starts_with("Level ≈ ") && l.ends_with(" dB SPL")).count(), 2, "{labels:?}");
    h.get_all_by_label("set in dB SPL").next().expect("the switch").click();
    step_for(&mut h, 3);
    assert_eq!(fx.params.a.level_mode.value(), LevelMode::Spl);
    h.get_by_role_and_label(Role::Slider, "A Listening Level");
    // Under it, the Level the processor will derive for slot A's load and stage.
    let load = &library::loads()[fx.params.a.headphone.value() as usize];
    let stage = fx.params.a.stage(fx.params.shared.extras(0));
    let (v, _) = level_for_spl(fx.params.a.listening_level.value() as f64, load.sensitivity_db_spl_per_v, load.network.impedance(1000.0), &stage);
    h.get_by_label(&format!("Listening Level = Level {:+.1} dBu", v_to_dbu(v)));
    h.get_by_label("set in dBu").click();
    step_for(&mut h, 3);
    assert_eq!(fx.params.a.level_mode.value(), LevelMode::Dbu);
}

#[test]
fn offline_bypass_is_one_click_and_says_so() {
    let (mut h, fx) = harness();
    h.step();
    assert!(!fx.params.shared.bypass_offline());
    h.get_by_label("Exports: emulated").click();
    step_for(&mut h, 2);
    assert!(fx.params.shared.bypass_offline(), "the option is on");
    // The editor says so while it is on, and the option is saved with the session.
    h.get_by_label("Exports: dry");
    assert!(h.query_by_label("Exports: emulated").is_none());
    assert!(fx.params.serialize_fields()["loadline"].contains("\"bypass_offline\":true"));
    h.get_by_label("Exports: dry").click();
    step_for(&mut h, 2);
    assert!(!fx.params.shared.bypass_offline());
}

#[test]
fn typed_entry_sets_a_knob() {
    let (mut h, fx) = harness();
    h.step();
    h.get_by_label_contains("A Output Impedance value").click();
    step_for(&mut h, 2);
    // The value field opened, focused, holding the current value; replace it.
    let focused = || |n: &egui_kittest::kittest::AccessKitNode<'_>| n.role() == Role::TextInput && n.is_focused();
    assert!(h.get_by(focused()).value().is_some_and(|v| !v.is_empty()));
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.step();
    h.get_by(focused()).type_text("47 Ω");
    h.step();
    h.key_press(egui::Key::Enter);
    step_for(&mut h, 2);
    let z = fx.params.a.output_impedance.value();
    assert!((z - 47.0).abs() < 0.05, "Output Impedance is {z}");
}

fn wait_for_import(h: &mut Harness<'static, (LoadlineEditor, GuiContext)>) {
    let t0 = Instant::now();
    loop {
        h.step();
        if !h.state().0.import_busy() {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "import did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
    step_for(h, 2);
}

#[test]
fn bad_file_shows_the_error_and_leaves_the_load_untouched() {
    let dir = std::env::temp_dir().join(format!("loadline-editor-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("not-a-curve.zma");
    std::fs::write(&bad, "this is not an impedance file\n1 2\nhello\n").unwrap();

    let (mut h, fx) = harness();
    // Slot A plays library load 3 and already has an imported curve it is not using.
    let before_curve = ImportedCurve { name: "kept".into(), network: loadline::dsp::Network::R(42.0), points: vec![], sensitivity_db_spl_per_v: None };
    fx.params.shared.set_imported(0, Some(before_curve.clone()));
    knob_set(&fx.params.a.headphone, 3);
    let generation = fx.params.shared.generation(0);
    h.step();

    // Type the path into slot A's field and press Import.
    let fields: Vec<_> = h.query_all_by_role(Role::TextInput).collect();
    assert!(fields.len() >= 2, "expected a path field per slot");
    fields[0].click();
    h.step();
    h.get_all_by_role(Role::TextInput).next().unwrap().type_text(bad.to_str().unwrap());
    h.step();
    h.get_all_by_label("Import").next().expect("Import button").click();
    wait_for_import(&mut h);

    match h.state().0.import_status(0) {
        Some(ImportStatus::Failed { error, .. }) => assert!(!error.is_empty()),
        other => panic!("expected a failure, got {other:?}"),
    }
    h.get_by_label_contains("Import failed");
    h.get_by_label_contains("The load was not changed");
    assert_eq!(fx.params.a.headphone.value(), 3, "the headphone changed");
    assert_eq!(fx.params.shared.generation(0), generation, "the imported curve was replaced");
    assert_eq!(fx.params.shared.imported(0), Some(before_curve));
    // Slot B is untouched too.
    assert!(h.state().0.import_status(1).is_none());

    // A missing file fails the same way.
    let (mut h2, fx2) = harness();
    h2.step();
    let gen2 = fx2.params.shared.generation(0);
    h2.state_mut().0.start_import(0, dir.join("does-not-exist.zma"));
    wait_for_import(&mut h2);
    assert!(matches!(h2.state().0.import_status(0), Some(ImportStatus::Failed { .. })));
    assert_eq!(fx2.params.shared.generation(0), gen2);
    assert_eq!(fx2.params.a.headphone.value(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn good_file_is_imported_selected_and_reported() {
    // A synthetic measurement of a library load: 10 Hz–20 kHz, magnitude and phase.
    let dir = std::env::temp_dir().join(format!("loadline-editor-good-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("measured.zma");
    let net = &library::loads()[0].network;
    let mut text = String::new();
    for f in loadline::dsp::network::log_grid(10.0, 20_000.0, 200) {
        let z = net.impedance(f);
        text.push_str(&format!("{f} {} {}\n", z.norm(), z.arg().to_degrees()));
    }
    std::fs::write(&path, text).unwrap();

    let (mut h, fx) = harness();
    h.step();
    h.state_mut().0.start_import(1, path.clone());
    wait_for_import(&mut h);
    match h.state().0.import_status(1) {
        Some(ImportStatus::Done { name, report }) => {
            assert_eq!(name, "measured.zma");
            assert!(report.iter().any(|l| l.contains("fitted")), "{report:?}");
        }
        other => panic!("expected success, got {other:?}"),
    }
    assert_eq!(fx.params.b.headphone.value() as usize, library::loads().len());
    assert_eq!(fx.params.shared.imported(1).map(|c| c.name), Some("measured.zma".to_string()));
    h.get_by_label_contains("Imported measured.zma");
    let _ = std::fs::remove_dir_all(&dir);
}

/// "New from specs…": the form's figures become the slot's headphone, with its sensitivity, saved
/// like an imported curve; the status lists what was met and assumed.
#[test]
fn a_headphone_from_specs_is_made_in_the_editor() {
    let (mut h, fx) = harness();
    h.step();
    h.get_all_by_label("New from specs…").next().expect("slot A's form").click();
    step_for(&mut h, 3);
    // Slot A's fields in order: the import path, then name, nominal, sensitivity, resonance, peak…
    let fill = |h: &mut Harness<'static, (LoadlineEditor, GuiContext)>, index: usize, text: &str| {
        h.get_all_by_role(Role::TextInput).nth(index).expect("a field").click();
        h.step();
        h.get_all_by_role(Role::TextInput).nth(index).unwrap().type_text(text);
        h.step();
    };
    fill(&mut h, 1, "Test 300");
    fill(&mut h, 2, "300");
    fill(&mut h, 3, "97");
    fill(&mut h, 4, "95");
    fill(&mut h, 5, "560");
    h.get_by_label("Make").click();
    step_for(&mut h, 2);
    wait_for_import(&mut h);
    match h.state().0.import_status(0) {
        Some(ImportStatus::Done { name, report }) => {
            assert_eq!(name, "Test 300");
            assert!(report.iter().any(|l| l.starts_with("met: peak_ohm 560")), "{report:?}");
            assert!(report.iter().any(|l| l.starts_with("assumed")), "{report:?}");
        }
        other => panic!("expected success, got {other:?}"),
    }
    let curve = fx.params.shared.imported(0).expect("the curve is in the session");
    assert_eq!(curve.name, "Test 300");
    // 97 dB SPL/mW at 300 Ω is 102.2 dB SPL/V.
    assert!((curve.sensitivity_db_spl_per_v.unwrap() - (97.0 - 10.0 * 0.3f64.log10())).abs() < 1e-9);
    assert_eq!(fx.params.a.headphone.value() as usize, library::loads().len());
    // Saved with the session: the state carries the network and the sensitivity.
    assert!(fx.params.serialize_fields()["loadline"].contains("sensitivity_db_spl_per_v"));
}

/// A shared ground return in a slot brings a fourth plot, its crosstalk; separate returns do not.
#[test]
fn a_shared_ground_shows_its_crosstalk() {
    let title = "Crosstalk via the shared ground, 20·log10|v_R/v_L| (dB)";
    let (mut h, fx) = harness();
    step_for(&mut h, 2);
    assert!(h.query_by_label(title).is_none());
    let n = fx.params.a.ground_return.preview_normalized(1.0);
    unsafe {
        fx.params.a.ground_return.as_ptr()._internal_set_normalized_value(n);
    }
    step_for(&mut h, 3);
    assert_eq!(fx.params.a.stage(fx.params.shared.extras(0)).r_ground_ohm, 1.0);
    h.get_by_role_and_label(Role::Image, title);
    // The other plots are all still there.
    for title in ["Impedance |Z| (Ω)", "Impedance phase (°)", "Response deviation 20·log10|Z/(Z+Zs)| (dB)"] {
        h.get_by_role_and_label(Role::Image, title);
    }
}

/// Sets an int parameter directly (as a host would).
fn knob_set(p: &IntParam, v: i32) {
    let n = p.preview_normalized(v);
    unsafe {
        p.as_ptr()._internal_set_normalized_value(n);
    }
}
