//! The shared processor (plugin and renderer): latency, paths, switching, swaps, block sizes.

use loadline::dsp::{Network, Quality, StageParams};
use loadline::processor::{ImportedLoad, Listen, Processor, Settings, SlotId, SlotSettings};
use std::f64::consts::PI;

fn stage(r_out: f64) -> StageParams {
    StageParams { r_out_ohm: r_out, ..StageParams::IDEAL }
}

fn settings(load: usize, a: StageParams, b: StageParams) -> Settings {
    Settings {
        slots: [SlotSettings { load, stage: a, spl_db: None }, SlotSettings { load, stage: b, spl_db: None }],
        ..Settings::default()
    }
}

/// Two resistive loads (32 Ω and 300 Ω) and an RL load.
fn lib() -> Vec<Network> {
    vec![Network::R(32.0), Network::R(300.0), Network::Series(vec![Network::R(20.0), Network::L(1e-3)])]
}

fn run(p: &mut Processor, x: &[f32], block: usize) -> Vec<f32> {
    let mut y = x.to_vec();
    for c in y.chunks_mut(block) {
        p.process(&mut [c]);
    }
    y
}

fn sine(f: f64, fs: f64, n: usize, a: f64) -> Vec<f32> {
    (0..n).map(|k| (a * (2.0 * PI * f * k as f64 / fs).sin()) as f32).collect()
}

fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
}

#[test]
fn impulse_peaks_at_reported_latency_on_every_path_and_rate() {
    for fs in [22_050.0, 44_100.0, 48_000.0, 96_000.0, 192_000.0, 384_000.0] {
        for listen in [Listen::Emulation, Listen::Ideal] {
            for bypass in [false, true] {
                let mut s = settings(0, stage(0.0), stage(0.0));
                s.listen = listen;
                s.bypass = bypass;
                let mut p = Processor::new(fs, Quality::Default, 1, &lib(), [None, None], &s, 1).unwrap();
                let mut x = vec![0.0f32; 4096];
                x[0] = 1.0;
                let y = run(&mut p, &x, 512);
                let peak = (0..y.len()).max_by(|&a, &b| y[a].abs().total_cmp(&y[b].abs())).unwrap();
                assert_eq!(peak, p.latency(), "fs {fs} {listen:?} bypass {bypass}");
            }
        }
    }
}

#[test]
fn resistive_divider_and_level_match() {
    let fs = 48_000.0;
    let x = sine(1000.0, fs, 48_000, 0.1);
    for (load, r) in [(0usize, 32.0), (1, 300.0)] {
        for lm in [false, true] {
            let mut s = settings(load, stage(100.0), stage(0.0));
            s.level_match = lm;
            let mut p = Processor::new(fs, Quality::Default, 1, &lib(), [None, None], &s, 1).unwrap();
            let y = run(&mut p, &x, 256);
            let g = rms(&y[8000..]) / rms(&x[8000..]);
            let want = if lm { 1.0 } else { r / (r + 100.0) };
            assert!((20.0 * (g / want).log10()).abs() < 0.05, "load {r} Ω lm {lm}: {g} vs {want}");
        }
    }
}

