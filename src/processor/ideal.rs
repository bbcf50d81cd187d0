//! The ideal path: the engines' up- and downsampling with a wire between (0 Ω, unlimited, the
//! same latency), what Listen Ideal plays and Difference subtracts. It runs only while it can be
//! heard: with Listen on Emulation its output is multiplied by zero, and it cost about a tenth of
//! the processor. Its filters are finite impulse responses, so their state is a function of the
//! last few inputs alone: a history of them is kept, and when the path is needed again it is
//! primed from that history, which puts it in exactly the state it would have had running all
//! along (`tests/plugin_processor.rs` holds the two bit-identical), so a switch to Ideal or
//! Difference starts at once and without a click.
//!
//! Threading: audio thread; nothing here allocates after [`IdealPath::new`].

use super::ramp::Delay;
use super::{CHUNK, MAX_CHANNELS};
use crate::dsp::resample::Oversampler;

/// The ideal path for up to [`MAX_CHANNELS`] channels.
#[derive(Debug)]
pub struct IdealPath {
    os: Vec<Oversampler>,
    /// Per channel: the last inputs, as a delay line read oldest first when priming.
    history: Vec<Delay>,
    /// True while the filters hold the state of the inputs so far (they ran, or were primed).
    live: bool,
    /// False runs the path always (for tests that compare the two).
    on_demand: bool,
    /// Oversampled scratch, `CHUNK × factor`.
    hi: Vec<f64>,
    /// Output scratch for priming.
    trash: Vec<f64>,
}

impl IdealPath {
    /// The path for `channels` channels from a designed oversampler (cloned per channel).
    pub fn new(os: &Oversampler, channels: usize) -> Self {
        let f = os.factor();
        // Far more than the filters' memory (about twice the latency, in base-rate samples).
        let history_len = 4 * os.latency() + 64;
        Self {
            os: (0..channels).map(|_| os.clone()).collect(),
            history: (0..channels).map(|_| Delay::new(history_len)).collect(),
            live: true,
            on_demand: true,
            hi: vec![0.0; CHUNK * f],
            trash: vec![0.0; CHUNK],
        }
    }

    /// Base-rate latency, samples (the engines').
    pub fn latency(&self) -> usize {
        self.os.first().map_or(0, |o| o.latency())
    }

    /// Runs the path always (`false`) or only while it is heard (`true`, the default). For tests
    /// and benchmarks that compare the two.
    pub fn set_on_demand(&mut self, on: bool) {
        self.on_demand = on;
    }

    /// Whether the filters are running (or will, primed, at the next needed chunk).
    pub fn is_live(&self) -> bool {
        self.live
    }

    /// Clears the filters and the history (as at rest).
    pub fn reset(&mut self) {
        self.os.iter_mut().for_each(|o| o.reset());
        self.history.iter_mut().for_each(Delay::reset);
        self.live = true;
    }

    /// One chunk of `len ≤ CHUNK` samples of `nch` channels: `out[ch][..len]` is the ideal
    /// path's output of `x[ch][..len]` if `needed`, else zeros (not computed).
    pub fn process(&mut self, x: &[[f64; CHUNK]; MAX_CHANNELS], out: &mut [[f64; CHUNK]; MAX_CHANNELS], nch: usize, len: usize, needed: bool) {
        let nch = nch.min(self.os.len());
        if needed || !self.on_demand {
            if !self.live {
                self.prime(nch);
            }
            for (ch, os) in self.os.iter_mut().enumerate().take(nch) {
                let f = os.factor();
                os.up_block(&x[ch][..len], &mut self.hi[..len * f]);
                os.down_block(&self.hi[..len * f], &mut out[ch][..len]);
            }
        } else {
            self.live = false;
            out.iter_mut().take(nch).for_each(|o| o[..len].fill(0.0));
        }
        self.remember(x, nch, len);
    }

    /// Appends a chunk's inputs to the history.
    fn remember(&mut self, x: &[[f64; CHUNK]; MAX_CHANNELS], nch: usize, len: usize) {
        for (h, xs) in self.history.iter_mut().zip(x.iter()).take(nch) {
            h.push_block(&xs[..len]);
        }
    }

    /// Puts the filters in the state of the inputs so far: from rest, through the history,
    /// oldest first (the output is discarded).
    fn prime(&mut self, nch: usize) {
        for (os, h) in self.os.iter_mut().zip(&self.history).take(nch) {
            os.reset();
            let f = os.factor();
            let mut past = h.oldest_first();
            let mut chunk = [0.0; CHUNK];
            loop {
                let k = chunk.iter_mut().zip(&mut past).map(|(c, v)| *c = v).count();
                if k == 0 {
                    break;
                }
                os.up_block(&chunk[..k], &mut self.hi[..k * f]);
                os.down_block(&self.hi[..k * f], &mut self.trash[..k]);
            }
        }
        self.live = true;
    }
}
