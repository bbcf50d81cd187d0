//! The published (or chosen) impedance figures a library load was fitted to, kept next to the
//! network so a test can hold the one to the other and `loadline list` can print both.

use crate::dsp::network::{log_grid, Network};
use serde::{Deserialize, Serialize};

/// Figures a load's network was fitted to. Every value is |Z| in ohms at a frequency in hertz;
/// absent figures were not part of the fit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Figures {
    /// DC resistance, ohms.
    pub dc_ohm: Option<f64>,
    /// Frequency of the main resonance (a local maximum of |Z|), hertz.
    pub resonance_hz: Option<f64>,
    /// |Z| at that resonance, ohms.
    pub resonance_ohm: Option<f64>,
    /// Frequency of the minimum of |Z| between 20 Hz and 20 kHz, hertz.
    pub min_hz: Option<f64>,
    /// That minimum, ohms.
    pub min_ohm: Option<f64>,
    /// Further points as `[frequency Hz, |Z| ohms]`.
    #[serde(default)]
    pub z_at: Vec<[f64; 2]>,
}

/// One recorded figure next to what the network actually gives.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FigureCheck {
    /// What is compared, e.g. `"|Z(1000 Hz)|"` or `"resonance frequency"`.
    pub what: String,
    /// The recorded figure (ohms or hertz).
    pub recorded: f64,
    /// The network's value (same unit).
    pub simulated: f64,
}

impl FigureCheck {
    /// Relative deviation `simulated/recorded − 1`.
    pub fn deviation(&self) -> f64 {
        self.simulated / self.recorded - 1.0
    }
}

impl Figures {
    /// Compares every recorded figure with `net` (analytic |Z|). Resonances are searched for as the
    /// largest |Z| within half an octave-and-a-bit (÷1.5 … ×1.5) of the recorded frequency; the
    /// minimum over 20 Hz–20 kHz on a 2000-point log grid.
    pub fn check(&self, net: &Network) -> Vec<FigureCheck> {
        let mut out = Vec::new();
        let mut push = |what: String, recorded: f64, simulated: f64| out.push(FigureCheck { what, recorded, simulated });
        if let Some(r) = self.dc_ohm {
            push("DC resistance".into(), r, net.impedance(1e-3).norm());
        }
        if let Some(f0) = self.resonance_hz {
            let (f, z) = extreme(net, f0 / 1.5, f0 * 1.5, 400, true);
            push("resonance frequency".into(), f0, f);
            if let Some(r) = self.resonance_ohm {
                push("|Z| at resonance".into(), r, z);
            }
        }
        if self.min_hz.is_some() || self.min_ohm.is_some() {
            let (f, z) = extreme(net, 20.0, 20_000.0, 2000, false);
            if let Some(f0) = self.min_hz {
                push("frequency of minimum |Z|".into(), f0, f);
            }
            if let Some(r) = self.min_ohm {
                push("minimum |Z|".into(), r, z);
            }
        }
        for [f, z] in &self.z_at {
            push(format!("|Z({f} Hz)|"), *z, net.impedance(*f).norm());
        }
        out
    }
}

/// (frequency, |Z|) of the largest (`max`) or smallest |Z| on an `n`-point log grid.
fn extreme(net: &Network, lo: f64, hi: f64, n: usize, max: bool) -> (f64, f64) {
    log_grid(lo, hi, n)
        .map(|f| (f, net.impedance(f).norm()))
        .fold((lo, if max { f64::NEG_INFINITY } else { f64::INFINITY }), |best, (f, z)| {
            if (max && z > best.1) || (!max && z < best.1) { (f, z) } else { best }
        })
}
