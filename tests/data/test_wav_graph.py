"""decode_pcm16: the data chunk of a 16-bit WAV read in the graph, equal to soundfile (and to
tf.audio.decode_wav where it reads the file) bit for bit, whatever chunks come before it."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import soundfile as sf
import tensorflow as tf

from ser_tf.data.wav_graph import decode_pcm16
from ser_tf.errors import ParameterError


def wav_bytes(samples: np.ndarray, *, rate: int, extra: bytes = b"", data_size=None) -> bytes:
    """A 16-bit PCM WAV: RIFF, fmt, ``extra`` chunks, then data (size field ``data_size``)."""
    frames = samples.reshape(len(samples), -1)
    channels = frames.shape[1]
    data = frames.astype("<i2").tobytes()
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * 2 * channels, 2 * channels, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + extra
    body += b"data" + struct.pack("<I", len(data) if data_size is None else data_size) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize("channels", [1, 2])
def test_equals_soundfile_after_other_chunks(channels, tmp_path, rng):
    ints = rng.integers(-32768, 32768, size=(1001, channels)).astype(np.int16)
    odd = b"junk" + struct.pack("<I", 3) + b"abc" + b"\0"  # odd size: one pad byte follows
    path = tmp_path / "x.wav"
    info = b"LIST" + struct.pack("<I", 4) + b"INFO"
    path.write_bytes(wav_bytes(ints, rate=48000, extra=odd + info))
    contents = tf.io.read_file(str(path))
    got = decode_pcm16(contents, channels=channels).numpy()
    np.testing.assert_array_equal(got, sf.read(str(path), dtype="float32", always_2d=True)[0])


def test_soundfile_metadata_chunks_and_a_truncated_data_chunk(tmp_path, rng):
    path = tmp_path / "meta.wav"
    with sf.SoundFile(str(path), "w", 22050, 1, subtype="PCM_16") as f:
        f.title = "a LIST chunk"
        f.write(rng.uniform(-0.9, 0.9, 777))
    contents = tf.io.read_file(str(path))
    got = decode_pcm16(contents, channels=1).numpy()
    np.testing.assert_array_equal(got, sf.read(str(path), dtype="float32", always_2d=True)[0])
    np.testing.assert_array_equal(got, tf.audio.decode_wav(contents)[0].numpy())
    ints = np.arange(-50, 50, dtype=np.int16)
    cut = wav_bytes(ints, rate=16000, data_size=10_000)[:-3]  # size field lies; odd byte left
    got = decode_pcm16(tf.constant(cut), channels=1).numpy()
    np.testing.assert_array_equal(got[:, 0], ints[:98] / 32768.0)


def test_no_data_chunk_is_an_error_naming_the_file():
    fmt = b"fmt " + struct.pack("<I", 16) + bytes(16)
    riff = b"RIFF" + struct.pack("<I", 4 + len(fmt)) + b"WAVE" + fmt
    with pytest.raises(tf.errors.InvalidArgumentError, match="(?s)no data chunk.*broken.wav"):
        decode_pcm16(tf.constant(riff), channels=1, path="broken.wav")
    with pytest.raises(ParameterError, match="channels must be a positive integer, got 0"):
        decode_pcm16(tf.constant(riff), channels=0)
