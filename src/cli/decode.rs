//! Reading what users have, a block at a time (symphonia): WAV in its legal layouts (odd-sized
//! chunks, WAVE_FORMAT_EXTENSIBLE, 8–32-bit integer, 32/64-bit float), AIFF, FLAC, MP3 and Ogg
//! Vorbis, mono or stereo, any rate. Memory stays constant whatever the file's length: one
//! decoded packet is held at a time. A file that cannot be read gets one line naming it and, where
//! the first bytes tell, its format.

use anyhow::{anyhow, bail, Result};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{Decoder, DecoderOptions, CODEC_TYPE_NULL, CODEC_TYPE_VORBIS, CODEC_TYPE_MP1, CODEC_TYPE_MP2, CODEC_TYPE_MP3};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

/// An open audio file, decoded on demand.
pub struct AudioReader {
    path: PathBuf,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn Decoder>,
    track_id: u32,
    /// Sample rate, hertz.
    pub rate: u32,
    /// Channels (1 or 2).
    pub channels: usize,
    /// Length in samples per channel, when the file says.
    pub frames_hint: Option<u64>,
    /// What the file holds, for the report ("PCM 24-bit", "FLAC 16-bit", "MP3").
    pub description: String,
    /// Lossy codecs may skip a damaged packet; lossless ones must not.
    lossy: bool,
    /// Bytes per sample in the file (0 when unknown).
    bytes_per_sample: usize,
    /// Decoded samples not yet handed out (interleaved), and where the next one starts.
    pending: Vec<f32>,
    pending_pos: usize,
    sample_buf: Option<SampleBuffer<f32>>,
    /// Samples per channel handed out so far, and damaged packets skipped.
    pub frames_read: u64,
    pub packets_skipped: u64,
    finished: bool,
}

/// The format the first bytes of an unreadable file suggest, for the error message.
fn sniff(path: &Path) -> Option<&'static str> {
    let mut head = [0u8; 16];
    let n = File::open(path).ok()?.read(&mut head).ok()?;
    let h = &head[..n];
    let tag = |t: &[u8], at: usize| h.len() >= at + t.len() && &h[at..at + t.len()] == t;
    Some(if tag(b"RIFF", 0) && tag(b"WAVE", 8) {
        "WAV"
    } else if tag(b"RF64", 0) || tag(b"BW64", 0) {
        "RF64 (64-bit WAV)"
    } else if tag(b"riff", 0) {
        "Sony Wave64"
    } else if tag(b"FORM", 0) && (tag(b"AIFF", 8) || tag(b"AIFC", 8)) {
        "AIFF"
    } else if tag(b"fLaC", 0) {
        "FLAC"
    } else if tag(b"OggS", 0) {
        "Ogg"
    } else if tag(b"ID3", 0) || (h.len() >= 2 && h[0] == 0xFF && h[1] & 0xE0 == 0xE0) {
        "MP3"
    } else if tag(b"ftyp", 4) {
        "MP4/M4A"
    } else if tag(b"caff", 0) {
        "Core Audio (CAF)"
    } else if tag(b"wvpk", 0) {
        "WavPack"
    } else if tag(b"MThd", 0) {
        "MIDI"
    } else {
        return None;
    })
}

const READS: &str = "Loadline reads WAV, AIFF, FLAC, MP3 and Ogg Vorbis";

