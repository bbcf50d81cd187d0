//! `loadline render` reads what users have and writes what they asked for: the same samples in
//! WAV (plain, WAVE_FORMAT_EXTENSIBLE, odd-sized chunks), AIFF and FLAC give the same render bit
//! for bit; MP3 and Ogg Vorbis render at the right rate, length and level; FLAC output holds the
//! WAV output's samples; 16-bit output is TPDF-dithered and reproducible; the report (text and
//! JSON) says what happened. The fixtures in `tests/data` are a 0.25 s stereo two-tone at 44.1 kHz
//! (sox), converted with sox, flac, lame and oggenc.

mod cli_common;
use cli_common::{bin, tmpdir};

use std::path::{Path, PathBuf};


fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}


fn read_wav(path: &Path) -> (hound::WavSpec, Vec<f32>) {
    let r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    let s = match spec.sample_format {
        hound::SampleFormat::Float => r.into_samples::<f32>().map(|v| v.unwrap()).collect(),
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            r.into_samples::<i32>().map(|v| v.unwrap() as f32 * scale).collect()
        }
    };
    (spec, s)
}

/// Renders `input` to `out` with `extra` flags; panics with stderr on failure; returns stderr.
fn render(dir: &Path, input: &Path, out: &str, extra: &[&str]) -> String {
    let stage: &[&str] = if extra.contains(&"--stage") { &[] } else { &["--stage", "laptop-jack", "--headphone", "multi-ba-dip5"] };
    let o = bin()
        .arg("render")
        .arg(input)
        .args(["-o", out])
        .args(stage)
        .args(extra)
        .current_dir(dir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{input:?}: {err}");
    err
}

fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
}

/// A copy of `tone.wav` with an odd-sized chunk (and its pad byte) and a LIST chunk before `data`.
fn odd_chunk_wav(path: &Path) {
    let b = std::fs::read(data("tone.wav")).unwrap();
    let data_at = b.windows(4).position(|w| w == b"data").unwrap();
    let mut out = b[..data_at].to_vec();
    out.extend_from_slice(b"odd \x03\x00\x00\x00abc\x00");
    out.extend_from_slice(b"LIST\x0c\x00\x00\x00INFOISFT\x00\x00\x00\x00");
    out.extend_from_slice(&b[data_at..]);
    let riff_len = (out.len() - 8) as u32;
    out[4..8].copy_from_slice(&riff_len.to_le_bytes());
    std::fs::write(path, out).unwrap();
}

