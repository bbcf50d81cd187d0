//! The editor's meters: computed on the audio thread inside the processor, handed to the GUI one
//! way through atomics, never allocating, freeing or waiting on the audio side, and right. The load
//! current and power are the ones the engine's kernels computed (the meters have no load model),
//! so they are checked against the analytic current into a reactive load.

use loadline::dsp::{Network, Quality, StageParams};
use loadline::library;
use loadline::processor::meters::{meters, MeterTarget, MeterTotals};
use loadline::processor::{Processor, Settings, SlotId, SlotSettings};
use nice_assert_no_alloc::{assert_no_alloc, reset_violation_count, violation_count, AllocDisabler};
use std::f64::consts::{PI, SQRT_2};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[global_allocator]
static A: AllocDisabler = AllocDisabler;

const FS: f64 = 48_000.0;
const R_LOAD: f64 = 32.0;

fn processor(stage: StageParams) -> (Processor, Settings) {
    processor_with(stage, &[Network::R(R_LOAD)])
}

fn processor_with(stage: StageParams, loads: &[Network]) -> (Processor, Settings) {
    let s = SlotSettings { load: 0, stage, spl_db: None };
    let settings = Settings { slots: [s, s], ..Settings::default() };
    let p = Processor::new(FS, Quality::Default, 2, loads, [None, None], &settings, 1).unwrap();
    (p, settings)
}

fn sine(amp: f64, n: usize, start: usize) -> Vec<f32> {
    (start..start + n).map(|k| (amp * (2.0 * PI * 1000.0 * k as f64 / FS).sin()) as f32).collect()
}

/// Runs `blocks` blocks of 480 samples through the metered processor, with the allocation guard
/// around everything the audio thread does. Returns the allocation count.
fn run(
    p: &mut Processor,
    w: &mut loadline::processor::meters::MeterWriter,
    target: MeterTarget,
    amp: f64,
    blocks: usize,
) -> u32 {
    let mut l = vec![0.0f32; 480];
    let mut r = vec![0.0f32; 480];
    reset_violation_count();
    for b in 0..blocks {
        let x = sine(amp, 480, b * 480);
        l.copy_from_slice(&x);
        r.copy_from_slice(&x);
        assert_no_alloc(|| {
            w.begin_block(FS, target);
            p.process_metered(&mut [&mut l[..], &mut r[..]], Some(&mut *w));
            w.end_block();
        });
    }
    violation_count()
}

#[test]
fn meters_read_the_headphone_voltage_current_and_power() {
    // Ideal stage, 1 V RMS at 0 dBFS, into 32 Ω: a full-scale sine is 1 V RMS, √2/32 A peak.
    let (mut p, settings) = processor(StageParams::IDEAL);
    let (mut w, r) = meters();
    let target = MeterTarget { slot: 0, load: 0, stage: settings.slots[0].stage };
    // Nothing metered yet.
    let s = r.read();
    assert!(s.blocks == 0 && s.i_peak.is_none() && s.power_w.is_none(), "{s:?}");
    assert_eq!(run(&mut p, &mut w, target, 1.0, 200), 0, "the audio side allocated");
    assert_eq!(r.sample_rate(), FS);
    let s = r.read();
    assert!((s.v_rms - 1.0).abs() < 0.02, "v_rms {}", s.v_rms);
    assert!((s.v_peak - SQRT_2).abs() < 0.02, "v_peak {}", s.v_peak);
    let i = s.i_peak.expect("current known");
    assert!((i - SQRT_2 / R_LOAD).abs() < 0.001, "i_peak {i}");
    let pw = s.power_w.expect("power known");
    assert!((pw - 1.0 / R_LOAD).abs() < 0.001, "power {pw}");
    assert!(!s.clipped && !s.limited);
    // Peaks are taken by the reader: once the loud tail has left the processor (its latency),
    // quiet blocks read low.
    assert_eq!(run(&mut p, &mut w, target, 0.01, 10), 0);
    let _ = r.read();
    assert_eq!(run(&mut p, &mut w, target, 0.01, 2), 0);
    let s = r.read();
    assert!(s.v_peak < 0.05 && s.i_peak.unwrap() < 0.05 / R_LOAD, "{s:?}");
}

