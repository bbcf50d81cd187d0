//! The speed machinery of the engine gives the same answers as the plain forms (issue 2):
//! the modal load fit, the tabulated element solve, block processing and stereo pairs.

mod common;
use common::*;
use loadline::dsp::modal::ModalLoad;
use loadline::dsp::{Engine, Network, Quality, StageParams};
use loadline::library;

/// Every library load's modal filter matches the analog load across the audio band at every
/// internal rate the engine uses, and is passive without a direct-term shift.
#[test]
fn every_library_load_fits_its_modal_filter() {
    let mut worst = (0.0f64, 0.0f64, String::new());
    for l in library::loads() {
        for fs in [176_400.0, 192_000.0, 352_800.0, 384_000.0] {
            let m = ModalLoad::fit(&l.network, fs).unwrap();
            let r = m.report();
            assert!(r.max_err_db <= 0.03 && r.max_err_deg <= 0.15, "{} at {fs}: {r:?}", l.id);
            assert_eq!(r.passivity_shift, 0.0, "{} at {fs}: {r:?}", l.id);
            if r.max_err_db > worst.0 {
                worst = (r.max_err_db, r.max_err_deg, format!("{} at {fs} Hz", l.id));
            }
        }
    }
    println!("worst modal fit: {:.4} dB, {:.3}° ({})", worst.0, worst.1, worst.2);
}

fn program(n: usize, fs: f64) -> Vec<f64> {
    (0..n)
        .map(|k| {
            let t = k as f64 / fs;
            0.6 * (2.0 * std::f64::consts::PI * 997.0 * t).sin() + 0.4 * (2.0 * std::f64::consts::PI * 61.0 * t).sin()
        })
        .collect()
}

/// Once the parameters settle, the element law is answered from its table; the result matches
/// the exact solver to −120 dB for stages that limit, clip and cross over.
#[test]
fn tabulated_solve_matches_the_exact_solver() {
    let fs = 48_000.0;
    let x = program(48_000, fs);
    for (stage, load, drive) in [("laptop-jack", "closed-dynamic-32", 1.0), ("laptop-jack", "multi-ba-dip5", 2.0), ("opamp-line-ne5532", "dynamic-iem-16", 1.5), ("tube-otl", "open-dynamic-300", 1.0)] {
        let p = library::find_stage(stage).map(|s| s.params).unwrap_or(StageParams { v_max_v: Some(2.0), i_max_a: Some(0.02), r_out_ohm: 100.0, bias: 0.3, xo_v: 0.01, ..StageParams::IDEAL });
        let net = &library::find_load(load).unwrap().network;
        let xs: Vec<f64> = x.iter().map(|v| v * drive).collect();
        let run = |table: bool| {
            let mut e = Engine::new(fs, Quality::Default, net, &p, 1).unwrap();
            e.set_table_enabled(table);
            let mut y = xs.clone();
            e.process_block_f64(&mut y);
            (y, e.table_in_use(), e.solver_iterations(), e.table_intervals())
        };
        let (yt, used, it_t, grid) = run(true);
        let (ye, _, it_e, _) = run(false);
        assert!(used, "{stage} into {load}: the table was never used");
        assert!(it_t * 5 < it_e, "{stage} into {load}: {it_t} vs {it_e} iterations");
        let skip = 4800;
        let sig = rms(&ye[skip..]);
        let res = ye[skip..].iter().zip(&yt[skip..]).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt() / ((ye.len() - skip) as f64).sqrt();
        let rel = db(res / sig);
        println!("{stage} into {load} at {drive}x: table ({grid:?} intervals) vs exact residual {rel:.1} dB");
        assert!(rel < -120.0, "{stage} into {load}: residual {rel:.1} dB");
    }
}

