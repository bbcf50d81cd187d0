//! Loads the built `Loadline.clap` through `clack-host`, as a CLAP host would: scans it, sets a
//! parameter by event, processes audio, checks the reported latency, and round-trips state.
//!
//! Needs the bundle (`cargo xtask bundle loadline --release`, which scripts/test.sh runs first);
//! without it the test prints a notice and passes.

use clack_extensions::latency::PluginLatency;
use clack_extensions::params::{ParamInfoBuffer, PluginParams};
use clack_extensions::render::{PluginRender, RenderMode};
use clack_extensions::state::PluginState;
use clack_host::events::event_types::ParamValueEvent;
use clack_host::prelude::*;
use std::ffi::CStr;
use std::path::PathBuf;
use std::sync::OnceLock;

#[derive(Default)]
struct Shared {
    state: OnceLock<Option<PluginState>>,
    params: OnceLock<Option<PluginParams>>,
    latency: OnceLock<Option<PluginLatency>>,
    render: OnceLock<Option<PluginRender>>,
}

impl<'a> SharedHandler<'a> for Shared {
    fn initializing(&self, instance: InitializingPluginHandle<'a>) {
        let _ = self.state.set(instance.get_extension());
        let _ = self.params.set(instance.get_extension());
        let _ = self.latency.set(instance.get_extension());
        let _ = self.render.set(instance.get_extension());
    }
    fn request_restart(&self) {}
    fn request_process(&self) {}
    fn request_callback(&self) {}
}

struct TestHost;
impl HostHandlers for TestHost {
    type Shared<'a> = Shared;
    type MainThread<'a> = ();
    type AudioProcessor<'a> = ();
}

/// The built `Loadline.clap`, loaded; `None` (with a notice) when it has not been bundled.
fn entry() -> Option<PluginEntry> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bundled/Loadline.clap");
    if !p.exists() {
        println!("NOTICE: target/bundled/Loadline.clap not found; run `cargo xtask bundle loadline --release` (scripts/test.sh does). Skipping.");
        return None;
    }
    Some(unsafe { PluginEntry::load(&p) }.expect("load Loadline.clap"))
}

const CLAP_ID: &CStr = c"org.loadline.loadline";

fn instance(entry: &PluginEntry) -> PluginInstance<TestHost> {
    let info = HostInfo::new("loadline-test", "loadline", "https://example.invalid", "1.0").unwrap();
    PluginInstance::<TestHost>::new(|_| Shared::default(), |_| (), entry, CLAP_ID, &info).unwrap()
}

/// (id, name, min, max) of every parameter.
fn params(inst: &mut PluginInstance<TestHost>) -> Vec<(ClapId, String, f64, f64)> {
    let ext = inst.access_shared_handler(|h| *h.params.get().unwrap()).expect("params extension");
    let handle = inst.plugin_handle();
    let mut buf = ParamInfoBuffer::new();
    (0..ext.count(&handle))
        .map(|i| {
            let p = ext.get_info(&handle, i, &mut buf).unwrap();
            (p.id, String::from_utf8_lossy(p.name).trim_end_matches('\0').to_string(), p.min_value, p.max_value)
        })
        .collect()
}

fn values(inst: &mut PluginInstance<TestHost>, ids: &[ClapId]) -> Vec<f64> {
    let ext = inst.access_shared_handler(|h| *h.params.get().unwrap()).unwrap();
    let handle = inst.plugin_handle();
    ids.iter().map(|&id| ext.get_value(&handle, id).unwrap()).collect()
}

/// Block holding the test impulse (parameter changes in block 0 have settled by then: the
/// Listen crossfade takes 20 ms).
const IMPULSE_BLOCK: usize = 8;

/// Processes `blocks` stereo blocks of `n` samples (an impulse at the start of block
/// [`IMPULSE_BLOCK`]), sending `events` with the first block. Returns the left output from the
/// impulse on.
fn process(inst: &mut PluginInstance<TestHost>, n: usize, blocks: usize, events: &[ParamValueEvent]) -> Vec<f32> {
    let cfg = PluginAudioConfiguration { sample_rate: 48_000.0, min_frames_count: 1, max_frames_count: n as u32 };
    let proc = inst.activate(|_, _| (), cfg).unwrap();
    let mut proc = proc.start_processing().unwrap();
    let mut in_ports = AudioPorts::with_capacity(2, 1);
    let mut out_ports = AudioPorts::with_capacity(2, 1);
    let mut out_events = EventBuffer::new();
    let mut left = Vec::new();
    let mut first_events = EventBuffer::new();
    for e in events {
        first_events.push(e);
    }
    let no_events = EventBuffer::new();
    for b in 0..blocks {
        let mut input = [vec![0.0f32; n], vec![0.0f32; n]];
        if b == IMPULSE_BLOCK {
            input[0][0] = 1.0;
            input[1][0] = 1.0;
        }
        let mut output = [vec![0.0f32; n], vec![0.0f32; n]];
        let in_ev = InputEvents::from_buffer(if b == 0 { &first_events } else { &no_events });
        let ins = in_ports.with_input_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_input_only(input.iter_mut().map(|c| InputChannel::variable(c))),
        }]);
        let mut outs = out_ports.with_output_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_output_only(output.iter_mut().map(|c| c.as_mut_slice())),
        }]);
        proc.process(&ins, &mut outs, &in_ev, &mut OutputEvents::from_buffer(&mut out_events), None, None).unwrap();
        left.extend_from_slice(&output[0]);
    }
    let stopped = proc.stop_processing();
    inst.deactivate(stopped);
    left.split_off(IMPULSE_BLOCK * n)
}

