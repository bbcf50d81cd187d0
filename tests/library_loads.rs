//! The load library: coverage of the archetypes issue 3 asks for, and every load's simulated |Z|
//! (`Network::impedance`, the same network the engine compiles) against the figures recorded as
//! its basis.

use loadline::dsp::network::log_grid;
use loadline::library::{self, find_load};

/// Recorded figures must be met within this relative deviation.
const FIGURE_TOL: f64 = 0.10;

#[test]
fn every_load_matches_its_recorded_figures() {
    for l in library::loads() {
        let checks = l.fitted.check(&l.network);
        assert!(!checks.is_empty(), "{} records no figures", l.id);
        for c in checks {
            assert!(c.deviation().abs() <= FIGURE_TOL, "{}: {} recorded {} but the network gives {:.4} ({:+.1} %)", l.id, c.what, c.recorded, c.simulated, 100.0 * c.deviation());
        }
        assert!(l.nominal_ohm > 0.0 && !l.basis.is_empty() && !l.sources.is_empty() && !l.sensitivity_spec.is_empty(), "{}", l.id);
    }
}

#[test]
fn coverage_of_the_archetypes() {
    let l = library::loads();
    assert!(l.len() >= 14, "{} loads", l.len());
    let dc = |id: &str| find_load(id).unwrap_or_else(|| panic!("missing {id}")).network.dc_resistance();
    let z1k = |id: &str| find_load(id).unwrap().network.impedance(1000.0).norm();
    // (id, nominal class in ohms, |Z(1 kHz)| must be within ±25 % of it)
    for (id, nom) in [
        ("closed-dynamic-32", 32.0),
        ("dynamic-80", 80.0),
        ("dynamic-250", 250.0),
        ("open-dynamic-300", 300.0),
        ("dynamic-600", 600.0),
        ("vintage-600", 600.0),
        ("planar-14", 14.0),
        ("planar-50", 55.0),
        ("dynamic-iem-16", 16.0),
        ("line-input-10k", 10_000.0),
    ] {
        let z = z1k(id);
        assert!((z / nom - 1.0).abs() <= 0.25, "{id}: |Z(1 kHz)| = {z:.1} Ω, class {nom} Ω");
    }
    assert!(dc("power-amp-input-22k") >= 20_000.0);
    // High-impedance dynamic with a strong bass resonance: ≥ 3× between the peak and 1 kHz.
    let hz = &find_load("highz-dynamic-bass").unwrap().network;
    let peak = log_grid(20.0, 200.0, 200).map(|f| hz.impedance(f).norm()).fold(0.0, f64::max);
    assert!(peak / hz.impedance(1000.0).norm() >= 3.0);
    // Planars are flat: ±5 % over the band.
    for id in ["planar-14", "planar-50"] {
        let n = &find_load(id).unwrap().network;
        let (lo, hi) = extremes(n);
        assert!(hi / lo < 1.05, "{id}: {lo}..{hi}");
    }
    assert_eq!(find_load("ba-single").unwrap().kind, "ba");
}

/// (min, max) of |Z| over 20 Hz–20 kHz.
fn extremes(n: &loadline::dsp::Network) -> (f64, f64) {
    log_grid(20.0, 20_000.0, 2000).map(|f| n.impedance(f).norm()).fold((f64::INFINITY, 0.0), |(a, b), z| (a.min(z), b.max(z)))
}

#[test]
fn multi_ba_crossovers_swing_at_least_4_to_1() {
    let multi: Vec<_> = library::loads().iter().filter(|l| l.kind == "multi-ba").collect();
    assert!(multi.len() >= 2);
    for l in &multi {
        let (lo, hi) = extremes(&l.network);
        assert!(hi / lo >= 4.0, "{}: swing {:.2}:1", l.id, hi / lo);
    }
    let (lo, _) = extremes(&find_load("multi-ba-dip5").unwrap().network);
    assert!((4.0..=6.0).contains(&lo), "dip {lo:.2} Ω");
}

#[test]
fn sensitivities_are_plausible() {
    for l in library::loads() {
        if l.kind == "line-input" {
            assert_eq!(l.sensitivity_db_spl_per_v, 0.0);
        } else {
            assert!((85.0..=130.0).contains(&l.sensitivity_db_spl_per_v), "{}", l.id);
        }
    }
}
