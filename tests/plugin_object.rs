//! Drives the real plugin object the way a host does (activate, then `process` on host-sized
//! buffers), under `assert_no_alloc`, and checks it against the shared processor.

use loadline::dsp::{Network, Quality};
use loadline::plugin::params::LoadlineParams;
use loadline::plugin::{Loadline, Task, NOISE_SEED, PLUGIN_QUALITY};
use loadline::processor::config::ImportedCurve;
use loadline::processor::{Processor, Settings};
use nice_assert_no_alloc::{assert_no_alloc, reset_violation_count, violation_count, AllocDisabler};
use nice_plug::prelude::*;
use std::collections::BTreeMap;
use std::f64::consts::PI;

#[global_allocator]
static A: AllocDisabler = AllocDisabler;

mod plugin_host;
use plugin_host::{ActCtx, Ctx};

fn activate(plugin: &mut Loadline, fs: f32, channels: u32) {
    activate_in(plugin, fs, channels, ProcessMode::Realtime)
}

fn activate_in(plugin: &mut Loadline, fs: f32, channels: u32, process_mode: ProcessMode) {
    let layout = AudioIOLayout {
        main_input_channels: NonZeroU32::new(channels),
        main_output_channels: NonZeroU32::new(channels),
        ..AudioIOLayout::const_default()
    };
    let cfg = BufferConfig { sample_rate: fs, min_buffer_size: None, max_buffer_size: 8192, process_mode };
    assert!(plugin.activate(&layout, &cfg, &mut ActCtx));
}

/// Processes `io` (one Vec per channel) in blocks of the given sizes, calling `between` before
/// each block with its index (outside the no-allocation region). Counts allocations inside.
fn drive(
    plugin: &mut Loadline,
    executor: &TaskExecutor<Loadline>,
    io: &mut [Vec<f32>],
    sizes: &[usize],
    between: impl FnMut(usize, &LoadlineParams),
) -> u32 {
    drive_at(plugin, executor, io, sizes, None, between)
}

/// As [`drive`], with the host's transport playing and `io` starting at timeline sample
/// `timeline` (`None`: stopped, no position). The host reports the playhead, which for a
/// latency-compensated plugin is the latency behind the audio it feeds (as Ardour does).
fn drive_at(
    plugin: &mut Loadline,
    executor: &TaskExecutor<Loadline>,
    io: &mut [Vec<f32>],
    sizes: &[usize],
    timeline: Option<i64>,
    mut between: impl FnMut(usize, &LoadlineParams),
) -> u32 {
    let fs = plugin.processor().unwrap().sample_rate() as f32;
    let latency = plugin.processor().unwrap().latency() as i64;
    let mut ctx = Ctx::new(fs);
    let params = plugin.params_arc();
    let n = io[0].len();
    let (mut i, mut k) = (0, 0);
    reset_violation_count();
    while i < n {
        let len = sizes[k % sizes.len()].min(n - i);
        between(k, &params);
        let mut buffer = Buffer::default();
        let mut chans: Vec<&mut [f32]> = io.iter_mut().map(|c| &mut c[i..i + len]).collect();
        unsafe {
            buffer.set_slices(len, |s| {
                s.clear();
                s.extend(chans.drain(..));
            });
        }
        let mut aux = AuxiliaryBuffers { inputs: &mut [], outputs: &mut [] };
        ctx.transport.playing = timeline.is_some();
        ctx.transport.pos_samples = timeline.map(|t| t + i as i64 - latency);
        assert_no_alloc(|| {
            plugin.process(&mut buffer, &mut aux, &mut ctx);
        });
        // The host's background thread.
        let tasks: Vec<Task> = ctx.tasks.borrow_mut().drain(..).collect();
        for t in tasks {
            executor(t);
        }
        i += len;
        k += 1;
    }
    violation_count()
}

fn set(p: &impl Param, normalized: f32) {
    unsafe { p.as_ptr()._internal_set_normalized_value(normalized) };
}

fn set_plain_f(p: &FloatParam, v: f32) {
    set(p, p.preview_normalized(v));
}

