//! Shared by the tests that run the `loadline` binary.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// The `loadline` binary built for this test run.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_loadline"))
}

/// A fresh, empty folder for one test (`name` keeps tests of one binary apart).
pub fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("loadline-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
