//! `loadline bench` (issue 18): the chart and JSON of a stage measured into a headphone, the
//! figures they carry, and the refusals: bad flags and existing files get a one-line error and
//! leave the folder exactly as it was.

mod cli_common;
use cli_common::{checksums, tmpdir, run};

#[test]
fn bench_writes_the_chart_and_the_readings() {
    let d = tmpdir("bench");
    let args = ["bench", "--stage", "sound-devices-hx3", "--headphone", "open-dynamic-300", "-o", "bench.png", "--json", "bench.json"];
    let (ok, out, err) = run(&d, &args);
    assert!(ok, "{err}");
    print!("{out}");
    let png = std::fs::read(d.join("bench.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000, "{} bytes", png.len());
    let j: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("bench.json")).unwrap()).unwrap();
    // The cited 200 Ω output impedance, measured.
    let z = j["output_impedance_ohm"].as_f64().unwrap();
    assert!((z / 200.0 - 1.0).abs() < 0.01, "{z} Ω");
    assert!(out.contains(&format!("{z:.2} Ω")), "{out}");
    let response = j["response"].as_array().unwrap();
    assert!(response.len() >= 115);
    for p in response {
        let (m, model) = (p["measured_db"].as_f64().unwrap(), p["model_db"].as_f64().unwrap());
        assert!((m - model).abs() < 0.05, "{p}");
    }
    let loads: Vec<f64> = j["max_output"].as_array().unwrap().iter().map(|o| o["r_load_ohm"].as_f64().unwrap()).collect();
    assert_eq!(loads.first(), Some(&8.0));
    assert_eq!(loads.last(), Some(&600.0));
    assert_eq!(j["thd_n"].as_array().unwrap().len(), 41);
    // The headphone has a sensitivity, so the maximum is also given in dB SPL.
    assert!(j["max_spl_db"].as_f64().is_some_and(|db| db > 90.0 && db < 140.0), "{}", j["max_spl_db"]);
    assert_eq!(std::fs::read_dir(&d).unwrap().count(), 2, "only the two outputs");

    assert!(j["crosstalk"].as_array().unwrap().is_empty() && !out.contains("crosstalk"), "separate returns: no crosstalk reading");

    // SVG too, and a shared ground: the crosstalk read from a rendered pair, as the plots' model
    // has it, in the JSON, the summary and the chart's title.
    let (ok, out, err) = run(&d, &["bench", "--stage", "ideal", "--zout", "0.5", "--headphone", "multi-ba-dip5", "--ground-ohm", "1", "-o", "b.svg", "--json", "b.json"]);
    assert!(ok, "{err}");
    let svg = std::fs::read_to_string(d.join("b.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("crosstalk"));
    let j: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("b.json")).unwrap()).unwrap();
    let xt = j["crosstalk"].as_array().unwrap();
    assert!(xt.len() >= 115);
    for p in xt {
        let (m, model) = (p["measured_db"].as_f64().unwrap(), p["model_db"].as_f64().unwrap());
        assert!((m - model).abs() < 0.05 && m < -10.0 && m > -40.0, "{p}");
    }
    assert!(out.contains("crosstalk through the shared ground"), "{out}");
}

#[test]
fn bench_refuses_bad_flags_and_existing_files_and_leaves_the_folder_as_it_was() {
    let d = tmpdir("bench-bad");
    std::fs::write(d.join("bench.png"), b"not mine to replace").unwrap();
    std::fs::write(d.join("old.json"), b"{}").unwrap();
    let before = checksums(&d);
    let cases: [(&[&str], &str); 8] = [
        (&["bench", "-o", "bench.png"], "already exists"),
        (&["bench", "-o", "new.png", "--json", "old.json"], "old.json: already exists"),
        (&["bench", "-o", "new.jpg"], "new.jpg"),
        (&["bench", "-o", "new.png", "--json", "new.png"], "new.png"),
        (&["bench", "-o", "new.png", "--stage", "no-such-stage"], "no-such-stage"),
        (&["bench", "-o", "new.png", "--listen", "ideal"], "--listen"),
        (&["bench", "-o", "new.png", "--zout", "-3"], "--zout"),
        (&["bench", "-o", "missing/new.png"], "missing"),
    ];
    for (args, says) in cases {
        let (ok, _, err) = run(&d, args);
        assert!(!ok, "{args:?} succeeded");
        assert!(err.contains(says) && err.trim().lines().count() == 1, "{args:?}: {err}");
        assert_eq!(checksums(&d), before, "{args:?} changed the folder");
    }
    let (ok, _, err) = run(&d, &["bench", "-o", "bench.png", "--force", "--stage", "ideal"]);
    assert!(ok, "{err}");
    assert_ne!(std::fs::read(d.join("bench.png")).unwrap(), b"not mine to replace");
}
