//! Writing renders a block at a time: WAV (hound; 16/24-bit integer or 32-bit float) and FLAC
//! (flacenc; 16/24-bit), with TPDF dither at 16 bits. Memory stays constant: FLAC is encoded
//! frame by frame and its STREAMINFO (length, MD5, frame sizes) rewritten in place at the end.

use anyhow::{anyhow, bail, Context, Result};
use flacenc::component::{BitRepr, Stream};
use flacenc::error::Verify;
use flacenc::source::{Context as FlacContext, Fill, FrameBuf};
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

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

/// `--dither`: what 16-bit output adds before rounding.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dither {
    /// Triangular (TPDF) dither of ±1 LSB: the rounding error becomes a constant, signal-free noise
    /// floor (Lipshitz, Wannamaker and Vanderkooy, "Quantization and dither: a theoretical survey",
    /// J. Audio Eng. Soc. 40(5), 1992).
    Tpdf,
    /// Plain rounding.
    Off,
}

/// The container, from the output file's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Container {
    Wav,
    Flac,
}

impl Container {
    /// Checks that the container holds `bits` (before any work).
    pub fn check_bits(self, bits: Bits, path: &Path) -> Result<()> {
        if self == Container::Flac && bits == Bits::Float32 {
            bail!("{}: FLAC holds integer samples only; give --bits 16 or --bits 24 (or write .wav for 32-bit float)", path.display());
        }
        Ok(())
    }

    /// How the output is described in the report ("WAV, 24-bit integer").
    pub fn describe(self, bits: Bits) -> String {
        let name = match self {
            Container::Wav => "WAV",
            Container::Flac => "FLAC",
        };
        match bits {
            Bits::Int16 => format!("{name}, 16-bit integer"),
            Bits::Int24 => format!("{name}, 24-bit integer"),
            Bits::Float32 => format!("{name}, 32-bit float"),
        }
    }
}

/// Seed of the dither's generator: the same render gives the same file.
const DITHER_SEED: u64 = 0x4c4f_4144_4c49_4e45;

enum Sink {
    Wav(hound::WavWriter<BufWriter<File>>),
    Flac(FlacSink),
}

/// A render being written. Counts the samples the integer format clipped.
pub struct AudioWriter {
    sink: Sink,
    bits: Bits,
    rng: Option<fastrand::Rng>,
    /// Largest integer value, and the interleaving buffer.
    full: f64,
    frame: Vec<i32>,
    /// Samples (per channel, summed over channels) beyond the integer format's range.
    pub clipped: u64,
}

impl AudioWriter {
    /// Starts writing `channels` at `rate` into `file` (named `path` in messages).
    pub fn new(file: BufWriter<File>, path: &Path, container: Container, bits: Bits, dither: Dither, rate: u32, channels: usize) -> Result<Self> {
        let depth = match bits {
            Bits::Int16 => 16,
            Bits::Int24 => 24,
            Bits::Float32 => 32,
        };
        let sink = match container {
            Container::Wav => {
                let sample_format = if bits == Bits::Float32 { hound::SampleFormat::Float } else { hound::SampleFormat::Int };
                let spec = hound::WavSpec { channels: channels as u16, sample_rate: rate, bits_per_sample: depth, sample_format };
                Sink::Wav(hound::WavWriter::new(file, spec).with_context(|| format!("cannot write {}", path.display()))?)
            }
            Container::Flac => Sink::Flac(FlacSink::new(file, rate, channels, depth as usize).with_context(|| format!("cannot write {}", path.display()))?),
        };
        Ok(Self {
            sink,
            bits,
            rng: (bits == Bits::Int16 && dither == Dither::Tpdf).then(|| fastrand::Rng::with_seed(DITHER_SEED)),
            full: ((1i64 << (depth - 1)) - 1) as f64,
            frame: Vec::new(),
            clipped: 0,
        })
    }

    /// Writes `chans[c][from..to]`, interleaved.
    pub fn write(&mut self, chans: &[Vec<f32>], from: usize, to: usize) -> Result<()> {
        if let (Sink::Wav(w), Bits::Float32) = (&mut self.sink, self.bits) {
            for i in from..to {
                for c in chans {
                    w.write_sample(c[i])?;
                }
            }
            return Ok(());
        }
        self.frame.clear();
        let (lo, hi) = (-self.full - 1.0, self.full);
        for i in from..to {
            for c in chans {
                let mut v = c[i] as f64 * self.full;
                if let Some(r) = &mut self.rng {
                    v += r.f64() - r.f64();
                }
                let q = v.round();
                if !(lo..=hi).contains(&q) {
                    self.clipped += 1;
                }
                self.frame.push(q.clamp(lo, hi) as i32);
            }
        }
        match &mut self.sink {
            Sink::Wav(w) => {
                for &s in &self.frame {
                    w.write_sample(s)?;
                }
                Ok(())
            }
            Sink::Flac(f) => f.write(&self.frame),
        }
    }

