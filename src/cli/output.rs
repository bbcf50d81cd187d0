//! Output files: every path is checked before any work starts, written beside its target under a
//! hidden temporary name, and moved into place only when complete. An existing file is replaced
//! only with `--force`, an input never; a failed or interrupted command leaves nothing behind.
//! Runs on the command's own threads (render workers write their own `Pending`).

use anyhow::{bail, Context, Result};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// What a command writes, known by the file name's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Wav,
    Flac,
    Svg,
    Png,
    Json,
    /// Impedance text (`freq |Z| phase` lines), as `.zma` or `.txt`.
    Zma,
    /// A headphone's spec sheet (`loadline headphone new`).
    Toml,
    /// The listener panel's report.
    Html,
}

impl Format {
    fn extensions(self) -> &'static [&'static str] {
        match self {
            Format::Wav => &["wav"],
            Format::Flac => &["flac"],
            Format::Svg => &["svg"],
            Format::Png => &["png"],
            Format::Json => &["json"],
            Format::Zma => &["zma", "txt"],
            Format::Toml => &["toml"],
            Format::Html => &["html"],
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Format::Wav => "WAV (.wav)",
            Format::Flac => "FLAC (.flac)",
            Format::Svg => "SVG (.svg)",
            Format::Png => "PNG (.png)",
            Format::Json => "JSON (.json)",
            Format::Zma => "ZMA text (.zma or .txt)",
            Format::Toml => "TOML (.toml)",
            Format::Html => "HTML (.html)",
        }
    }
}

/// A path made absolute and resolved as far as it exists, so that `./in.wav`, `in.wav` and a
/// symbolic link to it compare equal.
pub fn resolved(p: &Path) -> PathBuf {
    if let Ok(c) = p.canonicalize() {
        return c;
    }
    let parent = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    match (parent.canonicalize(), p.file_name()) {
        (Ok(d), Some(f)) => d.join(f),
        _ => p.to_path_buf(),
    }
}

/// The folder a path's file goes into (`.` for a bare name).
fn folder_of(path: &Path) -> &Path {
    path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Checks that `path` may be written as one of `formats` before any work is done: a file name
/// (not `-`, not a folder) with a format's extension, in a folder that exists (unless
/// `folder_created` says the command creates it), not one of `inputs`, and not an existing file
/// unless `force`. Returns the format its extension names.
pub fn check(path: &Path, formats: &[Format], force: bool, inputs: &[PathBuf], folder_created: bool) -> Result<Format> {
    let shown = path.display();
    let names: Vec<&str> = formats.iter().map(|f| f.describe()).collect();
    let names = names.join(" or ");
    if path.as_os_str() == "-" {
        bail!("-: writing to standard output is not supported; give a file name ending in {names}");
    }
    if path.as_os_str().to_string_lossy().ends_with('/') || path.is_dir() {
        bail!("{shown}: names a folder; give a file name ending in {names}");
    }
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let Some(format) = formats.iter().copied().find(|f| f.extensions().contains(&ext.as_str())) else {
        let what = if ext.is_empty() { "a name without an extension".to_string() } else { format!(".{ext}") };
        bail!("{shown}: cannot write {what}; this command writes {names}");
    };
    let folder = folder_of(path);
    if !folder_created && !folder.is_dir() {
        if folder.exists() {
            bail!("{shown}: {} is not a folder", folder.display());
        }
        bail!("{shown}: folder {} does not exist", folder.display());
    }
    let target = resolved(path);
    if inputs.iter().any(|i| resolved(i) == target) {
        bail!("{shown}: refusing to overwrite an input (choose another output)");
    }
    if path.symlink_metadata().is_ok() && !force {
        bail!("{shown}: already exists (add --force to replace it)");
    }
    Ok(format)
}

/// Runs `work` with the `--out-dir` folder `dir` in place: created first if it is missing, and
/// removed again if `work` fails and it was created here (only if nothing was written into it).
pub fn in_out_dir<T>(dir: &Path, work: impl FnOnce() -> Result<T>) -> Result<T> {
    let created = !dir.exists();
    if created {
        std::fs::create_dir_all(dir).with_context(|| format!("--out-dir {}: cannot create the folder", dir.display()))?;
    }
    let result = work();
    if result.is_err() && created {
        let _ = std::fs::remove_dir(dir);
    }
    result
}

/// An output being written: a hidden temporary file beside the target, removed on drop unless
/// [`Pending::commit`] moved it into place.
pub struct Pending {
    tmp: PathBuf,
    target: PathBuf,
    force: bool,
    committed: bool,
}

static SERIAL: AtomicUsize = AtomicUsize::new(0);

/// The temporary files being written now, removed by [`remove_unfinished`] on an interrupt.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn live() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    LIVE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Removes every unfinished temporary file (called from the Ctrl-C handler before exiting).
pub fn remove_unfinished() {
    for p in live().drain(..) {
        let _ = std::fs::remove_file(p);
    }
}

impl Pending {
    /// Creates the temporary file now (so an unwritable folder fails before any work).
    pub fn create(target: &Path, force: bool) -> Result<(Pending, BufWriter<File>)> {
        let name = target.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
        // Hidden, unique, and ending in the target's extension (some writers pick the format by it).
        let ext = target.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
        let tmp = folder_of(target).join(format!(".{name}.loadline-{}-{serial}.tmp{ext}", std::process::id()));
        let mut live = live();
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .with_context(|| format!("{}: cannot create a file in {}", target.display(), folder_of(target).display()))?;
        live.push(tmp.clone());
        let p = Pending { tmp, target: target.to_path_buf(), force, committed: false };
        Ok((p, BufWriter::new(file)))
    }

    /// The temporary file's path (for writers that open the file themselves).
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Writes `bytes` to a new temporary file and moves it into place.
    pub fn write_all(target: &Path, force: bool, bytes: &[u8]) -> Result<()> {
        use std::io::Write;
        let (p, mut w) = Pending::create(target, force)?;
        w.write_all(bytes).and_then(|_| w.flush()).with_context(|| format!("cannot write {}", target.display()))?;
        drop(w);
        p.commit()
    }

    /// Moves the finished file into place. Without `force`, a file that appeared at the target
    /// since [`check`] is left alone (a hard link fails where a rename would replace).
    pub fn commit(mut self) -> Result<()> {
        let target = self.target.display().to_string();
        if self.force {
            std::fs::rename(&self.tmp, &self.target).with_context(|| format!("cannot write {target}"))?;
        } else {
            match std::fs::hard_link(&self.tmp, &self.target) {
                Ok(()) => {
                    let _ = std::fs::remove_file(&self.tmp);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    bail!("{target}: already exists (add --force to replace it)")
                }
                // File systems without hard links: check, then rename.
                Err(_) => {
                    if self.target.symlink_metadata().is_ok() {
                        bail!("{target}: already exists (add --force to replace it)");
                    }
                    std::fs::rename(&self.tmp, &self.target).with_context(|| format!("cannot write {target}"))?;
                }
            }
        }
        self.committed = true;
        Ok(())
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let mut live = live();
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
        live.retain(|p| *p != self.tmp);
    }
}