/// What the renderer computes: a fresh processor over the whole library with the plugin's
/// quality and seed, starting at timeline sample `position`, over stereo `io` in blocks of `block`.
fn render_processor(fs: f32, settings: &Settings, position: u64, io: &mut [Vec<f32>], block: usize) {
    let nets: Vec<Network> = loadline::library::loads().iter().map(|l| l.network.clone()).collect();
    let mut p = Processor::new(fs as f64, PLUGIN_QUALITY, 2, &nets, [None, None], settings, NOISE_SEED).unwrap();
    // The renderer's set-up: the library's sensitivities, for a listening level.
    p.set_sensitivities(&loadline::processor::library_sensitivities(), [None, None]);
    p.snap();
    p.set_position(position);
    let (l, r) = io.split_at_mut(1);
    for (a, b) in l[0].chunks_mut(block).zip(r[0].chunks_mut(block)) {
        p.process(&mut [a, b]);
    }
}

fn signal(fs: f64, n: usize) -> Vec<f32> {
    (0..n).map(|k| (0.4 * (2.0 * PI * 220.0 * k as f64 / fs).sin() + 0.2 * (2.0 * PI * 3100.0 * k as f64 / fs).sin()) as f32).collect()
}

#[test]
fn process_never_allocates_through_switches_swaps_and_imports() {
    for (fs, channels) in [(48_000.0f32, 2u32), (44_100.0, 1), (22_050.0, 2), (384_000.0, 1)] {
        let mut plugin = Loadline::default();
        let executor = plugin.task_executor();
        activate(&mut plugin, fs, channels);
        let n_loads = loadline::library::loads().len() as i32;
        let x = signal(fs as f64, (fs as usize) / 2);
        let mut io: Vec<Vec<f32>> = (0..channels).map(|_| x.clone()).collect();
        let sizes = [1usize, 17, 512, 8192, 3, 64, 1000];
        let violations = drive(&mut plugin, &executor, &mut io, &sizes, |k, p| match k % 16 {
            1 => set(&p.active_slot, 1.0),
            2 => set_plain_f(&p.a.output_impedance, 330.0),
            3 => set(&p.level_match, 1.0),
            4 => set(&p.a.headphone, (2.min(n_loads) as f32) / n_loads as f32),
            5 => set(&p.listen, 1.0),
            6 => set_plain_f(&p.b.max_current, 20.0),
            7 => {
                // Import a curve into slot B and select it (the editor's action; allocates here,
                // outside the audio thread's region).
                p.shared.set_imported(1, Some(ImportedCurve { name: "t".into(), network: Network::R(50.0 + k as f64), points: vec![], sensitivity_db_spl_per_v: None }));
                set(&p.b.headphone, 1.0);
            }
            8 => set(&p.active_slot, 0.0),
            9 => set_plain_f(&p.output_trim, -6.0),
            10 => set(&p.bypass, 1.0),
            11 => set(&p.bypass, 0.0),
            // A listening level, moved while it plays.
            12 => set(&p.a.level_mode, 1.0),
            13 => set_plain_f(&p.a.listening_level, 70.0 + (k % 5) as f32 * 8.0),
            // A shared ground return (the coupled stereo circuit), moved and removed while it plays.
            14 => set_plain_f(&p.a.ground_return, 0.5 + (k % 3) as f32 * 4.0),
            15 if k % 32 == 15 => set_plain_f(&p.a.ground_return, 0.0),
            _ => set(&p.listen, 0.0),
        });
        assert_eq!(violations, 0, "allocations in process at {fs} Hz, {channels} ch");
        for c in &io {
            assert!(c.iter().all(|v| v.is_finite() && (*v == 0.0 || v.is_normal())));
        }
        // The imported curve reached slot B.
        let imported = loadline::library::loads().len();
        assert_eq!(plugin.processor().unwrap().current_load(1), imported, "{fs}");
    }
}

