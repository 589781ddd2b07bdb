"""ser_tf.layers.pooling: masked mean, statistics, attention and attentive statistics pooling."""

import keras
import numpy as np
import pytest

from ser_tf.errors import ParameterError
from ser_tf.layers.pooling import (
    AttentionPooling,
    AttentiveStatisticsPooling,
    MaskedMeanPooling,
    StatisticsPooling,
)
from tests.helpers import run_layer_test


def _sequence(rng):
    x = rng.standard_normal((3, 6, 4)).astype(np.float32)
    mask = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0]], bool)
    return x, mask


def test_masked_mean_matches_numpy(rng):
    x, mask = _sequence(rng)
    out = MaskedMeanPooling()(x, mask=mask).numpy()
    np.testing.assert_allclose(out[0], x[0].mean(axis=0), atol=1e-6)
    np.testing.assert_allclose(out[1], x[1, :3].mean(axis=0), atol=1e-6)
    np.testing.assert_array_equal(out[2], 0.0)  # all padding -> zeros, not NaN
    np.testing.assert_allclose(MaskedMeanPooling()(x).numpy(), x.mean(axis=1), atol=1e-6)


def test_keras_mask_is_honoured(rng):
    """A mask made upstream (here by Masking on zero frames) reaches both poolings."""
    x, mask = _sequence(rng)
    padded = x * mask[..., None]
    inputs = keras.Input((6, 4))
    masked = keras.layers.Masking(0.0)(inputs)
    mean_model = keras.Model(inputs, MaskedMeanPooling()(masked))
    np.testing.assert_allclose(
        mean_model(padded).numpy(), MaskedMeanPooling()(x, mask=mask).numpy(), atol=1e-6
    )
    attention = AttentionPooling(units=5)
    attention_model = keras.Model(inputs, attention(masked))
    np.testing.assert_allclose(
        attention_model(padded).numpy(), attention(x, mask=mask).numpy(), atol=1e-6
    )


def test_attention_weights_are_a_masked_distribution(rng):
    x, mask = _sequence(rng)
    layer = AttentionPooling(units=8)
    out = layer(x, mask=mask).numpy()
    alpha = layer.attention_weights(x, mask=mask).numpy()
    assert out.shape == (3, 4) and alpha.shape == (3, 6)
    np.testing.assert_allclose(alpha[:2].sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(alpha[1, 3:], 0.0)
    np.testing.assert_array_equal(alpha[2], 0.0)
    np.testing.assert_array_equal(out[2], 0.0)
    np.testing.assert_allclose(out[:2], np.einsum("bt,btd->bd", alpha[:2], x[:2]), atol=1e-6)


def test_masked_mean_layer_test(rng, tmp_path):
    x, _ = _sequence(rng)
    run_layer_test(
        MaskedMeanPooling, init_kwargs={}, input_data=x, expected_output_shape=(3, 4),
        expected_num_trainable_weights=0, tmp_path=tmp_path,
    )


def test_attention_layer_test(rng, tmp_path):
    x, _ = _sequence(rng)
    run_layer_test(
        AttentionPooling, init_kwargs={"units": 5}, input_data=x, expected_output_shape=(3, 4),
        expected_num_trainable_weights=3, tmp_path=tmp_path,
    )


def test_attention_rejects_bad_units():
    with pytest.raises(ParameterError, match="units.*0"):
        AttentionPooling(units=0)


def test_statistics_pooling_matches_numpy_and_honours_the_mask(rng):
    x, mask = _sequence(rng)
    out = StatisticsPooling()(x, mask=mask).numpy()
    assert out.shape == (3, 8)
    np.testing.assert_allclose(out[0, :4], x[0].mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(out[0, 4:], np.sqrt(x[0].var(axis=0) + 1e-5), atol=1e-5)
    np.testing.assert_allclose(out[1, :4], x[1, :3].mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(out[1, 4:], np.sqrt(x[1, :3].var(axis=0) + 1e-5), atol=1e-5)
    assert np.isfinite(out[2]).all()  # all padding gives finite values, not NaN


def test_statistics_pooling_layer_test(rng, tmp_path):
    x, _ = _sequence(rng)
    run_layer_test(
        StatisticsPooling, init_kwargs={}, input_data=x, expected_output_shape=(3, 8),
        expected_num_trainable_weights=0, tmp_path=tmp_path,
    )


def test_attentive_statistics_pooling_weights_mean_and_std_by_attention(rng):
    x, mask = _sequence(rng)
    layer = AttentiveStatisticsPooling(units=8)
    out = layer(x, mask=mask).numpy()
    alpha = layer.attention_weights(x, mask=mask).numpy()
    assert out.shape == (3, 8)
    mean = np.einsum("bt,btd->bd", alpha, x)
    var = np.einsum("bt,btd->bd", alpha, (x - mean[:, None]) ** 2)
    np.testing.assert_allclose(out[:2, :4], mean[:2], atol=1e-5)
    np.testing.assert_allclose(out[:2, 4:], np.sqrt(var[:2] + 1e-5), atol=1e-5)
    np.testing.assert_array_equal(out[2, :4], 0.0)  # all padding: zero mean, finite std
    assert np.isfinite(out[2]).all()
    # Padded frames do not count, whatever they hold.
    noisy = x.copy()
    noisy[1, 3:] = 50.0
    np.testing.assert_allclose(layer(noisy, mask=mask).numpy()[1], out[1], atol=1e-5)


def test_attentive_statistics_pooling_honours_a_keras_mask(rng):
    x, mask = _sequence(rng)
    inputs = keras.Input((6, 4))
    layer = AttentiveStatisticsPooling(units=5)
    model = keras.Model(inputs, layer(keras.layers.Masking(0.0)(inputs)))
    np.testing.assert_allclose(
        model(x * mask[..., None]).numpy()[:2], layer(x, mask=mask).numpy()[:2], atol=1e-5
    )


def test_attentive_statistics_pooling_layer_test(rng, tmp_path):
    x, _ = _sequence(rng)
    run_layer_test(
        AttentiveStatisticsPooling, init_kwargs={"units": 5}, input_data=x,
        expected_output_shape=(3, 8), expected_num_trainable_weights=3, tmp_path=tmp_path,
    )
    with pytest.raises(ParameterError, match="units.*-2"):
        AttentiveStatisticsPooling(units=-2)
