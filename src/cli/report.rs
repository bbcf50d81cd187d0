//! What a render did, said after every render on standard error and, with `--report-json FILE`,
//! as JSON for scripts: every setting and where it came from, the formats, peaks, clipping by the
//! output format, time in rail clipping and current limiting, the peak load current, the Level
//! Match gain, the listening level and the sound pressure it gives, replaced samples, speed and
//! the file written.

use loadline::dsp::stage::{v_to_dbu, StageParams};
use loadline::processor::listening::{level_for_spl, REFERENCE_DBFS, REFERENCE_HZ};
use num_complex::Complex64;
use serde::Serialize;
use std::f64::consts::SQRT_2;
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
    /// The sound pressure of the whole render in the headphone, dB SPL: the load's sensitivity and
    /// the RMS of the rendered headphone voltage over the file (`None`: no sensitivity figure).
    pub measured_spl_db: Option<f64>,
    /// The listening level asked for, and what the stage does with it (`None`: Level in dBu).
    pub listening: Option<ListeningReport>,
}

/// What a listening level (`--spl`) asked of the stage.
#[derive(Debug, Clone, Serialize)]
pub struct ListeningReport {
    /// dB SPL asked for the reference sine (1 kHz at −14 dBFS RMS).
    pub asked_db_spl: f64,
    /// The load's sensitivity, dB SPL for 1 V at 1 kHz (`None`: not known; the Level is the
    /// stage's own).
    pub sensitivity_db_spl_per_v: Option<f64>,
    /// The stage Level that gives it, dBu at 0 dBFS.
    pub level_dbu: f64,
    /// The reference sine's open-circuit voltage and peak load current at the stage.
    pub reference_source_v_rms: f64,
    pub reference_current_peak_a: f64,
    /// Whether the reference sine itself reaches the rail-clip onset or the Max Current.
    pub reference_clips: bool,
    pub reference_limits: bool,
    /// One sentence when the stage cannot give the level cleanly (or at all).
    pub note: Option<String>,
}

impl ListeningReport {
    /// The report for `asked_db_spl` played by `stage` (its Level already derived) into a load of
    /// impedance `z_load_1k_ohm` at 1 kHz.
    pub fn new(asked_db_spl: f64, sensitivity_db_spl_per_v: Option<f64>, stage: &StageParams, z_load_1k_ohm: Complex64) -> Self {
        let v_src = stage.level_v * 10f64.powf(REFERENCE_DBFS / 20.0);
        let z = z_load_1k_ohm + stage.mono_source_impedance(REFERENCE_HZ);
        let i_peak = SQRT_2 * v_src / z.norm();
        let clips = stage.v_max_v.is_some_and(|v| v_src >= v);
        let limits = stage.i_max_a.is_some_and(|i| i_peak >= i);
        let level_dbu = v_to_dbu(stage.level_v);
        let (_, capped) = sensitivity_db_spl_per_v.map_or((0.0, false), |s| level_for_spl(asked_db_spl, s, z_load_1k_ohm, stage));
        let note = match sensitivity_db_spl_per_v {
            None => Some(format!("the load has no sensitivity figure: the Level stays the stage's {level_dbu:+.1} dBu")),
            Some(_) if capped => Some(format!("{asked_db_spl} dB SPL needs a Level beyond the stage's range; it plays at {level_dbu:+.1} dBu, quieter than asked")),
            Some(_) if clips => Some(format!(
                "the stage clips at this level: the reference sine needs {v_src:.2} V RMS, past its {:.2} V RMS rail-clip onset",
                stage.v_max_v.unwrap_or(f64::NAN)
            )),
            Some(_) if limits => Some(format!(
                "the stage limits at this level: the reference sine draws {:.1} mA peak, past its {:.1} mA Max Current",
                i_peak * 1e3,
                stage.i_max_a.unwrap_or(f64::NAN) * 1e3
            )),
            Some(_) => None,
        };
        Self {
            asked_db_spl,
            sensitivity_db_spl_per_v,
            level_dbu,
            reference_source_v_rms: v_src,
            reference_current_peak_a: i_peak,
            reference_clips: clips,
            reference_limits: limits,
            note,
        }
    }
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
        if let Some(l) = &self.listening {
            let _ = writeln!(t, "  listening level {} dB SPL (1 kHz at −14 dBFS RMS): Level {:+.1} dBu", l.asked_db_spl, l.level_dbu);
            if let Some(n) = &l.note {
                let _ = writeln!(t, "  WARNING: {n}");
            }
        }
        if let Some(spl) = self.measured_spl_db {
            let _ = writeln!(t, "  the render averages {spl:.1} dB SPL in the headphone");
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
