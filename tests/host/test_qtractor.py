"""Loadline.clap in a real DAW's plugin scanner: Qtractor's `qtractor_plugin_scan` (Debian
`qtractor`) loads the CLAP, creates and initialises the plugin, and reports its ports and
parameters, one line per plugin.

Needs `cargo xtask bundle loadline` (scripts/test.sh builds it and installs qtractor).
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLAP = ROOT / "target" / "bundled" / "Loadline.clap"
SCANNER = Path("/usr/lib/x86_64-linux-gnu/qtractor/qtractor_plugin_scan")
PARAMETERS = 27  # every parameter of src/plugin/params.rs, Bypass included


def scan(path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run(
        [str(SCANNER)], input=f"CLAP:{path}\n", capture_output=True, text=True, env=env, timeout=60
    )
    return out.returncode, out.stdout, out.stderr


def test_qtractor_scanner_lists_loadline_with_two_inputs_and_outputs(tmp_path):
    if not SCANNER.exists():
        pytest.skip(f"{SCANNER} missing: install Debian's qtractor (scripts/test.sh does)")
    if not CLAP.exists():
        pytest.fail(f"{CLAP} missing: run `cargo xtask bundle loadline`")
    # A copy under a path with a space: the scanner must take the path as given.
    clap = tmp_path / "plug ins" / "Loadline.clap"
    clap.parent.mkdir()
    shutil.copy2(CLAP, clap)
    code, out, err = scan(clap)
    lines = [l for l in out.splitlines() if l.startswith("CLAP|")]
    assert code == 0 and len(lines) == 1, f"exit {code}\nstdout:\n{out}\nstderr:\n{err}"
    f = lines[0].split("|")
    # CLAP|name|audio in:out|midi in:out|params in:out|flags|path|index|id
    assert f[1] == "Loadline", f
    assert f[2] == "2:2", f"audio ports {f[2]}: {lines[0]}"
    assert f[3] == "0:0", f"MIDI ports {f[3]}: {lines[0]}"
    assert f[4] == f"{PARAMETERS}:0", f"parameters {f[4]}: {lines[0]}"
    assert "GUI" in f[5].split(",") and "RT" in f[5].split(","), lines[0]
    assert f[6] == str(clap), lines[0]


def test_qtractor_scanner_reports_a_broken_file_without_listing_it(tmp_path):
    """The check above can fail: a file that is not a plugin gives no CLAP line."""
    if not SCANNER.exists():
        pytest.skip(f"{SCANNER} missing: install Debian's qtractor (scripts/test.sh does)")
    bad = tmp_path / "Broken.clap"
    bad.write_bytes(b"\x7fELF not really a shared object")
    _, out, _ = scan(bad)
    assert not [l for l in out.splitlines() if l.startswith("CLAP|")], out
