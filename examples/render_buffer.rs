//! Render a buffer through an output stage driving a headphone, and compare the level at 1 kHz
//! with the small-signal divider `|Z/(Z+Zs)|`.
//!
//! `cargo run --release --example render_buffer`

use loadline::dsp::{Engine, Quality};
use loadline::library;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let stage = library::find_stage("iec-61938").ok_or("no such stage")?.params; // 120 Ω
    let load = &library::find_load("multi-ba-dip5").ok_or("no such load")?.network;
    let fs_hz = 48_000.0;
    let mut engine = Engine::new(fs_hz, Quality::Default, load, &stage, 1)?;

    // One second of a 1 kHz sine at −20 dBFS, rendered in place (digital full scale in and out).
    let mut buf: Vec<f64> = (0..48_000).map(|k| 0.1 * (2.0 * std::f64::consts::PI * 1000.0 * k as f64 / fs_hz).sin()).collect();
    engine.process_block_f64(&mut buf);

    let peak = buf[24_000..].iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let z = load.impedance(1000.0);
    let divider = (z / (z + stage.source_impedance(1000.0))).norm();
    println!("level at the headphone: {:.2} dB (divider |Z/(Z+Zs)| = {:.2} dB)", 20.0 * (peak / 0.1).log10(), 20.0 * divider.log10());
    Ok(())
}
