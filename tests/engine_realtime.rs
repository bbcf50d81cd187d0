//! Real-time safety: processing never allocates, even while every parameter changes every block
//! and loads are swapped (issue 2). Runs the real engine under `assert_no_alloc`.

mod common;
use common::many_mode_load;
use assert_no_alloc::{assert_no_alloc, reset_violation_count, violation_count, AllocDisabler};
use loadline::dsp::{Engine, Quality, StageParams};
use loadline::library;

#[global_allocator]
static A: AllocDisabler = AllocDisabler;

/// A deterministic parameter walk over the whole range, including "absent" positions.
fn params_for(k: usize) -> StageParams {
    let f = |i: usize, n: usize| ((k * 7919 + i * 104_729) % n) as f64 / (n - 1) as f64;
    StageParams {
        level_v: 0.01 * 3000f64.powf(f(1, 97)),
        v_max_v: if k % 5 == 0 { None } else { Some(0.05 * 600f64.powf(f(2, 89))) },
        i_max_a: if k % 7 == 0 { None } else { Some(0.001 * 2000f64.powf(f(3, 83))) },
        bias: f(4, 79),
        xo_v: 0.02 * f(5, 73),
        r_mod_ohm: 5.0 * f(6, 71),
        r_out_ohm: if k % 3 == 0 { 0.0 } else { 0.1 * 100_000f64.powf(f(7, 67)) },
        l_out_h: if k % 4 == 0 { 0.0 } else { 1e-4 * f(8, 61) },
        c_block_f: if k % 2 == 0 { None } else { Some(1e-6 * 1000f64.powf(f(9, 59))) },
        noise_dbv: if k % 6 == 0 { None } else { Some(-140.0 + 100.0 * f(10, 53)) },
        r_ground_ohm: if k % 2 == 1 { 0.0 } else { 10.0 * f(11, 47) },
    }
}

#[test]
fn processing_never_allocates_with_parameter_changes_and_load_swaps() {
    for q in [Quality::Default, Quality::High] {
        let loads = library::loads();
        let mut e = Engine::new(48_000.0, q, &loads[0].network, &StageParams::IDEAL, 3).unwrap();
        // Loads are compiled off the audio thread, before the real-time section.
        let mut prepared: Vec<_> = loads.iter().map(|l| Some(e.build_load(&l.network).unwrap())).collect();
        let mut retired: Vec<Option<loadline::dsp::PreparedLoad>> = (0..prepared.len()).map(|_| None).collect();
        let mut buf = vec![0.0f32; 512];
        let params: Vec<StageParams> = (0..200).map(params_for).collect();
        reset_violation_count();
        assert_no_alloc(|| {
            for (blk, p) in params.iter().enumerate() {
                e.set_params(p);
                if blk % 20 == 10 {
                    let i = (blk / 20) % prepared.len();
                    if let Some(new) = prepared[i].take() {
                        // The old load goes to a pre-sized slot, dropped after the real-time section.
                        retired[i] = Some(e.swap_load(new));
                    }
                }
                let n = 1 + (blk * 37) % buf.len(); // varying block sizes
                for (k, s) in buf[..n].iter_mut().enumerate() {
                    *s = (0.9 * ((blk * 512 + k) as f32 * 0.031).sin()) * if blk % 9 == 0 { 30.0 } else { 1.0 };
                }
                e.process_block(&mut buf[..n]);
            }
        });
        assert_eq!(violation_count(), 0, "allocations inside process() at {q:?}");
        assert!(buf.iter().all(|v| v.is_finite()));
        drop(retired);
    }
}

/// The steady-state machinery under `assert_no_alloc`: the element table is built a few nodes per
/// sample after the parameters settle, then blocks run through the chunked block path (mono and
/// stereo pair, each its own engines), with a load swap and a parameter change in between (which
/// also couples the pair through a shared ground and puts `2·R_g` in the mono engine's loop).
#[test]
fn steady_state_table_and_block_paths_never_allocate() {
    let loads = library::loads();
    let p = library::find_stage("laptop-jack").unwrap().params;
    // From block 200 the pair also shares a ground return (the coupled solve).
    let q = StageParams { r_out_ohm: 10.0, i_max_a: Some(0.02), r_ground_ohm: 1.0, ..p };
    let mut a = Engine::new(48_000.0, Quality::Default, &loads[0].network, &p, 1).unwrap();
    let mut b = Engine::new(48_000.0, Quality::Default, &loads[0].network, &p, 2).unwrap();
    let mut c = Engine::new(48_000.0, Quality::Default, &loads[0].network, &p, 3).unwrap();
    let mut spare_a = Some(a.build_load(&loads[3].network).unwrap());
    let mut spare_b = Some(b.build_load(&loads[3].network).unwrap());
    let mut spare_c = Some(c.build_load(&loads[3].network).unwrap());
    let mut retired = Vec::with_capacity(6);
    let mut l = vec![0.0f64; 480];
    let mut r = vec![0.0f64; 480];
    let mut mono = vec![0.0f32; 333];
    let mut used = [false; 3];
    reset_violation_count();
    assert_no_alloc(|| {
        for blk in 0..300 {
            if blk == 100 {
                if let (Some(na), Some(nb), Some(nc)) = (spare_a.take(), spare_b.take(), spare_c.take()) {
                    retired.push(a.swap_load(na));
                    retired.push(b.swap_load(nb));
                    retired.push(c.swap_load(nc));
                }
            }
            if blk == 200 {
                a.set_params(&q);
                b.set_params(&q);
                c.set_params(&q);
            }
            for (k, (x, y)) in l.iter_mut().zip(r.iter_mut()).enumerate() {
                let t = (blk * 480 + k) as f64 / 48_000.0;
                *x = 0.7 * (2.0 * std::f64::consts::PI * 997.0 * t).sin();
                *y = 0.5 * (2.0 * std::f64::consts::PI * 331.0 * t).sin();
            }
            Engine::process_block_pair_f64(&mut a, &mut b, &mut l, &mut r);
            for (k, s) in mono.iter_mut().enumerate() {
                *s = 0.3 * ((blk * 333 + k) as f32 * 0.05).sin();
            }
            c.process_block(&mut mono);
            if a.table_in_use() && b.table_in_use() && c.table_in_use() {
                used[blk / 100] = true;
            }
        }
    });
    assert_eq!(violation_count(), 0, "allocations in the steady-state paths");
    assert_eq!(used, [true; 3], "the element table was not in use in every phase");
    assert!(l.iter().chain(&r).all(|v| v.is_finite()));
    drop(retired);
}

