//! A deterministic white Gaussian noise source, so offline renders are bit-reproducible.
//!
//! Eight xorshift64* generators (Vigna, "An experimental exploration of Marsaglia's xorshift
//! generators, scrambled", ACM TOMS 42(4), 2016) run side by side, four to an AVX2 register in two
//! registers (two independent chains, so one's shifts and multiplies overlap the other's), and take
//! turns: sample `8m + l` comes from lane `l`'s `m`-th output. Each output feeds
//! an Irwin–Hall sum of four uniforms (its four 16-bit quarters, read as signed), which is Gaussian
//! to within 1 % in density over ±3σ and costs no transcendental functions. The sequence is a
//! stream: it is the same whether it is drawn a sample at a time ([`Noise::gaussian`]) or a block at
//! a time ([`Noise::add_block`]), and the AVX2 path computes the same integers and the same
//! floating-point operations as the portable one (tested below).
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
    /// `e + sigma * gaussian()` per sample), in AVX2 registers when `avx2` (the engine's one
    /// instruction-set choice) and the CPU has it.
    pub fn add_block(&mut self, e: &mut [f64], sigma: f64, avx2: bool) {
        #[cfg(target_arch = "x86_64")]
        if avx2 && super::simd::has_avx2_fma() {
            // SAFETY: the CPU has AVX2 (checked above).
            unsafe { self.add_block_avx2(e, sigma) };
            return;
        }
        self.add_block_portable(e, sigma);
    }

    fn add_block_portable(&mut self, e: &mut [f64], sigma: f64) {
        for e in e.iter_mut() {
            *e += sigma * self.gaussian();
        }
    }

    /// [`Self::add_block`] with the lanes in two AVX2 registers: the 64-bit multiply from three
    /// 32-bit ones, the quarters summed by `vpmaddwd`.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn add_block_avx2(&mut self, e: &mut [f64], sigma: f64) {
        use std::arch::x86_64::*;
        // Drain what is buffered, so the stream stays in order.
        let mut k = (LANES - self.pos).min(e.len());
        self.add_block_portable(&mut e[..k], sigma);
        let groups = (e.len() - k) / LANES;
        if groups > 0 {
            let mut xs = [
                _mm256_loadu_si256(self.state.as_ptr() as *const __m256i),
                _mm256_loadu_si256(self.state.as_ptr().add(4) as *const __m256i),
            ];
            let m_lo = _mm256_set1_epi64x((MUL & 0xFFFF_FFFF) as i64);
            let m_hi = _mm256_set1_epi64x((MUL >> 32) as i64);
            let ones = _mm256_set1_epi16(1);
            let mean = _mm256_set1_pd(MEAN);
            let inv_sd = _mm256_set1_pd(INV_SD);
            let sig = _mm256_set1_pd(sigma);
            // Low dword of each 64-bit lane, in order.
            let pick = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
            for g in 0..groups {
                for (h, x) in xs.iter_mut().enumerate() {
                    *x = _mm256_xor_si256(*x, _mm256_srli_epi64::<12>(*x));
                    *x = _mm256_xor_si256(*x, _mm256_slli_epi64::<25>(*x));
                    *x = _mm256_xor_si256(*x, _mm256_srli_epi64::<27>(*x));
                    let x = *x;
                    // x·MUL mod 2⁶⁴ = lo·lo + ((hi·m_lo + lo·m_hi) << 32).
                    let ll = _mm256_mul_epu32(x, m_lo);
                    let cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64::<32>(x), m_lo), _mm256_mul_epu32(x, m_hi));
                    let r = _mm256_add_epi64(ll, _mm256_slli_epi64::<32>(cross));
                    // (q0 + q1, q2 + q3) per lane as signed dwords, then their sum in the low dword.
                    let pairs = _mm256_madd_epi16(r, ones);
                    let s = _mm256_add_epi32(pairs, _mm256_srli_epi64::<32>(pairs));
                    let s4 = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(s, pick));
                    let u = _mm256_mul_pd(_mm256_sub_pd(_mm256_cvtepi32_pd(s4), mean), inv_sd);
                    let p = e.as_mut_ptr().add(k + LANES * g + 4 * h);
                    _mm256_storeu_pd(p, _mm256_add_pd(_mm256_loadu_pd(p), _mm256_mul_pd(sig, u)));
                }
            }
            _mm256_storeu_si256(self.state.as_mut_ptr() as *mut __m256i, xs[0]);
            _mm256_storeu_si256(self.state.as_mut_ptr().add(4) as *mut __m256i, xs[1]);
            k += LANES * groups;
        }
        self.add_block_portable(&mut e[k..], sigma);
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

    /// Blocks of any length, on either path, continue the per-sample stream exactly.
    #[test]
    fn blocks_continue_the_stream() {
        let sigma = 0.37;
        let mut one = Noise::new(11);
        let want: Vec<f64> = (0..1000).map(|k| (k as f64 * 1e-3) + sigma * one.gaussian()).collect();
        for portable in [false, true] {
            let mut n = Noise::new(11);
            let mut got: Vec<f64> = (0..1000).map(|k| k as f64 * 1e-3).collect();
            let mut at = 0;
            for len in [1, 3, 4, 5, 64, 7, 0, 130, 2, 1].iter().cycle() {
                let end = (at + len).min(got.len());
                if portable {
                    n.add_block_portable(&mut got[at..end], sigma);
                } else {
                    n.add_block(&mut got[at..end], sigma, true);
                }
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
            assert_eq!(got, want, "portable {portable}");
        }
    }
}
