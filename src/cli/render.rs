//! `loadline render`: audio files through the same [`Processor`] the plugin runs, streamed a block
//! at a time (constant memory whatever the length), in parallel over files, with the latency
//! removed so the output lines up with the input, and a report of what happened.

use super::decode::AudioReader;
use super::encode::{AudioWriter, Bits, Container, Dither};
use super::output::{self, Format, Pending};
use super::report::{dbfs, ListeningReport, Report, Setting};
use super::settings::{active_load, StageArgs};
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use loadline::dsp::Quality;
use loadline::plugin::NOISE_SEED;
use loadline::processor::config::{load_index, SessionConfig};
use loadline::processor::meters::{meters, MeterTarget};
use loadline::processor::peak::peak_abs;
use loadline::processor::listening::spl_of;
use loadline::processor::{level_match_gain, Processor, LEVEL_MATCH_HZ};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::Mutex;

#[derive(Args, Debug)]
pub struct RenderArgs {
    /// Input files: WAV (any legal layout), AIFF, FLAC, MP3 or Ogg Vorbis; mono or stereo, any rate.
    #[arg(required = true, value_name = "IN")]
    pub inputs: Vec<PathBuf>,
    /// Output file, .wav or .flac (one input only).
    #[arg(short = 'o', long = "out", value_name = "OUT.wav|OUT.flac", conflicts_with = "out_dir")]
    pub out: Option<PathBuf>,
    /// Output folder, created if missing: each input keeps its name (as .wav unless it is .flac).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    #[command(flatten)]
    pub stage: StageArgs,
    /// Internal rate and filter depth.
    #[arg(long, value_enum, default_value_t = QualityArg::Default)]
    pub quality: QualityArg,
    /// Output sample format: 16, 24 (integer) or 32 (float; WAV only).
    #[arg(long, default_value = "32", value_name = "16|24|32")]
    pub bits: Bits,
    /// Dither added before rounding to 16 bits.
    #[arg(long, value_enum, default_value_t = Dither::Tpdf)]
    pub dither: Dither,
    /// Block size handed to the processor, samples (1 to 8192; a render is sample-identical to
    /// the plugin run at the same block size).
    #[arg(long, default_value_t = 512, value_name = "N")]
    pub block: usize,
    /// Files rendered at once (default: one per core).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Replace output files that already exist (an input is never replaced).
    #[arg(long)]
    pub force: bool,
    /// Also write the reports as JSON (an array, one entry per input) to this file.
    #[arg(long, value_name = "FILE.json")]
    pub report_json: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum QualityArg {
    Default,
    High,
}

impl From<QualityArg> for Quality {
    fn from(q: QualityArg) -> Self {
        match q {
            QualityArg::Default => Quality::Default,
            QualityArg::High => Quality::High,
        }
    }
}

/// One file to render: input, output and the output's container.
struct Job {
    input: PathBuf,
    output: PathBuf,
    container: Container,
}

/// The output path for each input, checked before any work: never an input, never twice the
/// same, never an existing file without `--force`, always `.wav` or `.flac` in a folder that
/// exists or that `--out-dir` creates.
fn plan(args: &RenderArgs) -> Result<Vec<Job>> {
    let pairs: Vec<(PathBuf, PathBuf)> = match (&args.out, &args.out_dir) {
        (Some(o), None) => {
            if args.inputs.len() != 1 {
                bail!("-o takes one input; use --out-dir DIR for {} inputs", args.inputs.len());
            }
            vec![(args.inputs[0].clone(), o.clone())]
        }
        (None, Some(d)) => {
            if d.exists() && !d.is_dir() {
                bail!("--out-dir {}: is a file, not a folder", d.display());
            }
            args.inputs
                .iter()
                .map(|i| {
                    let name = i.file_name().ok_or_else(|| anyhow!("{}: not a file name", i.display()))?;
                    let mut out = d.join(name);
                    let ext = out.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
                    if !matches!(ext.as_deref(), Some("wav") | Some("flac")) {
                        out.set_extension("wav");
                    }
                    Ok((i.clone(), out))
                })
                .collect::<Result<_>>()?
        }
        _ => bail!("give an output: -o OUT.wav or --out-dir DIR"),
    };
    let creates_folder = args.out_dir.as_ref().is_some_and(|d| !d.exists());
    let mut seen = Vec::new();
    let mut jobs = Vec::new();
    for (input, o) in pairs {
        let container = match output::check(&o, &[Format::Wav, Format::Flac], args.force, &args.inputs, creates_folder)? {
            Format::Flac => Container::Flac,
            _ => Container::Wav,
        };
        container.check_bits(args.bits, &o)?;
        let ro = output::resolved(&o);
        if seen.contains(&ro) {
            bail!("two inputs would both be written to {}", o.display());
        }
        seen.push(ro);
        jobs.push(Job { input, output: o, container });
    }
    if let Some(j) = &args.report_json {
        let outputs: Vec<PathBuf> = jobs.iter().map(|j| j.output.clone()).chain(args.inputs.iter().cloned()).collect();
        output::check(j, &[Format::Json], args.force, &outputs, false)?;
    }
    Ok(jobs)
}

/// What a render needs besides its files: the session, its processor settings and the report's
/// fixed parts.
struct Setup<'a> {
    args: &'a RenderArgs,
    cfg: SessionConfig,
    settings: Vec<Setting>,
    defaults_note: Option<String>,
    /// Level Match gain (dB) and whether it was capped; `None` when Level Match is off.
    level_match: Option<(f64, bool)>,
}

