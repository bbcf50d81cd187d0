//! What a panel render did to the mix, read from the audio itself: the input, the setup's output
//! with its limits removed (the "linear twin": the same source network, level and noise, but no
//! rails, current limit or crossover) and the setup's full emulation, sample-aligned.
//!
//! * **Response**: `H(f) = ΣX*·Y / Σ|X|²` between the input and the linear twin (Welch's
//!   cross-spectral estimate, Hann frames of [`FRAME`] samples, summed over channels and over a
//!   1/6-octave band around each frequency, so it holds wherever the mix has energy).
//! * **Distortion**: in windows of [`WINDOW_S`], the part of the emulation not correlated with the
//!   linear twin, `‖e − α·l‖/‖α·l‖` with `α = ⟨e, l⟩/⟨l, l⟩` (for a sine, the harmonics over the
//!   fundamental: THD+N without the noise, which both renders share). The worst window counts
//!   among those within [`DISTORTION_FLOOR_DB`] of the loudest whose input is not silent.
//!
//! Threading: a render worker's own thread (allocates in `new`, not per push).

use num_complex::Complex64;
use realfft::{RealFftPlanner, RealToComplex};
use std::sync::Arc;

/// Welch frame, samples (2.9 Hz bins at 48 kHz: a 1/6-octave band at 50 Hz spans two).
pub const FRAME: usize = 16_384;
/// Distortion window, seconds.
pub const WINDOW_S: f64 = 0.1;
/// Windows quieter than the loudest by more than this are not rated for distortion, dB.
pub const DISTORTION_FLOOR_DB: f64 = 40.0;
/// Nor are windows whose input is below this RMS, dBFS (silence: only the stage's noise plays).
pub const SILENCE_DBFS: f64 = -100.0;
/// The panel's reference frequency and its bass and treble points, hertz.
pub const MID_HZ: f64 = 1000.0;
pub const BASS_HZ: f64 = 50.0;
pub const TREBLE_HZ: f64 = 10_000.0;
/// Half-width of a response band, octaves (1/6-octave bands).
const BAND_HALF_OCT: f64 = 1.0 / 12.0;
/// A band whose input energy is this far below the strongest band's is left out, dB.
const BAND_FLOOR_DB: f64 = 90.0;

/// What the analysis found.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Findings {
    /// Level of the linear twin against the input at 1 kHz, dB (the divider's loss).
    pub level_1k_db: Option<f64>,
    /// Level at 50 Hz and 10 kHz relative to 1 kHz, dB.
    pub bass_db: Option<f64>,
    pub treble_db: Option<f64>,
    /// Worst window's distortion, percent, and where it starts, seconds.
    pub worst_distortion_pct: Option<f64>,
    pub worst_at_s: Option<f64>,
    /// Response relative to 1 kHz, `(hertz, dB)`, 1/12-octave steps where the mix has energy.
    pub curve: Vec<(f64, f64)>,
}

/// Accumulates aligned input, linear-twin and emulation samples.
pub struct Analysis {
    fs_hz: f64,
    fft: Arc<dyn RealToComplex<f64>>,
    window: Vec<f64>,
    /// Per channel, the current Welch frame of input and linear twin.
    x: Vec<Vec<f64>>,
    l: Vec<Vec<f64>>,
    fill: usize,
    spec_in: Vec<f64>,
    spec_x: Vec<Complex64>,
    spec_out: Vec<Complex64>,
    sxy: Vec<Complex64>,
    sxx: Vec<f64>,
    win_len: usize,
    win_fill: usize,
    /// Current window's `Σe·l`, `Σl²`, `Σe²`, `Σx²`.
    win: [f64; 4],
    /// Every finished window's `(signal², residual²)`, `None` where the input is silent.
    windows: Vec<Option<(f64, f64)>>,
}

