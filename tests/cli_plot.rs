//! `loadline plot`: SVG and PNG, legends for exactly the curves asked for, and every option either
//! changes the picture or is refused.

mod cli_common;
use cli_common::{bin, tmpdir};

use std::path::PathBuf;



fn plot(d: &PathBuf, args: &[&str]) -> String {
    let o = bin().arg("plot").args(args).current_dir(d).output().unwrap();
    assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    let out = args[args.iter().position(|a| *a == "-o").unwrap() + 1];
    String::from_utf8_lossy(&std::fs::read(d.join(out)).unwrap()).into_owned()
}

#[test]
fn svg_and_png_with_labelled_axes_and_only_the_curves_asked_for() {
    let d = tmpdir("plot-curves");
    let svg = plot(&d, &["-o", "a.svg", "--stage", "iec-61938", "--headphone", "multi-ba-dip5", "--compare", "ideal"]);
    assert!(svg.starts_with("<svg"));
    for label in ["Frequency (Hz)", "|Z| (Ω)", "Phase (°)", "Level (dB)", "iec-61938: 120 Ω", "ideal: 0 Ω", "Multi-BA"] {
        assert!(svg.contains(label), "missing {label:?}");
    }
    // No second slot unless a settings file brings one.
    assert!(!svg.contains("B: "), "an unasked-for B curve");
    let png = std::fs::read(d.join({
        plot(&d, &["-o", "a.png", "--stage", "iec-61938"]);
        "a.png"
    }))
    .unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(png.len() > 20_000, "a PNG of {} bytes has no picture", png.len());
    // A settings file brings both slots.
    let mut cfg = loadline::processor::config::SessionConfig::default();
    cfg.b.stage.r_out_ohm = 47.0;
    std::fs::write(d.join("s.toml"), cfg.to_toml()).unwrap();
    let svg = plot(&d, &["-o", "ab.svg", "--config", "s.toml"]);
    assert!(svg.contains("A: ") && svg.contains("B: 47 Ω"));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn every_option_changes_the_picture_or_is_refused() {
    let d = tmpdir("plot-options");
    let base = plot(&d, &["-o", "base.svg", "--stage", "laptop-jack"]);
    for (i, extra) in [&["--zout", "10"][..], &["--ccap", "off"], &["--headphone", "planar-14"], &["--compare", "ideal"], &["--load", "dynamic-600"], &["--ground-ohm", "2"]].iter().enumerate() {
        let out = format!("p{i}.svg");
        let mut args = vec!["-o", out.as_str(), "--stage", "laptop-jack"];
        args.extend_from_slice(extra);
        assert_ne!(plot(&d, &args), base, "{extra:?} changed nothing");
    }
    for flag in [&["--level", "3"][..], &["--vmax", "1"], &["--imax", "50"], &["--bias", "20"], &["--noise", "-90"], &["--level-match"], &["--listen", "ideal"]] {
        let o = bin().args(["plot", "-o", "x.svg"]).args(flag).current_dir(&d).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains(flag[0]) && err.contains("does not change a plot"), "{flag:?}: {err}");
        assert!(!d.join("x.svg").exists());
    }
    let _ = std::fs::remove_dir_all(&d);
}
