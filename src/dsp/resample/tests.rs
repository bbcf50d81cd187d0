//! The oversampler against its specification: flatness, stopband, latency, the two execution
//! forms and the two instruction sets agreeing.

use super::*;
use std::f64::consts::PI;
use realfft::RealFftPlanner;

const RATES: [f64; 7] = [22_050.0, 44_100.0, 48_000.0, 88_200.0, 96_000.0, 176_400.0, 192_000.0];
const QUALITIES: [Quality; 2] = [Quality::Default, Quality::High];

fn through(os: &mut Oversampler, x: &[f64]) -> Vec<f64> {
    let mut buf = [0.0; MAX_FACTOR];
    x.iter()
        .map(|&v| {
            os.up(v, &mut buf);
            os.down(&mut buf)
        })
        .collect()
}

fn f_pass(fs: f64) -> f64 {
    bands(fs).0
}

/// The band nothing may fold into: 0…fs/2 from 48 kHz up, 0…21 kHz at 44.1 kHz (`fs − f_stop`).
fn alias_free(fs: f64) -> f64 {
    fs - bands(fs).1
}

/// `|DFT(h)|` on `n` bins (zero-padded), bin `i` at `i/n` cycles per sample.
fn magnitude(h: &[f64], n: usize) -> Vec<f64> {
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n);
    let mut x = vec![0.0; n];
    x[..h.len()].copy_from_slice(h);
    let mut s = fft.make_output_vec();
    fft.process(&mut x, &mut s).unwrap();
    s.iter().map(|c| c.norm()).collect()
}

/// Up-then-down impulse response at the base rate.
fn base_ir(os: &mut Oversampler) -> Vec<f64> {
    os.reset();
    let mut x = vec![0.0; 2 * os.latency() + 64];
    x[0] = 1.0;
    through(os, &x)
}

/// Interpolator impulse response at the internal rate.
fn up_ir(os: &mut Oversampler) -> Vec<f64> {
    os.reset();
    let f = os.factor();
    let mut buf = [0.0; MAX_FACTOR];
    let mut h = vec![];
    for n in 0..2 * os.latency() + 64 {
        os.up(if n == 0 { 1.0 } else { 0.0 }, &mut buf);
        h.extend_from_slice(&buf[..f]);
    }
    h
}

/// The decimator as one filter `g` at the internal rate: output `n` is `Σ_d g[d]·v[F·n − d]`,
/// returned from `d = −(F − 1)` on.
fn down_ir(os: &mut Oversampler) -> Vec<f64> {
    let f = os.factor();
    let blocks = 2 * os.latency() + 64;
    let mut g = vec![0.0; f * blocks + f];
    for p in f..2 * f {
        os.reset();
        let mut buf = [0.0; MAX_FACTOR];
        for n in 0..blocks {
            buf[..f].iter_mut().enumerate().for_each(|(i, v)| *v = if n * f + i == p { 1.0 } else { 0.0 });
            let y = os.down(&mut buf);
            if n * f + f > p {
                g[n * f + f - 1 - p] = y; // d = F·n − p, stored at d + F − 1
            }
        }
    }
    g
}

/// Peak of `mag / dc` (dB) over `|f − k·fs| ≤ width`, `k ≥ 1`, up to the internal Nyquist.
fn image_peak_db(mag: &[f64], dc: f64, fs: f64, factor: usize, width: f64) -> f64 {
    let n = 2 * (mag.len() - 1);
    let rate = fs * factor as f64;
    let mut peak = f64::NEG_INFINITY;
    for (i, m) in mag.iter().enumerate() {
        let f = i as f64 * rate / n as f64;
        let k = (f / fs).round();
        if k >= 1.0 && (f - k * fs).abs() <= width {
            peak = peak.max(20.0 * (m / dc).log10());
        }
    }
    peak
}

fn min_atten(q: Quality) -> f64 {
    match q {
        Quality::Default => 90.0,
        Quality::High => 110.0,
    }
}

