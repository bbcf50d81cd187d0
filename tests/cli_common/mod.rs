//! Shared by the tests that run the `loadline` binary.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::hash::Hasher;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The `loadline` binary built for this test run.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_loadline"))
}

/// A fresh, empty folder for one test (`name` keeps tests of one binary apart).
pub fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("loadline-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Every file and folder below `dir`: relative path → (size, FNV-1a hash of the content; folders
/// get `u64::MAX`).
pub fn checksums(dir: &Path) -> BTreeMap<PathBuf, (u64, u64)> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, (u64, u64)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            if p.is_dir() {
                out.insert(rel, (0, u64::MAX));
                walk(root, &p, out);
            } else {
                let bytes = std::fs::read(&p).unwrap();
                let mut h = Fnv(0xcbf2_9ce4_8422_2325);
                h.write(&bytes);
                out.insert(rel, (bytes.len() as u64, h.finish()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

pub struct Fnv(pub u64);
impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ *b as u64).wrapping_mul(0x100_0000_01b3);
        }
    }
}

/// A synthetic stereo "mix" at 48 kHz, `seconds` long and deterministic: a kick on every beat
/// (120 bpm, a falling 130→50 Hz sine), a bass line (55–73 Hz with its octave), off-beat hats
/// (differentiated noise), slow chords and a lead with eleven harmonics and vibrato; peak −1 dBFS.
pub fn synth_mix(seconds: f64) -> Vec<[f32; 2]> {
    use std::f64::consts::PI;
    let fs = 48_000.0;
    let n = (seconds * fs) as usize;
    let beat = 0.5;
    let mut out = vec![[0.0f64; 2]; n];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    let (mut prev_h, chords) = (0.0, [[220.0, 277.2, 329.6], [196.0, 246.9, 293.7], [174.6, 220.0, 261.6], [196.0, 246.9, 329.6]]);
    let (bass, lead) = ([55.0, 55.0, 73.4, 65.4], [440.0, 493.9, 523.3, 587.3, 523.3, 493.9]);
    let mut lead_phase = 0.0;
    for (k, o) in out.iter_mut().enumerate() {
        let t = k as f64 / fs;
        let b = (t / beat).floor() as usize;
        let tb = t - b as f64 * beat;
        // Kick: the beat's first 0.4 s.
        let kick = 0.9 * (2.0 * PI * (50.0 * tb + 80.0 / 30.0 * (1.0 - (-30.0 * tb).exp()))).sin() * (-8.0 * tb).exp();
        let bar = (t / (4.0 * beat)).floor() as usize;
        let tbar = t - bar as f64 * 4.0 * beat;
        let f = bass[bar % 4];
        let bass_v = 0.35 * ((2.0 * PI * f * tbar).sin() + 0.3 * (4.0 * PI * f * tbar).sin());
        // Hats on the off-beat, 80 ms.
        let h = noise();
        let dh = h - prev_h;
        prev_h = h;
        let th = tb - beat / 2.0;
        let hat = if (0.0..0.08).contains(&th) { dh * (-60.0 * th).exp() } else { 0.0 };
        let phrase = (t / (8.0 * beat)).floor() as usize;
        let tp = t - phrase as f64 * 8.0 * beat;
        let env = (tp / 0.5).min(1.0);
        let (mut pad_l, mut pad_r) = (0.0, 0.0);
        for (j, &fc) in chords[phrase % 4].iter().enumerate() {
            pad_l += 0.08 * env * (2.0 * PI * fc * tp + j as f64).sin();
            pad_r += 0.08 * env * (2.0 * PI * fc * 1.003 * tp + 2.0 * j as f64).sin();
        }
        let fl = lead[b % 6] * (1.0 + 0.004 * (2.0 * PI * 5.0 * tb).sin());
        lead_phase += 2.0 * PI * fl / fs;
        let lead_v = 0.12 * (1..12).map(|m| (m as f64 * lead_phase).sin() / m as f64).sum::<f64>() * (tb / 0.02).min(1.0);
        let mono = kick + bass_v + lead_v;
        *o = [mono + pad_l + 0.15 * hat, mono + pad_r + 0.12 * hat];
    }
    let peak = out.iter().flat_map(|s| s.iter()).fold(0.0f64, |m, v| m.max(v.abs()));
    let g = 0.89 / peak;
    out.iter().map(|s| [(s[0] * g) as f32, (s[1] * g) as f32]).collect()
}

/// Writes [`synth_mix`] as a 16-bit stereo WAV at 48 kHz.
pub fn write_mix(path: &Path, seconds: f64) {
    let spec = hound::WavSpec { channels: 2, sample_rate: 48_000, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for s in synth_mix(seconds) {
        for v in s {
            w.write_sample((v * 32767.0).round() as i16).unwrap();
        }
    }
    w.finalize().unwrap();
}

/// Runs `loadline args…` in `dir`: success, standard output, standard error.
pub fn run(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let o = bin().args(args).current_dir(dir).output().unwrap();
    (o.status.success(), String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}
