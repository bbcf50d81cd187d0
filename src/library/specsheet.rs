//! A headphone from its spec sheet: a passive network that meets the figures a spec sheet or a lab
//! report gives (nominal impedance, DC resistance, resonance and its peak |Z|, |Z| at 20 kHz or the
//! voice-coil inductance, a measured minimum), with a report of what was given and what was assumed.
//!
//! Each type has one topology, written with SI values:
//! * dynamic (closed, open): `S(R Re, L L1, P(L L2, R R2), P(R Res, L Lm, C Cm))`, the Thiele–Small motional
//!   branch as a parallel RLC (`Lm = Res/(2π·fs·Qms)`, `Cm = Qms/(2π·fs·Res)`; integracoustics,
//!   "Woofer" article, as in `data/loads.toml`) behind the voice coil's resistance and lossy
//!   inductance (D'Appolito's LR-2 model, also as in `data/loads.toml`);
//! * planar: the same with a small, well-damped diaphragm resonance (nearly flat);
//! * single balanced armature: the same topology, its resonance in the kilohertz range and a large
//!   coil inductance (Knowles driver traces, domain.md §1.3);
//! * multi-BA: a woofer armature `S(R, L)` in parallel with a tweeter armature behind a crossover
//!   capacitor `S(C, R, L)`, which is what makes |Z| swing;
//! * hybrid: a dynamic driver in parallel with a tweeter armature behind its capacitor.
//!
//! The element values are found by a damped Gauss–Newton (Levenberg–Marquardt) fit in log-values:
//! the given figures are targets with full weight; the type's typical figures fill in what is not
//! given, with a weight of 1 %, so they shape the curve without moving a given point. A result that
//! misses a given figure by more than 1 % is an error naming that figure.
//!
//! Threading: any thread; allocates (runs when a headphone is made or loaded, never per sample).

use crate::dsp::linalg::{lstsq, Mat};
use crate::dsp::network::{build::*, log_grid, Network};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// The kinds of headphone a spec sheet can describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    ClosedDynamic,
    OpenDynamic,
    Planar,
    Ba,
    MultiBa,
    Hybrid,
}

impl Kind {
    pub const ALL: [Kind; 6] = [Kind::ClosedDynamic, Kind::OpenDynamic, Kind::Planar, Kind::Ba, Kind::MultiBa, Kind::Hybrid];

    /// The name used in files and on the command line.
    pub fn id(self) -> &'static str {
        match self {
            Kind::ClosedDynamic => "closed-dynamic",
            Kind::OpenDynamic => "open-dynamic",
            Kind::Planar => "planar",
            Kind::Ba => "ba",
            Kind::MultiBa => "multi-ba",
            Kind::Hybrid => "hybrid",
        }
    }

    /// Parses [`Kind::id`].
    pub fn parse(s: &str) -> Result<Kind, SpecError> {
        Kind::ALL.into_iter().find(|k| k.id().eq_ignore_ascii_case(s)).ok_or_else(|| {
            let ids: Vec<&str> = Kind::ALL.iter().map(|k| k.id()).collect();
            SpecError::new("type", format!("{s:?} is not a headphone type (one of {})", ids.join(", ")))
        })
    }

    /// Whether `nominal_ohm` is the mid-band minimum of |Z| (drivers whose |Z| rises on both sides
    /// of the midrange) rather than |Z| at 1 kHz (armatures and hybrids, rated at 1 kHz).
    fn nominal_is_minimum(self) -> bool {
        matches!(self, Kind::ClosedDynamic | Kind::OpenDynamic | Kind::Planar)
    }

    /// Where the main resonance (a maximum of |Z|) is searched for, hertz.
    fn resonance_band(self) -> (f64, f64) {
        match self {
            Kind::ClosedDynamic | Kind::OpenDynamic | Kind::Planar => (5.0, 2_000.0),
            Kind::Ba => (300.0, 15_000.0),
            Kind::MultiBa => (100.0, 15_000.0),
            Kind::Hybrid => (5.0, 15_000.0),
        }
    }
}