#[test]
fn rates_follow_quality() {
    let f = |fs, q| Oversampler::new(fs, q).factor();
    assert_eq!([f(44_100.0, Quality::Default), f(48_000.0, Quality::Default)], [4, 4]);
    assert_eq!([f(88_200.0, Quality::Default), f(96_000.0, Quality::Default)], [2, 2]);
    assert_eq!([f(176_400.0, Quality::Default), f(192_000.0, Quality::Default)], [1, 1]);
    assert_eq!([f(44_100.0, Quality::High), f(48_000.0, Quality::High), f(22_050.0, Quality::High)], [8, 8, 16]);
    assert_eq!(f(11_025.0, Quality::High), 32);
    let os = Oversampler::new(192_000.0, Quality::Default);
    assert_eq!(os.latency(), 0);
}

#[test]
fn impulse_peaks_at_reported_latency() {
    for &fs in &[11_025.0, 22_050.0, 44_100.0, 48_000.0, 96_000.0, 192_000.0] {
        for q in QUALITIES {
            let mut os = Oversampler::new(fs, q);
            let mut x = vec![0.0; 4096];
            x[100] = 1.0;
            let y = through(&mut os, &x);
            let (imax, _) = y.iter().enumerate().fold((0, 0.0), |(bi, bv), (i, &v)| {
                if v.abs() > bv { (i, v.abs()) } else { (bi, bv) }
            });
            assert_eq!(imax, 100 + os.latency(), "fs {fs} {q:?}");
        }
    }
}

/// Linear phase: every filter's taps are symmetric (exactly, as stored in `f32`), and the
/// up-then-down impulse response is symmetric about the reported latency up to the `f32`
/// arithmetic's rounding (each sample within 1e-6 of the peak, −120 dB; measured ≤ 6e-8).
#[test]
fn response_is_symmetric_about_latency() {
    for fs in RATES {
        for q in QUALITIES {
            let os = Oversampler::new(fs, q);
            let sym = |c: &[f32]| c.iter().zip(c.iter().rev()).all(|(a, b)| a == b);
            for u in &os.up {
                let d = &u.dense;
                // Taps 1… of phase 0, then tap 0: the whole dense branch.
                let taps: Vec<f32> = std::iter::once(d.head[0]).chain(d.hist[..8 * d.q].iter().copied()).take(2 * u.k + 2).collect();
                assert!(sym(&taps), "fs {fs} {q:?}: up stage taps");
            }
            if let Some(o) = &os.outer {
                let (a, b) = (&o.aligned, &o.other);
                let even: Vec<f32> = std::iter::once(a.head[0]).chain(a.hist[..8 * a.q].iter().copied()).collect();
                let odd: Vec<f32> = std::iter::once(b.head[0]).chain(b.hist[..8 * b.q].iter().copied()).collect();
                let h: Vec<f32> = (0..2 * o.m + 1).map(|j| if j % 2 == 0 { even[j / 2] } else { odd[j / 2 + o.late as usize] }).collect();
                assert!(sym(&h), "fs {fs} {q:?}: outer decimator taps");
            }
        }
    }
    for fs in RATES {
        for q in QUALITIES {
            let mut os = Oversampler::new(fs, q);
            let h = base_ir(&mut os);
            let l = os.latency();
            let peak = h[l];
            for j in 1..=l {
                assert!((h[l - j] - h[l + j]).abs() < 1e-6 * peak, "fs {fs} {q:?} j {j}");
            }
            assert!(h[2 * l + 1..].iter().all(|v| v.abs() < 1e-12 * peak), "fs {fs} {q:?}: longer than 2·latency + 1");
        }
    }
}

/// Up-then-down is flat within ±0.003 dB up to 20 kHz (0.4535·fs below 44.1 kHz).
#[test]
fn passband_is_flat() {
    for fs in RATES {
        for q in QUALITIES {
            let mut os = Oversampler::new(fs, q);
            let n = 8192;
            let mag = magnitude(&base_ir(&mut os), n);
            let worst = mag
                .iter()
                .enumerate()
                .filter(|(i, _)| *i as f64 * fs / n as f64 <= f_pass(fs))
                .map(|(_, m)| (20.0 * m.log10()).abs())
                .fold(0.0, f64::max);
            assert!(worst <= 0.003, "fs {fs} {q:?}: passband deviation {worst:.5} dB");
        }
    }
}

