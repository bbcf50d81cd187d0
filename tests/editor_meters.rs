//! The editor's meters: computed on the audio thread inside the processor, handed to the GUI one
//! way through atomics, never allocating, freeing or waiting on the audio side, and right.

use loadline::dsp::{Network, Quality, StageParams};
use loadline::processor::meters::{meters, MeterTarget, Probe};
use loadline::processor::{Processor, Settings, SlotSettings};
use nice_assert_no_alloc::{assert_no_alloc, reset_violation_count, violation_count, AllocDisabler};
use std::f64::consts::{PI, SQRT_2};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[global_allocator]
static A: AllocDisabler = AllocDisabler;

const FS: f64 = 48_000.0;
const R_LOAD: f64 = 32.0;

fn processor(stage: StageParams) -> (Processor, Settings) {
    let s = SlotSettings { load: 0, stage };
    let settings = Settings { slots: [s, s], ..Settings::default() };
    let p = Processor::new(FS, Quality::Default, 2, &[Network::R(R_LOAD)], [None, None], &settings, 1).unwrap();
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
    let (mut w, mut r) = meters();
    let target = MeterTarget { slot: 0, load: 0, generation: 0, stage: settings.slots[0].stage };
    // No probe yet: voltage only.
    assert_eq!(run(&mut p, &mut w, target, 1.0, 20), 0);
    let s = r.read();
    assert!(s.blocks == 20 && s.i_peak.is_none() && s.power_w.is_none(), "{s:?}");
    // The GUI sends a probe for load 0 (it knows the sample rate from the writer).
    assert_eq!(r.sample_rate(), FS);
    r.offer_probe(0, 0, 0, &Network::R(R_LOAD));
    assert_eq!(run(&mut p, &mut w, target, 1.0, 200), 0, "the audio side allocated");
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
    let (mut w, mut r) = meters();
    let target = MeterTarget { slot: 0, load: 0, generation: 0, stage };
    assert_eq!(run(&mut p, &mut w, target, 1.0, 2), 0);
    r.offer_probe(0, 0, 0, &Network::R(R_LOAD));
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

#[test]
fn probe_swaps_do_not_allocate_or_free_on_the_audio_side() {
    let (mut p, settings) = processor(StageParams::IDEAL);
    let (mut w, mut r) = meters();
    let target = MeterTarget { slot: 0, load: 0, generation: 0, stage: settings.slots[0].stage };
    assert_eq!(run(&mut p, &mut w, target, 0.5, 1), 0);
    // Many probe changes between blocks: each replaced probe goes back to the GUI to be dropped.
    for k in 0..40 {
        r.invalidate();
        r.offer_probe(0, 0, 0, &Network::R(R_LOAD + k as f64 * 0.0));
        r.offer_probe(1, 7, 0, &Network::R(100.0));
        assert_eq!(run(&mut p, &mut w, target, 0.5, 2), 0, "round {k}");
    }
    // A probe for another load is ignored (current unknown), never misapplied.
    let (mut w2, mut r2) = meters();
    assert_eq!(run(&mut p, &mut w2, target, 0.5, 1), 0);
    r2.offer_probe(0, 5, 0, &Network::R(1.0));
    assert_eq!(run(&mut p, &mut w2, target, 0.5, 5), 0);
    assert!(r2.read().i_peak.is_none());
    let _ = Probe::build(&Network::R(1.0), FS, 0, 0, 0).unwrap();
}

#[test]
fn the_audio_side_never_waits_for_the_gui() {
    // The editor keeps its reader behind a mutex. Hold that lock for the whole time the audio
    // thread runs: the writer must still finish, because it only touches atomics and its rings.
    let (mut p, settings) = processor(StageParams::IDEAL);
    let (mut w, r) = meters();
    let reader = Arc::new(Mutex::new(r));
    let guard = reader.lock().unwrap();
    let target = MeterTarget { slot: 0, load: 0, generation: 0, stage: settings.slots[0].stage };
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
