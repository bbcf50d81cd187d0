//! A deterministic white Gaussian noise source, so offline renders are bit-reproducible.
//!
//! Eight xorshift64* generators (Vigna, "An experimental exploration of Marsaglia's xorshift
//! generators, scrambled", ACM TOMS 42(4), 2016) run side by side (independent chains, so one's
//! shifts and multiplies overlap another's) and take turns: sample `8m + l` comes from lane `l`'s
//! `m`-th output. Each output feeds
//! an Irwin–Hall sum of four uniforms (its four 16-bit quarters, read as signed), which is Gaussian
//! to within 1 % in density over ±3σ and costs no transcendental functions. The sequence is a
//! stream: it is the same whether it is drawn a sample at a time ([`Noise::gaussian`]) or a block at
//! a time ([`Noise::add_block`]) (tested below).
//!
//! Threading: audio thread; nothing here allocates.

/// The xorshift64* multiplier (Vigna 2016, table IV).
const MUL: u64 = 0x2545_F491_4F6C_DD1D;
/// Mean of the sum of four signed 16-bit uniforms on {−32768, …, 32767}: 4 × (−0.5).
const MEAN: f64 = -2.0;
/// 1/σ of that sum: σ² = 4·(65536² − 1)/12.
const INV_SD: f64 = 1.0 / 37_837.227_237_206_48;

/// Generators taking turns.
const LANES: usize = 8;

#[derive(Debug, Clone)]
pub struct Noise {
    /// The lanes' generator states.
    state: [u64; LANES],
    seed: [u64; LANES],
    /// Drawn but not yet used unit-variance samples, for [`Self::gaussian`] and block tails.
    buf: [f64; LANES],
    /// Next unused entry of `buf` (`LANES`: empty).
    pos: usize,
}

/// SplitMix64 (Steele, Lea, Flood, OOPSLA 2014): spreads one seed into the lanes' seeds.
fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One lane's step: the new state and its output's sum of quarters.
#[inline(always)]
fn lane_step(mut x: u64) -> (u64, i32) {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    let r = x.wrapping_mul(MUL);
    let q = |k: u32| (r >> k) as u16 as i16 as i32;
    (x, (q(0) + q(16)) + (q(32) + q(48)))
}

/// A sum of quarters as a unit-variance sample.
#[inline(always)]
fn unit(s: i32) -> f64 {
    (s as f64 - MEAN) * INV_SD
}

impl Noise {
    /// A generator with the given seed (any value).
    pub fn new(seed: u64) -> Self {
        let mut s = [0u64; LANES];
        for (l, s) in s.iter_mut().enumerate() {
            let v = splitmix(seed ^ splitmix(l as u64));
            *s = if v == 0 { 1 + l as u64 } else { v };
        }
        Self { state: s, seed: s, buf: [0.0; LANES], pos: LANES }
    }

    /// Restarts the sequence (called by `reset`, so every render starts identically).
    pub fn reset(&mut self) {
        self.state = self.seed;
        self.pos = LANES;
    }

    /// The next `LANES` unit-variance samples (portable form).
    #[inline]
    fn group(&mut self) -> [f64; LANES] {
        let mut g = [0.0; LANES];
        for (s, g) in self.state.iter_mut().zip(&mut g) {
            let (x, q) = lane_step(*s);
            *s = x;
            *g = unit(q);
        }
        g
    }

    /// One sample with zero mean and unit variance.
    #[inline]
    pub fn gaussian(&mut self) -> f64 {
        if self.pos == LANES {
            self.buf = self.group();
            self.pos = 0;
        }
        let g = self.buf[self.pos];
        self.pos += 1;
        g
    }

    /// Adds `sigma` times the next `e.len()` samples to `e` (`e += sigma·g`, unfused, exactly as
    /// `e + sigma * gaussian()` per sample).
    pub fn add_block(&mut self, e: &mut [f64], sigma: f64) {
        // What is buffered first, then whole groups straight from the generators, then the tail
        // through the buffer: the same stream as sample by sample.
        let k = (LANES - self.pos).min(e.len());
        for e in &mut e[..k] {
            *e += sigma * self.gaussian();
        }
        let mut groups = e[k..].chunks_exact_mut(LANES);
        for chunk in &mut groups {
            let g = self.group();
            for (e, g) in chunk.iter_mut().zip(g) {
                *e += sigma * g;
            }
        }
        for e in groups.into_remainder() {
            *e += sigma * self.gaussian();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_variance_and_reproducible() {
        let mut n = Noise::new(7);
        let v: Vec<f64> = (0..200_000).map(|_| n.gaussian()).collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64;
        assert!(mean.abs() < 0.01 && (var - 1.0).abs() < 0.01, "{mean} {var}");
        // White: lag-1..8 correlations (the lanes take turns) are negligible.
        for lag in 1..=LANES {
            let c = v.iter().zip(&v[lag..]).map(|(a, b)| (a - mean) * (b - mean)).sum::<f64>() / v.len() as f64;
            assert!(c.abs() < 0.01, "lag {lag}: {c}");
        }
        n.reset();
        assert_eq!(n.gaussian(), v[0]);
    }

    /// Blocks of any length continue the per-sample stream exactly.
    #[test]
    fn blocks_continue_the_stream() {
        let sigma = 0.37;
        let mut one = Noise::new(11);
        let want: Vec<f64> = (0..1000).map(|k| (k as f64 * 1e-3) + sigma * one.gaussian()).collect();
        {
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
}