/// Interpolator images of 0…f_pass are ≥ 90 dB (Default) / 110 dB (High) down.
#[test]
fn interpolator_images_are_rejected() {
    for fs in RATES {
        for q in QUALITIES {
            let mut os = Oversampler::new(fs, q);
            if os.factor() == 1 {
                continue;
            }
            let h = up_ir(&mut os);
            let mag = magnitude(&h, (h.len() * 8).next_power_of_two());
            let peak = image_peak_db(&mag, os.factor() as f64, fs, os.factor(), f_pass(fs));
            assert!(peak <= -min_atten(q), "fs {fs} {q:?}: images at {peak:.1} dB");
        }
    }
}

/// Whatever would fold anywhere into 0…fs/2 on the way down (everything from fs/2 up) is
/// ≥ 90 dB (Default) / 110 dB (High) down.
#[test]
fn decimator_aliases_are_rejected() {
    for fs in RATES {
        for q in QUALITIES {
            let mut os = Oversampler::new(fs, q);
            if os.factor() == 1 {
                continue;
            }
            let g = down_ir(&mut os);
            // Unit DC gain up to the f32 taps and arithmetic (measured ≤ 1e-7).
            assert!((g.iter().sum::<f64>() - 1.0).abs() < 1e-6, "fs {fs} {q:?}: DC gain");
            let mag = magnitude(&g, (g.len() * 8).next_power_of_two());
            let peak = image_peak_db(&mag, 1.0, fs, os.factor(), alias_free(fs));
            assert!(peak <= -min_atten(q), "fs {fs} {q:?}: aliases at {peak:.1} dB");
        }
    }
}

/// The outermost decimator on its own, checked by FFT: odd length, every tap non-zero, flat
/// to ±0.001 dB up to f_pass, ≥ 90 dB (Default) / 110 dB (High) down from its stopband edge:
/// fs/2 from 48 kHz up, never below fs/2, never folding into the passband, and at 44.1 kHz
/// 1 kHz clear of it.
#[test]
fn outer_decimator_meets_its_spec() {
    for fs in [11_025.0, 22_050.0, 32_000.0, 44_100.0, 48_000.0, 88_200.0, 96_000.0, 176_400.0] {
        let (fp, f_stop) = bands(fs);
        assert!(f_stop >= 0.5 * fs && fs - f_stop >= fp, "fs {fs}: stopband edge {f_stop}");
        if fs >= 48_000.0 {
            assert_eq!(f_stop, 0.5 * fs);
        }
        for q in QUALITIES {
            let h = design_decimator(fp / (2.0 * fs), f_stop / (2.0 * fs), q.atten_db());
            assert!(h.len() % 2 == 1 && h.iter().all(|&v| v != 0.0), "fs {fs} {q:?}");
            let n = (h.len() * 64).next_power_of_two();
            let mag = magnitude(&h, n);
            let f = |i: usize| i as f64 * 2.0 * fs / n as f64;
            let pass = (0..mag.len()).filter(|&i| f(i) <= fp).map(|i| (20.0 * mag[i].log10()).abs()).fold(0.0, f64::max);
            let stop = (0..mag.len()).filter(|&i| f(i) >= f_stop).map(|i| 20.0 * mag[i].log10()).fold(f64::NEG_INFINITY, f64::max);
            assert!(pass <= 0.001, "fs {fs} {q:?}: passband ±{pass:.5} dB");
            assert!(stop <= -min_atten(q), "fs {fs} {q:?}: stopband {stop:.1} dB");
        }
    }
    assert!((bands(44_100.0).1 - 23_100.0).abs() < 1.0);
}

