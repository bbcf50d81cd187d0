//! The renderer streams: its peak memory does not grow with the file's length.

use std::process::{Command, Stdio};

/// Runs `cmd` to the end; returns whether it succeeded and its own peak resident memory, MB
/// (`wait4` reports the rusage of that one child; the kernel also counts this process's resident
/// set at the moment of the spawn, so this test keeps its own memory small).
fn run_measured(mut cmd: Command) -> (bool, f64) {
    let child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let mut status = 0;
    // SAFETY: wait4 on our own child's pid, writing into locals we own.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut ru), child.id() as libc::pid_t);
        ru
    };
    (libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, ru.ru_maxrss as f64 / 1024.0)
}

#[test]
fn rendering_five_minutes_needs_no_more_memory_than_the_file_is_long() {
    let d = std::env::temp_dir().join(format!("loadline-memory-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    // Five minutes of stereo 48 kHz, 16-bit: 58 MB on disk, 115 MB as f32 in memory.
    let frames = 5 * 60 * 48_000;
    let spec = hound::WavSpec { channels: 2, sample_rate: 48_000, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(d.join("long.wav"), spec).unwrap();
    for k in 0..frames {
        let v = (8000.0 * (2.0 * std::f64::consts::PI * 440.0 * k as f64 / 48_000.0).sin()) as i16;
        w.write_sample(v).unwrap();
        w.write_sample(v).unwrap();
    }
    w.finalize().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_loadline"));
    cmd.args(["render", "long.wav", "-o", "out.wav", "--stage", "ideal", "--bits", "16"]).current_dir(&d);
    let (ok, peak_mb) = run_measured(cmd);
    assert!(ok);
    assert_eq!(hound::WavReader::open(d.join("out.wav")).unwrap().duration() as usize, frames);
    // A renderer that held the file would need well over 115 MB; a streaming one needs its code,
    // the filters and a block.
    assert!(peak_mb < 40.0, "peak memory {peak_mb:.1} MB");
    let _ = std::fs::remove_dir_all(&d);
}
