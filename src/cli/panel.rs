//! `loadline panel`: a mix rendered through every setup of a listener panel (`loadline::panel`)
//! on all cores, with a progress bar, into a folder of new files: one WAV per setup, the
//! overlaid response chart (`response.png`), `report.json` and a self-contained `report.html`
//! (`panel_report.rs`). Nothing in the folder is replaced without `--force`.

use super::decode::AudioReader;
use super::encode::{AudioWriter, Bits, Container, Dither};
use super::output::{self, Format, Pending};
use super::render::QualityArg;
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use loadline::panel::render::{render_setup, MixFormat, SetupResult};
use loadline::panel::{self, Setup};
use loadline::processor::listening::SPL_RANGE_DB;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

#[derive(Args, Debug)]
pub struct PanelArgs {
    /// The mix: WAV, AIFF, FLAC, MP3 or Ogg Vorbis; mono or stereo, any rate.
    #[arg(value_name = "MIX")]
    pub input: PathBuf,
    /// Folder for the renders and the report, created if missing.
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Listening level, dB SPL: a 1 kHz sine at −14 dBFS RMS makes this in every headphone.
    #[arg(long, value_name = "DB", default_value_t = 80.0, allow_hyphen_values = true)]
    pub spl: f64,
    /// Your own panel (TOML, the shape of data/panel.toml) instead of the shipped one.
    #[arg(long, value_name = "FILE")]
    pub panel: Option<PathBuf>,
    /// Sample format of the rendered files: 16, 24 (integer) or 32 (float).
    #[arg(long, default_value = "24", value_name = "16|24|32")]
    pub bits: Bits,
    /// Internal rate and filter depth.
    #[arg(long, value_enum, default_value_t = QualityArg::Default)]
    pub quality: QualityArg,
    /// Setups rendered at once (default: one per core).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Replace files in the folder that already exist (the mix is never replaced).
    #[arg(long)]
    pub force: bool,
}

/// One setup's outcome, as the report shows it.
pub struct Row<'a> {
    pub setup: &'a Setup,
    pub file: String,
    pub result: SetupResult,
}

/// The files a panel writes besides the renders.
pub const CHART: &str = "response.png";
pub const HTML: &str = "report.html";
pub const JSON: &str = "report.json";

pub fn run(a: PanelArgs) -> Result<()> {
    if !(a.spl.is_finite() && (SPL_RANGE_DB.0..=SPL_RANGE_DB.1).contains(&a.spl)) {
        bail!("--spl {} is out of range ({} to {} dB SPL)", a.spl, SPL_RANGE_DB.0, SPL_RANGE_DB.1);
    }
    if a.jobs == Some(0) {
        bail!("--jobs 0: give at least 1 (or leave it out for one per core)");
    }
    let setups = match &a.panel {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("--panel {}: cannot read", p.display()))?;
            panel::parse(&text).map_err(|e| anyhow!("--panel {}: {e}", p.display()))?
        }
        None => panel::shipped(),
    };
    let probe = AudioReader::open(&a.input)?;
    let d = &a.out_dir;
    if d.exists() && !d.is_dir() {
        bail!("--out-dir {}: is a file, not a folder", d.display());
    }
    let creates = !d.exists();
    // Every output is checked before any work: the right extension, not the mix, not an existing
    // file unless --force.
    let inputs = [a.input.clone()];
    let renders: Vec<PathBuf> = setups.iter().map(|s| d.join(format!("{}.wav", s.id))).collect();
    for p in &renders {
        output::check(p, &[Format::Wav], a.force, &inputs, creates)?;
    }
    for (name, f) in [(CHART, Format::Png), (JSON, Format::Json), (HTML, Format::Html)] {
        output::check(&d.join(name), &[f], a.force, &inputs, creates)?;
    }
    output::in_out_dir(d, || render_panel(&a, &setups, &renders, probe.frames_hint))
}

/// A render's temporary file and a writer to it, taken by the worker that renders it.
type Created = (Pending, std::io::BufWriter<std::fs::File>);

