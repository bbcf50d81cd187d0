//! `cargo bench --bench activation`: what it costs the host to create, activate and reset the
//! plugin, the calls a host may make on its audio thread (Ardour was seen activating during an
//! export). Reports the median and worst of repeated calls, in milliseconds.
//! Figures, not assertions: timings on shared machines are noisy.

use loadline::plugin::Loadline;
use nice_plug::prelude::*;
use std::time::Instant;

struct ActCtx;
impl ActivateContext<Loadline> for ActCtx {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }
    fn execute(&self, _task: loadline::plugin::Task) {}
    fn set_latency_samples(&self, _samples: u32) {}
    fn set_current_voice_capacity(&self, _samples: u32) {}
}

fn activate(p: &mut Loadline, fs: f32) -> f64 {
    let layout = AudioIOLayout {
        main_input_channels: NonZeroU32::new(2),
        main_output_channels: NonZeroU32::new(2),
        ..AudioIOLayout::const_default()
    };
    let cfg = BufferConfig { sample_rate: fs, min_buffer_size: None, max_buffer_size: 1024, process_mode: ProcessMode::Realtime };
    let t = Instant::now();
    assert!(p.activate(&layout, &cfg, &mut ActCtx));
    t.elapsed().as_secs_f64() * 1e3
}

/// Median and maximum of `v`, milliseconds.
fn summary(mut v: Vec<f64>) -> String {
    v.sort_by(f64::total_cmp);
    format!("median {:.3} ms, worst {:.3} ms ({} calls)", v[v.len() / 2], v[v.len() - 1], v.len())
}

fn main() {
    // The first activation at a rate in this process builds the shared library for it (see
    // `processor::library`); every later one, in this or another instance, reuses it.
    let mut cold = Vec::new();
    for fs in [48_000.0, 44_100.0, 96_000.0] {
        let mut p = Loadline::default();
        cold.push((fs, activate(&mut p, fs)));
    }
    let runs = 50;
    let mut create = Vec::new();
    let mut first = Vec::new();
    let mut again = Vec::new();
    let mut other_rate = Vec::new();
    let mut reset = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let mut p = Loadline::default();
        create.push(t.elapsed().as_secs_f64() * 1e3);
        first.push(activate(&mut p, 48_000.0));
        again.push(activate(&mut p, 48_000.0));
        other_rate.push(activate(&mut p, 44_100.0));
        let t = Instant::now();
        p.reset();
        reset.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!("activation: stereo, default parameters, block 1024");
    for (fs, ms) in cold {
        println!("  first activate in the process at {:>5.1} kHz  {ms:.3} ms (builds the library for that rate)", fs / 1e3);
    }
    println!("  create the plugin                          {}", summary(create));
    println!("  a new instance's activate at 48 kHz        {}", summary(first));
    println!("  activate again at 48 kHz                   {}", summary(again));
    println!("  activate at 44.1 kHz (rate changed)        {}", summary(other_rate));
    println!("  reset                                      {}", summary(reset));
}
