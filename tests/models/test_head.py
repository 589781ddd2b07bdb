"""ser_tf.models.head: waveform input, hyper-parameter resolution, classifier head."""

import keras
import numpy as np
import pytest

from ser_tf.errors import ConfigError
from ser_tf.layers import AttentionPooling, MaskedMeanPooling
from ser_tf.models.head import POOLINGS, classifier_head, model_hparams, waveform_input


def test_waveform_input_shape_follows_audio_section():
    inputs = waveform_input({"audio": {"sample_rate": 16000, "duration": 2.5}})
    assert inputs.shape == (None, 40000) and inputs.dtype == "float32"
    assert waveform_input({}).shape == (None, 48000)  # constants: 3 s at 16 kHz
    with pytest.raises(ConfigError, match="duration=0"):
        waveform_input({"audio": {"duration": 0}})


@pytest.mark.parametrize("pooling", [p for p in POOLINGS if p != "none"])
def test_sequence_poolings(rng, pooling):
    inputs = keras.Input((7, 5))
    outputs = classifier_head(inputs, num_classes=3, pooling=pooling, dense_units=4,
                              attention_units=4)
    model = keras.Model(inputs, outputs)
    probs = model(rng.standard_normal((2, 7, 5)).astype(np.float32)).numpy()
    assert probs.shape == (2, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert model.get_layer("classifier").compute_dtype == "float32"
    assert model.get_layer("pooling") is not None
    expected = {"masked_mean": MaskedMeanPooling, "attention": AttentionPooling}.get(pooling)
    if expected:
        assert isinstance(model.get_layer("pooling"), expected)


def test_head_layers_and_options():
    inputs = keras.Input((6,))
    model = keras.Model(inputs, classifier_head(inputs, num_classes=4, dense_units=8, l2=0.01))
    assert [layer.name for layer in model.layers[1:]] == ["dense", "dense_dropout", "classifier"]
    assert model.get_layer("dense").kernel_regularizer.l2 == pytest.approx(0.01)
    bare = keras.Model(inputs, classifier_head(inputs, num_classes=4, dense_units=0))
    assert [layer.name for layer in bare.layers[1:]] == ["classifier"]


def test_head_rejects_bad_values():
    inputs = keras.Input((6,))
    with pytest.raises(ConfigError, match="'median'"):
        classifier_head(inputs, num_classes=2, pooling="median")
    with pytest.raises(ConfigError, match="dropout.*1.5"):
        classifier_head(inputs, num_classes=2, dropout=1.5)
    with pytest.raises(ConfigError, match="l2.*-0.1"):
        classifier_head(inputs, num_classes=2, l2=-0.1)


def test_model_hparams_overrides_and_rejects_unknown_keys():
    defaults = {"units": 8, "dropout": 0.3}
    config = {"model": {"arch": "x", "units": 16}}
    assert model_hparams(config, defaults, arch="x") == {"units": 16, "dropout": 0.3}
    with pytest.raises(ConfigError, match=r"\['unitz'\].*'x'.*\['dropout', 'units'\]"):
        model_hparams({"model": {"unitz": 4}}, defaults, arch="x")
