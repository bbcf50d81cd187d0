//! The stage presets: coverage, ranges, and the figures the issue names.

use loadline::library::{self, find_stage};

#[test]
fn presets_cover_the_issue_and_are_in_range() {
    let s = library::stages();
    assert!(s.len() >= 14, "{} stages", s.len());
    for p in s {
        p.params.validate().unwrap_or_else(|e| panic!("{}: {e}", p.id));
        assert!(!p.basis.is_empty(), "{}", p.id);
        if p.id != "ideal" {
            assert!(!p.sources.is_empty(), "{} has no sources", p.id);
        }
    }
    let st = |id: &str| find_stage(id).unwrap_or_else(|| panic!("missing {id}")).params;
    let ideal = st("ideal");
    assert!(ideal.r_out_ohm == 0.0 && ideal.i_max_a.is_none() && ideal.v_max_v.is_none() && ideal.noise_dbv.is_none());
    let r = st("ref-headamp");
    assert!(r.r_out_ohm < 1.0 && r.i_max_a.unwrap() >= 0.2);
    assert!(st("pro-interface-phones").r_out_ohm < 1.0);
    assert!(st("phone-dongle").r_out_ohm < 1.0);
    assert!((1.0..=10.0).contains(&st("phone-jack").r_out_ohm));
    assert!((st("laptop-jack").r_out_ohm - 75.0).abs() < 1e-9);
    assert!((st("iec-61938").r_out_ohm - 120.0).abs() < 1e-9);
    let c = st("consumer-line-out");
    assert!((100.0..=600.0).contains(&c.r_out_ohm) && c.level_v < 2.0);
    assert!(st("pro-line-out").level_v > 1.228);
    for id in ["opamp-line-ne5532", "opamp-line-tl072"] {
        // Current-limits into 32 Ω before its rails: I_max·32 Ω < √2·V_max.
        let p = st(id);
        assert!(p.i_max_a.unwrap() * 32.0 < std::f64::consts::SQRT_2 * p.v_max_v.unwrap(), "{id}");
    }
    let m = st("mic-preamp-out");
    assert!(m.r_out_ohm >= 300.0 && m.i_max_a.unwrap() <= 0.02);
    let t = st("tube-otl");
    assert!(t.r_out_ohm >= 50.0 && t.c_block_f.is_some() && t.bias == 1.0);
    assert!((st("vintage-receiver").r_out_ohm - 330.0).abs() < 1e-9);
    let (b, se) = (st("balanced-bridged"), st("ref-headamp"));
    assert!((b.v_max_v.unwrap() / se.v_max_v.unwrap() - 2.0).abs() < 0.01);
    assert!((b.r_out_ohm / se.r_out_ohm - 2.0).abs() < 0.01);
}