/// A spec sheet. Every figure is optional but the type, the nominal impedance and one sensitivity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Display name.
    pub name: String,
    /// The kind of driver.
    #[serde(rename = "type")]
    pub kind: Kind,
    /// Rated impedance, ohms: the mid-band minimum of |Z| for dynamic and planar drivers, |Z| at
    /// 1 kHz for armatures and hybrids (unless `min_ohm` gives a measured minimum).
    pub nominal_ohm: f64,
    /// Sensitivity, dB SPL for 1 mW at 1 kHz (into the nominal impedance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitivity_db_per_mw: Option<f64>,
    /// Sensitivity, dB SPL for 1 V RMS at 1 kHz.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitivity_db_per_v: Option<f64>,
    /// Frequency of the main resonance (the maximum of |Z|), hertz.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resonance_hz: Option<f64>,
    /// |Z| at that resonance, ohms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_ohm: Option<f64>,
    /// A measured minimum of |Z| from 20 Hz to 20 kHz, ohms (then `nominal_ohm` is only reported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_ohm: Option<f64>,
    /// |Z| at 20 kHz, ohms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub z_20k_ohm: Option<f64>,
    /// Voice-coil inductance, henries (dynamic, planar and single-armature drivers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice_coil_h: Option<f64>,
    /// DC resistance, ohms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dc_ohm: Option<f64>,
}

/// A spec that cannot be built, naming the field at fault.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecError {
    pub field: &'static str,
    pub message: String,
}

impl SpecError {
    fn new(field: &'static str, message: String) -> Self {
        Self { field, message }
    }
}

impl std::fmt::Display for SpecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for SpecError {}

/// One figure of the spec next to what the network gives (ohms, hertz or henries).
#[derive(Debug, Clone, PartialEq)]
pub struct PointCheck {
    pub field: &'static str,
    pub given: f64,
    pub got: f64,
}

impl PointCheck {
    /// `got/given − 1`.
    pub fn deviation(&self) -> f64 {
        self.got / self.given - 1.0
    }
}

/// A built headphone.
#[derive(Debug, Clone)]
pub struct Built {
    pub network: Network,
    /// dB SPL for 1 V RMS at 1 kHz (given, or derived from dB/mW at the nominal impedance).
    pub sensitivity_db_spl_per_v: f64,
    /// Every given impedance figure and what the network gives.
    pub checks: Vec<PointCheck>,
    /// What was given, derived and assumed, one line each.
    pub report: Vec<String>,
}

/// The largest miss of a given figure that still counts as met.
pub const POINT_TOLERANCE: f64 = 0.01;

/// A quantity read off a network.
#[derive(Debug, Clone, Copy)]
enum Q {
    Dc,
    Min,
    At(f64),
    PeakHz,
    PeakOhm,
    /// The voice coil's inductance at low frequencies, `L1 + L2` (a [`Topology::Driver`]).
    CoilL,
}

struct Target {
    field: &'static str,
    q: Q,
    value: f64,
    /// Given (true) or the type's typical figure (false).
    given: bool,
}

impl Spec {
    /// Reads a spec file (the format `loadline headphone new` writes: the fields above at the top
    /// level, `#` comments). The error names the line and the field.
    pub fn from_toml(text: &str) -> Result<Spec, String> {
        toml::from_str(text).map_err(|e| {
            let at = e.span().map_or(String::new(), |s| format!("line {}: ", text[..s.start.min(text.len())].matches('\n').count() + 1));
            format!("{at}{}", e.message().trim())
        })
    }

