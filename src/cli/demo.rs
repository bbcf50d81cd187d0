//! `loadline demo OUT.wav`: a built-in two-tone through the engine for every library load and
//! stage preset, with a real-time factor per combination (a smoke test and rough benchmark).

use super::output::{self, Format, Pending};
use anyhow::{Context, Result};
use loadline::dsp::{Engine, Quality};
use loadline::library;
use std::path::Path;

pub fn run(out: &Path, force: bool) -> Result<()> {
    output::check(out, &[Format::Wav], force, &[], false)?;
    let (pending, file) = Pending::create(out, force)?;
    let fs = 48_000.0;
    let spec = hound::WavSpec { channels: 1, sample_rate: 48_000, bits_per_sample: 32, sample_format: hound::SampleFormat::Float };
    let mut w = hound::WavWriter::new(file, spec).with_context(|| format!("cannot write {}", out.display()))?;
    for load in library::loads() {
        for stage in library::stages() {
            let mut e = Engine::new(fs, Quality::Default, &load.network, &stage.params, 1)?;
            // A 100 Hz + 3 kHz two-tone at −6 dBFS, 0.25 s per combination.
            let n = (fs * 0.25) as usize;
            let t0 = std::time::Instant::now();
            let mut peak: f64 = 0.0;
            for k in 0..n {
                let t = k as f64 / fs;
                let x = 0.25 * ((2.0 * std::f64::consts::PI * 100.0 * t).sin() + (2.0 * std::f64::consts::PI * 3000.0 * t).sin());
                let y = e.process_sample(x);
                peak = peak.max(y.abs());
                w.write_sample(y as f32)?;
            }
            println!(
                "{:<48} {:<36} peak {:6.3} dBFS  {:>6.0}x real time",
                load.name,
                stage.name,
                20.0 * peak.log10(),
                n as f64 / fs / t0.elapsed().as_secs_f64()
            );
        }
    }
    w.finalize().with_context(|| format!("cannot write {}", out.display()))?;
    pending.commit()?;
    println!("wrote {}", out.display());
    Ok(())
}
