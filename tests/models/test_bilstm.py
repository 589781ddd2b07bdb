"""ser_tf.models.bilstm: stacked BiLSTMs over MFCC+deltas."""

import keras
import numpy as np
import pytest

from ser_tf.errors import ConfigError
from ser_tf.layers import MFCC, AttentionPooling
from ser_tf.models.registry import build_model
from tests.helpers import run_model_saving_test, tiny_config, waveform_batch

TINY = {
    "features": {"kind": "mfcc", "n_mels": 32, "n_mfcc": 8, "normalization": "meanvar"},
    "model": {"arch": "bilstm_mfcc", "rnn_units": 4, "dense_units": 8},
}


def _build(**model_overrides):
    config = tiny_config({**TINY, "model": {**TINY["model"], **model_overrides}})
    return build_model("bilstm_mfcc", num_classes=3, config=config)


def test_forward_save_reload(rng, tmp_path):
    model = _build()
    x = waveform_batch(rng)
    probs = model(x).numpy()
    assert probs.shape == (2, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    frontend = model.get_layer("frontend")
    assert isinstance(frontend, MFCC) and frontend.output.shape == (None, 51, 24)
    first, second = model.get_layer("bilstm_1"), model.get_layer("bilstm_2")
    assert isinstance(first, keras.layers.Bidirectional)
    assert first.output.shape == (None, 51, 8) and second.output.shape == (None, 8)
    for name in ("dense", "dense_dropout", "classifier"):
        model.get_layer(name)
    run_model_saving_test(model, x, tmp_path)


def test_layers_and_pooling_options(rng):
    model = _build(num_layers=3, pooling="attention", rnn="gru")
    assert model.get_layer("bilstm_3").output.shape == (None, 51, 8)
    assert isinstance(model.get_layer("pooling"), AttentionPooling)
    assert model(waveform_batch(rng)).shape == (2, 3)


def test_recipe_defaults_and_errors():
    config = tiny_config({"features": {"kind": "mfcc", "n_mels": 128}, "model": {}})
    model = build_model("bilstm_mfcc", num_classes=8, config=config)
    assert model.get_layer("frontend").output.shape[-1] == 120
    assert model.get_layer("bilstm_1").forward_layer.units == 256
    assert model.get_layer("dense").units == 128
    with pytest.raises(ConfigError, match="num_layers"):
        _build(num_layers=0)
