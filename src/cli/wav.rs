//! WAV in and out (hound): integer 8–32 bit and 32-bit float, mono or stereo, any rate.

use anyhow::{bail, Context, Result};
use std::path::Path;

/// Decoded audio, one `Vec` per channel, full scale ±1.
pub struct Audio {
    pub rate: u32,
    pub channels: Vec<Vec<f32>>,
}

/// Opens `path` and checks its header: a mono or stereo WAV.
fn open(path: &Path) -> Result<hound::WavReader<std::io::BufReader<std::fs::File>>> {
    let r = hound::WavReader::open(path).with_context(|| format!("{}: cannot read as WAV", path.display()))?;
    let nch = r.spec().channels as usize;
    if !(1..=2).contains(&nch) {
        bail!("{}: {} channels are not supported (mono or stereo only)", path.display(), nch);
    }
    Ok(r)
}

/// Checks that `path` can be read (its header) before any work starts.
pub fn probe(path: &Path) -> Result<()> {
    open(path).map(|_| ())
}

/// Reads a mono or stereo WAV.
pub fn read(path: &Path) -> Result<Audio> {
    let r = open(path)?;
    let spec = r.spec();
    let nch = spec.channels as usize;
    let samples: Vec<f32> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => r.into_samples::<f32>().collect::<Result<_, _>>(),
        (hound::SampleFormat::Int, b @ 8..=32) => {
            let scale = 1.0 / (1u64 << (b - 1)) as f32;
            r.into_samples::<i32>().map(|s| s.map(|v| v as f32 * scale)).collect::<Result<_, _>>()
        }
        (f, b) => bail!("{}: unsupported sample format ({b}-bit {f:?})", path.display()),
    }
    .with_context(|| format!("{}: corrupt audio data", path.display()))?;
    let mut channels = vec![Vec::with_capacity(samples.len() / nch); nch];
    for (i, s) in samples.into_iter().enumerate() {
        channels[i % nch].push(s);
    }
    Ok(Audio { rate: spec.sample_rate, channels })
}

/// Output sample format from `--bits`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bits {
    Int16,
    Int24,
    Float32,
}

impl std::str::FromStr for Bits {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "16" => Ok(Bits::Int16),
            "24" => Ok(Bits::Int24),
            "32" | "32f" | "float" => Ok(Bits::Float32),
            _ => Err(format!("{s:?} is not 16, 24 or 32 (float)")),
        }
    }
}

/// Writes `channels` interleaved to `file` (named `path` in messages).
pub fn write<W: std::io::Write + std::io::Seek>(file: W, path: &Path, rate: u32, channels: &[Vec<f32>], bits: Bits) -> Result<()> {
    let (bits_per_sample, sample_format) = match bits {
        Bits::Int16 => (16, hound::SampleFormat::Int),
        Bits::Int24 => (24, hound::SampleFormat::Int),
        Bits::Float32 => (32, hound::SampleFormat::Float),
    };
    let spec = hound::WavSpec { channels: channels.len() as u16, sample_rate: rate, bits_per_sample, sample_format };
    let mut w = hound::WavWriter::new(file, spec).with_context(|| format!("cannot write {}", path.display()))?;
    let n = channels.first().map_or(0, Vec::len);
    let full = ((1i64 << (bits_per_sample - 1)) - 1) as f32;
    for i in 0..n {
        for c in channels {
            let v = c[i];
            match bits {
                Bits::Float32 => w.write_sample(v),
                // Rounded and clipped to the integer range (no dither: renders stay reproducible).
                _ => w.write_sample((v * full).round().clamp(-full - 1.0, full) as i32),
            }
            .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    w.finalize().with_context(|| format!("cannot finish {}", path.display()))?;
    Ok(())
}
