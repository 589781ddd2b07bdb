"""ser_tf.layers.layer_sum: the learned weighted sum over hidden states."""

import keras
import numpy as np
import pytest

from ser_tf.errors import ParameterError
from ser_tf.layers.layer_sum import WeightedLayerSum
from tests.helpers import run_model_saving_test


def _states(rng, count=3):
    return [rng.standard_normal((2, 5, 4)).astype(np.float32) for _ in range(count)]


def test_weighted_layer_sum_starts_as_mean_and_follows_softmax(rng):
    states = _states(rng)
    layer = WeightedLayerSum()
    np.testing.assert_allclose(layer(states), np.mean(states, axis=0), atol=1e-6)
    layer.layer_weights.assign([0.0, 0.0, np.log(2.0)])  # softmax -> 1/4, 1/4, 1/2
    np.testing.assert_allclose(layer(states), 0.25 * states[0] + 0.25 * states[1] + 0.5 * states[2], atol=1e-6)
    assert len(layer.trainable_weights) == 1


def test_weighted_layer_sum_config_and_saving(rng, tmp_path):
    layer = WeightedLayerSum(name="weighted_layer_sum")
    clone = WeightedLayerSum.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    inputs = [keras.Input((5, 4)) for _ in range(3)]
    model = keras.Model(inputs, layer(inputs), name="layer_sum_test")
    assert model.output_shape == (None, 5, 4)
    layer.layer_weights.assign([1.0, 0.0, -1.0])
    run_model_saving_test(model, _states(rng), tmp_path)


def test_weighted_layer_sum_passes_the_first_mask_on(rng):
    inputs = keras.Input((5, 4))
    masked = keras.layers.Masking(0.0)(inputs)
    mixed = WeightedLayerSum()([masked, masked])
    assert mixed._keras_mask is not None


def test_weighted_layer_sum_rejects_bad_inputs(rng):
    with pytest.raises(ParameterError, match="list of tensors.*"):
        WeightedLayerSum()(_states(rng, 1)[0])
    with pytest.raises(ParameterError, match=r"one shape.*\(2, 5, 4\).*\(2, 5, 3\)"):
        WeightedLayerSum()([np.zeros((2, 5, 4), "float32"), np.zeros((2, 5, 3), "float32")])
