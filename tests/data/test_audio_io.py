"""Tests for ser_tf.data.audio_io: decoding, downmix, resampling, block reading and errors."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ser_tf.data.audio_io import (
    AudioInfo,
    iter_blocks,
    load_audio,
    probe_audio,
    resample,
    to_mono,
)
from ser_tf.errors import AudioError, ParameterError

F0 = 440.0  # test tone, Hz: well inside every band, exact at every rate used here


def tone(sample_rate: int, seconds: float, *, freq: float = F0, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(round(sample_rate * seconds))) / sample_rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def write(path, x, sample_rate, **kwargs):
    sf.write(str(path), x, sample_rate, **kwargs)
    return path


# (file name, sample rate, channels, soundfile kwargs, tolerance against the ideal 16 kHz tone)
FORMATS = [
    ("pcm16_8k.wav", 8000, 1, {"subtype": "PCM_16"}, 2e-3),
    ("pcm16_22k.wav", 22050, 1, {"subtype": "PCM_16"}, 2e-3),
    ("pcm24_44k_stereo.wav", 44100, 2, {"subtype": "PCM_24"}, 2e-3),
    ("float_48k.wav", 48000, 1, {"subtype": "FLOAT"}, 2e-3),
    ("pcm32_16k.wav", 16000, 1, {"subtype": "PCM_32"}, 1e-6),
    ("u8_16k.wav", 16000, 1, {"subtype": "PCM_U8"}, 1.5e-2),  # 8-bit: quantisation step 1/128
    ("flac_44k.flac", 44100, 1, {"format": "FLAC", "subtype": "PCM_16"}, 2e-3),
    ("vorbis_48k.ogg", 48000, 2, {"format": "OGG", "subtype": "VORBIS"}, 6e-2),  # lossy
]


@pytest.mark.parametrize("name,sr,channels,kwargs,tol", FORMATS, ids=[f[0] for f in FORMATS])
def test_load_audio_formats_resample_to_16k(tmp_path, name, sr, channels, kwargs, tol):
    x = tone(sr, 0.5)
    if channels == 2:
        x = np.stack([x, x], axis=1)
    path = write(tmp_path / name, x, sr, **kwargs)

    y = load_audio(path)
    assert y.dtype == np.float32 and y.ndim == 1
    assert len(y) == math.ceil(0.5 * sr * 16000 / sr)  # 8000 samples whatever the source rate
    # Away from the edges (filter transients), the signal is the same tone sampled at 16 kHz.
    expected = tone(16000, 0.5)
    np.testing.assert_allclose(y[400:-400], expected[400:-400], atol=tol)


def test_load_audio_mp3_when_libsndfile_supports_it(tmp_path):
    path = tmp_path / "tone.mp3"
    try:
        write(path, tone(44100, 1.0), 44100, format="MP3", subtype="MPEG_LAYER_III")
    except (sf.LibsndfileError, TypeError, ValueError) as err:
        pytest.skip(f"this libsndfile cannot write MP3: {err}")
    y = load_audio(path)
    assert y.dtype == np.float32 and abs(len(y) - 16000) < 1600  # the codec pads its frames
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    assert abs(np.argmax(spectrum) * 16000 / len(y) - F0) < 3.0


def test_stereo_is_averaged_to_mono(tmp_path):
    left, right = tone(16000, 0.25), tone(16000, 0.25, freq=1000.0, amp=0.25)
    path = write(tmp_path / "stereo.wav", np.stack([left, right], axis=1), 16000, subtype="FLOAT")
    np.testing.assert_allclose(load_audio(path), (left + right) / 2, atol=1e-7)
    both = load_audio(path, mono=False)
    assert both.shape == (4000, 2)
    np.testing.assert_allclose(both[:, 1], right, atol=1e-7)


def test_pcm16_at_16k_is_exact(tmp_path):
    ints = np.array([0, 1, -1, 32767, -32768, 1234], np.int16)
    path = write(tmp_path / "ints.wav", ints, 16000, subtype="PCM_16")
    np.testing.assert_array_equal(load_audio(path), ints.astype(np.float32) / 32768.0)


def test_offset_and_duration(tmp_path):
    x = np.arange(16000, dtype=np.float32) / 16000.0
    path = write(tmp_path / "ramp.wav", x, 16000, subtype="FLOAT")
    y = load_audio(path, offset=0.25, duration=0.5)
    np.testing.assert_array_equal(y, x[4000:12000])
    assert len(load_audio(path, offset=0.75, duration=10.0)) == 4000  # clipped to the file end
    with pytest.raises(AudioError, match="past the end"):
        load_audio(path, offset=2.0)
    with pytest.raises(ParameterError, match="-1"):
        load_audio(path, offset=-1)
    with pytest.raises(ParameterError, match="duration"):
        load_audio(path, duration=0)
    with pytest.raises(ParameterError, match="sample_rate"):
        load_audio(path, sample_rate=0)


def test_probe_audio_reports_the_header(tmp_path):
    path = write(tmp_path / "s.wav", np.zeros((22050, 2), np.float32), 44100, subtype="PCM_24")
    info = probe_audio(path)
    assert info == AudioInfo(sample_rate=44100, channels=2, frames=22050, duration=0.5,
                             format="WAV", subtype="PCM_24")


def first_block(path):
    return next(iter_blocks(path, block_seconds=1.0))


@pytest.mark.parametrize("reader", [probe_audio, load_audio, first_block])
def test_bad_files_raise_audio_error_naming_the_path(tmp_path, reader):
    missing = tmp_path / "missing.wav"
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x10\x00\x00\x00WAVEnot really audio" * 4)
    text = tmp_path / "notes.flac"
    text.write_text("hello")
    empty = write(tmp_path / "empty.wav", np.zeros(0, np.float32), 16000)

    for path, what in [(missing, "not found"), (corrupt, "readable audio file"),
                       (text, "readable audio file"), (empty, "0 frames"), (tmp_path, "directory")]:
        with pytest.raises(AudioError, match=what) as info:
            reader(path)
        assert info.value.path == str(path)
        assert str(path) in str(info.value)


def test_non_finite_float_samples_are_rejected(tmp_path):
    x = np.zeros(100, np.float32)
    x[10] = np.nan
    path = write(tmp_path / "nan.wav", x, 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match="NaN"):
        load_audio(path)


@pytest.mark.parametrize("orig_sr,n_in,n_out", [(8000, 8000, 16000), (44100, 44100, 16000),
                                                (22050, 1001, 727), (48000, 7, 3), (16000, 5, 5)])
def test_resample_lengths(orig_sr, n_in, n_out):
    y = resample(np.ones(n_in, np.float32), orig_sr=orig_sr, target_sr=16000)
    assert y.dtype == np.float32 and y.shape == (n_out,)
    assert n_out == math.ceil(n_in * 16000 / orig_sr)


def test_resample_rejects_bad_rates():
    with pytest.raises(ParameterError, match="orig_sr.*-5"):
        resample(np.zeros(4), orig_sr=-5, target_sr=16000)
    with pytest.raises(ParameterError, match="target_sr.*22050.5"):
        resample(np.zeros(4), orig_sr=16000, target_sr=22050.5)


def test_to_mono():
    x = np.array([[1.0, 3.0], [0.0, -1.0]], np.float32)
    np.testing.assert_array_equal(to_mono(x), [2.0, -0.5])
    np.testing.assert_array_equal(to_mono(x[:, 0]), [1.0, 0.0])
    assert to_mono(x[:, :1]).shape == (2,)
    with pytest.raises(ParameterError, match=r"\(2, 2, 1\)"):
        to_mono(np.zeros((2, 2, 1)))


@pytest.mark.parametrize("sr", [16000, 44100])
def test_iter_blocks_match_the_whole_file(tmp_path, sr):
    rng = np.random.default_rng(0)
    x = rng.uniform(-0.5, 0.5, (int(sr * 2.3), 2)).astype(np.float32)
    path = write(tmp_path / "long.wav", x, sr, subtype="FLOAT")
    whole = load_audio(path)

    blocks = list(iter_blocks(path, block_seconds=1.0, hop_seconds=0.75))
    assert [s for s, _ in blocks] == [0.0, 0.75, 1.5]
    assert [len(b) for _, b in blocks] == [16000, 16000, len(whole) - 24000]
    for start, block in blocks:
        j = int(round(start * 16000))
        # Read with filter context and trimmed: equal to the whole-file resampling.
        np.testing.assert_allclose(block, whole[j:j + len(block)], atol=1e-6)
        assert block.dtype == np.float32


def test_iter_blocks_short_file_and_default_hop(tmp_path):
    path = write(tmp_path / "short.wav", tone(16000, 0.3), 16000)
    blocks = list(iter_blocks(path, block_seconds=1.0))
    assert len(blocks) == 1 and blocks[0][0] == 0.0 and len(blocks[0][1]) == 4800

    path = write(tmp_path / "two.wav", tone(16000, 2.0), 16000)
    assert [s for s, _ in iter_blocks(path, block_seconds=1.0)] == [0.0, 1.0]  # ends exactly
    with pytest.raises(ParameterError, match="block_seconds"):
        next(iter_blocks(path, block_seconds=0))
    with pytest.raises(ParameterError, match="hop_seconds"):
        next(iter_blocks(path, block_seconds=1.0, hop_seconds=-1))


def test_importing_audio_io_does_not_load_tensorflow():
    # Inference and `python -m ser_tf.data` rely on this module starting fast.
    code = "import sys, ser_tf.data.audio_io; sys.exit('tensorflow' in sys.modules)"
    root = Path(__file__).resolve().parents[2]
    assert subprocess.run([sys.executable, "-c", code], cwd=root, timeout=60).returncode == 0
