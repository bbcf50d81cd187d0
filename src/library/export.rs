//! Writing impedance curves as text: ZMA (frequency, |Z|, phase) and CSV with a header.
//!
//! Both formats are what [`crate::import`] reads back, so an exported load re-imports to the same
//! curve. Frequencies in hertz, |Z| in ohms, phase in degrees.

use crate::dsp::network::{log_grid, Network};
use num_complex::Complex64;
use std::fmt::Write;

/// The default export grid: 1/48 octave from 10 Hz to 40 kHz (577 points), wide enough to show
/// what the engine does beyond the audio band at 96 kHz.
pub fn default_freqs() -> Vec<f64> {
    let n = (48.0 * (40_000.0f64 / 10.0).log2()).round() as usize + 1;
    log_grid(10.0, 40_000.0, n).collect()
}

/// The network's impedance at each frequency (analytic; the engine's modal filter is fitted to it).
pub fn sample(net: &Network, freqs: &[f64]) -> Vec<(f64, Complex64)> {
    freqs.iter().map(|&f| (f, net.impedance(f))).collect()
}

/// ZMA text of `net` at `freqs` (hertz): `*` comment lines, then `freq |Z| phase` per line.
pub fn write_zma(net: &Network, freqs: &[f64]) -> String {
    format_zma(&sample(net, freqs), &format!("network {}", super::netlist::format(net)))
}

/// CSV text of `net` at `freqs` (hertz) with the header `frequency_hz,impedance_ohm,phase_deg`.
pub fn write_csv(net: &Network, freqs: &[f64]) -> String {
    format_csv(&sample(net, freqs))
}

/// ZMA text of arbitrary samples; `note` goes into a comment line (newlines are stripped).
pub fn format_zma(points: &[(f64, Complex64)], note: &str) -> String {
    let mut s = String::with_capacity(40 * points.len() + 200);
    s.push_str("* Loadline impedance export\n");
    let _ = writeln!(s, "* {}", note.replace(['\r', '\n'], " "));
    s.push_str("* Freq(Hz) Z(Ohms) Phase(degrees)\n");
    for (f, z) in points {
        let _ = writeln!(s, "{f:.6} {:.6e} {:.6}", z.norm(), z.arg().to_degrees());
    }
    s
}

/// CSV text of arbitrary samples.
pub fn format_csv(points: &[(f64, Complex64)]) -> String {
    let mut s = String::with_capacity(40 * points.len() + 40);
    s.push_str("frequency_hz,impedance_ohm,phase_deg\n");
    for (f, z) in points {
        let _ = writeln!(s, "{f:.6},{:.6e},{:.6}", z.norm(), z.arg().to_degrees());
    }
    s
}