#[test]
fn clip_and_current_limit_lights() {
    // 0.5 V rails and 10 mA limit, driven with 1 V RMS into 32 Ω: both lights.
    let stage = StageParams { v_max_v: Some(0.5), i_max_a: Some(0.010), ..StageParams::IDEAL };
    let (mut p, _) = processor(stage);
    let (mut w, r) = meters();
    let target = MeterTarget { slot: 0, load: 0, stage };
    assert_eq!(run(&mut p, &mut w, target, 1.0, 50), 0);
    let s = r.read();
    assert!(s.clipped, "{s:?}");
    assert!(s.limited, "{s:?}");
    // The measured current respects the limit (soft knee ceiling ≈ 1.19 × onset).
    assert!(s.i_peak.unwrap() < 0.0125, "{s:?}");
    // Flags are reset by reading; a quiet signal does not set them again (after the loud tail).
    assert_eq!(run(&mut p, &mut w, target, 0.01, 10), 0);
    let _ = r.read();
    assert_eq!(run(&mut p, &mut w, target, 0.01, 10), 0);
    let s = r.read();
    assert!(!s.clipped && !s.limited, "{s:?}");
}

/// The current is the engine's: an ideal stage into a reactive headphone at 1 kHz puts exactly
/// `V/Z` through it, and power `V²·Re Z/|Z|²` into it (a resistive model of the load would be off
/// by the phase), for every library load.
#[test]
fn meters_read_the_current_the_engine_computed_into_a_reactive_load() {
    let loads: Vec<Network> = library::loads().iter().map(|l| l.network.clone()).collect();
    let (mut p, mut settings) = processor_with(StageParams::IDEAL, &loads);
    let (mut w, r) = meters();
    for (k, l) in library::loads().iter().enumerate() {
        settings.slots[0].load = k;
        p.set_settings(&settings);
        p.reset();
        let target = MeterTarget { slot: 0, load: k, stage: settings.slots[0].stage };
        // 3 s: the power average settles to 1e-4 (its time constant is 0.3 s); the peaks of the
        // switch-on transient are read and dropped first.
        assert_eq!(run(&mut p, &mut w, target, 1.0, 200), 0);
        let _ = r.read();
        assert_eq!(run(&mut p, &mut w, target, 1.0, 100), 0);
        let s = r.read();
        let z = l.network.impedance(1000.0);
        let (i_want, p_want) = (SQRT_2 / z.norm(), z.re / z.norm_sqr());
        let (i, pw) = (s.i_peak.expect("current known"), s.power_w.expect("power known"));
        assert!((i / i_want - 1.0).abs() < 0.002, "{}: i_peak {i} A, want {i_want}", l.id);
        assert!((pw / p_want - 1.0).abs() < 0.002, "{}: power {pw} W, want {p_want}", l.id);
    }
}

/// Metering changes nothing in the output (the kernels hand out the current they compute anyway),
/// whether the current limit and rails are engaged or not, and follows the slot heard: slot B's
/// load is 96 Ω, so with the limits not engaged its current is a third of slot A's.
#[test]
fn metering_leaves_the_output_alone_and_follows_the_heard_slot() {
    let quiet = StageParams { v_max_v: Some(2.0), i_max_a: Some(0.1), ..StageParams::IDEAL };
    let loud = StageParams { v_max_v: Some(0.8), i_max_a: Some(0.02), ..StageParams::IDEAL };
    for stage in [quiet, loud] {
        let loads = [Network::R(R_LOAD), Network::R(3.0 * R_LOAD)];
        let (mut plain, mut settings) = processor_with(stage, &loads);
        let (mut metered, _) = processor_with(stage, &loads);
        settings.slots[1].load = 1;
        let (mut w, r) = meters();
        let mut peaks = [0.0; 2];
        reset_violation_count();
        for b in 0..120 {
            // Switch slots every 20 blocks, and leave some blocks unmetered.
            let slot = (b / 20) % 2;
            settings.active = if slot == 0 { SlotId::A } else { SlotId::B };
            plain.set_settings(&settings);
            metered.set_settings(&settings);
            let x = sine(0.9, 480, b * 480);
            let (mut l0, mut r0) = (x.clone(), x.clone());
            let (mut l1, mut r1) = (x.clone(), x);
            let target = MeterTarget { slot, load: slot, stage };
            let unmetered = b % 7 == 3;
            assert_no_alloc(|| {
                plain.process(&mut [&mut l0[..], &mut r0[..]]);
                if unmetered {
                    metered.process(&mut [&mut l1[..], &mut r1[..]]);
                } else {
                    w.begin_block(FS, target);
                    metered.process_metered(&mut [&mut l1[..], &mut r1[..]], Some(&mut w));
                    w.end_block();
                }
            });
            assert!(l0 == l1 && r0 == r1, "block {b}: metering changed the output ({stage:?})");
            let s = r.read();
            // Once the A/B crossfade is over, the peak current is the heard slot's.
            if b % 20 >= 2 && !unmetered {
                peaks[slot] = f64::max(peaks[slot], s.i_peak.expect("current known"));
            }
        }
        assert_eq!(violation_count(), 0);
        if stage == quiet {
            let ratio = peaks[0] / peaks[1];
            assert!((ratio - 3.0).abs() < 0.03, "slot A/B peak current ratio {ratio} ({peaks:?})");
        }
    }
}