/// The coarse grid (1024 intervals, L1-resident) serves smooth element laws; a law it cannot
/// resolve to the table's tolerance (a class-B crossover into a 14 Ω planar) keeps the fine grid.
#[test]
fn coarse_table_where_it_is_accurate_fine_where_not() {
    let grid = |stage: &str, load: &str| {
        let p = library::find_stage(stage).unwrap().params;
        let mut e = Engine::new(48_000.0, Quality::Default, &library::find_load(load).unwrap().network, &p, 1).unwrap();
        let mut x: Vec<f64> = (0..24_000).map(|k| 0.5 * (k as f64 * 0.13).sin()).collect();
        e.process_block_f64(&mut x);
        e.table_intervals()
    };
    assert_eq!(grid("laptop-jack", "closed-dynamic-32"), Some(1024));
    assert_eq!(grid("opamp-line-ne5532", "multi-ba-dip5"), Some(1024));
    assert_eq!(grid("phone-dongle", "planar-14"), Some(4096));
}

/// Block processing (chunks, block resampling) equals sample-by-sample processing to rounding,
/// and a stereo pair equals its two channels processed alone, exactly.
#[test]
fn block_and_pair_processing_match_sample_by_sample() {
    let fs = 44_100.0;
    let p = library::find_stage("laptop-jack").unwrap().params;
    let net = &library::find_load("closed-dynamic-32").unwrap().network;
    let x = program(20_000, fs);
    let r: Vec<f64> = x.iter().rev().copied().collect();
    let mut a = Engine::new(fs, Quality::Default, net, &p, 1).unwrap();
    let per_sample: Vec<f64> = x.iter().map(|&v| a.process_sample(v)).collect();
    let mut b = Engine::new(fs, Quality::Default, net, &p, 1).unwrap();
    let mut blocks = x.clone();
    for c in blocks.chunks_mut(333) {
        b.process_block_f64(c);
    }
    let worst = per_sample.iter().zip(&blocks).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(worst < 1e-9, "block vs per-sample: {worst:e}");
    // Pair versus each channel alone.
    let (mut l1, mut r1) = (x.clone(), r.clone());
    let mut ea = Engine::new(fs, Quality::Default, net, &p, 1).unwrap();
    let mut eb = Engine::new(fs, Quality::Default, net, &p, 2).unwrap();
    Engine::process_block_pair_f64(&mut ea, &mut eb, &mut l1, &mut r1);
    let mut l2 = x.clone();
    let mut r2 = r.clone();
    Engine::new(fs, Quality::Default, net, &p, 1).unwrap().process_block_f64(&mut l2);
    Engine::new(fs, Quality::Default, net, &p, 2).unwrap().process_block_f64(&mut r2);
    assert_eq!(l1, l2);
    assert_eq!(r1, r2);
}

fn rms(x: &[f64]) -> f64 {
    (x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64).sqrt()
}