    /// Completes the file's headers.
    pub fn finish(self) -> Result<()> {
        match self.sink {
            Sink::Wav(w) => w.finalize().map_err(|e| anyhow!("{e}")),
            Sink::Flac(f) => f.finish(),
        }
    }
}

/// Samples per FLAC frame (the reference encoder's default).
const FLAC_BLOCK: usize = 4096;

/// A FLAC stream written frame by frame.
struct FlacSink {
    out: BufWriter<File>,
    stream: Stream,
    config: flacenc::error::Verified<flacenc::config::Encoder>,
    fb: FrameBuf,
    ctx: FlacContext,
    channels: usize,
    /// Interleaved samples waiting for a whole frame.
    pending: Vec<i32>,
    header_len: usize,
    frame_bytes: (usize, usize),
    sink: flacenc::bitsink::ByteSink,
}

impl FlacSink {
    fn new(mut out: BufWriter<File>, rate: u32, channels: usize, bits: usize) -> Result<Self> {
        let mut stream = Stream::new(rate as usize, channels, bits).map_err(|e| anyhow!("{e:?}"))?;
        stream.stream_info_mut().set_block_sizes(FLAC_BLOCK, FLAC_BLOCK).map_err(|e| anyhow!("{e:?}"))?;
        let config = flacenc::config::Encoder::default().into_verified().map_err(|(_, e)| anyhow!("{e:?}"))?;
        let mut sink = flacenc::bitsink::ByteSink::new();
        stream.write(&mut sink).map_err(|e| anyhow!("{e:?}"))?;
        out.write_all(sink.as_slice())?;
        let header_len = sink.as_slice().len();
        sink.clear();
        Ok(Self {
            out,
            stream,
            config,
            fb: FrameBuf::with_size(channels, FLAC_BLOCK).map_err(|e| anyhow!("{e:?}"))?,
            ctx: FlacContext::new(bits, channels),
            channels,
            pending: Vec::with_capacity(FLAC_BLOCK * channels),
            header_len,
            frame_bytes: (usize::MAX, 0),
            sink,
        })
    }

    fn write(&mut self, interleaved: &[i32]) -> Result<()> {
        let whole = FLAC_BLOCK * self.channels;
        let mut rest = interleaved;
        while !rest.is_empty() {
            let take = (whole - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() == whole {
                self.frame()?;
            }
        }
        Ok(())
    }

    /// Encodes and writes the pending samples as one frame.
    fn frame(&mut self) -> Result<()> {
        let mut pair = (&mut self.fb, &mut self.ctx);
        pair.fill_interleaved(&self.pending).map_err(|e| anyhow!("{e:?}"))?;
        let number = self.ctx.current_frame_number().unwrap_or(0);
        let frame = flacenc::encode_fixed_size_frame(&self.config, &self.fb, number, self.stream.stream_info()).map_err(|e| anyhow!("{e:?}"))?;
        self.sink.clear();
        frame.write(&mut self.sink).map_err(|e| anyhow!("{e:?}"))?;
        let bytes = self.sink.as_slice();
        self.frame_bytes = (self.frame_bytes.0.min(bytes.len()), self.frame_bytes.1.max(bytes.len()));
        self.out.write_all(bytes)?;
        self.pending.clear();
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        if !self.pending.is_empty() {
            self.frame()?;
        }
        let info = self.stream.stream_info_mut();
        info.set_md5_digest(&self.ctx.md5_digest());
        info.set_total_samples(self.ctx.total_samples());
        if self.frame_bytes.1 > 0 {
            info.set_frame_sizes(self.frame_bytes.0, self.frame_bytes.1).map_err(|e| anyhow!("{e:?}"))?;
        }
        self.sink.clear();
        self.stream.write(&mut self.sink).map_err(|e| anyhow!("{e:?}"))?;
        if self.sink.as_slice().len() != self.header_len {
            bail!("FLAC header changed size");
        }
        self.out.seek(SeekFrom::Start(0))?;
        self.out.write_all(self.sink.as_slice())?;
        self.out.flush()?;
        Ok(())
    }
}
