#!/usr/bin/env bash
# Runs every Loadline test on a fresh machine of this kind: installs what the tests need that is
# missing (ngspice from Debian; a Python venv with pip packages for the host-level tests), then
# runs the Rust suite and the host tests. CI (.ci/run) calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v ngspice >/dev/null 2>&1 || need_apt+=(ngspice)
# Real hosts for tests/host: Ardour 7 (VST3, headless through Lua) and Qtractor's CLAP scanner.
command -v ardour7-lua >/dev/null 2>&1 || need_apt+=(ardour)
[ -x /usr/lib/x86_64-linux-gnu/qtractor/qtractor_plugin_scan ] || need_apt+=(qtractor)
# Headless Chromium opens the listener panel's report.html (tests/cli_panel.rs).
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# Host-level test dependencies (pedalboard loads the VST3), in a venv beside the repo.
if [ -f tests/host/requirements.txt ]; then
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
  fi
  .venv/bin/pip install -q -r tests/host/requirements.txt
fi

# The `fast` profile is `release` without LTO and with parallel codegen: the same optimised code
# paths, but the many test binaries link in seconds instead of minutes (see Cargo.toml).
cargo build --profile fast --locked --bins
cargo test --profile fast --locked --workspace

if [ -f tests/host/test_vst3.py ]; then
  cargo xtask bundle loadline --profile fast
  # -rs: a host test that cannot run here says why in the summary (it is skipped, never passed).
  LOADLINE_BIN=target/fast/loadline .venv/bin/python -m pytest -q -rs tests/host
  # The CLAP host test skips without the bundle, so run it again now that it exists.
  cargo test --profile fast --locked --test clap_host
fi
