//! Cost of the engine while its parameters glide (the per-sample route: smoothing, the element
//! solved exactly, the resampler one sample at a time) against the steady chunked route, stereo
//! pair, at 44.1 and 48 kHz and both qualities. The output impedance is moved every 256 samples,
//! so the engine never settles.
use loadline::dsp::{Engine, Quality, StageParams};
use loadline::library;
use std::time::Instant;

fn main() {
    let net = &library::find_load("closed-dynamic-32").unwrap().network;
    let p0 = library::find_stage("laptop-jack").unwrap().params;
    for fs in [44_100.0, 48_000.0] {
        for q in [Quality::Default, Quality::High] {
            let n = fs as usize;
            let x: Vec<f64> = (0..n).map(|k| 0.5 * (2.0 * std::f64::consts::PI * 997.0 * k as f64 / fs).sin()).collect();
            let mut best = [f64::INFINITY; 2];
            for round in 0..12 {
                for (m, glide) in [false, true].into_iter().enumerate() {
                    let mut a = Engine::new(fs, q, net, &p0, 1).unwrap();
                    let mut b = Engine::new(fs, q, net, &p0, 2).unwrap();
                    let (mut l, mut r) = (x.clone(), x.clone());
                    let t0 = Instant::now();
                    for (k, (cl, cr)) in l.chunks_mut(256).zip(r.chunks_mut(256)).enumerate() {
                        if glide {
                            let p = StageParams { r_out_ohm: p0.r_out_ohm * if (k + round) % 2 == 0 { 1.5 } else { 1.0 }, ..p0 };
                            a.set_params(&p);
                            b.set_params(&p);
                        }
                        Engine::process_block_pair_f64(&mut a, &mut b, cl, cr);
                    }
                    best[m] = best[m].min(t0.elapsed().as_secs_f64());
                    std::hint::black_box((&l, &r));
                }
            }
            let ns = |t: f64| t / (2 * n) as f64 * 1e9;
            println!(
                "{fs} Hz {q:?}: steady {:.1} ns, gliding {:.1} ns per channel-sample ({:.2}×)",
                ns(best[0]),
                ns(best[1]),
                best[1] / best[0]
            );
        }
    }
}
