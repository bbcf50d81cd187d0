"""The product's speed against a yardstick, measured side by side in one run: pedalboard's
convolution with a 4096-tap impulse response (JUCE's partitioned FFT convolution), a plain and
widely used effect of about the same job size.

1. `loadline render` of a 60 s stereo WAV of noise at -12 dBFS RMS (NE5532 line out into the
   closed-back 32 Ω load), end to end (read, process, write), against the convolution of the same
   audio read from and written to disk.
2. Loadline.vst3 in pedalboard at its defaults (both slots live: A the laptop jack, B the ideal
   stage; the editor closed) at blocks 64, 128 and 512, against the convolution at the same
   blocks.

At 44.1 and 48 kHz. Prints seconds, × real time and the ratio (Loadline's speed / the
convolution's): figures, not assertions (timings are noisy: each figure is the best of five
passes, the two sides alternating).

Run: cargo build --release && cargo xtask bundle loadline --release, then
    .venv/bin/python benches/host_speed.py [seconds]
(`LOADLINE_BIN` and `LOADLINE_VST3` override the paths.)
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pedalboard

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "host"))
from wavio import read_wav, write_wav  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(os.environ.get("LOADLINE_BIN", ROOT / "target" / "release" / "loadline"))
VST3 = Path(os.environ.get("LOADLINE_VST3", ROOT / "target" / "bundled" / "Loadline.vst3"))
SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
PASSES = 5


def best_times(f, g):
    """The shortest of PASSES runs of each of `f` and `g`, run alternately so a slow spell on a
    shared machine hits both (the minimum is the run least disturbed by other work)."""
    tf, tg = [], []
    for _ in range(PASSES):
        for fn, ts in ((f, tf), (g, tg)):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
    return min(tf), min(tg)


def main():
    rng = np.random.default_rng(1)
    ir = (rng.standard_normal(4096) * np.exp(-np.arange(4096) / 800.0)).astype(np.float32)
    ir /= np.sqrt(np.sum(ir**2))
    print(f"{SECONDS:.0f} s of stereo noise at -12 dBFS RMS, best of {PASSES} alternating passes")
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        for fs in (44_100, 48_000):
            n = int(SECONDS * fs)
            x = (rng.uniform(-1, 1, (n, 2)) * 0.4365).astype(np.float32)
            src = d / f"in{fs}.wav"
            write_wav(src, fs, x)
            conv = pedalboard.Convolution(ir, sample_rate=fs)

            # 1. The renderer end to end against the convolution, file to file.
            def render():
                out = d / "out.wav"
                if out.exists():
                    out.unlink()
                subprocess.run(
                    [str(BIN), "render", str(src), "-o", str(out), "--stage", "opamp-line-ne5532", "--headphone", "closed-dynamic-32"],
                    check=True, capture_output=True,
                )

            def convolve_file():
                y = conv.process(read_wav(src)[1].T.astype(np.float32), fs, buffer_size=8192, reset=True)
                write_wav(d / "conv.wav", fs, y.T)

            t_r, t_c = best_times(render, convolve_file)
            print(f"{fs} Hz  loadline render  {t_r:6.2f} s {SECONDS / t_r:6.0f}x   convolution {t_c:6.2f} s {SECONDS / t_c:6.0f}x   ratio {t_c / t_r:.2f}")

            # 2. The plugin with both slots live against the convolution, per block size.
            p = pedalboard.load_plugin(str(VST3))  # defaults: A laptop jack, B ideal, both live
            xt = x.T.copy()
            for block in (64, 128, 512):
                # A fresh convolution per block size (one prepared for larger blocks runs small
                # ones far slower).
                cb = pedalboard.Convolution(ir, sample_rate=fs)
                t_p, t_c = best_times(
                    lambda: p.process(xt, fs, buffer_size=block, reset=True),
                    lambda: cb.process(xt, fs, buffer_size=block, reset=True),
                )
                print(f"{fs} Hz  block {block:4}  plugin {SECONDS / t_p:6.0f}x   convolution {SECONDS / t_c:6.0f}x   ratio {t_c / t_p:.2f}")


if __name__ == "__main__":
    main()