#[test]
fn plugin_output_equals_processor_output() {
    let fs = 48_000.0f32;
    let mut plugin = Loadline::default();
    let executor = plugin.task_executor();
    {
        let p = plugin.params_arc();
        set_plain_f(&p.a.output_impedance, 47.0);
        set_plain_f(&p.a.level, 8.0);
        set(&p.level_match, 1.0);
        // Slot B at a listening level: the plugin derives its Level as the renderer does.
        set(&p.b.level_mode, 1.0);
        set_plain_f(&p.b.listening_level, 96.0);
        // And its channels share a 1 Ω ground return (the coupled stereo circuit).
        set_plain_f(&p.b.ground_return, 1.0);
        set(&p.active_slot, 1.0);
    }
    activate(&mut plugin, fs, 2);
    let settings = Loadline::settings(&plugin.params_arc());
    assert_eq!(settings.slots[1].stage.r_ground_ohm, 1.0);
    let x = signal(fs as f64, 30_000);
    let mut io = vec![x.clone(), x.iter().map(|v| 0.5 * v).collect()];
    let mut expect = io.clone();
    drive(&mut plugin, &executor, &mut io, &[256], |_, _| {});
    assert_eq!(PLUGIN_QUALITY, Quality::Default);
    render_processor(fs, &settings, 0, &mut expect, 256);
    assert_eq!(io, expect);
    // And slot B plays the Level its listening level asks for, not its dBu Level.
    let load = &loadline::library::loads()[settings.slots[1].load];
    let (want, _) = loadline::processor::listening::level_for_spl(96.0, load.sensitivity_db_spl_per_v, load.network.impedance(1000.0), &settings.slots[1].stage);
    let played = plugin.processor().unwrap().effective_stage(1).level_v;
    assert_eq!(played, want);
    assert!((played / settings.slots[1].stage.level_v - 1.0).abs() > 0.1, "the listening level must change the Level");
}

/// Renders with noise on are reproducible (issue: "two exports of the same settings differ"):
/// the noise is keyed on the host's timeline, so what ran before, the block sizes and where the
/// transport starts do not change the output, and the renderer (whose timeline is its sample
/// index) gives the same samples.
#[test]
fn renders_with_noise_are_reproducible_whatever_ran_before() {
    let fs = 48_000.0f32;
    let mut plugin = Loadline::default();
    let executor = plugin.task_executor();
    {
        let p = plugin.params_arc();
        set_plain_f(&p.a.output_impedance, 120.0);
        set_plain_f(&p.a.noise, -70.0);
        set_plain_f(&p.b.noise, -60.0);
    }
    activate(&mut plugin, fs, 2);
    let settings = Loadline::settings(&plugin.params_arc());
    assert!(settings.slots[0].stage.noise_dbv.is_some());
    let x = signal(fs as f64, 20_000);
    let take = |plugin: &mut Loadline, sizes: &[usize], timeline: Option<i64>| {
        let mut io = vec![x.clone(), x.iter().map(|v| -0.3 * v).collect()];
        assert_eq!(drive_at(plugin, &executor, &mut io, sizes, timeline, |_, _| {}), 0);
        io
    };
    let first = take(&mut plugin, &[512], Some(0));
    // Other work in between (the transport stopped, then playing elsewhere), then the same
    // export: the host resets before it, as DAWs do before a render.
    let _ = take(&mut plugin, &[333, 64], None);
    let _ = take(&mut plugin, &[128], Some(96_000));
    plugin.reset();
    let second = take(&mut plugin, &[512], Some(0));
    assert!(first == second, "two exports of the same passage differ");
    // Another host block size changes where the circuit's fast loop starts and stops, which moves
    // the last bit of a rare sample (its states are re-derived at each call, to rounding): the
    // same export in blocks of 1, 17, 256, 1000 and 64 stays within -140 dB of the peak.
    plugin.reset();
    let other_blocks = take(&mut plugin, &[1, 17, 256, 1000, 64], Some(0));
    let peak = first.iter().flatten().fold(0.0f32, |m, v| m.max(v.abs()));
    let worst = first.iter().flatten().zip(other_blocks.iter().flatten()).fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    let worst_db = 20.0 * (worst.max(1e-30) / peak).log10();
    assert!(worst_db < -140.0, "another block size differs by {worst_db:.1} dB re peak");

    // The renderer's processor (its timeline is its sample index) gives the same samples.
    let mut expect = vec![x.clone(), x.iter().map(|v| -0.3 * v).collect::<Vec<f32>>()];
    render_processor(fs, &settings, 0, &mut expect, 4096);
    assert!(first == expect, "the plugin and the renderer differ with noise on");

    // An export starting at another timeline position gets that position's noise: equal to a
    // processor told to start there, and different from the one starting at 0.
    plugin.reset();
    let later = take(&mut plugin, &[300], Some(1_234_567));
    let mut expect = vec![x.clone(), x.iter().map(|v| -0.3 * v).collect::<Vec<f32>>()];
    render_processor(fs, &settings, 1_234_567, &mut expect, usize::MAX);
    assert!(later == expect, "a render from another start position is not keyed on it");
    assert!(later != first, "the noise does not depend on the position");

    // Without a reset, a stopped transport counts on: no block's noise is repeated.
    plugin.reset();
    let silent = vec![0.0f32; 4096];
    let mut io = vec![silent.clone(), silent.clone()];
    drive_at(&mut plugin, &executor, &mut io, &[256], None, |_, _| {});
    let tail = &io[0][2048..];
    let (a, b) = tail.split_at(tail.len() / 2);
    assert!(a.iter().any(|v| *v != 0.0) && a != b, "the noise repeats");
}

