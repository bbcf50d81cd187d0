//! The bench's full measurement of one emulated setup (`loadline bench`): frequency response at
//! the headphone, THD+N against output level, maximum output against load resistance and output
//! impedance, each read from audio rendered through the engine (see [`super::Analyser`]).
//!
//! Threading: a command's own threads (allocates; about a quarter of a second per setup on two
//! cores).

use super::{predicted_max_e, Analyser, MaxOutput};
use crate::dsp::{Network, StageParams};
use crate::editor::model::{crosstalk_db, deviation_db};
use std::f64::consts::PI;

/// Resistive loads of the maximum-output sweep, ohms (8 Ω to 600 Ω, as the issue asks).
pub const LOAD_SWEEP_OHM: [f64; 12] = [8.0, 12.0, 16.0, 24.0, 32.0, 47.0, 64.0, 100.0, 150.0, 250.0, 300.0, 600.0];

/// The two resistive loads of the output-impedance reading, ohms (a high one and a low one).
pub const IMPEDANCE_LOADS_OHM: (f64, f64) = (600.0, 32.0);

/// The distortion threshold of a maximum-output rating (1 % THD).
pub const RATING_THD: f64 = 0.01;

/// Frequency-response tones per octave (1/12 octave) and their span, hertz.
const TONES_PER_OCTAVE: f64 = 12.0;
const RESPONSE_SPAN_HZ: (f64, f64) = (20.0, 20_000.0);

/// The multitone's RMS relative to the smaller of full scale and the limits into the load's
/// smallest |Z| (−20 dB: the stage stays linear, far above its noise).
const RESPONSE_DRIVE_DB: f64 = -20.0;

/// The THD+N sweep: from this far below its top, in steps of this many dB.
const SWEEP_RANGE_DB: f64 = 80.0;
const SWEEP_STEP_DB: f64 = 2.0;
/// The sweep goes this far past the 1 % THD drive (if full scale allows), to show clipping.
const SWEEP_PAST_RATING_DB: f64 = 6.0;

/// One frequency of the response: measured from rendered audio and predicted by the plots' model.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ResponsePoint {
    pub f_hz: f64,
    /// Load voltage over the ideal (0 Ω) source's, dB.
    pub measured_db: f64,
    /// `20·log10|Z/(Z+Zs)|` from the same network (`editor::model::deviation_db`), dB.
    pub model_db: f64,
}

/// One frequency of the crosstalk through the shared ground: the silent channel's earpiece
/// voltage over the driven one's, measured from a rendered stereo pair and predicted by the
/// plots' model (`editor::model::crosstalk_db`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct CrosstalkPoint {
    pub f_hz: f64,
    /// `20·log10|v_R/v_L|` with only the left channel driven, dB.
    pub measured_db: f64,
    pub model_db: f64,
}

/// One step of the THD+N sweep, at [`Analyser::f_hz`] into the headphone.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct LevelPoint {
    /// Open-circuit drive, V RMS.
    pub drive_v_rms: f64,
    /// Fundamental at the headphone, V RMS.
    pub v_rms: f64,
    pub thd_pct: f64,
    /// THD+N over 20 Hz–20 kHz with the stage's noise floor, percent.
    pub thd_n_pct: f64,
}

/// Everything `loadline bench` reports for one stage into one headphone.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Measurement {
    pub fs_hz: f64,
    pub test_hz: f64,
    /// Two-load output impedance at the test frequency (600 Ω and 32 Ω), ohms.
    pub output_impedance_ohm: f64,
    /// Multitone RMS (open circuit) of the response reading, V.
    pub response_drive_v_rms: f64,
    pub response: Vec<ResponsePoint>,
    /// Crosstalk through the shared ground (empty with separate returns).
    pub crosstalk: Vec<CrosstalkPoint>,
    pub thd_n: Vec<LevelPoint>,
    /// Maximum output at 1 % THD (or full scale) into each of [`LOAD_SWEEP_OHM`].
    pub max_output: Vec<MaxOutput>,
    /// Maximum output at 1 % THD (or full scale) into the headphone at the test frequency.
    pub max_into_headphone: MaxOutput,
}

/// Measures `stage` driving `headphone` on the bench `an`, spreading the independent readings
/// over the machine's cores.
pub fn measure(an: &Analyser, stage: &StageParams, headphone: &Network) -> Measurement {
    let (r_hi, r_lo) = IMPEDANCE_LOADS_OHM;
    std::thread::scope(|s| {
        let loads = s.spawn(|| LOAD_SWEEP_OHM.map(|r| an.max_output(stage, r, RATING_THD)).to_vec());
        let zout = s.spawn(|| an.output_impedance(stage, r_hi, r_lo));
        let xt = s.spawn(|| crosstalk(an, stage, headphone));
        let (drive, response) = frequency_response(an, stage, headphone);
        let max_into_headphone = an.max_output_into(stage, headphone, RATING_THD);
        let thd_n = thd_n_sweep(an, stage, headphone, &max_into_headphone);
        Measurement {
            fs_hz: an.fs_hz,
            test_hz: an.f_hz,
            output_impedance_ohm: zout.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
            response_drive_v_rms: drive,
            response,
            crosstalk: xt.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
            thd_n,
            max_output: loads.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
            max_into_headphone,
        }
    })
}

