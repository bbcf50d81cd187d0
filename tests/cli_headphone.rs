//! `loadline headphone new` and headphone files wherever a load is accepted (issue 17): the file
//! is made, rendered, plotted and listed; bad figures and bad files get one-line errors naming the
//! flag or the file and line, and leave the folder exactly as it was.

mod cli_common;
use cli_common::{checksums, tmpdir, run};
use std::path::Path;

const NEW: [&str; 16] = ["headphone", "new", "--name", "Studio 250", "--type", "closed-dynamic", "--nominal", "250", "--sens-mw", "96", "--resonance", "85", "--peak", "420", "-o", "hp.toml"];

fn write_wav(path: &Path) {
    let spec = hound::WavSpec { channels: 1, sample_rate: 48_000, bits_per_sample: 32, sample_format: hound::SampleFormat::Float };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for k in 0..4800 {
        w.write_sample((0.3 * (2.0 * std::f64::consts::PI * 1000.0 * k as f64 / 48_000.0).sin()) as f32).unwrap();
    }
    w.finalize().unwrap();
}

#[test]
fn a_headphone_file_is_made_and_used_wherever_a_load_is() {
    let d = tmpdir("hp-new");
    let (ok, out, err) = run(&d, &NEW);
    assert!(ok, "{err}");
    assert!(out.contains("met: peak_ohm 420") && out.contains("assumed (closed-dynamic typical)"), "{out}");
    let text = std::fs::read_to_string(d.join("hp.toml")).unwrap();
    assert!(text.contains("name = \"Studio 250\"") && text.contains("# network: S("), "{text}");

    // impedance: the network meets the figures.
    let (ok, out, err) = run(&d, &["impedance", "hp.toml", "--csv", "--points", "2000"]);
    assert!(ok, "{err}");
    let pts: Vec<(f64, f64)> = out.lines().skip(1).map(|l| {
        let v: Vec<f64> = l.split(',').map(|x| x.parse().unwrap()).collect();
        (v[0], v[1])
    }).collect();
    let (f_max, z_max) = pts.iter().copied().fold((0.0, 0.0), |b, p| if p.1 > b.1 { p } else { b });
    assert!((z_max / 420.0 - 1.0).abs() < 0.01 && (f_max / 85.0 - 1.0).abs() < 0.03, "peak {z_max} Ω at {f_max} Hz");

    // render and plot.
    write_wav(&d.join("in.wav"));
    let (ok, _, err) = run(&d, &["render", "in.wav", "-o", "out.wav", "--stage", "iec-61938", "--headphone", "hp.toml"]);
    assert!(ok, "{err}");
    assert!(err.contains("Studio 250"), "{err}");
    let (ok, _, err) = run(&d, &["plot", "--load", "hp.toml", "-o", "z.svg"]);
    assert!(ok, "{err}");
    assert!(d.join("out.wav").exists() && d.join("z.svg").exists());

    // An existing file is not replaced without --force.
    let before = checksums(&d);
    let (ok, _, err) = run(&d, &NEW);
    assert!(!ok && err.contains("hp.toml") && err.lines().count() == 1, "{err}");
    assert_eq!(checksums(&d), before);
    let mut forced = NEW.to_vec();
    forced.push("--force");
    assert!(run(&d, &forced).0);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn bad_figures_and_bad_files_are_one_line_errors_and_change_nothing() {
    let d = tmpdir("hp-bad");
    write_wav(&d.join("in.wav"));
    std::fs::write(d.join("typo.toml"), "name = \"x\"\ntype = \"open-dynamic\"\nnominal_ohm = 32\nsensitivity_db_per_v = 110\nresonanse_hz = 90\n").unwrap();
    std::fs::write(d.join("wrong.toml"), "name = \"x\"\ntype = \"open-dynamic\"\nnominal_ohm = 32\nsensitivity_db_per_v = 110\ndc_ohm = 60\n").unwrap();
    let before = checksums(&d);
    let cases: [(&[&str], &str); 7] = [
        (&["headphone", "new", "--name", "x", "--type", "closed-dynamic", "--nominal", "32", "--sens-v", "110", "--dc", "80", "-o", "a.toml"], "--dc"),
        (&["headphone", "new", "--name", "x", "--type", "electrostatic", "--nominal", "32", "--sens-v", "110", "-o", "a.toml"], "--type"),
        (&["headphone", "new", "--name", "x", "--type", "planar", "--nominal", "32", "-o", "a.toml"], "--sens-v"),
        (&["headphone", "new", "--name", "x", "--type", "planar", "--nominal", "32", "--sens-v", "110", "-o", "a.wav"], "a.wav"),
        (&["render", "in.wav", "-o", "out.wav", "--headphone", "typo.toml"], "typo.toml: line 5"),
        (&["render", "in.wav", "-o", "out.wav", "--headphone", "wrong.toml"], "wrong.toml: dc_ohm"),
        (&["impedance", "missing.toml"], "missing.toml"),
    ];
    for (args, needle) in cases {
        let (ok, _, err) = run(&d, args);
        assert!(!ok, "{args:?} succeeded");
        assert!(err.contains(needle) && err.trim().lines().count() == 1, "{args:?}: {err}");
        assert_eq!(checksums(&d), before, "{args:?} changed the folder");
    }
    let _ = std::fs::remove_dir_all(&d);
}
