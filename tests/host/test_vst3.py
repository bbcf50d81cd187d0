"""Loadline.vst3 in a real VST3 host (pedalboard): parameters by name, the measured response
against Z/(Z+Zs), reported latency, A/B switching and Level Match.

Needs `cargo xtask bundle loadline --release` and `cargo build --release` (scripts/test.sh does
both) for the bundle and the `loadline` binary, which supplies the loads' impedances.
"""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pedalboard
import pytest

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "target" / "bundled" / "Loadline.vst3"
BIN = Path(os.environ.get("LOADLINE_BIN", ROOT / "target" / "release" / "loadline"))
FS = 48_000
ZOUT_MAX_OHM = 10_000.0
ZOUT_SKEW = 0.15  # FloatRange::Skewed factor of "Output Impedance" (src/plugin/params.rs)


def loads():
    return json.loads(subprocess.check_output([str(BIN), "list", "--json"]))["loads"]


def impedance(load_id):
    """(f, complex Z) of a library load on the binary's log grid."""
    out = subprocess.check_output([str(BIN), "impedance", load_id, "--csv", "--points", "61"], text=True)
    rows = [list(map(float, line.split(","))) for line in out.strip().splitlines()[1:]]
    f = np.array([r[0] for r in rows])
    z = np.array([r[1] * np.exp(1j * np.deg2rad(r[2])) for r in rows])
    return f, z


@pytest.fixture()
def plugin():
    if not BUNDLE.exists():
        pytest.fail(f"{BUNDLE} missing: run `cargo xtask bundle loadline --release`")
    return pedalboard.load_plugin(str(BUNDLE))


def set_raw(p, key, raw):
    p.parameters[key].raw_value = float(raw)


def linear_slot(p, slot, load_index, n_loads, zout_ohm):
    """A slot with only a series resistance: no cap, no limits, class A, no noise."""
    set_raw(p, f"{slot}_headphone", load_index / n_loads)  # n_loads + 1 choices incl. imported
    set_raw(p, f"{slot}_output_impedance", (zout_ohm / ZOUT_MAX_OHM) ** ZOUT_SKEW)
    set_raw(p, f"{slot}_coupling_cap", 1.0)  # Off
    set_raw(p, f"{slot}_max_voltage", 1.0)  # Off
    set_raw(p, f"{slot}_max_current", 1.0)  # Off
    set_raw(p, f"{slot}_bias", 1.0)  # class A
    set_raw(p, f"{slot}_noise", 0.0)  # Off


def periodic_noise(n=FS, periods=5, seed=1):
    x = np.random.default_rng(seed).standard_normal(n).astype(np.float32) * 0.05
    return np.tile(x, periods), x


def measured_response(p, block):
    x, one = periodic_noise()
    y = p.process(x[np.newaxis, :], FS, buffer_size=block)[0]
    n = len(one)
    seg = y[3 * n : 4 * n]  # a steady-state period (the circular response)
    return np.fft.rfftfreq(n, 1 / FS), np.fft.rfft(seg) / np.fft.rfft(one), y


def gain_db_at(freqs, h, f):
    return 20 * np.log10(np.abs(h[np.argmin(np.abs(freqs - f))]))