/// A finished render's findings and its temporary file, committed when the whole panel is done.
type Rendered = Result<(SetupResult, Pending)>;

fn render_panel(a: &PanelArgs, setups: &[Setup], renders: &[PathBuf], frames_hint: Option<u64>) -> Result<()> {
    // Every file is created now under a temporary name (an unwritable folder fails before any
    // rendering) and moved into place only when the whole panel has succeeded.
    let pending: Vec<Mutex<Option<Created>>> =
        renders.iter().map(|p| Ok(Mutex::new(Some(Pending::create(p, a.force)?)))).collect::<Result<_>>()?;
    let extra: Vec<Pending> = [CHART, JSON, HTML].iter().map(|n| Ok(Pending::create(&a.out_dir.join(n), a.force)?.0)).collect::<Result<_>>()?;
    let workers = a.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).clamp(1, setups.len());
    let bar = match frames_hint {
        Some(n) => ProgressBar::new(n * setups.len() as u64),
        None => ProgressBar::new_spinner(),
    };
    bar.set_style(ProgressStyle::with_template("{msg:28!} [{bar:36}] {percent:>3}% {elapsed} (eta {eta})").unwrap_or_else(|_| ProgressStyle::default_bar()));
    let done = AtomicUsize::new(0);
    bar.set_message(format!("panel: 0 of {} setups", setups.len()));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Rendered)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(setup) = setups.get(k) else { break };
                let Some((p, file)) = pending[k].lock().unwrap_or_else(|p| p.into_inner()).take() else { break };
                let r = render_one(a, setup, &renders[k], file, &bar).map(|r| (r, p));
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                bar.set_message(format!("panel: {n} of {} setups", setups.len()));
                let failed = r.is_err();
                results.lock().unwrap_or_else(|p| p.into_inner()).push((k, r));
                if failed {
                    // The others stop at their next setup.
                    next.store(setups.len(), Ordering::Relaxed);
                }
            });
        }
    });
    bar.finish_and_clear();
    let mut results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    results.sort_by_key(|(k, _)| *k);
    let mut rows = Vec::new();
    let mut files = Vec::new();
    for (k, r) in results {
        let (result, p) = r.with_context(|| format!("setup {:?}", setups[k].id))?;
        files.push(p);
        rows.push(Row { setup: &setups[k], file: renders[k].file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(), result });
    }
    if rows.len() != setups.len() {
        bail!("the panel stopped before every setup was rendered");
    }
    let mix = a.input.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let [chart, json, html]: [Pending; 3] = extra.try_into().map_err(|_| anyhow!("three report files"))?;
    super::panel_report::chart_png(&rows, chart.path())?;
    std::fs::write(json.path(), super::panel_report::json(&mix, a.spl, &rows)?).with_context(|| format!("cannot write {}", a.out_dir.join(JSON).display()))?;
    std::fs::write(html.path(), super::panel_report::html(&mix, a.spl, &rows)?).with_context(|| format!("cannot write {}", a.out_dir.join(HTML).display()))?;
    for p in files.into_iter().chain([chart, json, html]) {
        p.commit()?;
    }
    super::print(&super::panel_report::text(&mix, a.spl, &rows, &a.out_dir))
}

/// Renders the mix through one setup into `file` (a temporary file beside `path`).
fn render_one(a: &PanelArgs, setup: &Setup, path: &Path, file: std::io::BufWriter<std::fs::File>, bar: &ProgressBar) -> Result<SetupResult> {
    let mut reader = AudioReader::open(&a.input)?;
    let (rate, nch) = (reader.rate, reader.channels);
    let mut writer = AudioWriter::new(file, path, Container::Wav, a.bits, Dither::Tpdf, rate, nch)?;
    let result = render_setup(
        setup,
        a.spl,
        MixFormat { fs_hz: rate as f64, channels: nch, quality: a.quality.into() },
        |chans, max| reader.read(chans, max),
        |chans, from, to| writer.write(chans, from, to),
        |n| bar.inc(n),
    )?;
    writer.finish().with_context(|| format!("cannot write {}", path.display()))?;
    Ok(result)
}
