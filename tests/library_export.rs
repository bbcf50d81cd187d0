//! Exports (ZMA, CSV), the JSON listing and name suggestions.

use loadline::import::import_impedance;
use loadline::library::{self, export, list_json, suggest};

#[test]
fn zma_and_csv_exports_read_back_exactly() {
    let l = library::find_load("ba-single").unwrap();
    let f = export::default_freqs();
    assert!(f.len() > 500 && (f[0] - 10.0).abs() < 1e-9 && (f[f.len() - 1] - 40_000.0).abs() < 1e-6);
    for text in [library::write_zma(&l.network, &f), library::write_csv(&l.network, &f)] {
        let c = import_impedance(&text).unwrap();
        assert_eq!(c.samples.len(), f.len());
        for s in &c.samples {
            let z = l.network.impedance(s.freq_hz);
            assert!((s.z / z - 1.0).norm() < 1e-5, "{} Hz", s.freq_hz);
        }
    }
}

#[test]
fn list_json_has_every_load_and_stage_with_engine_figures() {
    let v = list_json();
    let loads = v["loads"].as_array().unwrap();
    let stages = v["stages"].as_array().unwrap();
    assert_eq!(loads.len(), library::loads().len());
    assert_eq!(stages.len(), library::stages().len());
    for (j, l) in loads.iter().zip(library::loads()) {
        assert_eq!(j["id"], l.id.as_str());
        let z1k = j["z"].as_array().unwrap().iter().find(|p| p["hz"] == 1000.0).unwrap()["ohm"].as_f64().unwrap();
        assert!((z1k / l.network.impedance(1000.0).norm() - 1.0).abs() < 1e-3);
        assert!(j["basis"].as_str().unwrap().len() > 10 && j["network"].is_string() && j["fitted"].is_object());
    }
    let lap = stages.iter().find(|s| s["id"] == "laptop-jack").unwrap();
    assert_eq!(lap["params"]["r_out_ohm"], 75.0);
    assert!(stages.iter().find(|s| s["id"] == "ideal").unwrap()["params"]["i_max_a"].is_null());
}

#[test]
fn unknown_names_get_a_suggestion() {
    assert_eq!(suggest("iec61938").as_deref(), Some("iec-61938"));
    assert_eq!(suggest("Planar magnetic 14 ohm").as_deref(), Some("planar-14"));
    assert_eq!(suggest("qqqqqqqqqqqqqqqqqqqqqqqq"), None);
}