#[test]
fn lossless_inputs_render_identically() {
    let d = tmpdir("formats-lossless");
    odd_chunk_wav(&d.join("odd.wav"));
    render(&d, &data("tone.wav"), "ref.wav", &[]);
    let (spec, want) = read_wav(&d.join("ref.wav"));
    assert_eq!((spec.channels, spec.sample_rate), (2, 44_100));
    assert_eq!(want.len(), 2 * 11_025);
    for (i, input) in [data("tone.aiff"), data("tone.flac"), data("tone-extensible24.wav"), d.join("odd.wav")].iter().enumerate() {
        let out = format!("out{i}.wav");
        let err = render(&d, input, &out, &[]);
        let (_, got) = read_wav(&d.join(&out));
        assert!(got == want, "{input:?} renders differently from tone.wav");
        assert!(err.contains("44100 Hz") && err.contains("2 ch"), "{err}");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn lossy_inputs_render_at_their_rate_length_and_level() {
    let d = tmpdir("formats-lossy");
    render(&d, &data("tone.wav"), "ref.wav", &[]);
    let (_, want) = read_wav(&d.join("ref.wav"));
    for name in ["tone.mp3", "tone.ogg"] {
        let err = render(&d, &data(name), "out.wav", &["--force"]);
        let (spec, got) = read_wav(&d.join("out.wav"));
        assert_eq!((spec.channels, spec.sample_rate), (2, 44_100), "{name}");
        // Encoder delay and padding: within 2048 samples of the source's length.
        assert!((got.len() as i64 - want.len() as i64).abs() <= 2 * 2048, "{name}: {} samples", got.len() / 2);
        let mid = |x: &[f32]| rms(&x[x.len() / 4..x.len() / 2]);
        let diff_db = 20.0 * (mid(&got) / mid(&want)).log10();
        assert!(diff_db.abs() < 0.5, "{name}: level differs by {diff_db:.2} dB");
        assert!(err.contains(if name.ends_with("mp3") { "MP3" } else { "Vorbis" }), "{err}");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn flac_output_holds_the_wav_output_samples() {
    let d = tmpdir("formats-flac");
    render(&d, &data("tone.wav"), "a.wav", &["--bits", "24"]);
    render(&d, &data("tone.wav"), "a.flac", &["--bits", "24"]);
    // Decoded with symphonia, with the MD5 signature checked.
    let (_, want) = read_wav(&d.join("a.wav"));
    let got = decode_flac(&d.join("a.flac"));
    assert_eq!(got.len(), want.len());
    assert!(got == want, "FLAC samples differ from the WAV's");
    // 32-bit float cannot be FLAC: refused before any work, nothing written.
    let o = bin().arg("render").arg(data("tone.wav")).args(["-o", "b.flac"]).current_dir(&d).output().unwrap();
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("--bits 16 or --bits 24"));
    assert!(!d.join("b.flac").exists());
    let _ = std::fs::remove_dir_all(&d);
}

fn decode_flac(path: &Path) -> Vec<f32> {
    use symphonia::core::audio::SampleBuffer;
    use symphonia::core::codecs::DecoderOptions;
    use symphonia::core::io::MediaSourceStream;
    let file = std::fs::File::open(path).unwrap();
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = symphonia::core::probe::Hint::new();
    hint.with_extension("flac");
    let probed = symphonia::default::get_probe().format(&hint, mss, &Default::default(), &Default::default()).unwrap();
    let mut format = probed.format;
    let track = format.default_track().unwrap();
    assert_eq!(track.codec_params.n_frames, Some(11_025), "STREAMINFO total samples");
    let mut dec = symphonia::default::get_codecs().make(&track.codec_params, &DecoderOptions { verify: true }).unwrap();
    let mut out = Vec::new();
    while let Ok(p) = format.next_packet() {
        let buf = dec.decode(&p).unwrap();
        let mut s = SampleBuffer::<f32>::new(buf.capacity() as u64, *buf.spec());
        s.copy_interleaved_ref(buf);
        out.extend_from_slice(s.samples());
    }
    let v = dec.finalize();
    assert_eq!(v.verify_ok, Some(true), "FLAC MD5 signature");
    out
}

#[test]
fn sixteen_bit_output_is_dithered_and_reproducible() {
    let d = tmpdir("formats-dither");
    // A sine at -100 dBFS (below one 16-bit step) and one at -20 dBFS, 32-bit float.
    let spec = hound::WavSpec { channels: 1, sample_rate: 48_000, bits_per_sample: 32, sample_format: hound::SampleFormat::Float };
    for (name, amp) in [("quiet.wav", 1e-5), ("loud.wav", 0.1)] {
        let mut w = hound::WavWriter::create(d.join(name), spec).unwrap();
        for k in 0..48_000 {
            w.write_sample((amp * (2.0 * std::f64::consts::PI * 997.0 * k as f64 / 48_000.0).sin()) as f32).unwrap();
        }
        w.finalize().unwrap();
    }
    let lsb = 1.0 / 32_768.0;
    let args = |bits: &'static str, dither: &'static str| ["--stage", "ideal", "--bits", bits, "--dither", dither];
    for name in ["quiet.wav", "loud.wav"] {
        let input = d.join(name);
        render(&d, &input, "f.wav", &args("32", "tpdf"));
        render(&d, &input, "t1.wav", &args("16", "tpdf"));
        render(&d, &input, "t2.wav", &args("16", "tpdf"));
        render(&d, &input, "r.wav", &args("16", "off"));
        let (_, f) = read_wav(&d.join("f.wav"));
        let (_, t) = read_wav(&d.join("t1.wav"));
        let (_, r) = read_wav(&d.join("r.wav"));
        assert_eq!(std::fs::read(d.join("t1.wav")).unwrap(), std::fs::read(d.join("t2.wav")).unwrap(), "dither is reproducible");
        let err = |q: &[f32]| q.iter().zip(&f).map(|(a, b)| ((a - b) as f64 / lsb).powi(2)).sum::<f64>().sqrt() / (f.len() as f64).sqrt();
        // TPDF of ±1 LSB then rounding: error variance 1/6 + 1/12 = 1/4 LSB² (0.5 LSB RMS), without
        // dither 1/12 (0.29 LSB) for a busy signal and less for a quiet one.
        let (et, er) = (err(&t), err(&r));
        assert!((0.45..0.55).contains(&et), "{name}: dithered error {et:.3} LSB");
        assert!(er < 0.3, "{name}: plain rounding error {er:.3} LSB");
        if name == "quiet.wav" {
            assert!(r.iter().all(|&v| v == 0.0), "below one step, plain rounding gives silence");
            assert!(t.iter().filter(|&&v| v != 0.0).count() > 10_000, "dither keeps the signal alive");
        }
        for n in ["f.wav", "t1.wav", "t2.wav", "r.wav"] {
            std::fs::remove_file(d.join(n)).unwrap();
        }
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn the_report_says_what_happened() {
    let d = tmpdir("formats-report");
    let spec = hound::WavSpec { channels: 2, sample_rate: 48_000, bits_per_sample: 32, sample_format: hound::SampleFormat::Float };
    let mut w = hound::WavWriter::create(d.join("hot.wav"), spec).unwrap();
    for k in 0..24_000 {
        let x = (1.78 * (2.0 * std::f64::consts::PI * 100.0 * k as f64 / 48_000.0).sin()) as f32; // +5 dBFS
        w.write_sample(if k == 500 { f32::NAN } else { x }).unwrap();
        w.write_sample(x).unwrap();
    }
    w.finalize().unwrap();
    let o = bin()
        .args(["render", "hot.wav", "-o", "out.wav", "--bits", "16", "--stage", "ideal", "--zout", "10", "--imax", "20", "--vmax", "1"])
        .args(["--headphone", "closed-dynamic-32", "--level-match", "--report-json", "r.json"])
        .current_dir(&d)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{text}");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.join("r.json")).unwrap()).unwrap();
    let r = &v[0];
    let setting = |name: &str| r["settings"].as_array().unwrap().iter().find(|s| s["name"] == name).cloned().unwrap();
    assert_eq!(setting("zout")["source"], "flag");
    assert_eq!(setting("zout")["value"], "10 Ω");
    assert_eq!(setting("ccap")["source"], "preset ideal");
    assert_eq!(setting("level match")["value"], "on");
    assert!(r["defaults_note"].is_null());
    assert_eq!(r["output_format"], "WAV, 16-bit integer");
    assert_eq!(r["dither"], "tpdf");
    assert!((r["peak_in_dbfs"].as_f64().unwrap() - 5.01).abs() < 0.05, "{}", r["peak_in_dbfs"]);
    assert!(r["samples_clipped_by_format"].as_u64().unwrap() > 1000);
    assert_eq!(r["non_finite_replaced"], 1);
    // +5 dBFS against 1 V RMS rails at 1 V RMS level: the rails act for a good share of samples,
    // and 10 Ω into 32 Ω at that level asks for more than 20 mA.
    assert!(r["rail_clipping_percent"].as_f64().unwrap() > 20.0, "{}", r["rail_clipping_percent"]);
    assert!(r["current_limiting_percent"].as_f64().unwrap() > 1.0, "{}", r["current_limiting_percent"]);
    let i = r["peak_current_a"].as_f64().unwrap();
    assert!((0.015..0.030).contains(&i), "peak current {i} A");
    // Level Match: 20·log10 |Z+Zs|/|Z| at 1 kHz, Zs = 10 Ω.
    let z = loadline::library::find_load("closed-dynamic-32").unwrap().network.impedance(1000.0);
    let want_db = 20.0 * ((z + 10.0).norm() / z.norm()).log10();
    let got_db = r["level_match_gain_db"].as_f64().unwrap();
    assert!((got_db - want_db).abs() < 1e-9, "{got_db} against {want_db}");
    assert!(text.contains(&format!("Level Match gain {want_db:+.2} dB")), "{text}");
    assert!(r["speed_x_real_time"].as_f64().unwrap() > 0.0);
    for needle in ["samples clipped by the output format", "NaN or infinite", "wrote out.wav", "zout 10 Ω (flag)"] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    // Level Match cut short by its ±40 dB limit: 10 kΩ into a 5 Ω IEM needs about +66 dB.
    let o = bin()
        .args(["render", "hot.wav", "-o", "capped.wav", "--stage", "ideal", "--zout", "10000", "--headphone", "multi-ba-dip5", "--level-match"])
        .args(["--report-json", "capped.json"])
        .current_dir(&d)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{text}");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.join("capped.json")).unwrap()).unwrap();
    assert_eq!(v[0]["level_match_capped"], true);
    assert!((v[0]["level_match_gain_db"].as_f64().unwrap() - 40.0).abs() < 1e-9);
    assert!(text.contains("Level Match gain +40.00 dB (WARNING: capped"), "{text}");
    // Leaning on the default stage is said in one line.
    let o = bin().args(["render", "hot.wav", "-o", "d.wav", "--zout", "10"]).current_dir(&d).output().unwrap();
    let text = String::from_utf8_lossy(&o.stderr);
    assert!(text.contains("note: no --stage or --config given"), "{text}");
    let _ = std::fs::remove_dir_all(&d);
}
