//! `cargo bench --bench render`: `loadline render` on one hour of synthetic stereo 48 kHz audio
//! (16-bit WAV in, 16-bit dithered WAV out, the laptop-jack preset into a multi-BA IEM, default
//! quality), reporting the real-time factor and the renderer's peak memory (resident set).
//! Figures, not assertions: timings on shared machines are noisy.
//!
//! `HOURS=0.25` renders a quarter of an hour instead.

use std::io::Write;
use std::process::Command;
use std::time::Instant;

fn main() {
    let hours: f64 = std::env::var("HOURS").ok().and_then(|h| h.parse().ok()).unwrap_or(1.0);
    let rate = 48_000u32;
    let frames = (hours * 3600.0 * rate as f64) as usize;
    let dir = std::env::temp_dir().join(format!("loadline-bench-render-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("hour.wav");
    // Synthetic programme: two tones with a slow level sweep, so the stage works at every level.
    {
        let spec = hound::WavSpec { channels: 2, sample_rate: rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
        let mut w = hound::WavWriter::create(&input, spec).unwrap();
        for k in 0..frames {
            let t = k as f64 / rate as f64;
            let env = 0.5 + 0.45 * (2.0 * std::f64::consts::PI * t / 37.0).sin();
            let l = env * (0.6 * (2.0 * std::f64::consts::PI * 110.0 * t).sin() + 0.3 * (2.0 * std::f64::consts::PI * 2500.0 * t).sin());
            let r = env * (0.6 * (2.0 * std::f64::consts::PI * 165.0 * t).sin() + 0.3 * (2.0 * std::f64::consts::PI * 4100.0 * t).sin());
            w.write_sample((l * 32767.0) as i16).unwrap();
            w.write_sample((r * 32767.0) as i16).unwrap();
        }
        w.finalize().unwrap();
    }
    let out = dir.join("out.wav");
    let report = dir.join("report.txt");
    let t0 = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_loadline"))
        .arg("render")
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .args(["--stage", "laptop-jack", "--headphone", "multi-ba-dip5", "--bits", "16"])
        .stderr(std::fs::File::create(&report).unwrap())
        .spawn()
        .unwrap();
    let mut status = 0;
    // SAFETY: wait4 on our own child's pid, writing into locals we own; it reports that child's
    // own peak resident set.
    let peak_kib = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut ru);
        ru.ru_maxrss
    };
    let wall = t0.elapsed().as_secs_f64();
    let report = std::fs::read_to_string(&report).unwrap_or_default();
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "{report}");
    let seconds = frames as f64 / rate as f64;
    println!("render: {hours} h of stereo 48 kHz audio (16-bit WAV in and out, laptop-jack into multi-ba-dip5, default quality)");
    println!("  wall time {wall:.1} s = {:.0}x real time (including decoding, metering, dither and writing)", seconds / wall);
    println!("  peak memory of the renderer {:.1} MB (input file {:.0} MB)", peak_kib as f64 / 1024.0, std::fs::metadata(&input).unwrap().len() as f64 / 1e6);
    if let Some(line) = report.lines().find(|l| l.contains("real time")) {
        println!("  renderer's own report: {}", line.trim());
    }
    let _ = std::io::stdout().flush();
    let _ = std::fs::remove_dir_all(&dir);
}