/// An output path, its temporary file and a writer to it.
type Output<'a> = (&'a Path, Pending, BufWriter<File>);

/// Renders one file, streaming: blocks of `--block` samples from the decoder, through the
/// processor, to the encoder; the processor's first `latency` output samples are dropped and as
/// many zeros fed after the input, so the output has the input's length and alignment. The block
/// boundaries are those of the whole file processed in one buffer, so the output is
/// sample-identical to the plugin's at that block size.
fn render_file(setup: &Setup, job: &Job, out: Output, bar: &ProgressBar) -> Result<Report> {
    let args = setup.args;
    let (path, pending, file) = out;
    let mut reader = AudioReader::open(&job.input)?;
    let (rate, nch) = (reader.rate, reader.channels);
    bar.set_length(reader.frames_hint.unwrap_or(0));
    bar.set_message(job.input.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default());
    let cfg = &setup.cfg;
    let imported = [cfg.a.imported.as_ref(), cfg.b.imported.as_ref()];
    let mut p = Processor::with_library(rate as f64, args.quality.into(), nch, imported, &cfg.settings(), NOISE_SEED)
        .map_err(|e| anyhow!("cannot prepare the processor: {e}"))?;
    // The renderer never switches slots, so the silent slot need not run (it is multiplied by an
    // exact zero in the plugin, so the output is unchanged).
    p.set_skip_silent_slot(true);
    // The meters (the same ones the editor shows) count clipping and limiting and measure the
    // load current; they do not change the output.
    let (mut meter, _) = meters();
    let active = cfg.active();
    let load = load_index(&active.headphone).unwrap_or(0);
    let z_load_1k = active_load(cfg)?.1.impedance(LEVEL_MATCH_HZ);
    // The stage as played: with a listening level, its Level follows from the load's sensitivity.
    let played = p.effective_stage(cfg.active_slot.index());
    let sensitivity = p.sensitivity(cfg.active_slot.index());
    let target = MeterTarget { slot: cfg.active_slot.index(), load, stage: played };

    let mut writer = AudioWriter::new(file, path, job.container, args.bits, args.dither, rate, nch)?;
    let (block, latency) = (args.block, p.latency());
    // The threads hand over whole numbers of processing blocks at a time (a thread's wake-up
    // costs about as much as processing a few hundred samples).
    let chunk = block * (PIPELINE_FRAMES / block).max(1);
    let description = reader.description.clone();
    // Three threads in a pipeline, so decoding and encoding overlap the processing: blocks go
    // read → process → write and their buffers come back to the reader. The processing thread
    // (this one) sees the blocks in order, exactly as the single-threaded loop did.
    let (full_tx, full_rx) = sync_channel::<Result<Chunk>>(PIPELINE_CHUNKS);
    let (done_tx, done_rx) = sync_channel::<Chunk>(PIPELINE_CHUNKS);
    let (free_tx, free_rx) = sync_channel::<Vec<Vec<f32>>>(PIPELINE_CHUNKS + 2);
    for _ in 0..PIPELINE_CHUNKS {
        free_tx.send(vec![vec![0.0f32; chunk]; nch]).expect("the receiver is alive");
    }
    let started = std::time::Instant::now();
    let (read, written, failed) = std::thread::scope(|s| {
        let read = s.spawn(move || {
            let (mut tail, mut peak_in, mut non_finite) = (latency, 0.0f32, 0u64);
            while let Ok(mut chans) = free_rx.recv() {
                let k = match reader.read(&mut chans, chunk) {
                    Ok(k) => k,
                    Err(e) => {
                        let _ = full_tx.send(Err(e));
                        break;
                    }
                };
                for c in &chans {
                    let (peak, bad) = peak_abs(&c[..k]);
                    peak_in = peak_in.max(peak);
                    non_finite += bad;
                }
                // After the input, `latency` zeros push its last samples out.
                let zeros = (chunk - k).min(tail);
                chans.iter_mut().for_each(|c| c[k..k + zeros].fill(0.0));
                tail -= zeros;
                let len = k + zeros;
                if len == 0 || full_tx.send(Ok(Chunk { chans, k, len })).is_err() {
                    break;
                }
            }
            (reader, peak_in, non_finite)
        });
        let write = s.spawn(move || -> Result<(f32, u64)> {
            let (mut skip, mut peak_out) = (latency, 0.0f32);
            for b in done_rx {
                // The processor's first `latency` samples precede the input's first.
                let from = skip.min(b.len);
                skip -= from;
                for c in &b.chans {
                    peak_out = peak_out.max(peak_abs(&c[from..b.len]).0);
                }
                writer.write(&b.chans, from, b.len)?;
                let _ = free_tx.send(b.chans);
            }
            let clipped = writer.clipped;
            writer.finish()?;
            Ok((peak_out, clipped))
        });
        let mut failed = None;
        for b in &full_rx {
            let mut b = match b {
                Ok(b) => b,
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            };
            // In blocks of `block`, as the plugin at that block size: every chunk but the last is
            // a whole number of blocks.
            for at in (0..b.len).step_by(block) {
                let end = (at + block).min(b.len);
                meter.begin_block(rate as f64, target);
                let mut chans: Vec<&mut [f32]> = b.chans.iter_mut().map(|c| &mut c[at..end]).collect();
                p.process_metered(&mut chans, Some(&mut meter));
            }
            bar.inc(b.k as u64);
            if done_tx.send(b).is_err() {
                break; // the writer failed; its error is reported below
            }
        }
        drop((done_tx, full_rx));
        let (read, written) = (read.join(), write.join());
        (read.unwrap_or_else(|e| std::panic::resume_unwind(e)), written.unwrap_or_else(|e| std::panic::resume_unwind(e)), failed)
    });
    if let Some(e) = failed {
        return Err(e);
    }
    let (peak_out, clipped) = written.with_context(|| format!("cannot write {}", path.display()))?;
    let (reader, peak_in, non_finite) = read;
    pending.commit()?;
    let elapsed = started.elapsed().as_secs_f64();
    bar.finish_and_clear();

    let seconds = reader.frames_read as f64 / rate as f64;
    let t = meter.totals();
    let stage = &active.stage;
    let share = |n: u64, of: u64| (of > 0).then(|| 100.0 * n as f64 / of as f64);
    Ok(Report {
        input: job.input.display().to_string(),
        input_format: description,
        channels: nch,
        sample_rate_hz: rate,
        seconds,
        output: job.output.display().to_string(),
        output_format: job.container.describe(args.bits),
        dither: match (args.bits, args.dither) {
            (Bits::Int16, Dither::Tpdf) => "tpdf",
            (Bits::Int16, Dither::Off) => "off",
            _ => "none",
        }
        .to_string(),
        settings: setup.settings.clone(),
        defaults_note: setup.defaults_note.clone(),
        peak_in_dbfs: dbfs(peak_in as f64),
        peak_out_dbfs: dbfs(peak_out as f64),
        samples_clipped_by_format: clipped,
        rail_clipping_percent: stage.v_max_v.and_then(|_| share(t.clipping, t.samples)),
        current_limiting_percent: stage.i_max_a.and_then(|_| share(t.limiting_steps, t.current_steps)),
        peak_current_a: (t.current_steps > 0).then_some(t.i_peak_a),
        max_current_a: stage.i_max_a,
        level_match_gain_db: setup.level_match.map(|(g, _)| g),
        measured_spl_db: sensitivity.filter(|_| t.samples > 0).map(|s| spl_of((t.v2_sum / t.samples as f64).sqrt(), s)),
        listening: active.spl_db.map(|db| ListeningReport::new(db, sensitivity, &played, z_load_1k)),
        level_match_capped: setup.level_match.is_some_and(|(_, c)| c),
        non_finite_replaced: non_finite,
        packets_skipped: reader.packets_skipped,
        speed_x_real_time: if elapsed > 0.0 { seconds / elapsed } else { f64::INFINITY },
    })
}

