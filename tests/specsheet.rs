//! Headphones from spec sheets (`library::specsheet`): random valid spec sets are met point by
//! point, impossible ones get an error naming the field.

use loadline::library::specsheet::{Kind, Spec, POINT_TOLERANCE};

/// SplitMix64: a fixed, portable sequence.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn in_(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next()
    }
    fn log_in(&mut self, lo: f64, hi: f64) -> f64 {
        (lo.ln() + (hi.ln() - lo.ln()) * self.next()).exp()
    }
    fn maybe(&mut self, v: f64) -> Option<f64> {
        (self.next() < 0.6).then_some(v)
    }
}

fn base(kind: Kind, nominal: f64) -> Spec {
    Spec {
        name: "test".into(),
        kind,
        nominal_ohm: nominal,
        sensitivity_db_per_mw: None,
        sensitivity_db_per_v: Some(105.0),
        resonance_hz: None,
        peak_ohm: None,
        min_ohm: None,
        z_20k_ohm: None,
        voice_coil_h: None,
        dc_ohm: None,
    }
}

/// A plausible spec sheet of a random type with a random subset of the optional figures.
fn random_spec(rng: &mut Rng, kind: Kind) -> Spec {
    let (n_lo, n_hi, f_lo, f_hi, pk, dc, z20) = match kind {
        Kind::ClosedDynamic | Kind::OpenDynamic => (16.0, 600.0, 40.0, 200.0, (1.3, 4.0), (0.9, 0.99), (1.0, 1.4)),
        Kind::Planar => (12.0, 300.0, 20.0, 100.0, (1.05, 1.3), (0.97, 1.0), (1.0, 1.05)),
        Kind::Ba => (8.0, 60.0, 1_500.0, 4_000.0, (1.5, 3.0), (0.4, 0.7), (1.5, 5.0)),
        Kind::MultiBa => (8.0, 40.0, 800.0, 3_000.0, (1.5, 3.0), (0.4, 0.8), (0.3, 0.9)),
        Kind::Hybrid => (10.0, 40.0, 60.0, 150.0, (1.1, 1.6), (0.6, 0.95), (0.4, 0.9)),
    };
    let nominal = rng.log_in(n_lo, n_hi);
    let mut s = base(kind, (nominal * 10.0).round() / 10.0);
    if rng.next() < 0.5 {
        s.sensitivity_db_per_v = None;
        s.sensitivity_db_per_mw = Some(rng.in_(90.0, 110.0));
    }
    let with_res = kind != Kind::Planar || rng.next() < 0.5;
    if with_res {
        let f = rng_round(rng.log_in(f_lo, f_hi));
        s.resonance_hz = rng.maybe(f);
        let p = rng_round(nominal * rng.in_(pk.0, pk.1));
        s.peak_ohm = rng.maybe(p);
        if kind == Kind::Planar && s.peak_ohm.is_some() && s.resonance_hz.is_none() {
            s.resonance_hz = Some(rng_round(rng.log_in(f_lo, f_hi)));
        }
    }
    let r = rng_round(nominal * rng.in_(dc.0, dc.1));
    s.dc_ohm = rng.maybe(r);
    if matches!(kind, Kind::ClosedDynamic | Kind::OpenDynamic | Kind::Ba) && rng.next() < 0.3 {
        // An inductance the type could have: the one that gives such a 20 kHz figure.
        let re = s.dc_ohm.unwrap_or(0.9 * nominal);
        let z = nominal * rng.in_(z20.0, z20.1).max(1.05);
        s.voice_coil_h = Some(((z * z - re * re).max(0.0)).sqrt() / (2.0 * std::f64::consts::PI * 20_000.0));
    } else {
        let z = rng_round(nominal * rng.in_(z20.0, z20.1));
        s.z_20k_ohm = rng.maybe(z);
    }
    s
}

fn rng_round(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

#[test]
fn twenty_random_spec_sets_are_met_point_by_point() {
    let mut rng = Rng(17);
    let mut worst = 0.0f64;
    for i in 0..20 {
        let kind = Kind::ALL[i % Kind::ALL.len()];
        let s = random_spec(&mut rng, kind);
        let t = std::time::Instant::now();
        let b = s.build().unwrap_or_else(|e| panic!("set {i} {s:?}: {e}"));
        let ms = t.elapsed().as_secs_f64() * 1e3;
        assert!(!b.checks.is_empty());
        for c in &b.checks {
            assert!(c.deviation().abs() <= 0.03, "set {i} {s:?}: {} {} against {}", c.field, c.got, c.given);
            worst = worst.max(c.deviation().abs());
        }
        // The network is what the report says it meets, re-measured independently.
        if let Some(dc) = s.dc_ohm {
            assert!((b.network.impedance(1e-3).norm() / dc - 1.0).abs() <= 0.03, "set {i}: DC");
        }
        if let Some(z) = s.z_20k_ohm {
            assert!((b.network.impedance(20_000.0).norm() / z - 1.0).abs() <= 0.03, "set {i}: 20 kHz");
        }
        println!("set {i:2} {:<14} {} points, worst {:.3} %, {ms:.1} ms", kind.id(), b.checks.len(), 100.0 * b.checks.iter().map(|c| c.deviation().abs()).fold(0.0, f64::max));
    }
    println!("worst deviation over all sets: {:.3} % (tolerance {} %)", 100.0 * worst, 100.0 * POINT_TOLERANCE);
}

#[test]
fn impossible_spec_sets_name_the_field() {
    let d = |k, n| base(k, n);
    let cases: Vec<(Spec, &str)> = vec![
        (Spec { dc_ohm: Some(80.0), ..d(Kind::ClosedDynamic, 32.0) }, "dc_ohm"),
        (Spec { peak_ohm: Some(20.0), ..d(Kind::OpenDynamic, 300.0) }, "peak_ohm"),
        (Spec { z_20k_ohm: Some(10.0), ..d(Kind::ClosedDynamic, 32.0) }, "z_20k_ohm"),
        (Spec { sensitivity_db_per_v: None, ..d(Kind::Planar, 38.0) }, "sensitivity_db_per_v"),
        (Spec { sensitivity_db_per_mw: Some(100.0), ..d(Kind::Planar, 38.0) }, "sensitivity_db_per_mw"),
        (Spec { nominal_ohm: -5.0, ..d(Kind::Ba, 10.0) }, "nominal_ohm"),
        (Spec { resonance_hz: Some(50_000.0), ..d(Kind::OpenDynamic, 62.0) }, "resonance_hz"),
        (Spec { z_20k_ohm: Some(40.0), voice_coil_h: Some(1e-4), ..d(Kind::ClosedDynamic, 32.0) }, "voice_coil_h"),
        (Spec { min_ohm: Some(f64::NAN), ..d(Kind::Hybrid, 16.0) }, "min_ohm"),
        (Spec { name: " ".into(), ..d(Kind::MultiBa, 9.0) }, "name"),
    ];
    for (s, field) in cases {
        let e = s.build().expect_err(&format!("{s:?} was built"));
        assert_eq!(e.field, field, "{s:?}: {e}");
        assert!(!e.to_string().contains('\n'));
        println!("{e}");
    }
    assert_eq!(Kind::parse("electrostatic").unwrap_err().field, "type");
}