    /// Checks the figures against each other and against physics; the first problem found.
    pub fn check(&self) -> Result<(), SpecError> {
        if self.name.trim().is_empty() {
            return Err(SpecError::new("name", "is empty".into()));
        }
        let range = |field: &'static str, v: Option<f64>, lo: f64, hi: f64, unit: &str| match v {
            Some(x) if !(x.is_finite() && (lo..=hi).contains(&x)) => Err(SpecError::new(field, format!("{x} {unit} is outside {lo}…{hi} {unit}"))),
            _ => Ok(()),
        };
        range("nominal_ohm", Some(self.nominal_ohm), 1.0, 2_000.0, "Ω")?;
        range("sensitivity_db_per_mw", self.sensitivity_db_per_mw, 70.0, 140.0, "dB SPL/mW")?;
        range("sensitivity_db_per_v", self.sensitivity_db_per_v, 70.0, 150.0, "dB SPL/V")?;
        let (f_lo, f_hi) = self.kind.resonance_band();
        range("resonance_hz", self.resonance_hz, f_lo, f_hi, "Hz")?;
        range("peak_ohm", self.peak_ohm, 1.0, 20_000.0, "Ω")?;
        range("min_ohm", self.min_ohm, 0.5, 2_000.0, "Ω")?;
        range("z_20k_ohm", self.z_20k_ohm, 0.5, 20_000.0, "Ω")?;
        range("voice_coil_h", self.voice_coil_h, 0.0, 0.1, "H")?;
        range("dc_ohm", self.dc_ohm, 0.5, 2_000.0, "Ω")?;
        match (self.sensitivity_db_per_mw, self.sensitivity_db_per_v) {
            (None, None) => return Err(SpecError::new("sensitivity_db_per_v", "missing: give sensitivity_db_per_v or sensitivity_db_per_mw".into())),
            (Some(_), Some(_)) => return Err(SpecError::new("sensitivity_db_per_mw", "give one sensitivity, not both".into())),
            _ => {}
        }
        if self.z_20k_ohm.is_some() && self.voice_coil_h.is_some() {
            return Err(SpecError::new("voice_coil_h", "give z_20k_ohm or voice_coil_h, not both".into()));
        }
        if self.voice_coil_h.is_some() && matches!(self.kind, Kind::MultiBa | Kind::Hybrid) {
            return Err(SpecError::new("voice_coil_h", format!("has no single meaning for a {} (give z_20k_ohm)", self.kind.id())));
        }
        // A mid-band minimum (measured, or the rated one of a dynamic or planar driver).
        let floor = self.min_ohm.or(self.kind.nominal_is_minimum().then_some(self.nominal_ohm));
        let mid = self.mid_ohm();
        if let Some(dc) = self.dc_ohm {
            // |Z| = |Re + (series reactances) + (branches with a positive real part)| ≥ Re.
            if let Some(m) = floor.filter(|&m| dc > m * (1.0 + 2.0 * POINT_TOLERANCE)) {
                let field = if self.min_ohm.is_some() { "min_ohm" } else { "nominal_ohm" };
                return Err(SpecError::new("dc_ohm", format!("{dc} Ω is above {field} {m} Ω: a driver's |Z| never falls below its DC resistance")));
            }
        }
        if let Some(p) = self.peak_ohm {
            if p <= mid * 1.02 {
                return Err(SpecError::new("peak_ohm", format!("{p} Ω does not rise above the mid-band {mid} Ω: a resonance is a maximum of |Z|")));
            }
        }
        if let Some(m) = self.min_ohm {
            if m > self.nominal_ohm * 1.5 || m < self.nominal_ohm / 3.0 {
                return Err(SpecError::new("min_ohm", format!("{m} Ω is too far from nominal_ohm {} Ω (allowed ×1/3 … ×1.5)", self.nominal_ohm)));
            }
        }
        if let Some(z) = self.z_20k_ohm {
            let rising = !matches!(self.kind, Kind::MultiBa | Kind::Hybrid);
            if rising && z < mid * (1.0 - 2.0 * POINT_TOLERANCE) {
                return Err(SpecError::new("z_20k_ohm", format!("{z} Ω is below the mid-band {mid} Ω: a {} driver's |Z| rises with frequency (its coil inductance)", self.kind.id())));
            }
            if let Some(dc) = self.dc_ohm.filter(|&dc| rising && z < dc) {
                return Err(SpecError::new("z_20k_ohm", format!("{z} Ω is below dc_ohm {dc} Ω")));
            }
        }
        if self.peak_ohm.is_some() && self.resonance_hz.is_none() && self.kind == Kind::Planar {
            return Err(SpecError::new("resonance_hz", "a planar's peak_ohm needs its frequency".into()));
        }
        Ok(())
    }

    /// The mid-band |Z| the spec implies, ohms.
    fn mid_ohm(&self) -> f64 {
        self.min_ohm.unwrap_or(self.nominal_ohm)
    }

    /// The sensitivity in dB SPL for 1 V, and how it was obtained.
    fn sensitivity(&self) -> (f64, String) {
        match (self.sensitivity_db_per_v, self.sensitivity_db_per_mw) {
            (Some(v), _) => (v, format!("given: sensitivity {v} dB SPL/V")),
            (None, Some(mw)) => {
                // dB/V = dB/mW − 10·log10(Z/1000 Ω), the power 1 V drives into the nominal impedance.
                let v = mw - 10.0 * (self.nominal_ohm / 1000.0).log10();
                (v, format!("given: sensitivity {mw} dB SPL/mW = {v:.1} dB SPL/V at the nominal {} Ω (derived)", self.nominal_ohm))
            }
            (None, None) => unreachable!("checked"),
        }
    }

    /// Builds the network (see the module docs).
    pub fn build(&self) -> Result<Built, SpecError> {
        self.check()?;
        let (sens, sens_line) = self.sensitivity();
        let typical = Typical::of(self);
        let mut targets = Vec::new();
        let mut report = vec![format!("{} ({}), nominal {} Ω", self.name, self.kind.id(), self.nominal_ohm), sens_line];
        let mut add = |field: &'static str, q: Q, given: Option<f64>, assumed: f64, unit: &str, report: &mut Vec<String>| {
            match given {
                Some(v) => {
                    targets.push(Target { field, q, value: v, given: true });
                    report.push(format!("given: {field} {v} {unit}"));
                }
                None => {
                    targets.push(Target { field, q, value: assumed, given: false });
                    report.push(format!("assumed ({} typical): {field} ≈ {} {unit}", self.kind.id(), sig3(assumed)));
                }
            }
        };
        let mid_q = if self.kind.nominal_is_minimum() || self.min_ohm.is_some() { Q::Min } else { Q::At(1000.0) };
        let mid_field = if self.min_ohm.is_some() { "min_ohm" } else { "nominal_ohm" };
        add(mid_field, mid_q, Some(self.mid_ohm()), 0.0, "Ω", &mut report);
        if self.min_ohm.is_some() {
            report.push(format!("nominal_ohm {} Ω is the rating; the measured minimum is the network's", self.nominal_ohm));
        }
        add("dc_ohm", Q::Dc, self.dc_ohm, typical.dc_ohm, "Ω", &mut report);
        add("resonance_hz", Q::PeakHz, self.resonance_hz, typical.resonance_hz, "Hz", &mut report);
        add("peak_ohm", Q::PeakOhm, self.peak_ohm, typical.peak_ohm, "Ω", &mut report);
        match self.voice_coil_h {
            Some(l) => add("voice_coil_h", Q::CoilL, Some(l), 0.0, "H", &mut report),
            None => add("z_20k_ohm", Q::At(20_000.0), self.z_20k_ohm, typical.z_20k_ohm, "Ω", &mut report),
        }
        let topo = Topology::of(self.kind);
        let x0 = topo.start(self, &typical);
        // The resonance is the largest |Z| within a factor 1.5 of its (given or typical) frequency:
        // an armature's |Z| may rise higher still towards 20 kHz.
        let (lo, hi) = self.kind.resonance_band();
        let band = ((typical.resonance_hz / 1.5).max(lo), (typical.resonance_hz * 1.5).min(hi));
        let x = fit(&topo, &targets, band, x0);
        let network = topo.network(&x);
        let checks: Vec<PointCheck> = targets
            .iter()
            .filter(|t| t.given)
            .map(|t| PointCheck { field: t.field, given: t.value, got: measure(&network, &x, t.q, band) })
            .collect();
        if let Some(worst) = checks.iter().max_by(|a, b| a.deviation().abs().total_cmp(&b.deviation().abs())) {
            if worst.deviation().abs() > POINT_TOLERANCE {
                return Err(SpecError::new(
                    worst.field,
                    format!("cannot be met together with the other figures by a {} network (closest: {} against {})", self.kind.id(), sig3(worst.got), worst.given),
                ));
            }
        }
        for t in targets.iter().filter(|t| !t.given) {
            let got = measure(&network, &x, t.q, band);
            if let Some(line) = report.iter_mut().find(|l| l.starts_with("assumed") && l.contains(&format!(": {} ≈", t.field))) {
                line.push_str(&format!(" (network: {})", sig3(got)));
            }
        }
        network.validate().map_err(|e| SpecError::new("type", format!("the fitted network is not physical: {}", e.0)))?;
        Ok(Built { network, sensitivity_db_spl_per_v: sens, checks, report })
    }
}

