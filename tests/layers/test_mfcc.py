"""ser_tf.layers.mfcc: agreement with librosa's MFCCs and deltas, normalisation, serialisation."""

import librosa
import numpy as np
import pytest
import scipy.signal

from ser_tf.errors import ParameterError
from ser_tf.layers.mfcc import MFCC, savgol_derivative_kernel
from tests.helpers import run_layer_test

SR = 16000
# Stated in the MFCC module docstring: max error / value range of each block.
MAX_RELATIVE_ERROR = 1e-5


def _librosa_mfcc(y, *, n_mels=128, n_mfcc=40):
    mel = librosa.feature.melspectrogram(
        y=y.astype(np.float64), sr=SR, n_fft=512, win_length=400, hop_length=160, n_mels=n_mels,
        fmax=8000.0, center=True, power=2.0,
    )
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel, top_db=80.0), n_mfcc=n_mfcc)
    d1 = librosa.feature.delta(mfcc, width=9)
    d2 = librosa.feature.delta(mfcc, width=9, order=2)
    return np.concatenate([mfcc, d1, d2]).T


def _signals(rng):
    t = np.arange(SR) / SR
    chirp = 0.5 * scipy.signal.chirp(t, f0=100.0, t1=1.0, f1=7000.0)
    noise = 0.1 * rng.standard_normal(SR // 2)
    return {"noise": noise.astype(np.float32), "chirp": chirp.astype(np.float32)}


@pytest.mark.parametrize("signal", ["noise", "chirp"])
def test_matches_librosa_with_deltas(rng, signal):
    y = _signals(rng)[signal]
    ours = MFCC()(y[None])[0].numpy()
    ref = _librosa_mfcc(y)
    assert ours.shape == ref.shape == (1 + len(y) // 160, 120)
    for block, name in enumerate(["mfcc", "delta", "delta-delta"]):
        cols = slice(40 * block, 40 * (block + 1))
        error = np.abs(ours[:, cols] - ref[:, cols]).max() / np.ptp(ref[:, cols])
        assert error < MAX_RELATIVE_ERROR, (name, error)


def test_without_deltas_and_fewer_bands(rng):
    y = _signals(rng)["noise"]
    ours = MFCC(n_mels=64, n_mfcc=13, deltas=False)(y[None])[0].numpy()
    ref = _librosa_mfcc(y, n_mels=64, n_mfcc=13)[:, :13]
    assert ours.shape == ref.shape
    assert np.abs(ours - ref).max() / np.ptp(ref) < MAX_RELATIVE_ERROR


@pytest.mark.parametrize("order", [1, 2])
def test_delta_kernel_matches_scipy(order):
    np.testing.assert_allclose(
        savgol_derivative_kernel(width=9, order=order),
        scipy.signal.savgol_coeffs(9, order, deriv=order, use="dot"),
        atol=1e-7,
    )


def test_meanvar_is_per_coefficient(rng):
    y = np.stack([signal[: SR // 2] for signal in _signals(rng).values()])
    out = MFCC(normalization="meanvar")(y).numpy()
    np.testing.assert_allclose(out.mean(axis=1), 0.0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=1), 1.0, atol=1e-3)


def test_too_short_for_delta_window():
    with pytest.raises(ParameterError, match="at least 9 frames"):
        MFCC()(np.zeros((1, 160 * 7), np.float32))  # 8 frames


def test_layer_config_and_saving(rng, tmp_path):
    run_layer_test(
        MFCC,
        init_kwargs={"n_mels": 32, "n_mfcc": 8, "normalization": "meanvar", "delta_width": 5},
        input_data=(0.1 * rng.standard_normal((2, 3200))).astype(np.float32),
        expected_output_shape=(2, 21, 24),
        expected_num_trainable_weights=0,
        tmp_path=tmp_path,
    )


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"n_mfcc": 200}, "n_mfcc"),
        ({"delta_width": 4}, "width"),
        ({"normalization": "cmvn"}, "'cmvn'"),
    ],
)
def test_rejects_bad_arguments(kwargs, fragment):
    with pytest.raises(ParameterError, match=fragment):
        MFCC(**kwargs)


def test_dct_matrix_is_scipy_orthonormal_dct_ii(rng):
    import scipy.fft

    from ser_tf.layers.mfcc import dct_matrix

    x = rng.standard_normal((4, 128))
    np.testing.assert_allclose(x @ dct_matrix(n=128, n_out=40).astype(np.float64),
                               scipy.fft.dct(x, type=2, norm="ortho")[:, :40], atol=1e-5)


def test_matches_the_tf_signal_dct_version_it_replaced(rng):
    # tf.signal.dct (its RFFT's complex slices have no TFLite builtin) was the layer's DCT until
    # the TFLite export; measured 1e-4 apart on coefficients spanning ~240 (float32 round-off).
    import tensorflow as tf

    y = _signals(rng)["chirp"][None]
    layer = MFCC(deltas=False)
    before = tf.signal.dct(layer.mel_db(y, ref_max=False), type=2, norm="ortho")[..., :40].numpy()
    after = layer(y).numpy()
    assert np.abs(after - before).max() <= 1e-5 * np.ptp(before) * 10
