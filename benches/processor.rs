//! `cargo bench --bench processor`: the whole processor as the plugin runs it (both slots live,
//! the ideal path, control ramps, the output mix) on stereo noise at −12 dBFS RMS, NE5532 line
//! out into the closed-back 32 Ω load in slot A and the laptop jack into the same load in B, at
//! 44.1 and 48 kHz and host blocks of 64, 128 and 512, with the meters off (editor closed) and
//! on (editor open). Reports ns per channel-sample and the real-time factor, the median of
//! several passes measured side by side in this run.
//! Figures, not assertions: timings on shared machines are noisy.
//!
//! `SECONDS=5` processes 5 s of audio per pass instead of 20; `NOISE=off` turns both stages'
//! noise floors off.

use loadline::dsp::Network;
use loadline::library;
use loadline::processor::meters::{meters, MeterTarget};
use loadline::processor::{Processor, Settings, SlotSettings};
use std::time::Instant;

fn settings() -> Settings {
    let stage = |id: &str| library::find_stage(id).expect("stage").params;
    let load = library::loads().iter().position(|l| l.id == "closed-dynamic-32").expect("load");
    let mut s = Settings::default();
    s.slots = [SlotSettings { load, stage: stage("opamp-line-ne5532"), spl_db: None }, SlotSettings { load, stage: stage("laptop-jack"), spl_db: None }];
    if std::env::var("NOISE").is_ok_and(|v| v == "off") {
        // For measuring what the noise floors cost.
        s.slots.iter_mut().for_each(|sl| sl.stage.noise_dbv = None);
    }
    s
}

/// Stereo white noise at −12 dBFS RMS (uniform, so the peak is −7.2 dBFS).
fn noise(n: usize) -> [Vec<f32>; 2] {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        ((x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) as f32 * 0.4365
    };
    [(0..n).map(|_| next()).collect(), (0..n).map(|_| next()).collect()]
}

fn main() {
    let seconds: f64 = std::env::var("SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(20.0);
    let nets: Vec<Network> = library::loads().iter().map(|l| l.network.clone()).collect();
    let s = settings();
    println!("processor, both slots live, stereo noise at -12 dBFS RMS, {seconds} s per pass, median of 5");
    println!("{:>8} {:>6} {:>7} {:>14} {:>10}", "rate", "block", "meters", "ns/ch-sample", "x realtime");
    for fs in [44_100.0, 48_000.0] {
        let n = (seconds * fs) as usize;
        let input = noise(n);
        for block in [64usize, 128, 512] {
            for metered in [false, true] {
                let mut p = Processor::new(fs, loadline::dsp::Quality::Default, 2, &nets, [None, None], &s, 1).unwrap();
                let (mut writer, _reader) = meters();
                let mut times = Vec::new();
                for _pass in 0..5 {
                    let (mut l, mut r) = (input[0].clone(), input[1].clone());
                    let t = Instant::now();
                    for (lc, rc) in l.chunks_mut(block).zip(r.chunks_mut(block)) {
                        if metered {
                            writer.begin_block(fs, MeterTarget { slot: 0, load: p.current_load(0), stage: s.slots[0].stage });
                            p.process_metered(&mut [lc, rc], Some(&mut writer));
                            writer.end_block();
                        } else {
                            p.process(&mut [lc, rc]);
                        }
                    }
                    times.push(t.elapsed().as_secs_f64());
                    std::hint::black_box((&l, &r));
                }
                times.sort_by(f64::total_cmp);
                let t = times[times.len() / 2];
                println!(
                    "{:>8} {:>6} {:>7} {:>14.1} {:>10.0}",
                    fs as u32,
                    block,
                    if metered { "on" } else { "off" },
                    t / (2 * n) as f64 * 1e9,
                    seconds / t
                );
            }
        }
    }
}