/// With a shared ground a mono signal (one channel into both earpieces, or the same signal in
/// both channels) sees `Zs + 2·R_g` in series with each earpiece: the divider and Level Match
/// include it (10 Ω and a 3 Ω ground into 32 Ω: −3.52 dB, against −2.36 dB without the ground).
#[test]
fn level_match_and_the_divider_include_the_shared_ground_for_a_mono_signal() {
    let fs = 48_000.0;
    let x = sine(1000.0, fs, 48_000, 0.1);
    let grounded = StageParams { r_ground_ohm: 3.0, ..stage(10.0) };
    for channels in [1usize, 2] {
        for lm in [false, true] {
            let mut s = settings(0, grounded, stage(0.0));
            s.level_match = lm;
            let mut p = Processor::new(fs, Quality::Default, channels, &lib(), [None, None], &s, 1).unwrap();
            let (mut l, mut r) = (x.clone(), x.clone());
            for (a, b) in l.chunks_mut(256).zip(r.chunks_mut(256)) {
                if channels == 1 {
                    p.process(&mut [a]);
                } else {
                    p.process(&mut [a, b]);
                }
            }
            let want = if lm { 1.0 } else { 32.0 / (32.0 + 10.0 + 6.0) };
            for y in if channels == 1 { vec![&l] } else { vec![&l, &r] } {
                let err_db = 20.0 * (rms(&y[8000..]) / rms(&x[8000..]) / want).log10();
                assert!(err_db.abs() < 0.01, "{channels} channel(s), level match {lm}: {err_db:+.3} dB");
            }
        }
    }
}

#[test]
fn difference_nulls_for_an_ideal_stage_and_not_otherwise() {
    let fs = 44_100.0;
    let x = sine(440.0, fs, 30_000, 0.5);
    for (r_out, expect_null) in [(0.0, true), (75.0, false)] {
        let mut s = settings(2, stage(r_out), stage(r_out));
        s.listen = Listen::Difference;
        let mut p = Processor::new(fs, Quality::Default, 1, &lib(), [None, None], &s, 1).unwrap();
        let y = run(&mut p, &x, 333);
        let ratio_db = 20.0 * (rms(&y[5000..]) / rms(&x[5000..])).log10();
        if expect_null {
            assert!(ratio_db < -80.0, "ideal stage difference {ratio_db} dB");
        } else {
            assert!(ratio_db > -20.0, "75 Ω difference {ratio_db} dB");
        }
    }
}

#[test]
fn output_does_not_depend_on_block_size() {
    let fs = 48_000.0;
    let x: Vec<f32> = sine(97.0, fs, 20_000, 0.9).iter().zip(sine(5000.0, fs, 20_000, 0.3)).map(|(a, b)| a + b).collect();
    let laptop = StageParams {
        level_v: 1.0,
        v_max_v: Some(1.0),
        i_max_a: Some(0.06),
        bias: 0.5,
        xo_v: 0.003,
        r_mod_ohm: 0.5,
        r_out_ohm: 75.0,
        l_out_h: 0.0,
        c_block_f: Some(220e-6),
        noise_dbv: Some(-95.0),
        r_ground_ohm: 0.0,
    };
    let s = settings(2, laptop, stage(0.0));
    let mk = || Processor::new(fs, Quality::Default, 2, &lib(), [None, None], &s, 1).unwrap();
    let stereo = |p: &mut Processor, sizes: &[usize]| {
        let (mut l, mut r) = (x.clone(), x.iter().map(|v| -v).collect::<Vec<_>>());
        let mut i = 0;
        let mut k = 0;
        while i < l.len() {
            let n = sizes[k % sizes.len()].min(l.len() - i);
            p.process(&mut [&mut l[i..i + n], &mut r[i..i + n]]);
            i += n;
            k += 1;
        }
        (l, r)
    };
    let reference = stereo(&mut mk(), &[8192]);
    for sizes in [&[1usize][..], &[64], &[7, 1, 300, 8192, 2, 513]] {
        let got = stereo(&mut mk(), sizes);
        assert_eq!(got, reference, "block sizes {sizes:?}");
    }
}

