//! One panel setup rendered: the mix through the setup's emulation (Level Match on, so every
//! setup's file plays the listening level at the same digital level and the files compare by ear
//! at one monitor setting) and, in lockstep, through its linear twin for the analysis
//! ([`super::analysis`]). Audio comes from and goes to the caller (the command line decodes and
//! encodes), in chunks; the latency is removed, so the output lines up with the input.
//!
//! Threading: a render worker's own thread.

use super::analysis::{Analysis, Findings};
use super::Setup;
use crate::dsp::{Quality, StageParams};
use crate::plugin::NOISE_SEED;
use crate::processor::config::SessionConfig;
use crate::processor::listening::spl_of;
use crate::processor::meters::{meters, MeterTarget};
use crate::processor::peak::peak_abs;
use crate::processor::{level_match_gain, Processor, LEVEL_MATCH_HZ};

/// Samples per processing block (the renderer's default).
pub const BLOCK: usize = 512;
/// Frames per chunk read from the caller.
pub const CHUNK: usize = 16 * BLOCK;

/// What one setup did to the mix.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SetupResult {
    #[serde(flatten)]
    pub findings: Findings,
    /// The stage's Level for the listening level, V RMS at 0 dBFS.
    pub level_v_rms: f64,
    /// The Level Match gain in the file, dB (the listener's volume turned up by this).
    pub level_match_db: f64,
    /// Share of samples at the rails and of steps in current limiting, percent (the meters').
    pub clipping_pct: f64,
    pub limiting_pct: f64,
    /// Sound pressure of the whole render at the headphone, dB SPL.
    pub measured_spl_db: f64,
    /// Peak of the written file, dBFS.
    pub peak_out_dbfs: f64,
}

/// The setup as a session: slot A plays its stage into its headphone at `spl_db`.
fn session(setup: &Setup, stage: StageParams, spl_db: f64, level_match: bool) -> SessionConfig {
    let mut c = SessionConfig::default();
    c.a.stage = stage;
    c.a.headphone = setup.headphone.id.clone();
    c.a.spl_db = Some(spl_db);
    c.level_match = level_match;
    c
}

/// The stage without what makes it nonlinear: no rails, no current limit, class A.
pub fn linear_twin(stage: &StageParams) -> StageParams {
    StageParams { v_max_v: None, i_max_a: None, bias: 1.0, xo_v: 0.0, r_mod_ohm: 0.0, ..*stage }
}

/// The mix's rate and channels, and the processing quality.
#[derive(Debug, Clone, Copy)]
pub struct MixFormat {
    pub fs_hz: f64,
    pub channels: usize,
    pub quality: Quality,
}

/// Renders the mix through `setup` at `spl_db`. `read(chans, max)` fills up to `max` frames per
/// channel and returns how many (0 at the end); `write(chans, from, to)` takes the aligned output
/// frames `from..to` of each channel; `progress(frames)` counts input consumed.
pub fn render_setup<E>(
    setup: &Setup,
    spl_db: f64,
    mix: MixFormat,
    mut read: impl FnMut(&mut [Vec<f32>], usize) -> Result<usize, E>,
    mut write: impl FnMut(&[Vec<f32>], usize, usize) -> Result<(), E>,
    mut progress: impl FnMut(u64),
) -> Result<SetupResult, E> {
    let MixFormat { fs_hz, channels, quality } = mix;
    let stage = setup.stage.params;
    let make = |st: StageParams, lm: bool| {
        let mut p = Processor::with_library(fs_hz, quality, channels, [None, None], &session(setup, st, spl_db, lm).settings(), NOISE_SEED)
            .expect("library setups are valid");
        p.set_skip_silent_slot(true);
        p
    };
    let (mut emu, mut lin) = (make(stage, true), make(linear_twin(&stage), false));
    let played = emu.effective_stage(0);
    let z_1k = setup.headphone.network.impedance(LEVEL_MATCH_HZ);
    let gain = level_match_gain(&played, z_1k).0;
    let latency = emu.latency();
    debug_assert_eq!(latency, lin.latency());
    let load = crate::processor::config::load_index(&setup.headphone.id).unwrap_or(0);
    let target = MeterTarget { slot: 0, load, stage: played };
    let (mut meter, _) = meters();
    let mut analysis = Analysis::new(fs_hz, channels);
    let mut e: Vec<Vec<f32>> = vec![vec![0.0; CHUNK]; channels];
    let mut l = e.clone();
    // Input not yet matched with output (the processors delay by `latency`).
    let mut x_wait: Vec<Vec<f32>> = vec![Vec::with_capacity(CHUNK + latency); channels];
    let (mut skip, mut tail, mut peak) = (latency, latency, 0.0f32);
    loop {
        let k = read(&mut e, CHUNK)?;
        progress(k as u64);
        // After the input, `latency` zeros push its last samples out.
        let zeros = (CHUNK - k).min(tail);
        tail -= zeros;
        let len = k + zeros;
        if len == 0 {
            break;
        }
        for (c, ch) in e.iter_mut().enumerate() {
            ch[k..len].fill(0.0);
            x_wait[c].extend_from_slice(&ch[..k]);
            l[c][..len].copy_from_slice(&ch[..len]);
        }
        for at in (0..len).step_by(BLOCK) {
            let end = (at + BLOCK).min(len);
            meter.begin_block(fs_hz, target);
            let mut ce: Vec<&mut [f32]> = e.iter_mut().map(|c| &mut c[at..end]).collect();
            emu.process_metered(&mut ce, Some(&mut meter));
            let mut cl: Vec<&mut [f32]> = l.iter_mut().map(|c| &mut c[at..end]).collect();
            lin.process_metered(&mut cl, None);
        }
        let from = skip.min(len);
        skip -= from;
        let n = (len - from).min(x_wait[0].len());
        if n > 0 {
            let xs: Vec<&[f32]> = x_wait.iter().map(|c| &c[..n]).collect();
            let ls: Vec<&[f32]> = l.iter().map(|c| &c[from..from + n]).collect();
            let es: Vec<&[f32]> = e.iter().map(|c| &c[from..from + n]).collect();
            analysis.push(&xs, &ls, &es, gain);
            peak = es.iter().fold(peak, |m, c| m.max(peak_abs(c).0));
            write(&e, from, from + n)?;
            x_wait.iter_mut().for_each(|c| {
                c.drain(..n);
            });
        }
    }
    let t = meter.totals();
    let share = |a: u64, b: u64| if b > 0 { 100.0 * a as f64 / b as f64 } else { 0.0 };
    let sens = setup.headphone.sensitivity().unwrap_or(0.0);
    Ok(SetupResult {
        findings: analysis.finish(),
        level_v_rms: played.level_v,
        level_match_db: 20.0 * gain.log10(),
        clipping_pct: if played.v_max_v.is_some() { share(t.clipping, t.samples) } else { 0.0 },
        limiting_pct: if played.i_max_a.is_some() { share(t.limiting_steps, t.current_steps) } else { 0.0 },
        measured_spl_db: spl_of(if t.samples > 0 { (t.v2_sum / t.samples as f64).sqrt() } else { 0.0 }, sens),
        peak_out_dbfs: 20.0 * (peak as f64).max(1e-12).log10(),
    })
}
