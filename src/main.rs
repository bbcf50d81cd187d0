//! `loadline`: the offline renderer and library tool. See `loadline --help`.
//!
//! Errors print as one line on standard error and exit with status 1.

mod cli;

fn main() {
    if let Err(e) = cli::run() {
        eprintln!("loadline: error: {}", cli::one_line(&e));
        std::process::exit(1);
    }
}
