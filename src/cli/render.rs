//! `loadline render`: WAV files through the same [`Processor`] the plugin runs, in parallel, with
//! the latency removed so the output lines up with the input.

use super::settings::StageArgs;
use super::output::{self, Format, Pending};
use super::wav::{self, Bits};
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use loadline::dsp::Quality;
use loadline::plugin::NOISE_SEED;
use loadline::processor::config::SessionConfig;
use loadline::processor::Processor;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

#[derive(Args, Debug)]
pub struct RenderArgs {
    /// Input WAV files (16/24-bit integer or 32-bit float, mono or stereo, any rate).
    #[arg(required = true, value_name = "IN.wav")]
    pub inputs: Vec<PathBuf>,
    /// Output file (one input only).
    #[arg(short = 'o', long = "out", value_name = "OUT.wav", conflicts_with = "out_dir")]
    pub out: Option<PathBuf>,
    /// Output directory (files keep their names).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    #[command(flatten)]
    pub stage: StageArgs,
    /// Internal rate and filter depth.
    #[arg(long, value_enum, default_value_t = QualityArg::Default)]
    pub quality: QualityArg,
    /// Output sample format: 16, 24 (integer) or 32 (float).
    #[arg(long, default_value = "32", value_name = "16|24|32")]
    pub bits: Bits,
    /// Block size handed to the processor, samples (1 to 8192; the output does not depend on it).
    #[arg(long, default_value_t = 512, value_name = "N")]
    pub block: usize,
    /// Files rendered at once (default: one per core).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Replace output files that already exist (an input is never replaced).
    #[arg(long)]
    pub force: bool,
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

/// The output path for each input, checked before any work: never an input, never twice the
/// same, never an existing file without `--force`, always a `.wav` in a folder that exists or that
/// `--out-dir` creates.
fn plan(args: &RenderArgs) -> Result<Vec<(PathBuf, PathBuf)>> {
    let jobs: Vec<(PathBuf, PathBuf)> = match (&args.out, &args.out_dir) {
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
                    Ok((i.clone(), d.join(name)))
                })
                .collect::<Result<_>>()?
        }
        _ => bail!("give an output: -o OUT.wav or --out-dir DIR"),
    };
    let creates_folder = args.out_dir.as_ref().is_some_and(|d| !d.exists());
    let mut seen = Vec::new();
    for (_, o) in &jobs {
        output::check(o, Format::Wav, args.force, &args.inputs, creates_folder)?;
        let ro = output::resolved(o);
        if seen.contains(&ro) {
            bail!("two inputs would both be written to {}", o.display());
        }
        seen.push(ro);
    }
    Ok(jobs)
}

/// Renders `audio` (one `Vec` per channel) with the session's settings, removing the latency.
/// This is exactly the plugin's processing at block size `block`.
pub fn render_audio(
    cfg: &SessionConfig,
    quality: Quality,
    rate: u32,
    input: &[Vec<f32>],
    block: usize,
    mut progress: impl FnMut(usize),
) -> Result<Vec<Vec<f32>>> {
    let imported = [cfg.a.imported.as_ref().map(|c| &c.network), cfg.b.imported.as_ref().map(|c| &c.network)];
    let mut p = Processor::with_library(rate as f64, quality, input.len(), imported, &cfg.settings(), NOISE_SEED)
        .map_err(|e| anyhow!("cannot prepare the processor: {e}"))?;
    // The renderer never switches slots, so the silent slot need not run (it is multiplied by an
    // exact zero in the plugin, so the output is unchanged).
    p.set_skip_silent_slot(true);
    let lat = p.latency();
    let n = input.first().map_or(0, Vec::len);
    let mut io: Vec<Vec<f32>> = input.iter().map(|c| {
        let mut v = c.clone();
        v.resize(n + lat, 0.0);
        v
    }).collect();
    let mut i = 0;
    while i < n + lat {
        let len = block.min(n + lat - i);
        let mut chans: Vec<&mut [f32]> = io.iter_mut().map(|c| &mut c[i..i + len]).collect();
        p.process(&mut chans);
        i += len;
        progress(len);
    }
    Ok(io.into_iter().map(|c| c[lat..].to_vec()).collect())
}

fn render_file(args: &RenderArgs, cfg: &SessionConfig, input: &Path, output: Output, bar: &ProgressBar) -> Result<()> {
    let (path, pending, file) = output;
    let audio = wav::read(input)?;
    let n = audio.channels.first().map_or(0, Vec::len);
    bar.set_length(n as u64);
    bar.set_message(input.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default());
    let out = render_audio(cfg, args.quality.into(), audio.rate, &audio.channels, args.block, |k| bar.inc(k as u64))?;
    wav::write(file, path, audio.rate, &out, args.bits)?;
    pending.commit()?;
    bar.finish();
    Ok(())
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
    // Every input is opened before anything is created or rendered.
    for (i, _) in &jobs {
        wav::probe(i)?;
    }
    let created = match &args.out_dir {
        Some(d) if !d.exists() => {
            std::fs::create_dir_all(d).with_context(|| format!("--out-dir {}: cannot create the folder", d.display()))?;
            Some(d.clone())
        }
        _ => None,
    };
    let result = render_all(&args, &cfg, &jobs);
    if let (Err(_), Some(d)) = (&result, &created) {
        // Only removes the folder if nothing was written into it.
        let _ = std::fs::remove_dir(d);
    }
    result
}

/// An output path, its temporary file and a writer to it.
type Output<'a> = (&'a Path, Pending, BufWriter<File>);

fn render_all(args: &RenderArgs, cfg: &SessionConfig, jobs: &[(PathBuf, PathBuf)]) -> Result<()> {
    let workers = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).clamp(1, jobs.len());
    let multi = MultiProgress::new();
    let style = ProgressStyle::with_template("{msg:24!} [{bar:30}] {percent:>3}% {eta}").unwrap_or_else(|_| ProgressStyle::default_bar());
    // Every output's temporary file is created now, beside its target, so an unwritable folder
    // fails before any rendering; each is moved into place when its render is complete, and
    // removed on failure (no partial output under its name, nothing left behind).
    let outputs: Vec<Mutex<Option<Output>>> = jobs
        .iter()
        .map(|(_, o)| Ok(Mutex::new(Some(Pending::create(o, args.force).map(|(p, f)| (o.as_path(), p, f))?))))
        .collect::<Result<_>>()?;
    let next = AtomicUsize::new(0);
    let errors: Mutex<Vec<(usize, anyhow::Error)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some((i, _)) = jobs.get(k) else { break };
                let Some(out) = outputs[k].lock().unwrap_or_else(|p| p.into_inner()).take() else { break };
                let bar = multi.add(ProgressBar::new(0).with_style(style.clone()));
                if let Err(e) = render_file(args, cfg, i, out, &bar) {
                    bar.abandon();
                    errors.lock().unwrap_or_else(|p| p.into_inner()).push((k, e));
                }
            });
        }
    });
    let mut errors = errors.into_inner().unwrap_or_else(|p| p.into_inner());
    errors.sort_by_key(|(k, _)| *k);
    let total = errors.len();
    let mut it = errors.into_iter();
    match it.next() {
        None => Ok(()),
        Some((_, first)) => {
            for (_, e) in it {
                eprintln!("loadline: error: {}", super::one_line(&e));
            }
            if total > 1 { Err(first.context(format!("{total} of {} renders failed", jobs.len()))) } else { Err(first) }
        }
    }
}