#[test]
fn ab_switch_and_load_swap_are_click_free() {
    let fs = 48_000.0;
    let n = 48_000;
    let x = sine(200.0, fs, n, 0.5);
    // A: 300 Ω load behind 0 Ω; B: 32 Ω load behind 100 Ω (−12.3 dB): very different levels.
    let mut s = settings(1, stage(0.0), stage(100.0));
    s.slots[1].load = 0;
    let mut p = Processor::new(fs, Quality::Default, 1, &lib(), [None, None], &s, 1).unwrap();
    let mut y = x.clone();
    let max_step = |v: &[f32]| v.windows(2).map(|w| (w[1] - w[0]).abs()).fold(0.0f32, f32::max);
    for (k, c) in y.chunks_mut(480).enumerate() {
        if k == 20 {
            s.active = SlotId::B;
        }
        if k == 50 {
            s.slots[1].load = 2; // load swap on the playing slot
        }
        if k == 80 {
            s.active = SlotId::A;
        }
        p.set_settings(&s);
        p.process(&mut [c]);
    }
    // A 200 Hz sine at 0.5 moves at most 2π·200/48000·0.5 ≈ 0.013 per sample.
    let step = max_step(&y[2000..]);
    assert!(step < 0.02, "largest step {step}");
    assert_eq!(p.current_load(1), 2);
    assert!(y.iter().all(|v| v.is_finite()));
}

#[test]
fn imported_curve_installs_and_plays() {
    let fs = 48_000.0;
    let mut s = settings(3, stage(100.0), stage(0.0)); // 3 = imported (library has 3 loads)
    let mut p = Processor::new(fs, Quality::Default, 1, &lib(), [None, None], &s, 1).unwrap();
    // No curve yet: plays the first load.
    assert_eq!(p.current_load(0), 0);
    let imp = ImportedLoad::build(&Network::R(100.0), fs, Quality::Default, 1, 0, 1).unwrap();
    p.install_imported(imp).unwrap();
    let x = sine(1000.0, fs, 24_000, 0.1);
    let y = run(&mut p, &x, 128);
    assert_eq!(p.current_load(0), 3);
    let g = rms(&y[12_000..]) / rms(&x[12_000..]);
    assert!((g - 0.5).abs() < 0.005, "100 Ω into 100 Ω: {g}");
    // The (empty) container of the first install comes back for dropping; then a second import
    // replaces the curve playing now, after a fade.
    assert!(p.take_garbage().is_some());
    let imp2 = ImportedLoad::build(&Network::R(300.0), fs, Quality::Default, 1, 0, 2).unwrap();
    p.install_imported(imp2).unwrap();
    let y = run(&mut p, &x, 128);
    let g = rms(&y[12_000..]) / rms(&x[12_000..]);
    assert!((g - 0.75).abs() < 0.005, "100 Ω into 300 Ω: {g}");
    assert!(p.take_garbage().is_some(), "the replaced curve is handed out");
    s.slots[0].load = 0;
    p.set_settings(&s);
}

/// A listening level follows a curve imported while playing: its sensitivity arrives with it, and
/// the Level changes at the swap to what the new curve's sensitivity and divider ask.
#[test]
fn a_listening_level_follows_a_curve_installed_while_playing() {
    use loadline::processor::listening::level_for_spl;
    let fs = 48_000.0;
    let mut s = settings(3, stage(100.0), stage(0.0));
    s.slots[0].spl_db = Some(90.0);
    let mut p = Processor::new(fs, Quality::Default, 1, &lib(), [None, None], &s, 1).unwrap();
    let x = sine(1000.0, fs, 4800, 0.1);
    for (net, sens, generation) in [(Network::R(100.0), 100.0, 1), (Network::R(300.0), 95.0, 2)] {
        let z = net.impedance(1000.0);
        let imp = ImportedLoad::build(&net, fs, Quality::Default, 1, 0, generation).unwrap().with_sensitivity(Some(sens));
        p.install_imported(imp).unwrap();
        run(&mut p, &x, 128);
        let _ = p.take_garbage();
        assert_eq!(p.current_load(0), 3);
        assert_eq!(p.sensitivity(0), Some(sens));
        let (want, _) = level_for_spl(90.0, sens, z, &stage(100.0));
        assert_eq!(p.effective_stage(0).level_v, want, "curve {generation}");
    }
    // Without a sensitivity the slot keeps its own Level.
    let imp = ImportedLoad::build(&Network::R(50.0), fs, Quality::Default, 1, 0, 3).unwrap();
    p.install_imported(imp).unwrap();
    run(&mut p, &x, 128);
    assert_eq!(p.effective_stage(0).level_v, stage(100.0).level_v);
}

