"""WAV files as the host tests and benches use them: 32-bit float (what Ardour records and
exports) and 16/24-bit integer, read into and written from numpy arrays (samples × channels)."""

import struct
from pathlib import Path

import numpy as np


def wav_chunks(data):
    """(id, offset of the payload, size) of every RIFF chunk."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE", "not a WAV file"
    out, pos = [], 12
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        out.append((cid, pos + 8, size))
        pos += 8 + size + (size & 1)
    return out


def read_wav(path):
    """(rate, samples × channels float64) of a float or 16/24-bit WAV."""
    data = Path(path).read_bytes()
    chunks = {cid: (off, size) for cid, off, size in wav_chunks(data)}
    off, _ = chunks[b"fmt "]
    tag, ch, rate = struct.unpack("<HHI", data[off : off + 8])
    bits = struct.unpack("<H", data[off + 14 : off + 16])[0]
    if tag == 0xFFFE:
        tag = struct.unpack("<H", data[off + 24 : off + 26])[0]
    doff, dsize = chunks[b"data"]
    raw = data[doff : doff + dsize]
    if tag == 3 and bits == 32:
        x = np.frombuffer(raw, "<f4").astype(np.float64)
    elif tag == 3 and bits == 64:
        x = np.frombuffer(raw, "<f8")
    elif tag == 1 and bits == 16:
        x = np.frombuffer(raw, "<i2") / 32768.0
    elif tag == 1 and bits == 24:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        x = ((b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)) << 8 >> 8) / 8388608.0
    else:
        raise AssertionError(f"{path}: format {tag}/{bits} bits")
    return rate, x.reshape(-1, ch)


def write_wav(path, rate, x):
    """32-bit float WAV of `x` (samples × channels)."""
    x = np.asarray(x, "<f4")
    n, ch = x.shape
    fmt = struct.pack("<HHIIHH", 3, ch, rate, rate * ch * 4, ch * 4, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", x.nbytes) + x.tobytes()
    Path(path).write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