/// The response reading's drive: a periodic multitone on exact bins (1 Hz apart), 1/12 octave
/// from 20 Hz to 20 kHz with Schroeder phases (a low crest factor), at [`RESPONSE_DRIVE_DB`]
/// below the stage's limits into the headphone.
struct Multitone {
    /// Period, samples, and bin spacing, hertz.
    frame: usize,
    bin_hz: f64,
    bins: Vec<usize>,
    /// Each tone's amplitude, V peak, and the whole multitone's RMS, V.
    amp_v: f64,
    drive_v_rms: f64,
    /// One period of open-circuit volts.
    table: Vec<f64>,
}

fn multitone(an: &Analyser, stage: &StageParams, headphone: &Network) -> Multitone {
    let frame = an.fs_hz.round() as usize;
    let bin_hz = an.fs_hz / frame as f64;
    let octaves = (RESPONSE_SPAN_HZ.1 / RESPONSE_SPAN_HZ.0).log2();
    let mut bins: Vec<usize> = (0..=(octaves * TONES_PER_OCTAVE).round() as usize)
        .map(|k| (RESPONSE_SPAN_HZ.0 * 2f64.powf(k as f64 / TONES_PER_OCTAVE) / bin_hz).round() as usize)
        .filter(|&b| b > 0 && b < frame / 2 && b as f64 * bin_hz <= RESPONSE_SPAN_HZ.1)
        .collect();
    bins.dedup();
    let z_min = headphone.min_magnitude(RESPONSE_SPAN_HZ.0, RESPONSE_SPAN_HZ.1);
    let top = predicted_max_e(stage, z_min).unwrap_or(stage.level_v).min(stage.level_v);
    let drive = top * 10f64.powf(RESPONSE_DRIVE_DB / 20.0);
    // Equal tones whose powers add to the drive's: amplitude √2·E/√n each.
    let a = std::f64::consts::SQRT_2 * drive / (bins.len() as f64).sqrt();
    let n = bins.len() as f64;
    let phases: Vec<f64> = (0..bins.len()).map(|j| -PI * (j * j) as f64 / n).collect();
    let table: Vec<f64> = {
        let mut t = vec![0.0; frame];
        for (&b, &ph) in bins.iter().zip(&phases) {
            let w = 2.0 * PI * b as f64 / frame as f64;
            t.iter_mut().enumerate().for_each(|(k, v)| *v += a * (w * k as f64 + ph).sin());
        }
        t
    };
    Multitone { frame, bin_hz, bins, amp_v: a, drive_v_rms: drive, table }
}

/// The response at the headphone against the ideal source: each tone of the [`Multitone`]'s load
/// voltage over its open-circuit drive. A single engine plays into both earpieces, so with a
/// shared ground this is a mono signal's response. Returns the multitone's RMS drive and the
/// points.
pub fn frequency_response(an: &Analyser, stage: &StageParams, headphone: &Network) -> (f64, Vec<ResponsePoint>) {
    let m = multitone(an, stage, headphone);
    let spec = an.steady_spectrum(stage, headphone, m.frame, false, |k| m.table[k]);
    let points = m
        .bins
        .iter()
        .map(|&b| {
            let f_hz = b as f64 * m.bin_hz;
            ResponsePoint { f_hz, measured_db: 20.0 * (spec[b] / m.amp_v).max(1e-12).log10(), model_db: deviation_db(headphone, stage, f_hz) }
        })
        .collect();
    (m.drive_v_rms, points)
}

/// The crosstalk through `stage`'s shared ground with the [`Multitone`] in the left channel of a
/// stereo pair and silence in the right: each tone's right earpiece voltage over its left. Empty
/// with separate returns (there is none).
pub fn crosstalk(an: &Analyser, stage: &StageParams, headphone: &Network) -> Vec<CrosstalkPoint> {
    if stage.r_ground_ohm <= 0.0 {
        return Vec::new();
    }
    let m = multitone(an, stage, headphone);
    let [left, right] = an.steady_spectra_pair(stage, headphone, m.frame, |k| m.table[k]);
    m.bins
        .iter()
        .map(|&b| {
            let f_hz = b as f64 * m.bin_hz;
            CrosstalkPoint { f_hz, measured_db: 20.0 * (right[b] / left[b]).max(1e-15).log10(), model_db: crosstalk_db(headphone, stage, f_hz) }
        })
        .collect()
}

/// THD and THD+N at the test frequency into the headphone, from [`SWEEP_RANGE_DB`] below the top
/// of the sweep in [`SWEEP_STEP_DB`] steps; the top is [`SWEEP_PAST_RATING_DB`] past the 1 % THD
/// drive, or full scale when that comes first (a DAC cannot be driven past it).
pub fn thd_n_sweep(an: &Analyser, stage: &StageParams, headphone: &Network, rating: &MaxOutput) -> Vec<LevelPoint> {
    let top = if rating.at_full_scale { stage.level_v } else { (rating.drive_v_rms * 10f64.powf(SWEEP_PAST_RATING_DB / 20.0)).min(stage.level_v) };
    let steps = (SWEEP_RANGE_DB / SWEEP_STEP_DB).round() as i32;
    (-steps..=0)
        .map(|k| {
            let e = top * 10f64.powf(k as f64 * SWEEP_STEP_DB / 20.0);
            let r = an.read_sine(stage, headphone, e, true);
            LevelPoint { drive_v_rms: e, v_rms: r.v_rms, thd_pct: 100.0 * r.thd, thd_n_pct: 100.0 * r.thd_n }
        })
        .collect()
}