#[test]
fn no_subnormals_reach_the_output() {
    let fs = 96_000.0;
    let s = settings(2, stage(30.0), stage(0.0));
    let mut p = Processor::new(fs, Quality::Default, 2, &lib(), [None, None], &s, 1).unwrap();
    let tiny: Vec<f32> = (0..20_000).map(|k| if k % 3 == 0 { 1.0e-40 } else { -3.0e-39 }).collect();
    let mut l = tiny.clone();
    let mut r = vec![0.0f32; tiny.len()];
    r[0] = 1.0;
    p.process(&mut [&mut l, &mut r]);
    for v in l.iter().chain(r.iter()) {
        assert!(*v == 0.0 || v.is_normal(), "subnormal {v:e}");
    }
    // NaN and infinity in, finite out.
    let mut bad = vec![f32::NAN, f32::INFINITY, 0.5, f32::NEG_INFINITY];
    p.process(&mut [&mut bad]);
    assert!(bad.iter().all(|v| v.is_finite()));
}

/// The plugin's activation clones shared fits instead of fitting (see `processor::library`): the
/// same configuration gives the same shared library, and a processor built from it plays exactly
/// what one that fits everything itself plays, through load switches and at another rate.
#[test]
fn a_processor_on_the_shared_library_plays_what_a_freshly_fitted_one_plays() {
    use loadline::processor::library::{shared, PreparedLibrary};
    for fs in [44_100.0, 48_000.0] {
        let a = shared(fs, Quality::Default).unwrap();
        let b = shared(fs, Quality::Default).unwrap();
        assert!(std::sync::Arc::ptr_eq(&a, &b), "{fs} Hz: built twice");
        assert!(a.fits(fs, Quality::Default) && !a.fits(fs, Quality::High));
        let nets: Vec<Network> = loadline::library::loads().iter().map(|l| l.network.clone()).collect();
        let mut s = settings(3, stage(30.0), stage(120.0));
        s.slots[0].stage.i_max_a = Some(0.02);
        let mut fresh = Processor::new(fs, Quality::Default, 2, &nets, [None, None], &s, 1).unwrap();
        let mut reused = Processor::prepared(&a, 2, [None, None], &s, 1).unwrap();
        let x = sine(997.0, fs, 24_000, 0.9);
        let (mut l1, mut r1, mut l2, mut r2) = (x.clone(), x.clone(), x.clone(), x.clone());
        for (k, ((l1, r1), (l2, r2))) in
            l1.chunks_mut(500).zip(r1.chunks_mut(500)).zip(l2.chunks_mut(500).zip(r2.chunks_mut(500))).enumerate()
        {
            if k == 10 {
                // A load switch: the pool's clones must be the same fits.
                s.slots[0].load = 7;
                s.active = SlotId::B;
                fresh.set_settings(&s);
                reused.set_settings(&s);
            }
            fresh.process(&mut [l1, r1]);
            reused.process(&mut [l2, r2]);
        }
        assert_eq!(fresh.current_load(0), 7);
        assert!(l1 == l2 && r1 == r2, "{fs} Hz: outputs differ");
    }
    // A render's library holds only what it was asked for; the processor cannot switch to the rest.
    let nets = lib();
    let only = PreparedLibrary::build_only(48_000.0, Quality::Default, &nets, &[1, 9]).unwrap();
    assert!(only.get(0).is_none() && only.get(1).is_some() && only.get(2).is_none() && only.len() == 3);
    let mut s = settings(1, stage(30.0), stage(30.0));
    let mut p = Processor::prepared(&only, 1, [None, None], &s, 1).unwrap();
    s.slots[0].load = 2;
    p.set_settings(&s);
    run(&mut p, &sine(100.0, 48_000.0, 4_800, 0.5), 256);
    assert_eq!(p.current_load(0), 1, "switched to a load that was never fitted");
}

