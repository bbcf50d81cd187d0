//! `loadline render --ground-ohm` (issue 16): a left-only stereo file through a shared ground
//! return gives the analytic crosstalk on the right; 0 Ω gives silence there; a value out of
//! range is a one-line error that leaves the folder as it was.

mod cli_common;
use cli_common::{checksums, run, tmpdir};
use loadline::dsp::stereo::crosstalk;
use loadline::dsp::StageParams;
use std::f64::consts::PI;

/// The 1 kHz amplitude of `x` over whole periods at 48 kHz.
fn amp_1k(x: &[f32]) -> f64 {
    let n = x.len() / 48 * 48;
    let (mut re, mut im) = (0.0, 0.0);
    for (k, &v) in x[..n].iter().enumerate() {
        let w = 2.0 * PI * 1000.0 * k as f64 / 48_000.0;
        re += v as f64 * w.cos();
        im += v as f64 * w.sin();
    }
    2.0 * (re * re + im * im).sqrt() / n as f64
}

fn channels(path: &std::path::Path) -> [Vec<f32>; 2] {
    let s: Vec<f32> = hound::WavReader::open(path).unwrap().into_samples::<f32>().map(|v| v.unwrap()).collect();
    [s.iter().step_by(2).copied().collect(), s.iter().skip(1).step_by(2).copied().collect()]
}

#[test]
fn a_shared_ground_puts_the_crosstalk_on_the_silent_channel() {
    let d = tmpdir("ground");
    let spec = hound::WavSpec { channels: 2, sample_rate: 48_000, bits_per_sample: 32, sample_format: hound::SampleFormat::Float };
    let mut w = hound::WavWriter::create(d.join("left.wav"), spec).unwrap();
    for k in 0..48_000 {
        w.write_sample((0.1 * (2.0 * PI * 1000.0 * k as f64 / 48_000.0).sin()) as f32).unwrap();
        w.write_sample(0.0f32).unwrap();
    }
    w.finalize().unwrap();
    let load = &loadline::library::find_load("dynamic-iem-16").unwrap().network;
    for r_g in [0.3, 1.0, 3.0] {
        let out = format!("g{r_g}.wav");
        let (ok, _, err) = run(&d, &["render", "left.wav", "-o", &out, "--stage", "ideal", "--zout", "0.5", "--headphone", "dynamic-iem-16", "--ground-ohm", &r_g.to_string()]);
        assert!(ok, "{err}");
        assert!(err.contains(&format!("ground return {r_g} Ω shared by both channels (flag)")), "{err}");
        let [l, r] = channels(&d.join(&out));
        let got = amp_1k(&r[24_000..]) / amp_1k(&l[24_000..]);
        let want = crosstalk(StageParams { r_out_ohm: 0.5, ..StageParams::IDEAL }.source_impedance(1000.0), load.impedance(1000.0), r_g).norm();
        let err_db = 20.0 * (got / want).log10();
        println!("R_g {r_g} Ω: crosstalk {:.2} dB (two-loop solution {:.2} dB)", 20.0 * got.log10(), 20.0 * want.log10());
        assert!(err_db.abs() < 0.1, "{r_g} Ω: {err_db} dB off");
    }
    let (ok, _, err) = run(&d, &["render", "left.wav", "-o", "g0.wav", "--stage", "ideal", "--zout", "0.5", "--headphone", "dynamic-iem-16", "--ground-ohm", "0"]);
    assert!(ok, "{err}");
    assert!(channels(&d.join("g0.wav"))[1].iter().all(|&v| v == 0.0), "separate returns: the right channel is silent");

    let before = checksums(&d);
    for (bad, says) in [("11", "--ground-ohm 11 is out of range"), ("-1", "--ground-ohm -1 is out of range"), ("nan", "--ground-ohm NaN is out of range")] {
        let (ok, _, err) = run(&d, &["render", "left.wav", "-o", "bad.wav", "--ground-ohm", bad]);
        assert!(!ok && err.contains(says) && err.trim().lines().count() == 1, "{bad}: {err}");
        assert_eq!(checksums(&d), before);
    }
}
