//! The `loadline` binary: renders equal the shared processor's output (latency removed), and
//! every user error is one line, a non-zero exit and no output file.

mod cli_common;
use cli_common::{bin, tmpdir};

use loadline::plugin::NOISE_SEED;
use loadline::processor::config::SessionConfig;
use loadline::processor::Processor;
use loadline::dsp::Quality;
use std::path::Path;



fn write_wav(path: &Path, rate: u32, chans: &[Vec<f32>], int_bits: Option<u16>) {
    let spec = match int_bits {
        Some(b) => hound::WavSpec { channels: chans.len() as u16, sample_rate: rate, bits_per_sample: b, sample_format: hound::SampleFormat::Int },
        None => hound::WavSpec { channels: chans.len() as u16, sample_rate: rate, bits_per_sample: 32, sample_format: hound::SampleFormat::Float },
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..chans[0].len() {
        for c in chans {
            match int_bits {
                Some(b) => w.write_sample((c[i] * ((1i32 << (b - 1)) - 1) as f32).round() as i32).unwrap(),
                None => w.write_sample(c[i]).unwrap(),
            }
        }
    }
    w.finalize().unwrap();
}

fn read_wav(path: &Path) -> (hound::WavSpec, Vec<Vec<f32>>) {
    let r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    let s: Vec<f32> = r.into_samples::<f32>().map(|v| v.unwrap()).collect();
    let n = spec.channels as usize;
    (spec, (0..n).map(|c| s.iter().skip(c).step_by(n).copied().collect()).collect())
}

fn tone(rate: u32, n: usize, f: f64, a: f64) -> Vec<f32> {
    (0..n).map(|k| (a * (2.0 * std::f64::consts::PI * f * k as f64 / rate as f64).sin()) as f32).collect()
}

#[test]
fn render_equals_the_processor_at_the_same_block_size() {
    let d = tmpdir("cli-equal");
    let rate = 44_100;
    let input = vec![tone(rate, 20_000, 150.0, 0.7), tone(rate, 20_000, 2500.0, 0.3)];
    write_wav(&d.join("in.wav"), rate, &input, None);
    let out = d.join("out.wav");
    let st = bin()
        .args(["render", "in.wav", "-o", "out.wav", "--stage", "laptop-jack", "--zout", "47", "--level-match", "--block", "300"])
        .current_dir(&d)
        .output()
        .unwrap();
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    let (spec, got) = read_wav(&out);
    assert_eq!((spec.sample_format, spec.bits_per_sample, spec.channels), (hound::SampleFormat::Float, 32, 2));

    // The same settings by hand, through the processor, at the same block size.
    let mut cfg = SessionConfig::default();
    cfg.a.stage = loadline::library::find_stage("laptop-jack").unwrap().params;
    cfg.a.stage.r_out_ohm = 47.0;
    cfg.level_match = true;
    let mut p = Processor::with_library(rate as f64, Quality::Default, 2, [None, None], &cfg.settings(), NOISE_SEED).unwrap();
    let lat = p.latency();
    let mut io: Vec<Vec<f32>> = input.iter().map(|c| { let mut v = c.clone(); v.resize(c.len() + lat, 0.0); v }).collect();
    let (l, r) = io.split_at_mut(1);
    for (a, b) in l[0].chunks_mut(300).zip(r[0].chunks_mut(300)) {
        p.process(&mut [a, b]);
    }
    for c in 0..2 {
        assert_eq!(got[c], io[c][lat..], "channel {c}");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn formats_rates_parallel_inputs_and_bits() {
    let d = tmpdir("cli-formats");
    let out = d.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let cases = [("m16.wav", 22_050u32, 1usize, Some(16u16)), ("s24.wav", 96_000, 2, Some(24)), ("m32f.wav", 48_000, 1, None)];
    for (name, rate, ch, bits) in cases {
        let c: Vec<Vec<f32>> = (0..ch).map(|_| tone(rate, 5000, 1000.0, 0.5)).collect();
        write_wav(&d.join(name), rate, &c, bits);
    }
    let st = bin()
        .args(["render", "m16.wav", "s24.wav", "m32f.wav", "--out-dir", "out", "--headphone", "open-dynamic-300", "--bits", "24"])
        .current_dir(&d)
        .output()
        .unwrap();
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    for (name, rate, ch, _) in cases {
        let r = hound::WavReader::open(out.join(name)).unwrap();
        let s = r.spec();
        assert_eq!((s.sample_rate, s.channels as usize, s.bits_per_sample), (rate, ch, 24), "{name}");
        assert_eq!(r.duration(), 5000, "{name}: same length as the input");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn user_errors_are_one_line_nonzero_and_leave_no_file() {
    let d = tmpdir("cli-errors");
    write_wav(&d.join("in.wav"), 48_000, &[tone(48_000, 1000, 440.0, 0.5)], Some(16));
    std::fs::write(d.join("junk.wav"), b"RIFF not really").unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["render", "in.wav", "-o", "in.wav"], "overwrite"),
        (vec!["render", "in.wav", "-o", "./in.wav"], "overwrite"),
        (vec!["render", "junk.wav", "-o", "out.wav"], "junk.wav"),
        (vec!["render", "missing.wav", "-o", "out.wav"], "missing.wav"),
        (vec!["render", "in.wav", "-o", "out.wav", "--stage", "laptp-jack"], "laptop-jack"),
        (vec!["render", "in.wav", "-o", "out.wav", "--headphone", "open-dynamic-30"], "open-dynamic-300"),
        (vec!["render", "in.wav", "-o", "out.wav", "--zout", "20000"], "out of range"),
        (vec!["render", "in.wav", "-o", "out.wav", "--ccap", "banana"], "ccap"),
        (vec!["render", "in.wav", "-o", "out.wav", "--block", "0"], "block"),
    ];
    for (args, needle) in cases {
        let o = bin().args(&args).current_dir(&d).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!d.join("out.wav").exists(), "{args:?} left an output");
        let leftovers: Vec<_> = std::fs::read_dir(&d).unwrap().filter_map(|e| e.ok()).filter(|e| e.file_name().to_string_lossy().contains(".tmp")).collect();
        assert!(leftovers.is_empty(), "{args:?} left a temp file");
    }
    // The input is untouched.
    assert_eq!(hound::WavReader::open(d.join("in.wav")).unwrap().duration(), 1000);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn config_file_list_and_plot() {
    let d = tmpdir("cli-config");
    let mut cfg = SessionConfig::default();
    cfg.a.stage.r_out_ohm = 120.0;
    cfg.b.stage.r_out_ohm = 1.0;
    std::fs::write(d.join("s.toml"), cfg.to_toml()).unwrap();
    write_wav(&d.join("in.wav"), 48_000, &[tone(48_000, 4800, 1000.0, 0.5)], None);
    let o = bin().args(["render", "in.wav", "-o", "out.wav", "--config", "s.toml"]).current_dir(&d).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = bin().args(["list", "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["loads"].as_array().unwrap().len(), loadline::library::loads().len());
    let o = bin().args(["plot", "-o", "p.svg", "--config", "s.toml", "--compare", "ideal"]).current_dir(&d).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let svg = std::fs::read_to_string(d.join("p.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.matches("<polyline").count() >= 3);
    let _ = std::fs::remove_dir_all(&d);
}