/// An engine refuses a load compiled for another internal rate.
#[test]
fn an_engine_refuses_a_load_compiled_for_another_rate() {
    use loadline::dsp::resample::Oversampler;
    use loadline::dsp::{Engine, PreparedLoad};
    let load = PreparedLoad::build(&Network::R(32.0), 44_100.0, Quality::Default).unwrap();
    let e = Engine::with_load(Oversampler::new(48_000.0, Quality::Default), load.clone(), &StageParams::IDEAL, 1);
    assert!(e.unwrap_err().to_string().contains("compiled for"));
    assert!(Engine::with_load(Oversampler::new(44_100.0, Quality::Default), load, &StageParams::IDEAL, 1).is_ok());
}

/// The ideal path runs only while it can be heard (`processor/ideal.rs`): it stops once Listen
/// has faded to Emulation and, primed from its history, starts again exactly where a path that
/// ran all along would be. Listen switches between every mode at odd places, at 44.1 and 48 kHz,
/// mono and stereo, block sizes 1 to 700: the output is bit-identical to the always-running path,
/// and the path really was off in between.
#[test]
fn the_ideal_path_runs_only_when_heard_and_restarts_exactly() {
    for (fs, channels) in [(48_000.0, 2usize), (44_100.0, 1)] {
        let n = 30_000;
        let x: Vec<f32> = sine(97.0, fs, n, 0.7).iter().zip(sine(5000.0, fs, n, 0.2)).map(|(a, b)| a + b).collect();
        let laptop = StageParams { r_out_ohm: 75.0, v_max_v: Some(1.0), i_max_a: Some(0.06), c_block_f: Some(220e-6), ..StageParams::IDEAL };
        let base = settings(0, laptop, stage(10.0));
        // Listen per block index: long stretches of Emulation between Ideal and Difference.
        let listen_at = |k: usize| match (k / 7) % 6 {
            1 => Listen::Difference,
            3 => Listen::Ideal,
            _ => Listen::Emulation,
        };
        let render = |on_demand: bool, sizes: &[usize]| {
            let mut p = Processor::new(fs, Quality::Default, channels, &lib(), [None, None], &base, 3).unwrap();
            p.set_ideal_on_demand(on_demand);
            let mut io: Vec<Vec<f32>> = (0..channels).map(|c| x.iter().map(|v| if c == 0 { *v } else { -0.5 * v }).collect()).collect();
            let (mut i, mut k, mut was_off) = (0, 0, false);
            while i < n {
                let len = sizes[k % sizes.len()].min(n - i);
                let mut s = base;
                s.listen = listen_at(k);
                p.set_settings(&s);
                let mut bufs: Vec<&mut [f32]> = io.iter_mut().map(|c| &mut c[i..i + len]).collect();
                p.process(&mut bufs);
                was_off |= !p.ideal_running();
                i += len;
                k += 1;
            }
            (io, was_off)
        };
        for sizes in [&[256usize][..], &[1, 700, 33, 128]] {
            let (always, off_always) = render(false, sizes);
            let (demand, off_demand) = render(true, sizes);
            assert!(!off_always && off_demand, "the path must stop only on demand (fs {fs}, blocks {sizes:?})");
            assert!(always == demand, "restarted ideal path differs (fs {fs}, blocks {sizes:?})");
        }
    }
}