/// Three significant figures.
fn sig3(v: f64) -> String {
    let d = (2 - v.abs().log10().floor() as i32).max(0) as usize;
    format!("{v:.d$}")
}

/// The type's typical figures, used where the spec is silent (from the archetypes in
/// `data/loads.toml` and the driver traces summarised in domain.md §1).
struct Typical {
    dc_ohm: f64,
    resonance_hz: f64,
    peak_ohm: f64,
    z_20k_ohm: f64,
}

impl Typical {
    fn of(s: &Spec) -> Self {
        let m = s.mid_ohm();
        let (dc, f, peak, z20) = match s.kind {
            Kind::ClosedDynamic => (0.94, 90.0, 2.0, 1.08),
            Kind::OpenDynamic => (0.95, 110.0, 1.8, 1.06),
            Kind::Planar => (0.99, 60.0, 1.005, 1.01),
            Kind::Ba => (0.55, 2_500.0, 2.5, 3.0),
            Kind::MultiBa => (0.6, 1_500.0, 2.2, 0.6),
            Kind::Hybrid => (0.8, 100.0, 1.5, 0.7),
        };
        let dc_ohm = s.dc_ohm.unwrap_or(dc * m);
        let peak_ohm = s.peak_ohm.unwrap_or(peak * m);
        Self { dc_ohm, resonance_hz: s.resonance_hz.unwrap_or(f), peak_ohm, z_20k_ohm: s.z_20k_ohm.unwrap_or(z20 * m).max(if s.kind.nominal_is_minimum() { m } else { 0.0 }) }
    }
}