#[test]
fn clap_bundle_processes_reports_latency_and_round_trips_state() {
    let Some(entry) = entry() else { return };
    let factory = entry.get_plugin_factory().expect("plugin factory");
    let ids: Vec<String> = factory.plugin_descriptors().filter_map(|d| d.id().map(|i| i.to_string_lossy().into_owned())).collect();
    assert_eq!(ids, ["org.loadline.loadline"]);

    let mut a = instance(&entry);
    let ps = params(&mut a);
    let find = |name: &str| ps.iter().find(|p| p.1 == name).unwrap_or_else(|| panic!("no parameter {name:?} in {ps:?}")).clone();
    for name in ["Active Slot", "Level Match", "Listen", "Output Trim", "Bypass", "A Headphone", "B Output Impedance", "B Noise"] {
        find(name);
    }
    // Ideal listening: an impulse comes back as an impulse at exactly the reported latency.
    let listen = find("Listen");
    let trim = find("Output Trim");
    let events = [
        ParamValueEvent::new(0, listen.0, Pckn::match_all(), listen.2 + 0.5 * (listen.3 - listen.2)),
        ParamValueEvent::new(0, trim.0, Pckn::match_all(), trim.2 + 0.5 * (trim.3 - trim.2)),
    ];
    let y = process(&mut a, 256, 40, &events);
    let lat = {
        let ext = a.access_shared_handler(|h| *h.latency.get().unwrap()).expect("latency extension");
        ext.get(&a.plugin_handle()) as usize
    };
    let peak = (0..y.len()).max_by(|&i, &j| y[i].abs().total_cmp(&y[j].abs())).unwrap();
    println!("reported latency at 48 kHz: {lat} samples");
    assert_eq!(peak, lat, "impulse peak vs reported latency");
    // The band-limited impulse's peak is below 1, but its sum is the DC gain: 0 dB.
    let dc: f32 = y.iter().sum();
    assert!((dc - 1.0).abs() < 0.01, "ideal path DC gain {dc}");

    // State: save, load into a fresh instance, compare every parameter.
    let state = a.access_shared_handler(|h| *h.state.get().unwrap()).expect("state extension");
    let mut saved = Vec::new();
    state.save(&a.plugin_handle(), &mut saved).unwrap();
    assert!(String::from_utf8_lossy(&saved).contains("loadline"), "persisted fields are in the state");
    let all: Vec<ClapId> = ps.iter().map(|p| p.0).collect();
    let before = values(&mut a, &all);

    let mut b = instance(&entry);
    let state_b = b.access_shared_handler(|h| *h.state.get().unwrap()).unwrap();
    state_b.load(&b.plugin_handle(), &mut std::io::Cursor::new(saved.clone())).unwrap();
    assert_eq!(values(&mut b, &all), before);
    // Corrupt state never crashes the plugin; it keeps working afterwards.
    let _ = state_b.load(&b.plugin_handle(), &mut std::io::Cursor::new(b"{\"garbage\": [".to_vec()));
    let mut truncated = saved.clone();
    truncated.truncate(saved.len() / 2);
    let _ = state_b.load(&b.plugin_handle(), &mut std::io::Cursor::new(truncated));
    let y = process(&mut b, 64, 20, &[]);
    assert!(y.iter().all(|v| v.is_finite()));
}

/// "Bypass in offline renders" through the real CLAP wrapper: the option set in the plugin's
/// state, the host switching to offline rendering through the render extension, then an impulse
/// comes back as exactly the impulse, delayed by the reported latency; in realtime it plays the
/// emulation.
#[test]
fn clap_offline_render_bypasses_when_the_option_is_on() {
    let Some(entry) = entry() else { return };
    let render = |mode: RenderMode| {
        let mut inst = instance(&entry);
        let state = inst.access_shared_handler(|h| *h.state.get().unwrap()).expect("state extension");
        let mut saved = Vec::new();
        state.save(&inst.plugin_handle(), &mut saved).unwrap();
        // nice-plug's CLAP state: the JSON's length (u64, little-endian), then the JSON.
        let text = String::from_utf8(saved[8..].to_vec()).expect("JSON state");
        let on = text.replace("\\\"bypass_offline\\\":false", "\\\"bypass_offline\\\":true");
        assert_ne!(on, text, "the option is in the state: {text}");
        let mut bytes = (on.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(on.as_bytes());
        state.load(&inst.plugin_handle(), &mut std::io::Cursor::new(bytes)).unwrap();
        let ext = inst.access_shared_handler(|h| *h.render.get().unwrap()).expect("render extension");
        ext.set(&inst.plugin_handle(), mode).expect("render mode");
        let y = process(&mut inst, 256, 20, &[]);
        let lat = {
            let ext = inst.access_shared_handler(|h| *h.latency.get().unwrap()).expect("latency extension");
            ext.get(&inst.plugin_handle()) as usize
        };
        (y, lat)
    };
    let (offline, lat) = render(RenderMode::Offline);
    let impulse: Vec<f32> = (0..offline.len()).map(|i| if i == lat { 1.0 } else { 0.0 }).collect();
    assert!(offline == impulse, "an offline render with the option on is not the delayed input");
    let (live, _) = render(RenderMode::Realtime);
    assert!(live != impulse, "realtime playback must stay emulated");
}
