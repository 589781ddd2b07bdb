"""ser_tf.layers.log_mel: agreement with librosa, frame counts, normalisation, serialisation."""

import keras
import librosa
import numpy as np
import pytest
import scipy.signal

from ser_tf.errors import ParameterError
from ser_tf.layers.log_mel import LogMelSpectrogram
from tests.helpers import run_layer_test

SR = 16000
# Stated in LogMelSpectrogram's module docstring: float32 TF vs float64 librosa, in dB.
MAX_DB_ERROR = 0.01
MEAN_DB_ERROR = 1e-4


def _librosa_db(y, *, n_mels=64, center=True):
    mel = librosa.feature.melspectrogram(
        y=y.astype(np.float64), sr=SR, n_fft=512, win_length=400, hop_length=160, n_mels=n_mels,
        fmin=0.0, fmax=8000.0, center=center, power=2.0,
    )
    return librosa.power_to_db(mel, ref=np.max, top_db=80.0).T


def _noise(rng, seconds=0.5):
    return (0.1 * rng.standard_normal(int(SR * seconds))).astype(np.float32)


def _chirp(seconds=1.0):
    t = np.arange(int(SR * seconds)) / SR
    return (0.5 * scipy.signal.chirp(t, f0=100.0, t1=seconds, f1=7000.0)).astype(np.float32)


@pytest.mark.parametrize("signal", ["noise", "chirp"])
def test_matches_librosa_db(rng, signal):
    y = _noise(rng) if signal == "noise" else _chirp()
    ours = LogMelSpectrogram(normalization="none")(y[None])[0].numpy()
    ref = _librosa_db(y)
    assert ours.shape == ref.shape
    error = np.abs(ours - ref)
    assert error.max() < MAX_DB_ERROR, error.max()
    assert error.mean() < MEAN_DB_ERROR, error.mean()


def test_matches_librosa_without_centering(rng):
    y = _noise(rng)
    ours = LogMelSpectrogram(normalization="none", center=False)(y[None])[0].numpy()
    ref = _librosa_db(y, center=False)
    assert ours.shape == ref.shape
    assert np.abs(ours - ref).max() < MAX_DB_ERROR


@pytest.mark.parametrize("samples", [1, 159, 160, 161, 8000, 48000])
def test_frame_count_matches_librosa(samples):
    layer = LogMelSpectrogram()
    out = layer(np.zeros((2, samples), np.float32))
    expected = 1 + samples // 160
    assert out.shape == (2, expected, 64)
    assert layer.compute_output_shape((None, samples)) == (None, expected, 64)


def test_batch_items_are_independent(rng):
    """Per-utterance reference and normalisation: a loud neighbour changes nothing."""
    quiet, loud = _noise(rng) * 0.01, _noise(rng) * 10
    alone = LogMelSpectrogram()(quiet[None]).numpy()
    batched = LogMelSpectrogram()(np.stack([quiet, loud])).numpy()
    np.testing.assert_allclose(batched[:1], alone, atol=1e-6)


def test_minmax_and_meanvar_normalisation(rng):
    y = np.stack([_noise(rng), _chirp(0.5)])
    minmax = LogMelSpectrogram(normalization="minmax")(y).numpy()
    assert np.allclose(minmax.min(axis=(1, 2)), 0.0) and np.allclose(minmax.max(axis=(1, 2)), 1.0)
    db = LogMelSpectrogram(normalization="none")(y).numpy()
    low, high = db.min(axis=(1, 2), keepdims=True), db.max(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(minmax, (db - low) / (high - low), atol=1e-5)
    assert np.all(high == 0.0) and low[1] == -80.0  # peak at 0 dB; the chirp spans all 80 dB
    meanvar = LogMelSpectrogram(normalization="meanvar")(y).numpy()
    np.testing.assert_allclose(meanvar.mean(axis=(1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(meanvar.std(axis=(1, 2)), 1.0, atol=1e-4)


def test_silence_gives_finite_zeros():
    out = LogMelSpectrogram()(np.zeros((1, 4000), np.float32)).numpy()
    assert np.isfinite(out).all() and np.all(out == 0.0)


def test_stays_float32_under_mixed_precision(rng):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        layer = LogMelSpectrogram()
        out = layer(_noise(rng)[None])
    finally:
        keras.config.set_dtype_policy(previous)
    assert layer.compute_dtype == "float32" and out.dtype == "float32"


def test_layer_config_and_saving(rng, tmp_path):
    kwargs = {"n_mels": 16, "n_fft": 256, "win_length": 200, "hop_length": 80, "fmax": 7000.0,
              "normalization": "meanvar", "top_db": 60.0}
    run_layer_test(
        LogMelSpectrogram,
        init_kwargs=kwargs,
        input_data=np.stack([_noise(rng, 0.1), _noise(rng, 0.1)]),
        expected_output_shape=(2, 21, 16),
        expected_num_trainable_weights=0,
        tmp_path=tmp_path,
    )


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"win_length": 600}, "win_length=600"),
        ({"hop_length": 0}, "hop_length"),
        ({"normalization": "zscore"}, "'zscore'"),
        ({"top_db": -1.0}, "top_db"),
        ({"fmax": 12000.0}, "fmax=12000.0"),
    ],
)
def test_rejects_bad_arguments(kwargs, fragment):
    with pytest.raises(ParameterError, match=fragment):
        LogMelSpectrogram(**kwargs)


def test_rejects_wrong_rank():
    with pytest.raises(ParameterError, match="samples"):
        LogMelSpectrogram()(np.zeros((1, 800, 1), np.float32))