/// The two-lane AVX2 kernel, the rails' vector path and every other hand-vectorised or
/// FMA-compiled path agree with the baseline code to rounding, for both port forms of the load,
/// plain-wire / tabulated / exact element solves, a load with more than eight modes, a stereo pair
/// whose channels differ in form and in solve, and drives far past the table (+20 dB bursts); and
/// a pair still equals its channels processed alone, exactly.
///
/// The circuit kernels are compared at 192 kHz, where the oversampling factor is 1 and no
/// resampler runs: ≤ 1e-9 of full scale (measured ≤ 3.2e-10). At 48 kHz (4×, the same 192 kHz
/// internal rate) the oversampler's `f32` filters follow the circuit (the baseline run uses the
/// oversampler's portable stages too): the circuit's differences (1e-15 to 1e-10) can flip the
/// rounding of a decimator input to `f32`, and with it the `f32` arithmetic after it, so there the
/// limit is 4 `f32` units of rounding (`f32::EPSILON`) at the output peak, 1.9e-7 to 3.3e-6
/// across the cases (measured ≤ 4.2e-8, 0.9 of a unit, for the many-mode load). The
/// oversampler's own two builds: `resample.rs`.
#[test]
fn vector_kernels_match_the_baseline_code() {
    let big = many_mode_load();
    let modes = ModalLoad::fit(&big, 192_000.0).unwrap().report().modes;
    assert!(modes > 8, "the many-mode load has only {modes} modes");
    let lib_load = |id: &str| library::find_load(id).unwrap().network.clone();
    let lib_stage = |id: &str| library::find_stage(id).unwrap().params;
    let linear = StageParams { r_out_ohm: 75.0, c_block_f: Some(220e-6), ..StageParams::IDEAL };
    let cases: Vec<(&str, StageParams, Network, StageParams, Network)> = vec![
        ("table, admittance form", lib_stage("laptop-jack"), lib_load("closed-dynamic-32"), lib_stage("laptop-jack"), lib_load("dynamic-80")),
        ("table, impedance form", lib_stage("laptop-jack"), lib_load("multi-ba-dip5"), lib_stage("opamp-line-ne5532"), lib_load("ba-single")),
        ("plain wire", linear, lib_load("closed-dynamic-32"), StageParams::IDEAL, lib_load("planar-50")),
        ("many modes", lib_stage("laptop-jack"), big.clone(), lib_stage("laptop-jack"), big),
        ("mixed forms", lib_stage("laptop-jack"), lib_load("closed-dynamic-32"), lib_stage("laptop-jack"), lib_load("multi-ba-dip5")),
        ("mixed solves", linear, lib_load("dynamic-80"), lib_stage("tube-otl"), lib_load("dynamic-80")),
    ];
    for fs in [192_000.0, 48_000.0] {
        // Half a second of programme, bursts of 1/24 s at +20 dB, the same in time at both rates.
        let scale = (fs / 48_000.0) as usize;
        let mut x = program(24_000 * scale, fs);
        for (k, v) in x.iter_mut().enumerate() {
            if (k / (2000 * scale)) % 4 == 3 {
                *v *= 10.0;
            }
        }
        let y: Vec<f64> = x.iter().rev().map(|v| 0.7 * v).collect();
        for (name, pa, na, pb, nb) in &cases {
            let run = |baseline: bool, pair: bool| -> (Vec<f64>, Vec<f64>, usize) {
                let mut a = Engine::new(fs, Quality::Default, na, pa, 1).unwrap();
                let mut b = Engine::new(fs, Quality::Default, nb, pb, 2).unwrap();
                a.set_baseline_code(baseline);
                b.set_baseline_code(baseline);
                let (mut l, mut r) = (x.clone(), y.clone());
                for (cl, cr) in l.chunks_mut(500).zip(r.chunks_mut(500)) {
                    if pair {
                        Engine::process_block_pair_f64(&mut a, &mut b, cl, cr);
                    } else {
                        a.process_block_f64(cl);
                        b.process_block_f64(cr);
                    }
                }
                (l, r, a.oversampling())
            };
            let (hl, hr, factor) = run(false, true);
            // 1× at 192 kHz (no resampler: the strict limit applies), 4× at 48 kHz.
            assert_eq!(factor, (192_000.0 / fs) as usize, "{fs} Hz: oversampling");
            let (bl, br, _) = run(true, true);
            let worst = hl.iter().chain(&hr).zip(bl.iter().chain(&br)).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max);
            let peak = hl.iter().chain(&hr).fold(0.0f64, |m, v| m.max(v.abs()));
            let ulp = f32::EPSILON as f64 * peak;
            println!("{fs} Hz ({factor}x), {name}: vector vs baseline worst difference {worst:.2e} (peak {peak:.2}, {:.3} f32 units)", worst / ulp);
            assert!(peak > 0.1 && hl.iter().chain(&hr).all(|v| v.is_finite()), "{fs} Hz, {name}: no output");
            let limit = match factor {
                1 => 1e-9,
                _ => 4.0 * ulp,
            };
            assert!(worst <= limit, "{fs} Hz ({factor}x), {name}: vector vs baseline {worst:e} (limit {limit:e})");
            let (sl, sr, _) = run(false, false);
            assert!(sl == hl && sr == hr, "{fs} Hz, {name}: a pair differs from its channels alone");
        }
    }
}
