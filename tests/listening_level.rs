//! The listening level (issue 17): `--spl L` makes a 1 kHz sine at −14 dBFS RMS produce L dB SPL
//! in the headphone, measured from the rendered headphone voltage and the load's sensitivity as
//! the render report gives them; a high-impedance line out clips where the divider and its rails
//! say it must, and the report says so.

mod cli_common;
use cli_common::{bin, tmpdir};
use loadline::library::{self, find_load, find_stage};
use loadline::processor::listening::{REFERENCE_DBFS, REFERENCE_HZ};
use std::path::Path;

fn reference_sine(path: &Path, seconds: f64) {
    let spec = hound::WavSpec { channels: 2, sample_rate: 48_000, bits_per_sample: 32, sample_format: hound::SampleFormat::Float };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let a = 10f64.powf(REFERENCE_DBFS / 20.0); // −14 dBFS RMS, sine-referenced
    for k in 0..(seconds * 48_000.0) as usize {
        let v = (a * (2.0 * std::f64::consts::PI * REFERENCE_HZ * k as f64 / 48_000.0).sin()) as f32;
        w.write_sample(v).unwrap();
        w.write_sample(v).unwrap();
    }
    w.finalize().unwrap();
}

fn render(dir: &Path, args: &[&str]) -> serde_json::Value {
    let o = bin().args(args).args(["--report-json", "r.json", "--force"]).current_dir(dir).output().unwrap();
    assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    let all: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("r.json")).unwrap()).unwrap();
    all[0].clone()
}

#[test]
fn spl_85_gives_85_db_spl_in_every_load_with_a_sensitivity() {
    let d = tmpdir("spl-85");
    reference_sine(&d.join("in.wav"), 0.5);
    let mut worst = 0.0f64;
    let mut n = 0;
    for l in library::loads().iter().filter(|l| l.sensitivity_db_spl_per_v > 0.0) {
        let r = render(&d, &["render", "in.wav", "-o", "out.wav", "--stage", "ref-headamp", "--headphone", &l.id, "--spl", "85"]);
        let spl = r["measured_spl_db"].as_f64().unwrap_or_else(|| panic!("{}: {r}", l.id));
        assert!((spl - 85.0).abs() <= 0.1, "{}: {spl:.3} dB SPL", l.id);
        assert!(r["listening"]["note"].is_null(), "{}: {}", l.id, r["listening"]);
        assert_eq!(r["rail_clipping_percent"].as_f64(), Some(0.0), "{}", l.id);
        worst = worst.max((spl - 85.0).abs());
        n += 1;
        println!("{:<20} {spl:.3} dB SPL, Level {:+.2} dBu", l.id, r["listening"]["level_dbu"].as_f64().unwrap());
    }
    assert!(n >= 15, "{n} loads with a sensitivity");
    println!("{n} loads, worst error {worst:.3} dB");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_high_impedance_line_out_clips_where_the_physics_says() {
    let d = tmpdir("spl-clip");
    reference_sine(&d.join("in.wav"), 0.5);
    let (stage_id, load_id) = ("consumer-line-out", "open-dynamic-300");
    let stage = find_stage(stage_id).unwrap().params;
    let load = find_load(load_id).unwrap();
    // The onset: the reference sine's source voltage reaches the rails, V_src = V_max, where the
    // headphone gets V_max·|Z/(Z+Zs)| at 1 kHz.
    let z = load.network.impedance(REFERENCE_HZ);
    let h = (z / (z + stage.source_impedance(REFERENCE_HZ))).norm();
    let onset = load.sensitivity_db_spl_per_v + 20.0 * (stage.v_max_v.unwrap() * h).log10();
    println!("{stage_id} into {load_id}: the reference sine clips above {onset:.2} dB SPL");
    for (offset, clips) in [(-1.0, false), (1.0, true)] {
        let spl = format!("{:.2}", onset + offset);
        let r = render(&d, &["render", "in.wav", "-o", "out.wav", "--stage", stage_id, "--headphone", load_id, "--spl", &spl]);
        let clip = r["rail_clipping_percent"].as_f64().unwrap();
        let note = r["listening"]["note"].as_str().unwrap_or("");
        println!("  {spl} dB SPL: rail clipping {clip:.2} % of samples; {note}");
        assert_eq!(clip > 0.0, clips, "{spl} dB SPL: {clip} %");
        assert_eq!(note.contains("clips"), clips, "{spl} dB SPL: {note:?}");
        assert_eq!(r["listening"]["reference_clips"].as_bool(), Some(clips));
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// A phone dongle into a low-impedance planar runs into its current limit before its rails: the
/// reference sine's peak current reaches Max Current where `i = √2·V_src/|Z + Zs|` says.
#[test]
fn a_phone_dongle_limits_current_in_a_planar_where_the_physics_says() {
    let d = tmpdir("spl-limit");
    reference_sine(&d.join("in.wav"), 0.5);
    let (stage_id, load_id) = ("phone-dongle", "planar-14");
    let stage = find_stage(stage_id).unwrap().params;
    let load = find_load(load_id).unwrap();
    let z = load.network.impedance(REFERENCE_HZ);
    let zt = (z + stage.source_impedance(REFERENCE_HZ)).norm();
    let v_src_at_limit = stage.i_max_a.unwrap() * zt / std::f64::consts::SQRT_2;
    assert!(v_src_at_limit < stage.v_max_v.unwrap(), "the current limit must come first");
    let onset = load.sensitivity_db_spl_per_v + 20.0 * (v_src_at_limit * z.norm() / zt).log10();
    println!("{stage_id} into {load_id}: the reference sine limits above {onset:.2} dB SPL");
    for (offset, limits) in [(-1.0, false), (1.0, true)] {
        let spl = format!("{:.2}", onset + offset);
        let r = render(&d, &["render", "in.wav", "-o", "out.wav", "--stage", stage_id, "--headphone", load_id, "--spl", &spl]);
        let lim = r["current_limiting_percent"].as_f64().unwrap();
        let note = r["listening"]["note"].as_str().unwrap_or("");
        println!("  {spl} dB SPL: current limiting {lim:.2} % of steps; {note}");
        assert_eq!(lim > 0.0, limits, "{spl} dB SPL: {lim} %");
        assert_eq!(note.contains("limits"), limits, "{spl} dB SPL: {note:?}");
        assert_eq!(r["rail_clipping_percent"].as_f64(), Some(0.0));
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_load_without_a_sensitivity_says_so() {
    let d = tmpdir("spl-none");
    reference_sine(&d.join("in.wav"), 0.1);
    let o = bin().args(["render", "in.wav", "-o", "out.wav", "--headphone", "line-input-10k", "--spl", "85"]).current_dir(&d).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("no sensitivity figure") && err.trim().lines().count() == 1, "{err}");
    assert!(!d.join("out.wav").exists());
    let o = bin().args(["render", "in.wav", "-o", "out.wav", "--level", "4", "--spl", "85"]).current_dir(&d).output().unwrap();
    assert!(!o.status.success());
    let _ = std::fs::remove_dir_all(&d);
}
