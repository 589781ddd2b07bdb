"""ser_tf.models.tdnn: dilated 1-D convolutions over log-mel frames with statistics pooling."""

import numpy as np
import pytest

from ser_tf.errors import ConfigError
from ser_tf.layers.pooling import StatisticsPooling
from ser_tf.models.registry import build_model
from tests.helpers import run_model_saving_test, tiny_config, waveform_batch

TINY = {"arch": "tdnn_stats", "conv_filters": [8, 8], "kernel_sizes": [5, 3], "dilations": [1, 2], "dense_units": 8}


def test_forward_save_reload(rng, tmp_path):
    model = build_model("tdnn_stats", num_classes=5, config=tiny_config({"model": TINY}))
    x = waveform_batch(rng)
    probs = model(x).numpy()
    assert probs.shape == (2, 5)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert isinstance(model.get_layer("pooling"), StatisticsPooling)
    assert model.get_layer("pooling").output.shape == (None, 16)  # mean and std of 8 channels
    assert model.get_layer("conv_2").dilation_rate == (2,)
    for name in ("frontend", "bn_1", "relu_2", "dense", "classifier"):
        model.get_layer(name)
    run_model_saving_test(model, x, tmp_path)


def test_block_lists_must_have_one_length():
    bad = {**TINY, "dilations": [1]}
    with pytest.raises(ConfigError, match="one length"):
        build_model("tdnn_stats", num_classes=3, config=tiny_config({"model": bad}))


def test_unknown_key_is_refused():
    with pytest.raises(ConfigError, match="rnn_units"):
        build_model("tdnn_stats", num_classes=3, config=tiny_config({"model": {**TINY, "rnn_units": 4}}))
