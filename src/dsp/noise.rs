//! A deterministic white Gaussian noise source keyed on the sample's position, so renders are
//! reproducible whatever was processed before: the plugin in a DAW, from any start position,
//! online or offline, and `loadline render` give the same noise at the same timeline sample.
//!
//! Counter-based (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as 1, 2, 3",
//! SC 2011): sample `n` is a pure function of the key and `n`. The function is SplitMix64's output
//! mix (Steele, Lea, Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014) of
//! `key + (n + 1)·γ`, exactly SplitMix64's `n`-th output from state `key`. Its four 16-bit quarters,
//! read as signed, sum to an Irwin–Hall variate, Gaussian to within 1 % in density over ±3σ with
//! no transcendental functions. No sample depends on another, so a block is a loop the compiler
//! vectorises, and drawing a sample at a time ([`Noise::gaussian`]) or a block at a time
//! ([`Noise::add_block`]) gives the same stream (tested below).
//!
//! Threading: audio thread; nothing here allocates.

/// SplitMix64's increment γ (the odd integer nearest 2⁶⁴/φ).
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
/// Mean of the sum of four signed 16-bit uniforms on {−32768, …, 32767}: 4 × (−0.5).
const MEAN: f64 = -2.0;
/// 1/σ of that sum: σ² = 4·(65536² − 1)/12.
const INV_SD: f64 = 1.0 / 37_837.227_237_206_48;

#[derive(Debug, Clone)]
pub struct Noise {
    /// The stream's key (from the seed).
    key: u64,
    /// Position of the next sample, base-rate samples.
    next: u64,
}

/// SplitMix64's output mix (Steele et al. 2014), a bijection of 64-bit words.
#[inline(always)]
fn mix(x: u64) -> u64 {
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The unit-variance sample at position `n` of the stream `key`.
#[inline(always)]
fn sample(key: u64, n: u64) -> f64 {
    let r = mix(key.wrapping_add(n.wrapping_add(1).wrapping_mul(GAMMA)));
    let q = |k: u32| (r >> k) as u16 as i16 as i32;
    let s = (q(0) + q(16)) + (q(32) + q(48));
    (s as f64 - MEAN) * INV_SD
}

impl Noise {
    /// The stream for `seed` (any value; different seeds give independent streams), at position 0.
    pub fn new(seed: u64) -> Self {
        Self { key: mix(seed.wrapping_add(GAMMA)), next: 0 }
    }

    /// Back to position 0 (called by `reset`, so every render starts identically).
    pub fn reset(&mut self) {
        self.next = 0;
    }

    /// Moves to position `n` (the host's timeline sample, or a render's sample index): the next
    /// sample drawn is the stream's `n`-th.
    pub fn set_position(&mut self, n: u64) {
        self.next = n;
    }

    /// Position of the next sample.
    pub fn position(&self) -> u64 {
        self.next
    }

    /// One sample with zero mean and unit variance.
    #[inline]
    pub fn gaussian(&mut self) -> f64 {
        let g = sample(self.key, self.next);
        self.next = self.next.wrapping_add(1);
        g
    }

    /// Adds `sigma` times the next `e.len()` samples to `e` (`e += sigma·g`, unfused, exactly as
    /// `e + sigma * gaussian()` per sample).
    pub fn add_block(&mut self, e: &mut [f64], sigma: f64) {
        let (key, n0) = (self.key, self.next);
        for (i, e) in e.iter_mut().enumerate() {
            *e += sigma * sample(key, n0.wrapping_add(i as u64));
        }
        self.next = n0.wrapping_add(e.len() as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_variance_white_and_reproducible() {
        let mut n = Noise::new(7);
        let v: Vec<f64> = (0..200_000).map(|_| n.gaussian()).collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64;
        assert!(mean.abs() < 0.01 && (var - 1.0).abs() < 0.01, "{mean} {var}");
        for lag in 1..=16 {
            let c = v.iter().zip(&v[lag..]).map(|(a, b)| (a - mean) * (b - mean)).sum::<f64>() / v.len() as f64;
            assert!(c.abs() < 0.01, "lag {lag}: {c}");
        }
        // Gaussian shape: the share beyond 2σ (4.55 % for a normal law).
        let tail = v.iter().filter(|x| x.abs() > 2.0).count() as f64 / v.len() as f64;
        assert!((tail - 0.0455).abs() < 0.004, "{tail}");
        n.reset();
        assert_eq!(n.gaussian(), v[0]);
        // Another seed is another stream, uncorrelated with this one.
        let mut m = Noise::new(8);
        let c = v.iter().map(|a| a * m.gaussian()).sum::<f64>() / v.len() as f64;
        assert!(c.abs() < 0.01, "seeds 7 and 8: {c}");
    }

    /// A sample depends on its position only: jumping there gives what running there gives.
    #[test]
    fn a_position_gives_the_same_sample_however_it_is_reached() {
        let mut run = Noise::new(3);
        let v: Vec<f64> = (0..5000).map(|_| run.gaussian()).collect();
        let mut jump = Noise::new(3);
        for at in [4321u64, 17, 0, 4999, 2048] {
            jump.set_position(at);
            assert_eq!(jump.gaussian(), v[at as usize], "position {at}");
            assert_eq!(jump.position(), at + 1);
        }
        let mut block = vec![0.0; 100];
        jump.set_position(1234);
        jump.add_block(&mut block, 1.0);
        assert_eq!(block[..], v[1234..1334]);
    }

    /// Blocks of any length continue the per-sample stream exactly.
    #[test]
    fn blocks_continue_the_stream() {
        let sigma = 0.37;
        let mut one = Noise::new(11);
        let want: Vec<f64> = (0..1000).map(|k| (k as f64 * 1e-3) + sigma * one.gaussian()).collect();
        let mut n = Noise::new(11);
        let mut got: Vec<f64> = (0..1000).map(|k| k as f64 * 1e-3).collect();
        let mut at = 0;
        for len in [1, 3, 4, 5, 64, 7, 0, 130, 2, 1].iter().cycle() {
            let end = (at + len).min(got.len());
            n.add_block(&mut got[at..end], sigma);
            // Interleave a per-sample draw now and then, as the engine does while smoothing.
            at = end;
            if at == got.len() {
                break;
            }
            if len % 2 == 1 {
                got[at] += sigma * n.gaussian();
                at += 1;
            }
            if at == got.len() {
                break;
            }
        }
        assert_eq!(got, want);
    }
}