/// The outermost decimator stops well below the half-band's `fs − f_pass` (at fs/2 from 48 kHz
/// up, at 23.1 kHz at 44.1 kHz): internal-rate tones between the two, fed to `down` and
/// `down_block`, come out (folded into f_pass…fs/2) ≥ 90 dB (Default) / 110 dB (High) down,
/// the same from both.
#[test]
fn tones_between_half_rate_and_stopband_do_not_fold() {
    let cases: [(f64, &[f64]); 5] = [
        (48_000.0, &[24_100.0, 25_000.0, 27_000.0, 27_900.0]),
        (44_100.0, &[23_150.0, 23_500.0, 24_000.0]),
        (22_050.0, &[11_100.0, 11_500.0, 12_000.0]),
        (96_000.0, &[48_500.0, 60_000.0, 75_000.0]),
        (176_400.0, &[88_500.0, 150_000.0]),
    ];
    for (fs, tones) in cases {
        for q in QUALITIES {
            for &ft in tones {
                let mut a = Oversampler::new(fs, q);
                let f = a.factor();
                if f == 1 {
                    continue;
                }
                let mut b = a.clone();
                let n = 4096;
                let rate = fs * f as f64;
                let v: Vec<f64> = (0..n * f).map(|k| (2.0 * PI * ft * k as f64 / rate).sin()).collect();
                let mut buf = [0.0; MAX_FACTOR];
                let ya: Vec<f64> = v
                    .chunks(f)
                    .map(|c| {
                        buf[..f].copy_from_slice(c);
                        a.down(&mut buf)
                    })
                    .collect();
                let mut yb = vec![0.0; n];
                let mut pos = 0;
                for len in [37, 64, 1, 200, 130].into_iter().cycle() {
                    let len = len.min(n - pos);
                    b.down_block(&v[pos * f..(pos + len) * f], &mut yb[pos..pos + len]);
                    pos += len;
                    if pos == n {
                        break;
                    }
                }
                for (i, (p, r)) in ya.iter().zip(&yb).enumerate() {
                    assert!((p - r).abs() < 1e-12, "fs {fs} {q:?} {ft} Hz, output {i}: {p} vs {r}");
                }
                // Past the start-up transient the output is the folded tone alone.
                let peak = ya[2 * a.latency() + 64..].iter().fold(0.0f64, |m, y| m.max(y.abs()));
                let db = 20.0 * peak.log10();
                assert!(db <= -min_atten(q), "fs {fs} {q:?}: {ft} Hz folds to {} Hz at {db:.1} dB", fs - ft);
            }
        }
    }
}

fn noise(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect()
}

#[test]
fn reset_restores_the_initial_state() {
    for q in QUALITIES {
        let x = noise(500, 1);
        let mut os = Oversampler::new(44_100.0, q);
        let first = through(&mut os, &x);
        through(&mut os, &noise(300, 2));
        os.reset();
        assert_eq!(through(&mut os, &x), first, "{q:?}");
    }
}

/// The AVX2 build and the baseline build differ only by rounding: the same expression for
/// every output, the AVX2 build fusing each multiply-add (one `f32` rounding) where the
/// baseline rounds product and sum separately. Within 32 units of `f32` rounding at full
/// scale (3.8e-6; measured ≤ 4.8e-7).
#[test]
fn baseline_and_avx2_agree() {
    let tol = 32.0 * f32::EPSILON as f64;
    for &fs in &[22_050.0, 44_100.0, 96_000.0] {
        for q in QUALITIES {
            let mut a = Oversampler::new(fs, q);
            let mut b = a.clone();
            b.avx2 = false;
            let (mut ba, mut bb) = ([0.0; MAX_FACTOR], [0.0; MAX_FACTOR]);
            for (n, &v) in noise(2000, 3).iter().enumerate() {
                a.up(v, &mut ba);
                b.up(v, &mut bb);
                for i in 0..a.factor() {
                    assert!((ba[i] - bb[i]).abs() < tol, "fs {fs} {q:?} up n {n}");
                }
                // Feed both decimators the same (nonlinear) signal.
                let y: Vec<f64> = ba[..a.factor()].iter().map(|v| v.tanh()).collect();
                ba[..y.len()].copy_from_slice(&y);
                bb[..y.len()].copy_from_slice(&y);
                assert!((a.down(&mut ba) - b.down(&mut bb)).abs() < tol, "fs {fs} {q:?} down n {n}");
            }
        }
    }
}

