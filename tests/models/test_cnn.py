"""ser_tf.models.cnn: the 2-D CNN on a resized log-mel image."""

import keras
import numpy as np
import pytest

from ser_tf.errors import ConfigError
from ser_tf.models.registry import build_model
from tests.helpers import run_model_saving_test, tiny_config, waveform_batch

TINY = {"arch": "cnn", "conv_filters": [4, 8, 8], "image_size": [32, 16], "dense_units": 8}


def _build(**model_overrides):
    config = tiny_config({"model": {**TINY, **model_overrides}})
    return build_model("cnn", num_classes=4, config=config)


def test_forward_save_reload(rng, tmp_path):
    model = _build()
    x = waveform_batch(rng)
    probs = model(x).numpy()
    assert probs.shape == (2, 4)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    # 51 frames x 16 bands are resized to the fixed 32 x 16 image.
    assert model.get_layer("frontend").output.shape == (None, 51, 16)
    assert model.get_layer("resize").output.shape == (None, 32, 16, 1)
    assert isinstance(model.get_layer("pooling"), keras.layers.Flatten)
    for name in ("conv_3", "bn_3", "pool_3", "dropout_3", "dense", "classifier"):
        model.get_layer(name)
    run_model_saving_test(model, x, tmp_path)


def test_recipe_shape_is_128_by_128():
    config = tiny_config({"features": {"n_mels": 128}, "model": {"arch": "cnn"}})
    model = build_model("cnn", num_classes=8, config=config)
    assert model.get_layer("resize").output.shape == (None, 128, 128, 1)
    assert [model.get_layer(f"conv_{i}").filters for i in (1, 2, 3)] == [32, 64, 128]


@pytest.mark.parametrize("pooling", ["attention", "stats", "attentive_stats"])
def test_sequence_pooling_variant(rng, pooling):
    model = _build(pooling=pooling)
    assert model.get_layer("to_sequence").output.shape == (None, 4, 16)  # 32/8 x (16/8 * 8)
    assert model(waveform_batch(rng)).shape == (2, 4)


def test_bad_image_size():
    with pytest.raises(ConfigError, match="image_size"):
        _build(image_size=[128])