#[test]
fn state_fields_round_trip_and_corrupt_state_is_survived() {
    let plugin = Loadline::default();
    let p = plugin.params_arc();
    let curve = ImportedCurve { name: "HD 600 sweep".into(), network: Network::Series(vec![Network::R(300.0), Network::L(1e-3)]), points: vec![[1000.0, 301.0, 2.0]], sensitivity_db_spl_per_v: None };
    p.shared.set_imported(0, Some(curve.clone()));
    p.shared.set_extras(1, [0.01, 2.0, 1e-6]);
    let saved = p.serialize_fields();
    assert!(saved.contains_key("loadline"), "{saved:?}");

    let fresh = Loadline::default();
    let q = fresh.params_arc();
    let g0 = q.shared.generation(0);
    q.deserialize_fields(&saved);
    assert_eq!(q.shared.imported(0), Some(curve));
    assert_eq!(q.shared.extras(1), [0.01, 2.0, 1e-6]);
    assert_ne!(q.shared.generation(0), g0, "a restored curve is picked up by the audio thread");

    // Corrupt or hostile field contents: defaults, never a panic.
    for bad in [
        "not json",
        "{}",
        "{\"slots\": 3}",
        "{\"slots\": [{\"imported\": {\"name\": 1}}, {\"extras\": [1, \"x\", 3]}]}",
        "{\"slots\": [{\"imported\": {\"name\": \"x\", \"network\": {\"r\": -5}}}]}",
        "{\"slots\": [{\"headphone\": \"no-such-load\"}]}",
    ] {
        let fresh = Loadline::default();
        let q = fresh.params_arc();
        let mut m = BTreeMap::new();
        m.insert("loadline".to_string(), bad.to_string());
        q.deserialize_fields(&m);
        assert_eq!(q.shared.imported(0), None, "{bad}");
    }
}

#[test]
fn parameter_text_round_trips_with_units() {
    let plugin = Loadline::default();
    let p = plugin.params_arc();
    let check = |param: &FloatParam, text: &str, plain: f32| {
        let n = param.string_to_normalized_value(text).unwrap_or_else(|| panic!("parse {text}"));
        let v = param.preview_plain(n);
        assert!((v - plain).abs() <= 1e-3 * plain.abs().max(1.0), "{text} → {v}");
        let shown = param.normalized_value_to_string(n, true);
        let again = param.preview_plain(param.string_to_normalized_value(&shown).unwrap());
        assert!((again - v).abs() <= 0.01 * v.abs().max(1.0), "{text} → {shown} → {again}");
    };
    check(&p.a.output_impedance, "75 Ω", 75.0);
    check(&p.a.output_impedance, "1.2k", 1200.0);
    check(&p.a.coupling_cap, "220 µF", 220.0);
    check(&p.a.coupling_cap, "Off", 10_000.0);
    check(&p.a.level, "+4 dBu", 4.0);
    check(&p.b.max_voltage, "2 V", 2.0);
    check(&p.b.max_current, "60 mA", 60.0);
    check(&p.b.bias, "class A", 100.0);
    check(&p.b.noise, "-95 dBV", -95.0);
    check(&p.b.noise, "off", -160.0);
    check(&p.output_trim, "-6 dB", -6.0);
    assert_eq!(p.a.coupling_cap.normalized_value_to_string(1.0, true), "Off");
    let hp = &p.a.headphone;
    let first = &loadline::library::loads()[0];
    let n = hp.string_to_normalized_value(&first.id).unwrap();
    assert_eq!(hp.normalized_value_to_string(n, true), first.name);
    assert!(hp.string_to_normalized_value("imported").is_some());
    // Display names are unique (hosts key parameters by them).
    let mut names: Vec<String> = p.param_map().iter().map(|(_, ptr, _)| unsafe { ptr.name() }.to_string()).collect();
    let n = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), n);
}