/// Control values once per chunk while nothing ramps, against the plain per-sample form: every
/// switch (A/B, Listen, Bypass, Trim, Level Match, a load change) at odd places and block sizes
/// 1 to 700 gives bit-identical output.
#[test]
fn per_chunk_controls_equal_per_sample_controls() {
    let fs = 48_000.0;
    let n = 40_000;
    let x: Vec<f32> = sine(97.0, fs, n, 0.7).iter().zip(sine(3000.0, fs, n, 0.2)).map(|(a, b)| a + b).collect();
    let laptop = StageParams { r_out_ohm: 75.0, v_max_v: Some(1.0), i_max_a: Some(0.06), c_block_f: Some(220e-6), ..StageParams::IDEAL };
    let base = settings(0, laptop, stage(10.0));
    let at = |k: usize| {
        let mut s = base;
        match (k / 5) % 7 {
            1 => s.active = SlotId::B,
            2 => s.listen = Listen::Difference,
            3 => s.bypass = true,
            4 => s.trim_db = -6.0,
            5 => s.level_match = true,
            6 => s.slots[0].load = 1,
            _ => {}
        }
        s
    };
    for sizes in [&[256usize][..], &[1, 700, 33, 128]] {
        let render = |per_chunk: bool| {
            let mut p = Processor::new(fs, Quality::Default, 2, &lib(), [None, None], &base, 3).unwrap();
            p.set_per_chunk_controls(per_chunk);
            let (mut l, mut r) = (x.clone(), x.iter().map(|v| -0.5 * v).collect::<Vec<f32>>());
            let (mut i, mut k) = (0, 0);
            while i < n {
                let len = sizes[k % sizes.len()].min(n - i);
                p.set_settings(&at(k));
                p.process(&mut [&mut l[i..i + len], &mut r[i..i + len]]);
                i += len;
                k += 1;
            }
            (l, r)
        };
        assert!(render(true) == render(false), "blocks {sizes:?}");
    }
}

/// A stereo slot with a shared ground keeps its engines a pair from call to call (their element
/// table is built once and kept): the processor plays exactly what the slot's two engines play
/// as a pair, block for block, while the ground couples them. (Once a slot's end-of-call flush
/// treated each engine as a lone channel, so every call moved `2·R_g` in and out of their loops
/// and restarted the table, and this differed in the last bits.)
#[test]
fn a_grounded_stereo_slot_stays_a_pair_across_calls() {
    use loadline::dsp::Engine;
    let fs = 48_000.0;
    let p = StageParams { r_ground_ohm: 0.5, i_max_a: Some(0.05), r_mod_ohm: 0.5, xo_v: 0.002, bias: 0.5, ..stage(2.0) };
    let nets = lib();
    let s = Settings { level_match: false, ..settings(0, p, p) };
    let mut proc = Processor::new(fs, Quality::Default, 2, &nets, [None, None], &s, 5).unwrap();
    // Slot A's engines as the processor seeds them (slot seed + channel).
    let mut a = Engine::new(fs, Quality::Default, &nets[0], &p, 5).unwrap();
    let mut b = Engine::new(fs, Quality::Default, &nets[0], &p, 6).unwrap();
    a.set_paired(true);
    b.set_paired(true);
    let (xl, xr) = (sine(440.0, fs, 48_000, 0.7), sine(1_250.0, fs, 48_000, 0.4));
    let (mut l, mut r) = (xl.clone(), xr.clone());
    let (mut el, mut er): (Vec<f64>, Vec<f64>) = (xl.iter().map(|&v| v as f64).collect(), xr.iter().map(|&v| v as f64).collect());
    for ((lc, rc), (ec_l, ec_r)) in l.chunks_mut(256).zip(r.chunks_mut(256)).zip(el.chunks_mut(256).zip(er.chunks_mut(256))) {
        proc.process(&mut [lc, rc]);
        Engine::process_block_pair_f64(&mut a, &mut b, ec_l, ec_r);
        a.flush_denormals();
        b.flush_denormals();
    }
    assert!(a.table_in_use(), "the pair's table is not in use");
    let same = l.iter().zip(&el).chain(r.iter().zip(&er)).all(|(&y, &e)| y == e as f32 || (e.abs() < f32::MIN_POSITIVE as f64 && y == 0.0));
    assert!(same, "the processor's grounded pair differs from the engines' own");
}