impl AudioReader {
    /// Opens `path` and reads its header (no audio yet).
    pub fn open(path: &Path) -> Result<Self> {
        let shown = path.display();
        let file = File::open(path).map_err(|e| anyhow!("{shown}: cannot open: {e}"))?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        if len == 0 {
            bail!("{shown}: the file is empty (0 bytes)");
        }
        if file.metadata().is_ok_and(|m| m.is_dir()) {
            bail!("{shown}: is a folder, not an audio file");
        }
        let mss = MediaSourceStream::new(Box::new(file), MediaSourceStreamOptions::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let opts = FormatOptions { enable_gapless: true, ..FormatOptions::default() };
        let probed = symphonia::default::get_probe().format(&hint, mss, &opts, &MetadataOptions::default()).map_err(|e| {
            match (sniff(path), e) {
                (Some(kind), SymError::Unsupported(_)) => anyhow!("{shown}: {kind} files cannot be read ({READS})"),
                (Some(kind), e) => anyhow!("{shown}: damaged or truncated {kind} file ({e})"),
                (None, _) => anyhow!("{shown}: not an audio file ({READS})"),
            }
        })?;
        let format = probed.format;
        let track = format
            .tracks()
            .iter()
            .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
            .ok_or_else(|| anyhow!("{shown}: holds no audio track"))?;
        let params = track.codec_params.clone();
        let codecs = symphonia::default::get_codecs();
        let (codec_name, short) = codecs.get_codec(params.codec).map_or(("unknown codec", ""), |d| (d.long_name, d.short_name));
        let decoder = codecs
            .make(&params, &DecoderOptions::default())
            .map_err(|e| anyhow!("{shown}: {codec_name} audio cannot be decoded ({e})"))?;
        let channels = params.channels.map_or(0, |c| c.count());
        if !(1..=2).contains(&channels) {
            bail!("{shown}: {channels} channels; Loadline renders mono or stereo files");
        }
        let rate = params.sample_rate.ok_or_else(|| anyhow!("{shown}: the file gives no sample rate"))?;
        if !(8_000..=768_000).contains(&rate) {
            bail!("{shown}: sample rate {rate} Hz is outside 8 kHz to 768 kHz");
        }
        let lossy = [CODEC_TYPE_MP1, CODEC_TYPE_MP2, CODEC_TYPE_MP3, CODEC_TYPE_VORBIS].contains(&params.codec);
        let container = sniff(path).unwrap_or("audio");
        let description = match params.bits_per_sample {
            _ if short.starts_with("pcm_f32") => format!("{container}, 32-bit float"),
            _ if short.starts_with("pcm_f64") => format!("{container}, 64-bit float"),
            Some(b) if short.starts_with("pcm_") => format!("{container}, {b}-bit integer"),
            Some(b) if !lossy => format!("{container}, {codec_name}, {b}-bit"),
            _ if container == codec_name || container == "MP3" => container.to_string(),
            _ => format!("{container}, {codec_name}"),
        };
        Ok(Self {
            path: path.to_path_buf(),
            track_id: track.id,
            format,
            decoder,
            rate,
            channels,
            frames_hint: params.n_frames,
            description,
            lossy,
            bytes_per_sample: params.bits_per_sample.map_or(0, |b| b.div_ceil(8) as usize),
            pending: Vec::new(),
            pending_pos: 0,
            sample_buf: None,
            frames_read: 0,
            packets_skipped: 0,
            finished: false,
        })
    }

    /// A read error, naming the file and where in it.
    fn damaged(&self, e: SymError) -> anyhow::Error {
        anyhow!("{}: damaged audio data after {:.3} s ({e})", self.path.display(), self.frames_read as f64 / self.rate as f64)
    }

    /// Decodes the next packet into `pending`; false at the end of the stream.
    fn next_packet(&mut self) -> Result<bool> {
        let shown = self.path.display();
        loop {
            let packet = match self.format.next_packet() {
                Ok(p) => p,
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(false),
                Err(SymError::ResetRequired) => return Ok(false),
                Err(e) => return Err(self.damaged(e)),
            };
            if packet.track_id() != self.track_id {
                continue;
            }
            let decoded = match self.decoder.decode(&packet) {
                Ok(d) => d,
                Err(SymError::DecodeError(_)) if self.lossy => {
                    self.packets_skipped += 1;
                    continue;
                }
                Err(e) => return Err(self.damaged(e)),
            };
            if decoded.frames() == 0 {
                continue;
            }
            let spec = *decoded.spec();
            if spec.channels.count() != self.channels {
                bail!("{shown}: the channel count changes inside the file");
            }
            let need = decoded.capacity() as u64;
            let buf = match &mut self.sample_buf {
                Some(b) if b.capacity() as u64 >= need * self.channels as u64 => b,
                slot => slot.insert(SampleBuffer::new(need, spec)),
            };
            buf.copy_interleaved_ref(decoded);
            self.pending.clear();
            self.pending.extend_from_slice(buf.samples());
            self.pending_pos = 0;
            return Ok(true);
        }
    }

    /// Fills `out[ch][..k]` with the next `k ≤ want` samples per channel and returns `k`; fewer
    /// than `want` only at the end of the file. A lossless file that ends before the length its
    /// header gives is an error (truncated), not a short render.
    pub fn read(&mut self, out: &mut [Vec<f32>], want: usize) -> Result<usize> {
        let nch = self.channels;
        let mut k = 0;
        while k < want && !self.finished {
            if self.pending_pos >= self.pending.len() && !self.next_packet()? {
                self.finished = true;
                // symphonia counts an AIFF's SSND offset and block-size fields (8 bytes) as audio,
                // so a shortfall of up to 8 bytes is not a truncation.
                let slack = 8 / (self.channels * self.bytes_per_sample.max(1)) as u64;
                if let Some(n) = self.frames_hint.filter(|&n| !self.lossy && self.frames_read + slack < n) {
                    bail!(
                        "{}: truncated: the header promises {n} samples per channel, the file holds {}",
                        self.path.display(),
                        self.frames_read
                    );
                }
                break;
            }
            let avail = (self.pending.len() - self.pending_pos) / nch;
            let take = avail.min(want - k);
            let src = &self.pending[self.pending_pos..self.pending_pos + take * nch];
            for (c, ch) in out.iter_mut().enumerate().take(nch) {
                for (j, frame) in src.chunks_exact(nch).enumerate() {
                    ch[k + j] = frame[c];
                }
            }
            self.pending_pos += take * nch;
            self.frames_read += take as u64;
            k += take;
        }
        Ok(k)
    }
}
