//! Real-time safety: processing never allocates, even while every parameter changes every block
//! and loads are swapped (issue 2). Runs the real engine under `assert_no_alloc`.

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
