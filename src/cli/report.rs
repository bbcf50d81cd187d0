//! What a render did, said after every render on standard error and, with `--report-json FILE`,
//! as JSON for scripts: every setting and where it came from, the formats, peaks, clipping by the
//! output format, time in rail clipping and current limiting, the peak load current, the Level
//! Match gain, replaced samples, speed and the file written.

use serde::Serialize;
use std::fmt::Write;

/// One setting of the render and where its value came from.
#[derive(Debug, Clone, Serialize)]
pub struct Setting {
    pub name: &'static str,
    pub value: String,
    /// "flag", "preset laptop-jack", "settings file s.toml", "default (preset laptop-jack)".
    pub source: String,
}

/// The report of one render.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub input: String,
    pub input_format: String,
    pub channels: usize,
    pub sample_rate_hz: u32,
    pub seconds: f64,
    pub output: String,
    pub output_format: String,
    /// "tpdf" or "off" at 16 bits; "none" otherwise.
    pub dither: String,
    pub settings: Vec<Setting>,
    /// A line saying which defaults the render leans on, if any.
    pub defaults_note: Option<String>,
    /// Peaks, dB re digital full scale (−inf for silence).
    pub peak_in_dbfs: f64,
    pub peak_out_dbfs: f64,
    /// Samples (all channels) the integer output format clipped.
    pub samples_clipped_by_format: u64,
    /// Shares of samples (all channels) at or past 95 % of the rail-clipping and current-limit
    /// onsets (the editor's CLIP and I LIMIT lights), percent; `None` where the stage has no such
    /// limit or the load current is unknown.
    pub rail_clipping_percent: Option<f64>,
    pub current_limiting_percent: Option<f64>,
    /// Peak load current, amperes, and the stage's Max Current (None: no limit).
    pub peak_current_a: Option<f64>,
    pub max_current_a: Option<f64>,
    /// Level Match gain applied, dB (None: Level Match off), and whether its ±40 dB limit cut it.
    pub level_match_gain_db: Option<f64>,
    pub level_match_capped: bool,
    /// Input samples that were NaN or infinite and were rendered as silence.
    pub non_finite_replaced: u64,
    /// Damaged packets a lossy decoder skipped.
    pub packets_skipped: u64,
    /// Audio seconds per wall-clock second.
    pub speed_x_real_time: f64,
}

/// A peak (full scale 1) in dBFS; −∞ for silence.
pub fn dbfs(peak: f64) -> f64 {
    if peak > 0.0 { 20.0 * peak.log10() } else { f64::NEG_INFINITY }
}

impl Report {
    /// The report as a few readable lines (standard error).
    pub fn text(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(t, "{} → {}", self.input, self.output);
        let _ = writeln!(
            t,
            "  in:  {}, {} ch, {} Hz, {:.2} s, peak {:.2} dBFS",
            self.input_format, self.channels, self.sample_rate_hz, self.seconds, self.peak_in_dbfs
        );
        let dither = if self.dither == "none" { String::new() } else { format!(", dither {}", self.dither) };
        let _ = writeln!(t, "  out: {}{dither}, peak {:.2} dBFS", self.output_format, self.peak_out_dbfs);
        let settings: Vec<String> = self.settings.iter().map(|s| format!("{} {} ({})", s.name, s.value, s.source)).collect();
        let _ = writeln!(t, "  settings: {}", settings.join("; "));
        if let Some(n) = &self.defaults_note {
            let _ = writeln!(t, "  note: {n}");
        }
        let pct = |p: Option<f64>| p.map_or("n/a".to_string(), |p| format!("{p:.3} %"));
        let _ = writeln!(
            t,
            "  rail clipping {} of samples, current limiting {}",
            pct(self.rail_clipping_percent),
            pct(self.current_limiting_percent)
        );
        if let Some(i) = self.peak_current_a {
            let limit = self.max_current_a.map_or("no current limit".to_string(), |m| format!("Max Current {:.1} mA ({:.0} %)", m * 1e3, 100.0 * i / m));
            let _ = writeln!(t, "  peak load current {:.2} mA against {limit}", i * 1e3);
        }
        if let Some(g) = self.level_match_gain_db {
            let cap = if self.level_match_capped { " (WARNING: capped at its ±40 dB limit; the render is quieter than matched)" } else { "" };
            let _ = writeln!(t, "  Level Match gain {g:+.2} dB{cap}");
        }
        if self.samples_clipped_by_format > 0 {
            let _ = writeln!(
                t,
                "  WARNING: {} samples clipped by the output format (peak {:.2} dBFS); lower --level or Output Trim, or write 32-bit float",
                self.samples_clipped_by_format, self.peak_out_dbfs
            );
        }
        if self.non_finite_replaced > 0 {
            let _ = writeln!(t, "  WARNING: {} NaN or infinite input samples were rendered as silence", self.non_finite_replaced);
        }
        if self.packets_skipped > 0 {
            let _ = writeln!(t, "  WARNING: {} damaged packets of the input were skipped", self.packets_skipped);
        }
        let _ = writeln!(t, "  {:.0}× real time; wrote {}", self.speed_x_real_time, self.output);
        t
    }
}