#[test]
fn the_audio_side_never_waits_for_the_gui() {
    // The editor keeps its reader behind a mutex. Hold that lock for the whole time the audio
    // thread runs: the writer must still finish, because it only touches atomics and its rings.
    let (mut p, settings) = processor(StageParams::IDEAL);
    let (mut w, r) = meters();
    let reader = Arc::new(Mutex::new(r));
    let guard = reader.lock().unwrap();
    let target = MeterTarget { slot: 0, load: 0, stage: settings.slots[0].stage };
    let (tx, rx) = std::sync::mpsc::channel();
    let audio = std::thread::spawn(move || {
        let n = run(&mut p, &mut w, target, 1.0, 100);
        tx.send(n).unwrap();
    });
    let n = rx.recv_timeout(Duration::from_secs(60)).expect("the audio thread blocked on the GUI's lock");
    assert_eq!(n, 0);
    audio.join().unwrap();
    // The data arrived while the GUI was busy.
    assert_eq!(guard.read().blocks, 100);
}

/// The meters' block form (the average in closed form, four running peaks) against the plain
/// per-sample recursion: the same RMS to 1e-12, the same peak and counts, whatever the runs.
#[test]
fn the_block_meter_equals_the_sample_meter() {
    let stage = StageParams { v_max_v: Some(1.0), ..StageParams::IDEAL };
    let target = MeterTarget { slot: 0, load: 0, stage };
    let n = 5_000;
    let x: Vec<f64> = (0..n).map(|k| 1.3 * (k as f64 * 0.0123).sin() * (k as f64 * 0.0007).cos()).collect();
    let y: Vec<f64> = x.iter().map(|v| 0.8 * v.tanh()).collect();
    for runs in [&[256usize][..], &[1, 17, 256, 99], &[600]] {
        let (mut a, ra) = meters();
        let (mut b, rb) = meters();
        let (mut i, mut k) = (0, 0);
        while i < n {
            let len = runs[k % runs.len()].min(n - i);
            for w in [&mut a, &mut b] {
                w.begin_block(FS, target);
            }
            for ch in 0..2 {
                let g = if ch == 0 { 1.0 } else { -0.5 };
                let (xs, ys): (Vec<f64>, Vec<f64>) = (i..i + len).map(|j| (g * x[j], g * y[j])).unzip();
                for j in 0..len {
                    a.sample(ch, xs[j], ys[j]);
                }
                b.block(ch, &xs, &ys);
            }
            a.end_block();
            b.end_block();
            let (sa, sb) = (ra.read(), rb.read());
            assert!((sa.v_rms - sb.v_rms).abs() <= 1e-12 * sa.v_rms.max(1e-30), "runs {runs:?} at {i}: {} vs {}", sa.v_rms, sb.v_rms);
            assert_eq!((sa.v_peak, sa.clipped), (sb.v_peak, sb.clipped), "runs {runs:?} at {i}");
            i += len;
            k += 1;
        }
        // The sum of squares in four lanes against one chain: equal up to rounding.
        let (ta, tb) = (a.totals(), b.totals());
        assert!((ta.v2_sum - tb.v2_sum).abs() <= 1e-12 * ta.v2_sum, "runs {runs:?}: {} vs {}", ta.v2_sum, tb.v2_sum);
        assert_eq!(ta, MeterTotals { v2_sum: ta.v2_sum, ..tb }, "runs {runs:?}");
        assert!(a.totals().clipping > 0, "the signal must reach the clip indication");
    }
}