/// The block methods give exactly what the per-sample ones give, including when the two are
/// interleaved and when blocks do not divide evenly into chunks, in the AVX2 build (where the
/// CPU has it) and in the baseline build (each against itself; the two builds against each
/// other: `baseline_and_avx2_agree`).
#[test]
fn blocks_match_samples() {
    for (fs, q, baseline) in [11_025.0, 22_050.0, 44_100.0, 48_000.0, 96_000.0, 192_000.0]
        .into_iter()
        .flat_map(|fs| QUALITIES.into_iter().flat_map(move |q| [(fs, q, false), (fs, q, true)]))
    {
        {
            let mut a = Oversampler::new(fs, q);
            if baseline {
                a.avx2 = false;
            }
            let mut b = a.clone();
            // Upsamples every block with `f32` output.
            let mut c = a.clone();
            let f = a.factor();
            let x = noise(700, 6);
            let mut buf = [0.0; MAX_FACTOR];
            let mut pos = 0;
            for (blk, len) in [37, 1, 130, 2, 64, 200, 5, 261].into_iter().enumerate() {
                let xs = &x[pos..pos + len];
                pos += len;
                let mut up_a = vec![0.0; len * f];
                for (i, &v) in xs.iter().enumerate() {
                    a.up(v, &mut buf);
                    up_a[i * f..(i + 1) * f].copy_from_slice(&buf[..f]);
                }
                let mut up_b = vec![0.0; len * f];
                if blk % 3 == 2 {
                    // Sample by sample on both sides now and then.
                    for (i, &v) in xs.iter().enumerate() {
                        b.up(v, &mut buf);
                        up_b[i * f..(i + 1) * f].copy_from_slice(&buf[..f]);
                    }
                } else {
                    b.up_block(xs, &mut up_b);
                }
                for (i, (p, r)) in up_a.iter().zip(&up_b).enumerate() {
                    assert_eq!(p, r, "fs {fs} {q:?} block {blk} up {i}");
                }
                if f > 1 {
                    let mut up_c = vec![0.0f32; len * f];
                    c.up_block_f32(xs, &mut up_c);
                    for (i, (p, r)) in up_a.iter().zip(&up_c).enumerate() {
                        assert_eq!(*p, *r as f64, "fs {fs} {q:?} block {blk} up (f32) {i}");
                    }
                }
                let v: Vec<f64> = up_a.iter().map(|v| (1.5 * v).tanh()).collect();
                let ya: Vec<f64> = v
                    .chunks(f)
                    .map(|c| {
                        buf[..f].copy_from_slice(c);
                        a.down(&mut buf)
                    })
                    .collect();
                let mut yb = vec![0.0; len];
                if blk % 3 == 1 {
                    for (i, c) in v.chunks(f).enumerate() {
                        buf[..f].copy_from_slice(c);
                        yb[i] = b.down(&mut buf);
                    }
                } else {
                    b.down_block(&v, &mut yb);
                }
                for (i, (p, r)) in ya.iter().zip(&yb).enumerate() {
                    assert_eq!(p, r, "fs {fs} {q:?} block {blk} down {i}");
                }
            }
        }
    }
}

/// Counts this thread's heap allocations.
mod counting {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        pub static ALLOCS: Cell<usize> = const { Cell::new(0) };
    }

    pub struct Counting;

    // SAFETY: forwards to the system allocator.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, l: Layout) -> *mut u8 {
            ALLOCS.with(|a| a.set(a.get() + 1));
            // SAFETY: same contract as ours.
            unsafe { System.alloc(l) }
        }
        unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
            // SAFETY: same contract as ours.
            unsafe { System.dealloc(p, l) }
        }
    }

    #[global_allocator]
    static A: Counting = Counting;
}