impl Analysis {
    pub fn new(fs_hz: f64, channels: usize) -> Self {
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(FRAME);
        let window = (0..FRAME).map(|k| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * k as f64 / FRAME as f64).cos()).collect();
        let bins = FRAME / 2 + 1;
        Self {
            fs_hz,
            spec_in: vec![0.0; FRAME],
            spec_x: fft.make_output_vec(),
            spec_out: fft.make_output_vec(),
            fft,
            window,
            x: vec![vec![0.0; FRAME]; channels],
            l: vec![vec![0.0; FRAME]; channels],
            fill: 0,
            sxy: vec![Complex64::new(0.0, 0.0); bins],
            sxx: vec![0.0; bins],
            win_len: ((WINDOW_S * fs_hz).round() as usize).max(1),
            win_fill: 0,
            win: [0.0; 4],
            windows: Vec::new(),
        }
    }

    /// Adds aligned samples: the input `x`, the linear twin `lin` and the emulation `emu` (per
    /// channel, equal lengths); `emu_gain` is a gain the emulation carries and the twin does not
    /// (Level Match), divided out.
    pub fn push(&mut self, x: &[&[f32]], lin: &[&[f32]], emu: &[&[f32]], emu_gain: f64) {
        let n = x.first().map_or(0, |c| c.len());
        let g = 1.0 / emu_gain;
        let mut at = 0;
        while at < n {
            let take = (FRAME - self.fill).min(self.win_len - self.win_fill).min(n - at);
            for c in 0..x.len() {
                for k in at..at + take {
                    let (xv, lv, ev) = (x[c][k] as f64, lin[c][k] as f64, emu[c][k] as f64 * g);
                    self.x[c][self.fill + k - at] = xv;
                    self.l[c][self.fill + k - at] = lv;
                    self.win[0] += ev * lv;
                    self.win[1] += lv * lv;
                    self.win[2] += ev * ev;
                    self.win[3] += xv * xv;
                }
            }
            at += take;
            self.fill += take;
            self.win_fill += take;
            if self.fill == FRAME {
                self.frame();
            }
            if self.win_fill == self.win_len {
                self.close_window();
            }
        }
    }

    /// One Welch frame per channel into the cross and auto spectra.
    fn frame(&mut self) {
        let Self { fft, window, x, l, spec_in, spec_x, spec_out, sxy, sxx, .. } = self;
        for (xc, lc) in x.iter().zip(l.iter()) {
            for (src, out) in [(xc, &mut *spec_x), (lc, &mut *spec_out)] {
                spec_in.iter_mut().zip(src.iter().zip(window.iter())).for_each(|(d, (s, w))| *d = s * w);
                fft.process(spec_in, out).expect("frame length matches the plan");
            }
            for (k, (xk, yk)) in spec_x.iter().zip(spec_out.iter()).enumerate() {
                sxy[k] += xk.conj() * yk;
                sxx[k] += xk.norm_sqr();
            }
        }
        self.fill = 0;
    }

    fn close_window(&mut self) {
        let [el, ll, ee, xx] = self.win;
        let residual = if ll > 0.0 { (ee - el * el / ll).max(0.0) } else { ee };
        // The compared signal is α·l, whose energy is (Σe·l)²/Σl².
        let signal = if ll > 0.0 { el * el / ll } else { 0.0 };
        let samples = (self.win_fill * self.x.len()).max(1) as f64;
        let heard = xx / samples > 10f64.powf(SILENCE_DBFS / 10.0) && signal > 0.0;
        self.windows.push(heard.then_some((signal, residual)));
        self.win = [0.0; 4];
        self.win_fill = 0;
    }

    /// The bins of the band `f·2^(±1/12)` (at least one, never DC).
    fn band_bins(&self, f_hz: f64) -> std::ops::RangeInclusive<usize> {
        let bin = self.fs_hz / FRAME as f64;
        let lo = ((f_hz * 2f64.powf(-BAND_HALF_OCT) / bin).floor() as usize).max(1);
        let hi = ((f_hz * 2f64.powf(BAND_HALF_OCT) / bin).ceil() as usize).min(self.sxx.len() - 1).max(lo);
        lo..=hi
    }

    /// `H` over the band `f·2^(±1/12)`, or `None` where the input has (almost) no energy.
    fn band(&self, f_hz: f64, floor: f64) -> Option<Complex64> {
        let (sxy, sxx) = self.band_bins(f_hz).fold((Complex64::new(0.0, 0.0), 0.0), |(a, b), k| (a + self.sxy[k], b + self.sxx[k]));
        (sxx > floor && sxx > 0.0).then(|| sxy / sxx)
    }

    /// The findings over everything pushed (a final partial frame or window is left out unless it
    /// is all there is).
    pub fn finish(mut self) -> Findings {
        if self.windows.is_empty() && self.win_fill > 0 {
            self.close_window();
        }
        let grid: Vec<f64> = (0..=120).map(|k| 20.0 * 2f64.powf(k as f64 / 12.0)).filter(|&f| f <= 20_000.0 && f < 0.45 * self.fs_hz).collect();
        // The band floor: relative to the strongest band's input energy.
        let energy = |f: f64| self.sxx[self.band_bins(f)].iter().sum::<f64>();
        let floor = grid.iter().map(|&f| energy(f)).fold(0.0, f64::max) * 10f64.powf(-BAND_FLOOR_DB / 10.0);
        let db = |h: Complex64| 20.0 * h.norm().max(1e-12).log10();
        let mid = self.band(MID_HZ, floor).map(db);
        let rel = |f: f64| self.band(f, floor).map(db).zip(mid).map(|(a, m)| a - m);
        let curve = grid.iter().filter_map(|&f| rel(f).map(|v| (f, v))).collect();
        let loudest = self.windows.iter().flatten().map(|w| w.0).fold(0.0, f64::max);
        let rated = self.windows.iter().enumerate().filter_map(|(k, w)| w.map(|w| (k, w))).filter(|(_, w)| w.0 >= loudest * 10f64.powf(-DISTORTION_FLOOR_DB / 10.0));
        let worst = rated.map(|(k, w)| (k, (w.1 / w.0).sqrt())).max_by(|a, b| a.1.total_cmp(&b.1));
        Findings {
            level_1k_db: mid,
            bass_db: rel(BASS_HZ),
            treble_db: rel(TREBLE_HZ),
            worst_distortion_pct: worst.map(|w| 100.0 * w.1),
            worst_at_s: worst.map(|w| w.0 as f64 * self.win_len as f64 / self.fs_hz),
            curve,
        }
    }
}