/// A topology and its parameters (all positive; fitted as logarithms).
enum Topology {
    /// `[Re, L1, Res, fs, Qms, L2, R2]`: `S(R Re, L L1, P(L L2, R R2), motional)`, the lossy
    /// ("LR-2") voice-coil inductance of D'Appolito, *Testing Loudspeakers*, fig. 7.16, whose
    /// eddy-current loss lifts the mid-band above Re.
    Driver,
    /// `[R1, L1, C2, R2, L2]`: woofer armature ‖ (capacitor, tweeter armature).
    TwoWay,
    /// `[Re, Le, Res, fs, Qms, C2, R2, L2]`: dynamic driver ‖ (capacitor, armature).
    Hybrid,
}

impl Topology {
    fn of(kind: Kind) -> Self {
        match kind {
            Kind::ClosedDynamic | Kind::OpenDynamic | Kind::Planar | Kind::Ba => Topology::Driver,
            Kind::MultiBa => Topology::TwoWay,
            Kind::Hybrid => Topology::Hybrid,
        }
    }

    fn motional(res: f64, fs: f64, qms: f64) -> Network {
        let w0 = 2.0 * PI * fs;
        parallel(vec![r(res), l(res / (w0 * qms)), c(qms / (w0 * res))])
    }

    fn network(&self, x: &[f64]) -> Network {
        let p: Vec<f64> = x.iter().map(|v| v.exp()).collect();
        match self {
            Topology::Driver => series(vec![r(p[0]), l(p[1]), parallel(vec![l(p[5]), r(p[6])]), Self::motional(p[2], p[3], p[4])]),
            Topology::TwoWay => parallel(vec![series(vec![r(p[0]), l(p[1])]), series(vec![c(p[2]), r(p[3]), l(p[4])])]),
            Topology::Hybrid => parallel(vec![
                series(vec![r(p[0]), l(p[1]), Self::motional(p[2], p[3], p[4])]),
                series(vec![c(p[5]), r(p[6]), l(p[7])]),
            ]),
        }
    }

