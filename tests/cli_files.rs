//! Files are sacred: every command that writes refuses, before any work, to replace an existing
//! file without `--force`, to replace an input, to write a format its extension does not name, or
//! to write into a folder that does not exist; and a failure leaves the folder exactly as it was
//! (checked by a checksum of every file in it before and after).

mod cli_common;
use cli_common::{bin, checksums, tmpdir};

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};



fn write_wav(path: &Path, channels: u16, samples: &[f32]) {
    let spec = hound::WavSpec { channels, sample_rate: 48_000, bits_per_sample: 32, sample_format: hound::SampleFormat::Float };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for s in samples {
        w.write_sample(*s).unwrap();
    }
    w.finalize().unwrap();
}

fn tone(n: usize) -> Vec<f32> {
    (0..n).map(|k| (0.5 * (2.0 * std::f64::consts::PI * 440.0 * k as f64 / 48_000.0).sin()) as f32).collect()
}

/// A folder with the inputs and the existing files the cases aim at.
fn workspace(name: &str) -> PathBuf {
    let d = tmpdir(name);
    write_wav(&d.join("in.wav"), 1, &tone(2000));
    write_wav(&d.join("song.wav"), 2, &tone(2000));
    write_wav(&d.join("existing.wav"), 1, &tone(100));
    std::fs::write(d.join("existing.svg"), "<svg/>").unwrap();
    std::fs::write(d.join("existing.zma"), "1000 32 0\n").unwrap();
    std::fs::create_dir(d.join("somedir")).unwrap();
    std::fs::write(d.join("junk.wav"), b"RIFF not really").unwrap();
    std::fs::write(d.join("empty.wav"), b"").unwrap();
    let full = std::fs::read(d.join("in.wav")).unwrap();
    std::fs::write(d.join("truncated.wav"), &full[..full.len() / 2]).unwrap();
    std::fs::write(d.join("header.wav"), &full[..30]).unwrap();
    write_wav(&d.join("six.wav"), 6, &tone(600));
    std::fs::write(d.join("typo.toml"), "level_macth = true\n").unwrap();
    d
}

