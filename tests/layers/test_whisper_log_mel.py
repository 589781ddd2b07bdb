"""ser_tf.layers.whisper_log_mel: agreement with transformers' WhisperFeatureExtractor, shapes, config."""

import keras
import numpy as np
import pytest

from ser_tf.errors import ParameterError
from ser_tf.layers.whisper_log_mel import WhisperLogMel, whisper_frame_count
from tests.helpers import run_layer_test

SR = 16000
# float32 TF vs the feature extractor, on Whisper-scaled log10 mel ((log10 + 4) / 4): measured
# 1.2e-6 on noise and 4.2e-5 on a modulated tone (3 s and 30 s clips).
TOLERANCE = 1e-4


def _signals(rng, seconds):
    t = np.arange(int(SR * seconds)) / SR
    noise = 0.1 * rng.standard_normal(t.size)
    tone = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    return {"noise": noise.astype(np.float32), "tone": tone.astype(np.float32)}


def _reference(y, *, n_mels=80, padding="longest"):
    transformers = pytest.importorskip("transformers")
    extractor = transformers.WhisperFeatureExtractor(feature_size=n_mels)
    features = extractor(y, sampling_rate=SR, return_tensors="np", padding=padding).input_features
    return features[0].T  # (frames, n_mels)


@pytest.mark.parametrize("signal", ["noise", "tone"])
@pytest.mark.parametrize("n_mels", [80, 128])
def test_matches_feature_extractor_on_own_length(rng, signal, n_mels):
    y = _signals(rng, 1.5)[signal]
    ours = WhisperLogMel(n_mels=n_mels)(y[None])[0].numpy()
    ref = _reference(y, n_mels=n_mels)  # padding="longest": the clip's own 150 frames
    assert ours.shape == ref.shape == (150, n_mels)
    assert np.abs(ours - ref).max() < TOLERANCE


def test_matches_feature_extractor_on_30s_padded_input(rng):
    y = _signals(rng, 2.0)["tone"]
    ref = _reference(y, padding="max_length")  # 3000 frames, the 30 s Whisper window
    padded = np.pad(y, (0, 30 * SR - y.size))
    ours = WhisperLogMel()(padded[None])[0].numpy()
    assert ours.shape == ref.shape == (3000, 80)
    assert np.abs(ours - ref).max() < TOLERANCE


@pytest.mark.parametrize("samples", [201, 399, 400, 16000, 16159])
def test_frame_count(samples):
    out = WhisperLogMel()(np.full((2, samples), 0.01, np.float32))
    assert out.shape == (2, whisper_frame_count(samples), 80) == (2, samples // 160, 80)


def test_too_short_clip_is_an_error():
    with pytest.raises(ParameterError, match="200 samples, got 150"):
        WhisperLogMel()(np.zeros((1, 150), np.float32))


@pytest.mark.parametrize("kwargs, bad", [({"n_mels": 64}, "64"), ({"hop_length": 0}, "0"),
                                         ({"n_fft": 401}, "even.*401"), ({"n_fft": None}, "None")])
def test_bad_arguments_repeat_the_value(kwargs, bad):
    with pytest.raises(ParameterError, match=bad):
        WhisperLogMel(**kwargs)


def test_layer_and_serialisation(rng, tmp_path):
    run_layer_test(
        WhisperLogMel,
        init_kwargs={"n_mels": 80},
        input_data=(0.1 * rng.standard_normal((2, 3200))).astype(np.float32),
        expected_output_shape=(2, 20, 80),
        expected_num_trainable_weights=0,
        tmp_path=tmp_path,
    )
    layer = keras.layers.deserialize(keras.layers.serialize(WhisperLogMel(n_mels=128)))
    assert isinstance(layer, WhisperLogMel) and layer.n_mels == 128


def test_dft_basis_is_numpy_rfft_of_the_windowed_frame(rng):
    from ser_tf.layers.log_mel import stft_window
    from ser_tf.layers.whisper_log_mel import windowed_dft_basis

    window = stft_window(n_fft=400, win_length=400)
    frames = rng.standard_normal((5, 400))
    real, imag = np.split(frames @ windowed_dft_basis(window).astype(np.float64), 2, axis=1)
    spectrum = np.fft.rfft(frames * window, axis=1)
    np.testing.assert_allclose(real, spectrum.real, atol=1e-4)
    np.testing.assert_allclose(imag, spectrum.imag, atol=1e-4)


def test_matches_the_tf_signal_stft_version_it_replaced(rng):
    # The layer computed its STFT with tf.signal.stft until TFLite export needed a builtin-only
    # graph (RFFT2D takes only power-of-two lengths). That version, inline, as the reference:
    # measured 1e-6 (noise) and 4e-5 (modulated tone, low bins) apart; bound: the layer's TOLERANCE.
    import tensorflow as tf

    from ser_tf.layers.log_mel import stft_window
    from ser_tf.layers.mel_filters import mel_filterbank

    y = np.stack(list(_signals(rng, 1.0).values()))
    window = tf.constant(stft_window(n_fft=400, win_length=400))
    padded = tf.pad(y, [[0, 0], [200, 200]], mode="REFLECT")
    stft = tf.signal.stft(padded, frame_length=400, frame_step=160, fft_length=400,
                          window_fn=lambda length, dtype: window, pad_end=False)[:, :-1]
    mel = tf.matmul(tf.abs(stft) ** 2, mel_filterbank(sample_rate=SR, n_fft=400, n_mels=80, fmin=0.0, fmax=None).T)
    log_spec = tf.math.log(tf.maximum(mel, 1e-10)) / np.log(10.0)
    log_spec = tf.maximum(log_spec, tf.reduce_max(log_spec, axis=[1, 2], keepdims=True) - 8.0)
    assert np.abs(WhisperLogMel()(y).numpy() - ((log_spec + 4.0) / 4.0).numpy()).max() < TOLERANCE
