//! `loadline panel` (issue 18): a 3-minute stereo mix through every shipped setup on all cores,
//! with the report's files; each render is the renderer's own output for that setup; bad input
//! and existing files leave the folder as it was.

mod cli_common;
use cli_common::{checksums, tmpdir, write_mix, run};
use std::path::Path;

#[test]
fn a_three_minute_mix_through_the_shipped_panel() {
    let d = tmpdir("panel");
    write_mix(&d.join("mix.wav"), 180.0);
    let t = std::time::Instant::now();
    let (ok, out, err) = run(&d, &["panel", "mix.wav", "--out-dir", "panel", "--spl", "85"]);
    assert!(ok, "{err}");
    println!("{out}(took {:.1} s)", t.elapsed().as_secs_f64());
    let j: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("panel/report.json")).unwrap()).unwrap();
    let setups = j["setups"].as_array().unwrap();
    assert!(setups.len() >= 12);
    let html = std::fs::read_to_string(d.join("panel/report.html")).unwrap();
    assert!(html.contains("<table>") && html.contains("<svg") && !html.contains("src=\"http"), "self-contained");
    for s in setups {
        let id = s["id"].as_str().unwrap();
        let file = d.join("panel").join(s["file"].as_str().unwrap());
        let r = hound::WavReader::open(&file).unwrap();
        assert_eq!((r.spec().channels, r.spec().sample_rate, r.duration()), (2, 48_000, 180 * 48_000), "{id}");
        assert!(html.contains(&format!("href=\"{id}.wav\"")), "{id} not linked");
        // Every setup plays the listening level: the mix's SPL is the same within a few dB
        // (it differs by the response and by clipping).
        let spl = s["measured_spl_db"].as_f64().unwrap();
        assert!((spl - 85.0).abs() < 12.0, "{id}: {spl} dB SPL");
        for k in ["level_1k_db", "bass_db", "treble_db", "worst_distortion_pct"] {
            assert!(s[k].as_f64().is_some_and(f64::is_finite), "{id}: {k} = {}", s[k]);
        }
    }
    let png = std::fs::read(d.join("panel/response.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    // Nothing else in the folder (no temporary files left).
    assert_eq!(std::fs::read_dir(d.join("panel")).unwrap().count(), setups.len() + 3);

    // One setup's render is the renderer's output for the same setup (stage, headphone, listening
    // level, Level Match), bit for bit.
    let one = &setups[3];
    let (ok, _, err) = run(&d, &["render", "mix.wav", "-o", "one.wav", "--bits", "24", "--stage", one["stage"].as_str().unwrap(), "--headphone", one["headphone"].as_str().unwrap(), "--spl", "85", "--level-match"]);
    assert!(ok, "{err}");
    let read = |p: &Path| hound::WavReader::open(p).unwrap().into_samples::<i32>().map(|s| s.unwrap()).collect::<Vec<i32>>();
    assert!(read(&d.join("one.wav")) == read(&d.join("panel").join(one["file"].as_str().unwrap())), "panel and render differ");

    // The report opens in headless Chromium (Debian's `chromium`, installed by scripts/test.sh):
    // the browser's parsed page holds a row per setup and the chart.
    let url = format!("file://{}", d.join("panel/report.html").display());
    let o = std::process::Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", &url])
        .output()
        .expect("chromium must be installed (scripts/test.sh installs it)");
    let dom = String::from_utf8_lossy(&o.stdout);
    assert_eq!(dom.matches("<tr>").count(), setups.len() + 1, "{}", String::from_utf8_lossy(&o.stderr));
    assert!(dom.contains("<svg") && dom.contains("Response as heard"));

    // Again into the same folder: refused before any work, folder unchanged.
    let before = checksums(&d);
    let (ok, _, err) = run(&d, &["panel", "mix.wav", "--out-dir", "panel"]);
    assert!(!ok && err.contains("already exists") && err.trim().lines().count() == 1, "{err}");
    assert_eq!(checksums(&d), before);
}

#[test]
fn bad_panels_and_flags_leave_the_folder_as_it_was() {
    let d = tmpdir("panel-bad");
    write_mix(&d.join("mix.wav"), 2.0);
    std::fs::write(d.join("bad.toml"), "[[setup]]\nid = \"x\"\nname = \"X\"\nstage = \"toaster\"\nheadphone = \"closed-dynamic-32\"\n").unwrap();
    std::fs::write(d.join("broken.toml"), "[[setup]\n").unwrap();
    std::fs::create_dir(d.join("out")).unwrap();
    std::fs::write(d.join("out/report.html"), "mine").unwrap();
    std::fs::write(d.join("notes.txt"), "not audio").unwrap();
    let before = checksums(&d);
    let cases: [(&[&str], &str); 9] = [
        (&["panel", "mix.wav", "--out-dir", "p", "--panel", "bad.toml"], "toaster"),
        (&["panel", "mix.wav", "--out-dir", "p", "--panel", "broken.toml"], "broken.toml"),
        (&["panel", "mix.wav", "--out-dir", "p", "--panel", "missing.toml"], "missing.toml"),
        (&["panel", "mix.wav", "--out-dir", "p", "--spl", "200"], "--spl"),
        (&["panel", "mix.wav", "--out-dir", "p", "--jobs", "0"], "--jobs"),
        (&["panel", "notes.txt", "--out-dir", "p"], "notes.txt"),
        (&["panel", "nothing.wav", "--out-dir", "p"], "nothing.wav"),
        (&["panel", "mix.wav", "--out-dir", "out"], "report.html: already exists"),
        (&["panel", "mix.wav", "--out-dir", "mix.wav"], "not a folder"),
    ];
    for (args, says) in cases {
        let (ok, _, err) = run(&d, args);
        assert!(!ok, "{args:?} succeeded");
        assert!(err.contains(says) && err.trim().lines().count() == 1, "{args:?}: {err}");
        assert_eq!(checksums(&d), before, "{args:?} changed the folder");
    }
    // A user's panel of one setup, with --force into the folder that has a report.
    std::fs::write(d.join("mine.toml"), "[[setup]]\nid = \"mine\"\nname = \"Mine\"\nstage = \"iec-61938\"\nheadphone = \"planar-50\"\n").unwrap();
    let (ok, out, err) = run(&d, &["panel", "mix.wav", "--out-dir", "out", "--panel", "mine.toml", "--force"]);
    assert!(ok, "{err}");
    assert!(out.contains("Mine"), "{out}");
    assert!(d.join("out/mine.wav").exists() && std::fs::read_to_string(d.join("out/report.html")).unwrap().contains("Mine"));
}
