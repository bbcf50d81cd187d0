//! Fit accuracy of imported curves: networks of up to 12 R/L/C elements are sampled with
//! `Network::impedance`, written as ZMA text, imported and fitted; the fitted network's divider
//! response `20·log10|Z/(Z+Zs)|` must stay within ±0.25 dB of the one computed from the file's own
//! samples from 20 Hz to 20 kHz, for source resistances up to 1 kΩ. (The rendered-audio version of
//! this check, through the engine, lives with the engine's tests.)

use loadline::dsp::network::{build::*, log_grid, Network};
use loadline::import::{import_impedance, ImportedCurve};
use loadline::library::{self, export};
use num_complex::Complex64;

/// Source resistances the divider is checked at, ohms.
const ZS_OHM: [f64; 9] = [0.0, 0.1, 1.0, 3.3, 10.0, 33.0, 120.0, 330.0, 1000.0];
const TOL_DB: f64 = 0.25;

/// A tiny deterministic generator (SplitMix64), so failures are reproducible without a seed file.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo * (hi / lo).powf(self.unit())
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A random series/parallel tree of exactly `n` elements. Element values are scaled around a base
/// impedance `r0` with corner frequencies in 10 Hz–40 kHz, so every element matters in the band.
fn random_net(rng: &mut Rng, n: usize, r0: f64, depth: usize) -> Network {
    if n == 1 {
        let rr = r0 * rng.log_uniform(0.1, 10.0);
        let w = 2.0 * std::f64::consts::PI * rng.log_uniform(10.0, 40_000.0);
        return match rng.below(3) {
            0 => r(rr),
            1 => l(rr / w),
            _ => c(1.0 / (w * rr)),
        };
    }
    let k = if n >= 3 && rng.below(3) == 0 { 3 } else { 2 };
    let mut sizes = vec![1; k];
    for _ in 0..n - k {
        let i = rng.below(k);
        sizes[i] += 1;
    }
    let kids = sizes.into_iter().map(|m| random_net(rng, m, r0, depth + 1)).collect();
    if (rng.below(2) == 0) ^ (depth % 2 == 1) { series(kids) } else { parallel(kids) }
}

/// Lossy enough to be a physical load: finite, |phase| < 89° and |Z| within 0.1 Ω–1 MΩ in band.
fn usable(net: &Network) -> bool {
    log_grid(20.0, 20_000.0, 300).all(|f| {
        let z = net.impedance(f);
        z.norm().is_finite() && z.norm() > 0.1 && z.norm() < 1e6 && z.arg().abs() < 89f64.to_radians()
    })
}

/// No feature sharper than the file's grid can show: the phase moves less than 25° between
/// neighbouring 1/24-octave samples (a resonance Q below ~20). Headphone, IEM and crossover curves
/// are far smoother; much sharper resonances are under-sampled by such a file anyway.
fn resolved(net: &Network) -> bool {
    let f = file_freqs();
    f.windows(2).all(|w| {
        let d = (net.impedance(w[1]) / net.impedance(w[0])).arg().abs();
        d < 25f64.to_radians()
    })
}

fn divider_db(z: Complex64, zs: f64) -> f64 {
    20.0 * (z / (z + zs)).norm().log10()
}

/// Worst divider error (dB) of the fitted network against the curve's own samples in 20 Hz–20 kHz.
fn worst_divider_error(c: &ImportedCurve) -> f64 {
    let mut worst: f64 = 0.0;
    for s in c.samples.iter().filter(|s| (20.0..=20_000.0).contains(&s.freq_hz)) {
        let zf = c.network.impedance(s.freq_hz);
        for zs in ZS_OHM {
            worst = worst.max((divider_db(zf, zs) - divider_db(s.z, zs)).abs());
        }
    }
    worst
}

/// 1/24-octave grid over 20 Hz–20 kHz (241 points), like a typical measurement export.
fn file_freqs() -> Vec<f64> {
    log_grid(20.0, 20_000.0, 241).collect()
}