#[test]
fn the_allocation_guard_is_armed() {
    reset_violation_count();
    assert_no_alloc(|| {
        let v: Vec<u8> = Vec::with_capacity(16);
        std::hint::black_box(v);
    });
    assert!(violation_count() > 0, "assert_no_alloc must count allocations in this build");
}

/// What clap-validator's `param-conversions` checks, for every parameter at 1 001 points across
/// its range: a value's text parses back, and that value prints as the same text (with and
/// without the unit), so a host that stores text gets back what it showed.
#[test]
fn every_parameter_text_is_stable_through_a_round_trip() {
    let plugin = Loadline::default();
    let p = plugin.params_arc();
    let mut bad = Vec::new();
    for (id, ptr, _) in p.param_map() {
        for k in 0..=1000 {
            let n = k as f32 / 1000.0;
            for unit in [true, false] {
                // SAFETY: `ptr` points into `p`, which outlives the loop.
                let (text, back, again) = unsafe {
                    let text = ptr.normalized_value_to_string(n, unit);
                    let back = ptr.string_to_normalized_value(&text);
                    (text.clone(), back, back.map(|b| ptr.normalized_value_to_string(b, unit)))
                };
                if back.is_none() || again.as_deref() != Some(text.as_str()) {
                    bad.push(format!("{id} at {n}: '{text}' → {back:?} → {again:?}"));
                }
            }
        }
    }
    assert!(bad.is_empty(), "{} failures, first: {:?}", bad.len(), &bad[..bad.len().min(8)]);
}

/// What a host's session does with a value: it reads the parameter as normalised, stores that,
/// and sets it back when the session reopens (VST3 hosts such as Ardour), or it stores the plain
/// value in the plugin's state. For every parameter, at its default and at 1 001 points across
/// its range, the value that comes back is bit-identical to the value that was stored, so a
/// reopened session renders exactly what was saved.
#[test]
fn every_parameter_value_survives_a_hosts_round_trip_bit_identically() {
    let plugin = Loadline::default();
    let p = plugin.params_arc();
    let mut bad = Vec::new();
    for (id, ptr, _) in p.param_map() {
        // SAFETY: `ptr` points into `p`, which outlives the loop.
        unsafe {
            let default = ptr.default_plain_value();
            let mut starts: Vec<(String, f32)> = vec![("default".into(), default)];
            for k in 0..=1000 {
                let n = k as f32 / 1000.0;
                starts.push((format!("n={n}"), ptr.preview_plain(n)));
            }
            for tiny in [1e-7f32, 1e-5, 1e-3, 0.999_999] {
                starts.push((format!("n={tiny}"), ptr.preview_plain(tiny)));
            }
            for (what, plain) in starts {
                let stored = ptr.preview_normalized(plain) as f64; // VST3 normalised values are f64
                let back = ptr.preview_plain(stored as f32);
                let again = ptr.preview_plain(ptr.preview_normalized(back));
                if back.to_bits() != plain.to_bits() || again.to_bits() != plain.to_bits() {
                    bad.push(format!("{id} at {what}: {plain} → {back} → {again}"));
                }
            }
        }
    }
    assert!(bad.is_empty(), "{} failures, first: {:?}", bad.len(), &bad[..bad.len().min(12)]);
}