    /// A starting point from the targets (logarithms of the parameters).
    fn start(&self, s: &Spec, t: &Typical) -> Vec<f64> {
        let m = s.mid_ohm();
        let re = t.dc_ohm.min(m);
        let w20 = 2.0 * PI * 20_000.0;
        let le = |z20: f64, re: f64| ((z20 * z20 - re * re).max((0.05 * re).powi(2))).sqrt() / w20;
        let p = match self {
            Topology::Driver => {
                let le = match (s.voice_coil_h, s.kind) {
                    (Some(l), _) => l.max(1e-9),
                    (None, Kind::Ba) => ((m * m - re * re).max((0.3 * re).powi(2))).sqrt() / (2.0 * PI * 1000.0),
                    (None, _) => le(t.z_20k_ohm, re),
                };
                // Half the inductance lossy, its loss resistance a fifth of Re.
                vec![re, 0.5 * le, (t.peak_ohm - re).max(0.001 * re), t.resonance_hz, if s.kind == Kind::Planar { 0.7 } else { 1.5 }, 0.5 * le, 0.2 * re]
            }
            Topology::TwoWay => {
                // Woofer: R1 then rising; tweeter from about the resonance up.
                let r2 = t.z_20k_ohm.max(0.3 * m);
                let c2 = 1.0 / (2.0 * PI * t.resonance_hz * r2);
                vec![re, (2.0 * m) / (2.0 * PI * 1000.0), c2, r2, r2 / (2.0 * PI * 40_000.0)]
            }
            Topology::Hybrid => {
                let r2 = t.z_20k_ohm.max(0.3 * m);
                vec![re, le(1.3 * m, re), (t.peak_ohm - re).max(0.05 * re), t.resonance_hz, 1.5, 1.0 / (2.0 * PI * 3000.0 * r2), r2, r2 / (2.0 * PI * 40_000.0)]
            }
        };
        p.iter().map(|v| v.max(1e-12).ln()).collect()
    }
}

/// The value of `q` for `net` (parameters `x`, logarithms); resonances are searched for within
/// `band` (hertz).
fn measure(net: &Network, x: &[f64], q: Q, band: (f64, f64)) -> f64 {
    match q {
        Q::Dc => net.impedance(1e-3).norm(),
        Q::At(f) => net.impedance(f).norm(),
        Q::Min => extreme(net, 20.0, 20_000.0, false).1,
        Q::PeakHz | Q::PeakOhm => {
            let (f, z) = extreme(net, band.0, band.1, true);
            if matches!(q, Q::PeakHz) { f } else { z }
        }
        Q::CoilL => x[1].exp() + x[5].exp(),
    }
}

