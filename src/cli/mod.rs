//! Command-line front end: argument parsing and dispatch. Each subcommand lives in its own file.

mod bench;
mod bench_chart;
mod decode;
mod demo;
mod encode;
mod headphone;
mod list;
mod output;
mod panel;
mod panel_report;
mod plot;
mod render;
mod report;
mod settings;
mod suggest;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "loadline", version, about = "Hear headphones driven by a particular output stage: offline renderer and library tool")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Render audio files through the emulation (the same processing as the plugin), with a report.
    Render(render::RenderArgs),
    /// List the library's loads and stage presets.
    List {
        /// Machine-readable JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a load's impedance (|Z| and phase) over frequency.
    Impedance(list::ImpedanceArgs),
    /// Plot |Z| and phase of loads and the response deviation of configurations as SVG.
    Plot(plot::PlotArgs),
    /// Measure a stage into a headphone as an audio analyser would: response, THD+N against
    /// level, maximum output against load, output impedance (PNG or SVG chart, JSON).
    Bench(bench::BenchArgs),
    /// Render a mix through a panel of common listening setups at one listening level, with a
    /// self-contained HTML report.
    Panel(panel::PanelArgs),
    /// Headphones from spec sheets.
    #[command(subcommand)]
    Headphone(headphone::HeadphoneCmd),
    /// Render a built-in two-tone through every library load and stage (smoke test).
    Demo {
        /// Output WAV.
        #[arg(default_value = "demo.wav")]
        out: std::path::PathBuf,
        /// Replace the output file if it exists.
        #[arg(long)]
        force: bool,
    },
}

/// Parses the command line and runs the subcommand.
pub fn run() -> Result<()> {
    let cli = Cli::parse();
    // Ctrl-C or a kill: remove what is half written, then exit as interrupted shells expect.
    let _ = ctrlc::set_handler(|| {
        output::remove_unfinished();
        eprintln!("loadline: interrupted; no output was written for unfinished files");
        std::process::exit(130);
    });
    match cli.cmd {
        Cmd::Render(a) => render::run(a),
        Cmd::List { json } => list::list(json),
        Cmd::Impedance(a) => list::impedance(a),
        Cmd::Plot(a) => plot::run(a),
        Cmd::Bench(a) => bench::run(a),
        Cmd::Panel(a) => panel::run(a),
        Cmd::Demo { out, force } => demo::run(&out, force),
        Cmd::Headphone(c) => headphone::run(c),
    }
}

/// An error chain as one line ("outer: inner: cause").
pub fn one_line(e: &anyhow::Error) -> String {
    let s = format!("{e:#}");
    s.replace('\n', " ")
}

/// Writes `text` to standard output. A reader that has gone away (`loadline list | head`) ends
/// the command quietly and successfully, as it does for other Unix tools.
pub fn print(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(anyhow::anyhow!("cannot write to standard output: {e}")),
        _ => Ok(()),
    }
}