/// The kernel's other branches under `assert_no_alloc`: a stereo pair whose channels solve their
/// element differently (table beside plain wire, so each runs alone with its shadow), a pair with
/// a series inductor, and a pair over a load with more modes than the vector kernel holds (the
/// in-place path), all in steady state with the table in use where it applies.
#[test]
fn mixed_pairs_inductors_and_many_mode_loads_never_allocate() {
    let many = many_mode_load();
    let modes = loadline::dsp::modal::ModalLoad::fit(&many, 192_000.0).unwrap().report().modes;
    assert!(modes > 8, "{modes} modes: the load does not take the in-place path");
    let dyn32 = &library::find_load("closed-dynamic-32").unwrap().network;
    let lap = library::find_stage("laptop-jack").unwrap().params;
    let wire = StageParams { r_out_ohm: 75.0, c_block_f: Some(220e-6), ..StageParams::IDEAL };
    let ind = StageParams { l_out_h: 20e-6, ..lap };
    let cases = [(dyn32, lap, wire), (dyn32, ind, ind), (&many, lap, lap)];
    let mut engines: Vec<(Engine, Engine)> =
        cases.iter().map(|(n, pa, pb)| (Engine::new(48_000.0, Quality::Default, n, pa, 1).unwrap(), Engine::new(48_000.0, Quality::Default, n, pb, 2).unwrap())).collect();
    let mut l_buf = vec![0.0f64; 512];
    let mut r_buf = vec![0.0f64; 512];
    let mut used = [false; 3];
    reset_violation_count();
    assert_no_alloc(|| {
        for blk in 0..150 {
            for (k, (a, b)) in engines.iter_mut().enumerate() {
                for (j, (x, y)) in l_buf.iter_mut().zip(r_buf.iter_mut()).enumerate() {
                    let t = (blk * 512 + j) as f64 / 48_000.0;
                    *x = 0.6 * (2.0 * std::f64::consts::PI * 997.0 * t).sin();
                    *y = 0.4 * (2.0 * std::f64::consts::PI * 211.0 * t).sin();
                }
                Engine::process_block_pair_f64(a, b, &mut l_buf, &mut r_buf);
                used[k] |= a.table_in_use();
            }
        }
    });
    assert_eq!(violation_count(), 0, "allocations in the kernel's other branches");
    assert_eq!(used, [true; 3], "the element table was not in use");
}

/// What the plugin does after `activate` or `reset` never allocates either: new settings (another
/// load, new stage values, the other slot), a reset, and the first block snapping to them
/// (`Processor::snap`, which performs the pending load swap at once).
#[test]
fn reset_and_snap_to_new_settings_do_not_allocate() {
    use loadline::processor::{Processor, Settings, SlotId, SlotSettings};
    let nets: Vec<_> = library::loads().iter().map(|l| l.network.clone()).collect();
    let s = |k: usize| SlotSettings { load: k % nets.len(), stage: params_for(k), spl_db: None };
    let mut p = Processor::new(48_000.0, Quality::Default, 2, &nets, [None, None], &Settings::default(), 1).unwrap();
    let (mut l, mut r) = (vec![0.1f32; 256], vec![-0.1f32; 256]);
    reset_violation_count();
    for k in 0..40 {
        let settings = Settings { slots: [s(k), s(k + 3)], active: if k % 2 == 0 { SlotId::A } else { SlotId::B }, ..Settings::default() };
        assert_no_alloc(|| {
            p.set_settings(&settings);
            p.reset();
            p.set_settings(&settings);
            p.snap();
            p.process(&mut [&mut l[..], &mut r[..]]);
        });
        assert!(l.iter().chain(&r).all(|v| v.is_finite()), "round {k}");
    }
    assert_eq!(violation_count(), 0);
}