#[test]
fn refused_commands_change_nothing_in_the_folder() {
    let d = workspace("refused");
    let cases: &[(&[&str], &str)] = &[
        // Existing files are kept without --force.
        (&["render", "in.wav", "-o", "existing.wav"], "already exists"),
        (&["render", "in.wav", "--out-dir", ".", "--stage", "ideal"], "input"),
        (&["impedance", "planar-14", "--zma", "existing.zma"], "already exists"),
        (&["plot", "-o", "existing.svg"], "already exists"),
        (&["demo", "existing.wav"], "already exists"),
        // An input is never replaced, even with --force.
        (&["render", "in.wav", "-o", "in.wav", "--force"], "input"),
        (&["render", "in.wav", "-o", "./in.wav"], "input"),
        // The format must match the extension.
        (&["impedance", "planar-14", "--zma", "song.wav"], ".wav"),
        (&["impedance", "planar-14", "--zma", "song.wav", "--force"], ".wav"),
        (&["plot", "-o", "x.jpg"], ".jpg"),
        (&["render", "in.wav", "-o", "x.flac"], ".flac"),
        (&["render", "in.wav", "-o", "noextension"], "extension"),
        (&["demo", "x.mp3"], ".mp3"),
        // Folders and standard output.
        (&["plot", "-o", "somedir/"], "folder"),
        (&["plot", "-o", "somedir"], "folder"),
        (&["render", "in.wav", "-o", "somedir"], "folder"),
        (&["render", "in.wav", "-o", "nodir/x.wav"], "nodir"),
        (&["impedance", "planar-14", "--zma", "nodir/x.zma"], "nodir"),
        (&["render", "in.wav", "-o", "-"], "standard output"),
        (&["plot", "-o", "-"], "standard output"),
        (&["render", "in.wav", "--out-dir", "existing.wav"], "not a folder"),
        (&["render", "in.wav", "song.wav", "-o", "x.wav"], "--out-dir"),
        // Bad inputs fail before the out-dir is created.
        (&["render", "in.wav", "missing.wav", "--out-dir", "newdir"], "missing.wav"),
        (&["render", "junk.wav", "--out-dir", "newdir"], "junk.wav"),
        (&["render", "empty.wav", "-o", "out.wav"], "empty.wav"),
        (&["render", "header.wav", "-o", "out.wav"], "header.wav"),
        (&["render", "truncated.wav", "-o", "out.wav"], "truncated.wav"),
        (&["render", "six.wav", "-o", "out.wav"], "6 channels"),
        (&["render", "in.wav", "--out-dir", "newdir", "--jobs", "0"], "--jobs"),
        (&["render", "in.wav", "-o", "out.wav", "--config", "typo.toml"], "level_macth"),
        (&["impedance", "planar-14", "--points", "0"], "points"),
    ];
    for (args, needle) in cases {
        let before = checksums(&d);
        let o = bin().args(*args).current_dir(&d).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(err.starts_with("loadline: error:") || err.starts_with("error:"), "{args:?}: {err}");
        if err.starts_with("loadline: error:") {
            assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        }
        assert_eq!(checksums(&d), before, "{args:?} changed the folder");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn force_replaces_only_the_named_file_and_out_dir_is_created() {
    let d = workspace("force");
    let before = checksums(&d);
    for args in [
        &["render", "in.wav", "-o", "existing.wav", "--force"][..],
        &["impedance", "planar-14", "--zma", "existing.zma", "--force"],
        &["plot", "-o", "existing.svg", "--force"],
    ] {
        let o = bin().args(args).current_dir(&d).output().unwrap();
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    }
    let after = checksums(&d);
    let changed: Vec<_> = after.keys().filter(|k| before.get(*k) != after.get(*k)).cloned().collect();
    let want: Vec<PathBuf> = ["existing.svg", "existing.wav", "existing.zma"].iter().map(PathBuf::from).collect();
    assert_eq!(changed, want);
    assert_eq!(hound::WavReader::open(d.join("existing.wav")).unwrap().duration(), 2000);
    assert!(std::fs::read_to_string(d.join("existing.svg")).unwrap().contains("<polyline"));

    // --out-dir is created (with its parents) and holds exactly the renders.
    let o = bin().args(["render", "in.wav", "song.wav", "--out-dir", "renders/today"]).current_dir(&d).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut made: Vec<_> = std::fs::read_dir(d.join("renders/today")).unwrap().map(|e| e.unwrap().file_name()).collect();
    made.sort();
    assert_eq!(made, ["in.wav", "song.wav"]);
    // Rendering again into the same folder is refused, and changes nothing.
    let before = checksums(&d);
    let o = bin().args(["render", "in.wav", "song.wav", "--out-dir", "renders/today"]).current_dir(&d).output().unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("already exists"));
    assert_eq!(checksums(&d), before);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn one_sample_and_non_finite_inputs_render() {
    let d = tmpdir("files-odd");
    write_wav(&d.join("one.wav"), 1, &[0.25]);
    let mut nan = tone(3000);
    nan[100] = f32::NAN;
    nan[200] = f32::INFINITY;
    nan[300] = f32::NEG_INFINITY;
    write_wav(&d.join("nan.wav"), 1, &nan);
    for name in ["one.wav", "nan.wav"] {
        let o = bin().args(["render", name, "-o", &format!("out-{name}")]).current_dir(&d).output().unwrap();
        assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
        let r = hound::WavReader::open(d.join(format!("out-{name}"))).unwrap();
        let n = r.duration();
        let s: Vec<f32> = r.into_samples::<f32>().map(|v| v.unwrap()).collect();
        assert_eq!(n as usize, if name == "one.wav" { 1 } else { 3000 });
        assert!(s.iter().all(|v| v.is_finite()), "{name}: non-finite output");
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// A reader that goes away (`loadline list | head`) ends the command quietly with success.
#[test]
fn closed_pipe_is_a_quiet_success() {
    for args in [&["list"][..], &["list", "--json"], &["impedance", "planar-14", "--csv", "--points", "100000"]] {
        let mut child = bin().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let mut out = child.stdout.take().unwrap();
        let mut first = [0u8; 16];
        out.read_exact(&mut first).unwrap();
        drop(out);
        let mut err = String::new();
        child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        let st = child.wait().unwrap();
        assert!(st.success(), "{args:?}: {st:?} {err}");
        assert!(err.is_empty(), "{args:?}: {err}");
    }
}

/// Names in any letter case; negative numbers reach the range check instead of the parser.
#[test]
fn names_ignore_case_and_negative_values_get_range_messages() {
    let d = tmpdir("files-names");
    write_wav(&d.join("in.wav"), 1, &tone(500));
    let o = bin().args(["render", "in.wav", "-o", "o.wav", "--stage", "LAPTOP-JACK", "--headphone", "Planar-14", "--level", "-10", "--noise", "-100"]).current_dir(&d).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for (flag, v) in [("--zout", "-5"), ("--bias", "-1"), ("--imax", "-3"), ("--vmax", "-1"), ("--ccap", "-10")] {
        let o = bin().args(["render", "in.wav", "-o", "p.wav", flag, v]).current_dir(&d).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains("out of range") && err.contains(flag), "{flag} {v}: {err}");
    }
    assert!(!d.join("p.wav").exists());
    let _ = std::fs::remove_dir_all(&d);
}

/// Ctrl-C during a render: exit status 130 and the folder as it was (the hidden temporary file
/// is removed by the signal handler).
#[test]
fn an_interrupted_render_leaves_nothing_behind() {
    let d = tmpdir("files-interrupt");
    // 100 s of mono audio rendered one sample per block: seconds of work on any machine.
    write_wav(&d.join("long.wav"), 1, &tone(4_800_000));
    let before = checksums(&d);
    let mut child = bin()
        .args(["render", "long.wav", "-o", "out.wav", "--block", "1"])
        .current_dir(&d)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the temporary output to exist, so the signal arrives mid-render.
    let started = std::time::Instant::now();
    while checksums(&d).len() == before.len() {
        assert!(started.elapsed().as_secs() < 30, "no temporary file appeared");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    let killed = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let st = child.wait().unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert_eq!(st.code(), Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert_eq!(checksums(&d), before);
    let _ = std::fs::remove_dir_all(&d);
}

/// `--impedance`: an impossible curve is refused with its line; a good one prints the editor's fit
/// report.
#[test]
fn impedance_files_are_checked_and_their_fit_reported() {
    let d = tmpdir("files-impedance");
    write_wav(&d.join("in.wav"), 1, &tone(500));
    let o = bin().args(["impedance", "dynamic-80", "--zma", "good.zma"]).current_dir(&d).output().unwrap();
    assert!(o.status.success());
    let good = std::fs::read_to_string(d.join("good.zma")).unwrap();
    let lines: Vec<&str> = good.lines().collect();
    let k = lines.iter().position(|l| !l.starts_with('*')).unwrap() + 100;
    let mut bad: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let f: f64 = bad[k].split_whitespace().next().unwrap().parse().unwrap();
    bad[k] = format!("{f} 80 120");
    std::fs::write(d.join("bad.zma"), bad.join("\n")).unwrap();
    let before = checksums(&d);
    let o = bin().args(["render", "in.wav", "-o", "out.wav", "--impedance", "bad.zma"]).current_dir(&d).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("bad.zma") && err.contains(&format!("line {}", k + 1)) && err.contains("passive"), "{err}");
    assert_eq!(checksums(&d), before);
    let o = bin().args(["render", "in.wav", "-o", "out.wav", "--stage", "ideal", "--impedance", "good.zma"]).current_dir(&d).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("good.zma: fitted a") && err.contains("max |Z| error"), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}