/// Chunks in flight between the reader, the processor and the writer of one render.
const PIPELINE_CHUNKS: usize = 4;

/// Frames per chunk (rounded down to a whole number of processing blocks, at least one).
const PIPELINE_FRAMES: usize = 8192;

/// A chunk on its way through the pipeline: `k` samples per channel read from the file, `len ≥ k`
/// with the zeros that follow the input.
struct Chunk {
    chans: Vec<Vec<f32>>,
    k: usize,
    len: usize,
}

pub fn run(args: RenderArgs) -> Result<()> {
    if !(1..=8192).contains(&args.block) {
        bail!("--block {} is out of range (1 to 8192)", args.block);
    }
    if args.jobs == Some(0) {
        bail!("--jobs 0: give at least 1 (or leave it out for one per core)");
    }
    let cfg = args.stage.session()?;
    let jobs = plan(&args)?;
    // Every input is opened and its header read before anything is created or rendered.
    for j in &jobs {
        AudioReader::open(&j.input)?;
    }
    let level_match = cfg.level_match.then(|| -> Result<(f64, bool)> {
        let (_, net) = active_load(&cfg)?;
        let (g, capped) = level_match_gain(&cfg.active().stage, net.impedance(LEVEL_MATCH_HZ));
        Ok((20.0 * g.log10(), capped))
    });
    let setup = Setup {
        settings: args.stage.provenance(&cfg),
        defaults_note: args.stage.defaults_note(),
        level_match: level_match.transpose()?,
        cfg,
        args: &args,
    };
    match &args.out_dir {
        Some(d) => output::in_out_dir(d, || render_all(&setup, &jobs)),
        None => render_all(&setup, &jobs),
    }
}

