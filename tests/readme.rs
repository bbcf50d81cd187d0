//! The README's examples run as written: every `loadline …` line of "Renderer examples" (in a
//! folder holding the files they name), the impedance-file example (as `my_iem.zma`) and the
//! settings-file example.

mod cli_common;
use cli_common::tmpdir;

use std::path::Path;
use std::process::Command;

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// The first fenced block with language `lang` after the heading `heading`.
fn block(text: &str, heading: &str, lang: &str) -> String {
    let from = text.find(heading).unwrap_or_else(|| panic!("no heading {heading:?}"));
    let rest = &text[from..];
    let open = format!("```{lang}\n");
    let start = rest.find(&open).unwrap_or_else(|| panic!("no ```{lang} block after {heading:?}")) + open.len();
    let end = rest[start..].find("```").unwrap();
    rest[start..start + end].to_string()
}


fn wav(path: &Path, channels: u16) {
    let spec = hound::WavSpec { channels, sample_rate: 44_100, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for k in 0..44_100 {
        let v = (9000.0 * (2.0 * std::f64::consts::PI * 220.0 * k as f64 / 44_100.0).sin()) as i16;
        for _ in 0..channels {
            w.write_sample(v).unwrap();
        }
    }
    w.finalize().unwrap();
}

#[test]
fn renderer_examples_run_as_written() {
    let text = readme();
    let d = tmpdir("readme-examples");
    wav(&d.join("mix.wav"), 2);
    wav(&d.join("a.wav"), 2);
    wav(&d.join("b.wav"), 1);
    std::fs::write(d.join("my_iem.zma"), block(&text, "### Impedance files", "text")).unwrap();
    let lines: Vec<String> = block(&text, "## Renderer examples", "sh").lines().map(|l| l.split(" #").next().unwrap().trim().to_string()).filter(|l| !l.is_empty()).collect();
    assert!(lines.len() >= 8, "{lines:?}");
    for line in &lines {
        let mut words = line.split_whitespace();
        assert_eq!(words.next(), Some("loadline"), "{line}");
        let o = Command::new(env!("CARGO_BIN_EXE_loadline")).args(words).current_dir(&d).output().unwrap();
        assert!(o.status.success(), "{line}: {}", String::from_utf8_lossy(&o.stderr));
    }
    for made in ["mix_laptop.wav", "renders/a.wav", "renders/b.wav", "diff.wav", "m.flac", "m16.wav", "m16.json", "loud.wav", "hd.zma", "compare.png"] {
        assert!(d.join(made).is_file(), "{made} was not written");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn settings_file_example_parses_and_renders() {
    let text = readme();
    let toml = block(&text, "### Settings files", "toml");
    let cfg = loadline::processor::config::SessionConfig::parse(&toml).unwrap();
    assert_eq!(cfg.b.stage.r_out_ohm, 120.0);
    assert_eq!(cfg.a.stage.c_block_f, Some(220e-6));
    let d = tmpdir("readme-settings");
    std::fs::write(d.join("s.toml"), toml).unwrap();
    wav(&d.join("in.wav"), 1);
    let o = Command::new(env!("CARGO_BIN_EXE_loadline")).args(["render", "in.wav", "-o", "out.wav", "--config", "s.toml"]).current_dir(&d).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("zout 120 Ω (settings file s.toml)"), "{err}");
    // A settings file's name is reported as it is, whatever it contains.
    std::fs::copy(d.join("s.toml"), d.join("default.toml")).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_loadline")).args(["render", "in.wav", "-o", "out2.wav", "--config", "default.toml"]).current_dir(&d).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("headphone multi-ba-dip5 (settings file default.toml)"), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}