#[test]
fn random_networks_of_up_to_12_elements_fit_within_quarter_db() {
    let mut rng = Rng(0x10AD_11E5);
    let (mut tested, mut worst, mut worst_mag, mut worst_ph) = (0, 0.0f64, 0.0f64, 0.0f64);
    let mut attempts = 0;
    while tested < std::env::var("FIT_N").ok().and_then(|v| v.parse().ok()).unwrap_or(60) && attempts < 20000 {
        attempts += 1;
        let n = 1 + rng.below(12);
        let r0 = rng.log_uniform(3.0, 3000.0);
        let net = random_net(&mut rng, n, r0, 0);
        if !usable(&net) || !resolved(&net) {
            continue;
        }
        tested += 1;
        let text = export::write_zma(&net, &file_freqs());
        let c = import_impedance(&text).unwrap_or_else(|e| panic!("{e}\n{}", library::netlist::format(&net)));
        c.network.validate().unwrap();
        let e = worst_divider_error(&c);
        worst = worst.max(e);
        worst_mag = worst_mag.max(c.fit.max_mag_error_db);
        worst_ph = worst_ph.max(c.fit.max_phase_error_deg);
        if std::env::var("FIT_STATS").is_ok() {
            println!("{n:>2} el -> {:>2} (order {:>2} {:?}) divider {e:.4} dB  {}", c.fit.elements, c.fit.order, c.fit.form, library::netlist::format(&net));
            continue;
        }
        assert!(
            e <= TOL_DB,
            "divider error {e:.3} dB > {TOL_DB} dB for {} ({} elements); fit {:?}",
            library::netlist::format(&net),
            n,
            c.fit
        );
    }
    assert!(tested >= 60, "only {tested} usable random networks");
    println!("{tested} random networks: worst divider error {worst:.4} dB, worst |Z| error {worst_mag:.4} dB, worst phase error {worst_ph:.3}°");
}

/// The same without the smoothness filter: any lossy random network. The Foster-plus-refinement
/// fitter cannot represent every series/parallel topology exactly (that would need Brune or
/// Bott–Duffin synthesis), so this checks the rate, not every case.
#[test]
fn unfiltered_random_networks_mostly_fit() {
    let mut rng = Rng(0xFEED_5EED);
    let (mut tested, mut pass, mut worst) = (0, 0, 0.0f64);
    while tested < 200 {
        let n = 1 + rng.below(12);
        let r0 = rng.log_uniform(3.0, 3000.0);
        let net = random_net(&mut rng, n, r0, 0);
        if !usable(&net) {
            continue;
        }
        tested += 1;
        let c = import_impedance(export::write_zma(&net, &file_freqs())).unwrap();
        let e = worst_divider_error(&c);
        worst = worst.max(e);
        pass += usize::from(e <= TOL_DB);
    }
    println!("unfiltered: {pass}/{tested} within {TOL_DB} dB, worst {worst:.3} dB");
    assert!(pass * 100 >= tested * 97, "{pass}/{tested}");
}

/// Known gap: the dual-BA crossover (two multi-pole branches in parallel) is not an exact sum of
/// the Foster terms the fitter realises, and the refinement stops in a local minimum. Its divider
/// error is recorded here so a regression (or an improvement) shows.
const KNOWN_GAPS_DB: [(&str, f64); 1] = [("multi-ba-2way-88", 0.6)];

#[test]
fn every_library_load_round_trips_through_zma_and_csv() {
    for load in library::loads() {
        let tol = KNOWN_GAPS_DB.iter().find(|g| g.0 == load.id).map_or(TOL_DB, |g| g.1);
        for text in [export::write_zma(&load.network, &file_freqs()), export::write_csv(&load.network, &file_freqs())] {
            let c = import_impedance(&text).unwrap_or_else(|e| panic!("{}: {e}", load.id));
            let e = worst_divider_error(&c);
            assert!(e <= tol, "{}: divider error {e:.3} dB; fit {:?}", load.id, c.fit);
            println!("{:<22} {:>2} elements -> {:>2} (order {:>2} {:?}): |Z| {:.4} dB, phase {:.3}°, divider {:.4} dB", load.id, load.network.element_count(), c.fit.elements, c.fit.order, c.fit.form, c.fit.max_mag_error_db, c.fit.max_phase_error_deg, e);
        }
    }
}

#[test]
fn magnitude_only_files_get_minimum_phase_and_say_so() {
    for id in ["closed-dynamic-32", "ba-single", "multi-ba-dip5", "highz-dynamic-bass"] {
        let net = &library::find_load(id).unwrap().network;
        // Magnitude-only ZMA over 10 Hz-40 kHz (a little beyond the band, as measurement rigs do).
        let text: String = log_grid(10.0, 40_000.0, 300).map(|f| format!("{f} {}\n", net.impedance(f).norm())).collect();
        let c = import_impedance(&text).unwrap();
        assert!(c.phase_reconstructed, "{id}");
        assert!(c.notes.iter().any(|n| n.contains("phase reconstructed")), "{:?}", c.notes);
        // The reconstruction against the true phase of the (minimum-phase) network.
        let mut worst: f64 = 0.0;
        for s in c.samples.iter().filter(|s| (20.0..=20_000.0).contains(&s.freq_hz)) {
            worst = worst.max((s.z.arg() - net.impedance(s.freq_hz).arg()).abs().to_degrees());
        }
        let e = worst_divider_error(&c);
        println!("{id:<22} reconstructed phase error ≤ {worst:.2}° in 20 Hz-20 kHz; fit divider error {e:.4} dB");
        assert!(worst < 5.0, "{id}: phase reconstruction off by {worst:.2}°");
        assert!(e <= TOL_DB, "{id}: divider error {e:.3} dB against the reconstructed curve");
    }
}
