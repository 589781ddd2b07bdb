"""Hypothesis strategies of audio-file bytes: WAV headers built from random fields, then mutated.

Pure random bytes almost never get past libsndfile's first check, so most cases are well-formed
RIFF/WAVE files whose fields (rate, channels, bit depth, declared sizes, extra chunks) are drawn at
random and whose bytes are then truncated or overwritten: the decoders see plausible headers that
lie. ``wav_file_bytes`` draws one whole file.
"""

from __future__ import annotations

import struct

from hypothesis import strategies as st

# Rates a file may declare: the common ones, and any integer (absurd ones included: 1 Hz, 10 MHz).
RATES = st.one_of(st.sampled_from([8000, 16000, 22050, 44100, 48000, 96000]), st.just(16000),
                  st.integers(min_value=0, max_value=10_000_000))
# (format tag, bits per sample): PCM 8/16/24/32, IEEE float 32/64, and nonsense pairs.
FORMATS = st.one_of(st.sampled_from([(1, 8), (1, 16), (1, 24), (1, 32), (3, 32), (3, 64)]), st.just((1, 16)),
                    st.tuples(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF)))


def _chunk(tag: bytes, body: bytes, declared=None) -> bytes:
    size = len(body) if declared is None else declared
    return tag + struct.pack("<I", size & 0xFFFFFFFF) + body + (b"\0" if len(body) % 2 else b"")


@st.composite
def wav_file_bytes(draw) -> bytes:
    """A RIFF/WAVE file (``fmt``, optional ``LIST``, ``data``) with drawn fields, possibly mutated;
    or, one time in eight, raw random bytes."""
    if draw(st.integers(0, 7)) == 0:
        return draw(st.binary(max_size=256))
    tag, bits = draw(FORMATS)
    channels = draw(st.one_of(st.integers(1, 2), st.integers(0, 8)))
    rate = draw(RATES)
    block = max(1, channels * bits // 8)
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block & 0xFFFFFFFF, block & 0xFFFF, bits)
    frames = draw(st.integers(0, 400))
    data = draw(st.binary(min_size=frames * block, max_size=frames * block))
    declared = draw(st.one_of(st.none(), st.none(), st.integers(0, 0xFFFFFFFF)))  # None: true size
    extra = _chunk(b"LIST", draw(st.binary(max_size=9))) if draw(st.booleans()) else b""
    body = b"WAVE" + _chunk(b"fmt ", fmt) + extra + _chunk(b"data", data, declared)
    blob = bytearray(b"RIFF" + struct.pack("<I", len(body)) + body)
    # Half the files stay whole and true; the others get bytes overwritten or are cut short.
    for _ in range(draw(st.one_of(st.just(0), st.integers(0, 3)))):  # overwrite a few bytes
        at = draw(st.integers(0, len(blob) - 1))
        blob[at] = draw(st.integers(0, 255))
    cut = draw(st.one_of(st.none(), st.none(), st.integers(0, len(blob))))  # truncation
    return bytes(blob[:cut])