/// "Bypass in offline renders": with the option on, an offline activation (a host's export)
/// passes the input through delayed by the reported latency, bit for bit; a realtime one still
/// plays the emulation, and so does an offline one with the option off. The option is saved.
#[test]
fn offline_renders_bypass_only_when_asked() {
    let fs = 48_000.0f32;
    let x = signal(fs as f64, 6_000);
    let run = |mode: ProcessMode, on: bool| {
        let mut plugin = Loadline::default();
        let executor = plugin.task_executor();
        plugin.params_arc().shared.set_bypass_offline(on);
        activate_in(&mut plugin, fs, 2, mode);
        let latency = plugin.processor().unwrap().latency();
        let mut io = vec![x.clone(), x.iter().map(|v| -0.5 * v).collect()];
        assert_eq!(drive(&mut plugin, &executor, &mut io, &[480], |_, _| {}), 0);
        (io, latency)
    };
    let dry = |latency: usize| -> Vec<Vec<f32>> {
        [1.0f32, -0.5]
            .iter()
            .map(|g| (0..x.len()).map(|i| if i < latency { 0.0 } else { g * x[i - latency] }).collect())
            .collect()
    };
    let (bypassed, latency) = run(ProcessMode::Offline, true);
    assert!(latency > 0);
    assert!(bypassed == dry(latency), "an offline render with the option on is not the delayed input");
    let (live, _) = run(ProcessMode::Realtime, true);
    let (offline_off, _) = run(ProcessMode::Offline, false);
    assert!(live == offline_off, "the option must not touch realtime playback or a render with it off");
    assert!(live != dry(latency), "the emulation is not heard");

    // Saved and restored with the session; a missing or malformed field reads as off.
    let plugin = Loadline::default();
    let p = plugin.params_arc();
    p.shared.set_bypass_offline(true);
    let saved = p.serialize_fields();
    let fresh = Loadline::default();
    fresh.params_arc().deserialize_fields(&saved);
    assert!(fresh.params_arc().shared.bypass_offline());
    for bad in ["{\"slots\": [], \"bypass_offline\": \"yes\"}", "{\"slots\": []}"] {
        let fresh = Loadline::default();
        fresh.params_arc().shared.set_bypass_offline(true);
        let mut m = BTreeMap::new();
        m.insert("loadline".to_string(), bad.to_string());
        fresh.params_arc().deserialize_fields(&m);
        assert!(!fresh.params_arc().shared.bypass_offline(), "{bad}");
    }
}

/// A state loaded while the plugin is active (Ardour loads a session's state after activating
/// it, and nice-plug does not re-activate after a load): the next block starts settled at the
/// loaded values, exactly as a plugin activated with them, instead of gliding from the old ones.
#[test]
fn a_state_loaded_while_active_starts_settled() {
    let fs = 48_000.0f32;
    let x = signal(fs as f64, 4_000);
    // The state to load: slot B live, Difference, B at 120 Ω.
    let source = Loadline::default();
    let sp = source.params_arc();
    set(&sp.active_slot, 1.0);
    set(&sp.listen, 1.0);
    set_plain_f(&sp.b.output_impedance, 120.0);
    let fields = sp.serialize_fields();
    let values: Vec<(String, f32)> =
        sp.param_map().iter().map(|(id, ptr, _)| (id.clone(), unsafe { ptr.unmodulated_normalized_value() })).collect();
    let load_state = |plugin: &Loadline| {
        let p = plugin.params_arc();
        for (id, ptr, _) in p.param_map() {
            let v = values.iter().find(|(k, _)| *k == id).unwrap().1;
            unsafe { ptr._internal_set_normalized_value(v) };
        }
        p.deserialize_fields(&fields);
    };

    // Reference: a plugin that had the state before it was activated.
    let mut fresh = Loadline::default();
    let ex = fresh.task_executor();
    load_state(&fresh);
    activate(&mut fresh, fs, 2);
    let mut expect = vec![x.clone(), x.clone()];
    drive(&mut fresh, &ex, &mut expect, &[256], |_, _| {});

    // Activated on the defaults, playing, then the state arrives.
    let mut plugin = Loadline::default();
    let executor = plugin.task_executor();
    activate(&mut plugin, fs, 2);
    // Silence meanwhile, so slot B's circuit is at rest as in the fresh plugin (slot A's noise runs
    // on, but slot A is not heard once B is live).
    let mut warm = vec![vec![0.0f32; 4_000], vec![0.0f32; 4_000]];
    drive(&mut plugin, &executor, &mut warm, &[256], |_, _| {});
    load_state(&plugin);
    let mut got = vec![x.clone(), x.clone()];
    assert_eq!(drive(&mut plugin, &executor, &mut got, &[256], |_, _| {}), 0, "allocations after a state load");
    let peak = expect.iter().flatten().fold(0.0f32, |m, v| m.max(v.abs()));
    let worst = expect.iter().flatten().zip(got.iter().flatten()).fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(peak > 0.01 && worst == 0.0, "after a state load the output glides: {:.1} dB re peak", 20.0 * (worst / peak).log10());
}