fn render_all(setup: &Setup, jobs: &[Job]) -> Result<()> {
    let args = setup.args;
    let workers = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).clamp(1, jobs.len());
    let multi = MultiProgress::new();
    let style = ProgressStyle::with_template("{msg:24!} [{bar:30}] {percent:>3}% {elapsed}").unwrap_or_else(|_| ProgressStyle::default_bar());
    // Every output's temporary file is created now, beside its target, so an unwritable folder
    // fails before any rendering; each is moved into place when its render is complete, and
    // removed on failure (no partial output under its name, nothing left behind).
    let outputs: Vec<Mutex<Option<Output>>> = jobs
        .iter()
        .map(|j| Ok(Mutex::new(Some(Pending::create(&j.output, args.force).map(|(p, f)| (j.output.as_path(), p, f))?))))
        .collect::<Result<_>>()?;
    let json = args.report_json.as_ref().map(|j| Pending::create(j, args.force)).transpose()?;
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Result<Report>)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(k) else { break };
                let Some(out) = outputs[k].lock().unwrap_or_else(|p| p.into_inner()).take() else { break };
                let bar = multi.add(ProgressBar::new(0).with_style(style.clone()));
                let r = render_file(setup, job, out, &bar);
                if r.is_err() {
                    bar.abandon();
                }
                results.lock().unwrap_or_else(|p| p.into_inner()).push((k, r));
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    results.sort_by_key(|(k, _)| *k);
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    for (_, r) in results {
        match r {
            Ok(rep) => {
                eprint!("{}", rep.text());
                reports.push(rep);
            }
            Err(e) => errors.push(e),
        }
    }
    let total = errors.len();
    let mut it = errors.into_iter();
    match it.next() {
        None => {
            if let Some((pending, mut file)) = json {
                use std::io::Write;
                serde_json::to_writer_pretty(&mut file, &reports)?;
                file.flush()?;
                drop(file);
                pending.commit()?;
            }
            Ok(())
        }
        Some(first) => {
            for e in it {
                eprintln!("loadline: error: {}", super::one_line(&e));
            }
            if total > 1 { Err(first.context(format!("{total} of {} renders failed", jobs.len()))) } else { Err(first) }
        }
    }
}