#[test]
fn up_down_reset_do_not_allocate() {
    let before = counting::ALLOCS.with(|a| a.get());
    std::hint::black_box(vec![0u8; 16]);
    assert!(counting::ALLOCS.with(|a| a.get()) > before, "the counter counts");
    for fs in [11_025.0, 44_100.0, 96_000.0] {
        for q in QUALITIES {
            let mut os = Oversampler::new(fs, q);
            let x = noise(256, 4);
            let mut buf = [0.0; MAX_FACTOR];
            let before = counting::ALLOCS.with(|a| a.get());
            let mut acc = 0.0;
            for &v in &x {
                os.up(v, &mut buf);
                acc += os.down(&mut buf);
            }
            let mut hi = [0.0; 100 * MAX_FACTOR];
            let mut y = [0.0; 100];
            os.up_block(&x[..100], &mut hi);
            os.down_block(&hi, &mut y);
            os.reset();
            let after = counting::ALLOCS.with(|a| a.get());
            assert_eq!(after, before, "fs {fs} {q:?}");
            assert!(acc.is_finite());
        }
    }
}

/// `cargo test --release --lib resample -- --ignored --nocapture`: taps (half-band stages,
/// outermost first, then the outermost decimator), latency, measured ripple and rejection,
/// and ns per base sample (up + down) for each rate and quality.
#[test]
#[ignore]
fn report() {
    let x = noise(48_000, 5);
    for fs in RATES {
        for q in QUALITIES {
            let t0 = std::time::Instant::now();
            let mut os = Oversampler::new(fs, q);
            let design_ms = t0.elapsed().as_secs_f64() * 1e3;
            let mag = magnitude(&base_ir(&mut os), 8192);
            let ripple = mag
                .iter()
                .enumerate()
                .filter(|(i, _)| *i as f64 * fs / 8192.0 <= f_pass(fs))
                .map(|(_, m)| (20.0 * m.log10()).abs())
                .fold(0.0, f64::max);
            let (img, ali) = if os.factor() > 1 {
                let h = up_ir(&mut os);
                let g = down_ir(&mut os);
                (
                    image_peak_db(&magnitude(&h, (h.len() * 8).next_power_of_two()), os.factor() as f64, fs, os.factor(), f_pass(fs)),
                    image_peak_db(&magnitude(&g, (g.len() * 8).next_power_of_two()), 1.0, fs, os.factor(), alias_free(fs)),
                )
            } else {
                (f64::NEG_INFINITY, f64::NEG_INFINITY)
            };
            os.reset();
            let mut buf = [0.0; MAX_FACTOR];
            let mut acc = 0.0;
            let mut best = f64::INFINITY;
            for _ in 0..20 {
                let t0 = std::time::Instant::now();
                for &v in &x {
                    os.up(v, &mut buf);
                    acc += os.down(&mut buf);
                }
                best = best.min(t0.elapsed().as_secs_f64() * 1e9 / x.len() as f64);
            }
            let f = os.factor();
            let mut hi = vec![0.0; 64 * f];
            let mut y = vec![0.0; 64];
            let mut best_blk = f64::INFINITY;
            for _ in 0..20 {
                let t0 = std::time::Instant::now();
                for c in x.chunks_exact(64) {
                    os.up_block(c, &mut hi);
                    os.down_block(&hi, &mut y);
                    acc += y[0];
                }
                best_blk = best_blk.min(t0.elapsed().as_secs_f64() * 1e9 / x.len() as f64);
            }
            println!(
                "fs {fs:>6} {q:<7?} {:>2}x taps {:?} decimator {:>3} latency {:>3}  ripple ±{ripple:.5} dB  images {img:.1} dB  aliases (into 0…{:.0} Hz) {ali:.1} dB  {best:.1} ns/sample ({best_blk:.1} in blocks of 64)  design {design_ms:.1} ms {}",
                os.factor(),
                os.stage_taps(),
                os.decimator_taps(),
                os.latency(),
                alias_free(fs),
                acc > 1e300
            );
        }
    }
}