def tone_gain(p, f=1000.0, block=512):
    t = np.arange(FS) / FS
    x = (0.1 * np.sin(2 * np.pi * f * t)).astype(np.float32)
    y = p.process(x[np.newaxis, :], FS, buffer_size=block)[0]
    return np.sqrt(np.mean(y[FS // 2 :] ** 2)) / np.sqrt(np.mean(x[FS // 2 :] ** 2))


def test_parameters_have_unique_names_and_units(plugin):
    keys = set(plugin.parameters.keys())
    for k in ["active_slot", "level_match", "listen", "output_trim_db", "bypass", "a_headphone",
              "b_output_impedance", "a_coupling_cap", "a_level_dbu", "b_max_voltage", "b_max_current",
              "a_bias", "b_noise"]:
        assert k in keys, (k, sorted(keys))


@pytest.mark.parametrize("load_id", ["closed-dynamic-32", "open-dynamic-300"])
@pytest.mark.parametrize("block", [64, 1000])
def test_response_matches_voltage_divider(plugin, load_id, block):
    lib = loads()
    ids = [l["id"] for l in lib]
    zout = 100.0
    linear_slot(plugin, "a", ids.index(load_id), len(lib), zout)
    freqs, h, _ = measured_response(plugin, block)
    f, z = impedance(load_id)
    expect_db = 20 * np.log10(np.abs(z / (z + zout)))
    for fk, e in zip(f, expect_db):
        if fk > 16_000:
            continue
        # Compare at the FFT bin nearest fk (1 Hz apart), with the expectation interpolated there.
        fb = freqs[np.argmin(np.abs(freqs - fk))]
        e = np.interp(np.log(fb), np.log(f), expect_db)
        got = gain_db_at(freqs, h, fb)
        assert abs(got - e) < 0.05, f"{load_id} at {fk:.0f} Hz: {got:.3f} dB, expected {e:.3f} dB"
    # The response really depends on frequency for the resonant load (not a flat gain).
    if load_id == "open-dynamic-300":
        assert expect_db.max() - expect_db.min() > 0.5


def test_reported_latency_is_the_real_delay(plugin):
    plugin.listen = "Ideal"
    x = np.zeros(8192, dtype=np.float32)
    x[1000] = 1.0
    for block in [32, 777]:
        y = plugin.process(x[np.newaxis, :], FS, buffer_size=block)[0]
        assert int(np.argmax(np.abs(y))) == 1000


def test_ab_switch_and_level_match(plugin):
    lib = loads()
    k = [l["id"] for l in lib].index("closed-dynamic-32")
    linear_slot(plugin, "a", k, len(lib), 100.0)
    linear_slot(plugin, "b", k, len(lib), 0.0)
    f, z = impedance("closed-dynamic-32")
    z1k = z[np.argmin(np.abs(f - 1000))]
    expect_a = abs(z1k / (z1k + 100.0))
    plugin.active_slot = "A"
    ga = tone_gain(plugin)
    plugin.active_slot = "B"
    gb = tone_gain(plugin)
    assert abs(20 * np.log10(ga / expect_a)) < 0.2, (ga, expect_a)
    assert abs(20 * np.log10(gb)) < 0.05, gb
    plugin.active_slot = "A"
    plugin.level_match = True
    assert abs(20 * np.log10(tone_gain(plugin))) < 0.1
    # Difference of a 0 Ω slot is silence.
    plugin.active_slot = "B"
    plugin.listen = "Difference"
    assert tone_gain(plugin) < 1e-3


@pytest.mark.parametrize("block", [64, 1000])
def test_a_reset_starts_at_the_parameters_now_set(plugin, block):
    """A parameter changed before a reset (pedalboard resets before each `process`) is in force
    at once: an impulse right after the reset gets the settled response, not a glide from the old
    value (the same impulse 400 ms later is the settled reference)."""
    lib = loads()
    ids = [l["id"] for l in lib]
    k = ids.index("closed-dynamic-32")
    linear_slot(plugin, "a", k, len(lib), 75.0)
    x = np.zeros(FS, dtype=np.float32)
    plugin.process(x[np.newaxis, :], FS, buffer_size=block)
    linear_slot(plugin, "a", k, len(lib), 120.0)
    t1, t2, w = 2064, 2064 + 19_200, 16_384  # 43 ms and 443 ms after the reset
    x[t1] = x[t2] = 0.1
    y = plugin.process(x[np.newaxis, :], FS, buffer_size=block)[0].astype(np.float64)
    # pedalboard compensates the reported latency, so each response is centred on its impulse
    # (the resampler's filters are linear-phase): the windows start before it.
    first, settled = y[t1 - 1024 : t1 - 1024 + w], y[t2 - 1024 : t2 - 1024 + w]
    peak = np.max(np.abs(settled))
    diff_db = 20 * np.log10(max(np.max(np.abs(first - settled)), 1e-30) / peak)
    assert diff_db < -100, f"block {block}: first impulse after the reset differs by {diff_db:.1f} dB"
    # And it is the divider's response: the 1 kHz level of the settled impulse response.
    h = np.fft.rfft(settled, 48_000)
    f, z = impedance("closed-dynamic-32")
    expect = np.interp(1000.0, f, 20 * np.log10(np.abs(z / (z + 120.0))))
    got = 20 * np.log10(np.abs(h[1000]) / 0.1)
    assert abs(got - expect) < 0.1, f"1 kHz: {got:.3f} dB, expected {expect:.3f} dB"