/// (frequency, |Z|) of the largest or smallest |Z| from `lo` to `hi`: a 240-point log grid, then
/// a parabola through the best point and its neighbours in log-frequency.
fn extreme(net: &Network, lo: f64, hi: f64, max: bool) -> (f64, f64) {
    let n = 240;
    let fs: Vec<f64> = log_grid(lo, hi, n).collect();
    let zs: Vec<f64> = fs.iter().map(|&f| net.impedance(f).norm()).collect();
    let better = |a: f64, b: f64| if max { a > b } else { a < b };
    let k = (0..n).fold(0, |b, i| if better(zs[i], zs[b]) { i } else { b });
    if k == 0 || k == n - 1 {
        return (fs[k], zs[k]);
    }
    let (y0, y1, y2) = (zs[k - 1], zs[k], zs[k + 1]);
    let den = y0 - 2.0 * y1 + y2;
    if den == 0.0 {
        return (fs[k], y1);
    }
    let d = (0.5 * (y0 - y2) / den).clamp(-1.0, 1.0);
    let step = (fs[k + 1] / fs[k]).ln();
    let f = fs[k] * (d * step).exp();
    (f, net.impedance(f).norm())
}

/// Levenberg–Marquardt on `w·ln(got/target)`, weights 1 for given figures and 0.01 for typical
/// ones (a given figure 1 % off costs as much as a typical one missed by a factor of two), plus
/// 0.001 pulling each parameter towards its start (keeps the problem well posed).
fn fit(topo: &Topology, targets: &[Target], band: (f64, f64), x0: Vec<f64>) -> Vec<f64> {
    let resid = |x: &[f64]| -> Vec<f64> {
        let net = topo.network(x);
        let mut r: Vec<f64> = targets
            .iter()
            .map(|t| {
                let w = if t.given { 1.0 } else { 0.01 };
                w * (measure(&net, x, t.q, band).max(1e-30) / t.value).ln()
            })
            .collect();
        r.extend(x.iter().zip(&x0).map(|(a, b)| 0.001 * (a - b)));
        r
    };
    let cost = |r: &[f64]| r.iter().map(|v| v * v).sum::<f64>();
    let mut x = x0.clone();
    let mut r = resid(&x);
    let mut c = cost(&r);
    let mut lambda = 1e-2;
    let n = x.len();
    for _ in 0..200 {
        // Jacobian by central differences.
        let h = 1e-5;
        let cols: Vec<Vec<f64>> = (0..n)
            .map(|j| {
                let (mut a, mut b) = (x.clone(), x.clone());
                a[j] += h;
                b[j] -= h;
                resid(&a).iter().zip(resid(&b)).map(|(p, m)| (p - m) / (2.0 * h)).collect()
            })
            .collect();
        // The damped step solves [J; √(λ·(1 + diag JᵀJ))]·δ = [−r; 0] by least squares (as
        // `import/refine.rs` does), which stays well conditioned where the normal equations would not.
        let m = r.len();
        let diag: Vec<f64> = cols.iter().map(|c| c.iter().map(|v| v * v).sum()).collect();
        let mut b: Vec<f64> = r.iter().map(|v| -v).collect();
        b.extend(std::iter::repeat_n(0.0, n));
        let mut improved = false;
        for _ in 0..12 {
            let mut a = Mat::zeros(m + n, n);
            for (j, col) in cols.iter().enumerate() {
                for (i, &v) in col.iter().enumerate() {
                    a.set(i, j, v);
                }
                a.set(m + j, j, (lambda * (1.0 + diag[j])).sqrt());
            }
            let Some(step) = lstsq(&a, &b) else {
                lambda *= 10.0;
                continue;
            };
            let xn: Vec<f64> = x.iter().zip(&step).map(|(a, d)| a + d.clamp(-2.0, 2.0)).collect();
            let rn = resid(&xn);
            let cn = cost(&rn);
            if cn.is_finite() && cn < c {
                (x, r, c) = (xn, rn, cn);
                lambda = (lambda * 0.3).max(1e-9);
                improved = true;
                break;
            }
            lambda *= 10.0;
        }
        if !improved || c < 1e-14 {
            break;
        }
    }
    x
}
