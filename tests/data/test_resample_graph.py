"""The in-graph resampler and 16-bit WAV decoding at any rate: the same samples as the NumPy path
(``load_audio`` with ``scipy.signal.resample_poly``) to float32 round-off, on generated audio."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from ser_tf.data import audio_io, pipeline
from ser_tf.data.audio_io import load_audio
from ser_tf.data.pipeline import decode_file, make_dataset
from ser_tf.data.resample_graph import MAX_MATRIX_ENTRIES, fits_in_graph, polyphase_matrix, resample
from ser_tf.errors import ParameterError
from ser_tf.settings import AudioConfig

N = 4000  # samples per example: 0.25 s at 16 kHz
TOL = 1e-6  # float32 round-off of a different summation order, on [-1, 1] audio


@pytest.mark.parametrize("rate", [48000, 44100, 22050, 8000, 11025, 96000])
def test_resample_equals_resample_poly(rate, rng):
    for n in (1, 2, 7, 441, 4801):
        x = rng.uniform(-1.0, 1.0, n).astype(np.float32)
        want = audio_io.resample(x, orig_sr=rate, target_sr=16000)
        got = resample(x, orig_sr=rate, target_sr=16000).numpy()
        assert got.dtype == np.float32 and got.shape == want.shape, (rate, n)
        np.testing.assert_allclose(got, want, rtol=0, atol=TOL)


def test_resample_same_rate_is_identity_and_bad_rates_are_named(rng):
    x = rng.uniform(-1.0, 1.0, 100).astype(np.float32)
    np.testing.assert_array_equal(resample(x, orig_sr=16000, target_sr=16000).numpy(), x)
    with pytest.raises(ParameterError, match="orig_sr.*-8000"):
        resample(x, orig_sr=-8000, target_sr=16000)
    with pytest.raises(ParameterError, match="target_sr.*1.5"):
        resample(x, orig_sr=16000, target_sr=1.5)
    with pytest.raises(ParameterError, match="coprime.*6, 4"):
        polyphase_matrix(6, 4)


def test_an_odd_rate_takes_the_numpy_path(tmp_path, rng):
    """16 kHz from 44,101 Hz would need a 706 M-entry matrix in the graph (the fuzz tests ran out
    of memory on such rates): the graph refuses it, and the pipeline decodes the file with NumPy."""
    assert fits_in_graph(44100, 16000) and fits_in_graph(11025, 16000)
    assert not fits_in_graph(44101, 16000)
    with pytest.raises(ParameterError, match=f"44101 Hz to 16000 Hz.*at most {MAX_MATRIX_ENTRIES}"):
        resample(np.zeros(10, np.float32), orig_sr=44101, target_sr=16000)
    path = tmp_path / "odd.wav"
    sf.write(path, rng.uniform(-0.5, 0.5, 4410).astype(np.float32), 44101, subtype="PCM_16")
    assert not pipeline.is_graph_wav(audio_io.probe_audio(path), sample_rate=16000)
    np.testing.assert_allclose(decode_file(path).numpy(), load_audio(path), atol=TOL)


@pytest.fixture
def wavs(tmp_path, rng):
    """16-bit WAVs at other rates, mono and stereo, shorter and longer than an example."""
    specs = [("m48.wav", 48000, 0.4, 1), ("s48.wav", 48000, 0.2, 2), ("m44.wav", 44100, 0.3, 1),
             ("m8.wav", 8000, 0.35, 1), ("m16.wav", 16000, 0.3, 1), ("s16.wav", 16000, 0.1, 2)]
    paths = []
    for name, rate, seconds, channels in specs:
        shape = (int(rate * seconds), channels) if channels > 1 else (int(rate * seconds),)
        sf.write(str(tmp_path / name), rng.uniform(-0.9, 0.9, shape), rate, subtype="PCM_16")
        paths.append(str(tmp_path / name))
    return paths


def test_16_bit_wav_at_any_rate_decodes_in_the_graph_like_load_audio(wavs, monkeypatch):
    expected = [load_audio(p) for p in wavs]
    calls = []
    monkeypatch.setattr(pipeline, "load_audio", lambda *a, **k: calls.append(a) or None)
    for path, want in zip(wavs, expected):
        got = decode_file(path).numpy()
        assert got.shape == want.shape, path
        np.testing.assert_allclose(got, want, rtol=0, atol=TOL)
    ds = make_dataset(wavs, np.arange(len(wavs)), audio=AudioConfig(duration=N / 16000),
                      training=False, batch_size=4, seed=0, cache="memory")
    waves = np.concatenate([w.numpy() for w, _ in ds])
    assert not calls  # no numpy_function hop for 16-bit WAV, whatever the rate
    for wave, want in zip(waves, expected):
        np.testing.assert_allclose(wave, pipeline.fix_length_numpy(want, N), rtol=0, atol=TOL)


def test_mixed_rates_and_formats_keep_order_and_labels(wavs, tmp_path, rng):
    flac = str(tmp_path / "clip.flac")
    sf.write(flac, rng.uniform(-0.5, 0.5, 9000), 22050, format="FLAC")
    paths = [flac] + wavs
    labels = np.arange(len(paths)) % 3
    ds = make_dataset(paths, labels, audio=AudioConfig(duration=N / 16000), training=False,
                      batch_size=3, seed=0, cache="none")
    waves, got = zip(*[(w.numpy(), y.numpy()) for w, y in ds])
    np.testing.assert_array_equal(np.concatenate(got), labels)
    for wave, path in zip(np.concatenate(waves), paths):
        want = pipeline.fix_length_numpy(load_audio(path), N)
        np.testing.assert_allclose(wave, want, rtol=0, atol=TOL)
