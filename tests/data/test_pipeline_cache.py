"""The pipeline's cache keeps 16-bit WAV clips as int16, and gives back exactly the same floats."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import tensorflow as tf

from ser_tf.data import pipeline
from ser_tf.data.pipeline import make_dataset
from ser_tf.settings import AudioConfig

N = 4000  # samples per example: 0.25 s at 16 kHz


def settings(cache, **augment):
    return {"audio": AudioConfig(sample_rate=16000, duration=N / 16000, train_crop="random"),
            "augment": augment, "batch_size": 2, "seed": 7, "cache": cache}


@pytest.fixture
def wavs(tmp_path, rng):
    """Four 16-bit 16 kHz WAVs, one holding the extremes -32768 and 32767, shorter and longer than N."""
    paths = []
    for k, n in enumerate((N + 900, N - 700, N, 2 * N)):
        samples = rng.integers(-32768, 32768, n).astype(np.int16)
        samples[:4] = (-32768, 32767, 0, -1)
        path = tmp_path / f"clip{k}.wav"
        sf.write(str(path), samples, 16000, subtype="PCM_16")
        paths.append(str(path))
    return paths, np.array([0, 1, 0, 1])


def batches(ds):
    return [(w.numpy(), y.numpy()) for w, y in ds]


@pytest.mark.parametrize("training", [False, True])
def test_int16_memory_cache_gives_the_uncached_floats_bit_for_bit(wavs, training):
    paths, labels = wavs
    augment = {"noise": {"enabled": True, "p": 1.0}} if training else {}
    cached = make_dataset(paths, labels, **settings("memory", **augment), training=training)
    uncached = make_dataset(paths, labels, **settings("none", **augment), training=training)
    for _ in range(2):  # the second epoch reads the cache
        got, want = batches(cached), batches(uncached)
        assert len(got) == len(want)
        for (w1, y1), (w2, y2) in zip(got, want):
            assert w1.dtype == np.float32
            np.testing.assert_array_equal(w1, w2)
            np.testing.assert_array_equal(y1, y2)


def test_cache_holds_int16_for_16_bit_wav_and_float32_otherwise(wavs):
    paths, labels = wavs
    ds = tf.data.Dataset.from_tensor_slices((paths, labels)).map(
        lambda p, y: (pipeline._decode_wav_graph(p), y))
    kwargs = {"paths": paths, "labels": labels, "sample_rate": 16000}
    cached = pipeline._cache(ds, "memory", as_int16=True, **kwargs)
    assert cached.element_spec[0].dtype == tf.int16
    decoded = [w.numpy() for w, _ in ds]
    for wave, (small, _) in zip(decoded, cached):  # the round trip of finish_dataset
        np.testing.assert_array_equal(small.numpy().astype(np.float32) / 32768.0, wave)
    assert pipeline._cache(ds, "memory", as_int16=False, **kwargs).element_spec[0].dtype == tf.float32
    assert pipeline._cache(ds, "none", as_int16=True, **kwargs).element_spec[0].dtype == tf.float32


def test_file_cache_of_int16_clips_has_its_own_file(wavs, tmp_path):
    """A float32 file cache written before int16 caching must never be read as int16."""
    paths, labels = wavs
    prefix = str(tmp_path / "c" / "train")
    as_float = pipeline._cache_file(prefix, paths, labels, 16000)
    assert pipeline._cache_file(prefix, paths, labels, 16000, "float32") == as_float
    assert pipeline._cache_file(prefix, paths, labels, 16000, "int16") != as_float
    ds = make_dataset(paths, labels, **settings(prefix), training=False)
    first = batches(ds)
    assert list((tmp_path / "c").glob("train.*.index"))
    again = batches(ds)
    for (w1, _), (w2, _) in zip(first, again):
        np.testing.assert_array_equal(w1, w2)


@pytest.mark.parametrize("rate, channels", [(16000, 2), (48000, 1)])
def test_averaged_or_resampled_clips_stay_float32_in_the_cache(tmp_path, rng, rate, channels):
    """Averaged channels and resampled samples are not multiples of 1/32768: an int16 cache would
    round them, so one such file keeps the whole cache float32, bit for bit the uncached floats."""
    paths = []
    for k, (file_rate, file_channels) in enumerate([(16000, 1), (rate, channels)]):
        n = N * file_rate // 16000 + 300
        samples = rng.integers(-32768, 32768, (n, file_channels)).astype(np.int16)
        path = tmp_path / f"clip{k}.wav"
        sf.write(str(path), samples, file_rate, subtype="PCM_16")
        paths.append(str(path))
    labels = np.array([0, 1])
    cached = make_dataset(paths, labels, **settings("memory"), training=False)
    uncached = make_dataset(paths, labels, **settings("none"), training=False)
    batches(cached)  # fills the cache
    for (w1, _), (w2, _) in zip(batches(cached), batches(uncached)):
        np.testing.assert_array_equal(w1, w2)
