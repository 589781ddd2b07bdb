"""ser_tf.models.cnn_rnn: every CNN-RNN architecture, built tiny, run, saved and reloaded."""

import keras
import numpy as np
import pytest

from ser_tf.errors import ConfigError
from ser_tf.layers import AttentionPooling, LogMelSpectrogram, SpecAugment
from ser_tf.models.registry import build_model
from tests.helpers import run_model_saving_test, tiny_config, waveform_batch

TINY = {
    "cnn_gru": {"conv_filters": [4, 8], "rnn_units": 8, "dense_units": 8},
    "cnn_lstm": {"conv_filters": [4, 8], "rnn_units": 8, "dense_units": 8},
    "cnn_lstm_small": {"conv_filters": [4, 8], "rnn_units": 8, "dense_units": 8},
    "cnn_lstm_l2": {"conv_filters": [4, 8], "rnn_units": 8, "dense_units": 8, "l2": 0.001},
    "crnn_attention": {"conv_filters": [4, 8, 8], "rnn_units": 8, "dense_units": 8,
                       "attention_units": 8},
}


def _build(arch, num_classes=3, **overrides):
    config = tiny_config({"model": {"arch": arch, **TINY[arch]}, **overrides})
    return build_model(arch, num_classes=num_classes, config=config)


@pytest.mark.parametrize("arch", sorted(TINY))
def test_forward_save_reload(rng, tmp_path, arch):
    model = _build(arch)
    x = waveform_batch(rng)
    assert model.input_shape == (None, 8000)
    probs = model(x).numpy()
    assert probs.shape == (2, 3) and np.all(probs >= 0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    for name in ("frontend", "conv_1", "bn_1", "pool_1", "dropout_1", "to_sequence", "rnn",
                 "dense", "classifier"):
        model.get_layer(name)  # raises ValueError when absent
    assert isinstance(model.get_layer("frontend"), LogMelSpectrogram)
    assert model.get_layer("classifier").units == 3
    run_model_saving_test(model, x, tmp_path)


def test_architectures_differ_as_specified():
    assert isinstance(_build("cnn_gru").get_layer("rnn"), keras.layers.GRU)
    lstm = _build("cnn_lstm").get_layer("rnn")
    assert isinstance(lstm, keras.layers.LSTM) and not lstm.return_sequences

    small = _build("cnn_lstm_small")
    assert small.get_layer("rnn").return_sequences
    assert small.get_layer("pool_1").pool_size == (3, 3)
    assert isinstance(small.get_layer("pooling"), keras.layers.GlobalAveragePooling1D)

    l2 = _build("cnn_lstm_l2")
    assert l2.get_layer("rnn").dropout == pytest.approx(0.3)
    for name in ("conv_1", "conv_2", "dense"):
        assert l2.get_layer(name).kernel_regularizer.l2 == pytest.approx(0.001)
    assert len(l2.losses) == 3

    crnn = _build("crnn_attention")
    assert isinstance(crnn.get_layer("rnn"), keras.layers.Bidirectional)
    assert isinstance(crnn.get_layer("pooling"), AttentionPooling)
    assert crnn.get_layer("pool_3").pool_size == (1, 2)  # keeps time resolution
    assert crnn.get_layer("conv_1").use_bias is False  # conv -> BN -> ReLU


def test_spec_augment_is_added_when_enabled(rng):
    model = _build("cnn_lstm", augment={"specaugment": {"enabled": True}})
    assert isinstance(model.get_layer("spec_augment"), SpecAugment)
    x = waveform_batch(rng)
    np.testing.assert_array_equal(model(x).numpy(), model(x).numpy())  # inference: no masks
    assert "spec_augment" not in [layer.name for layer in _build("cnn_lstm").layers]


def test_one_training_step(rng):
    # Eager, to keep the suite fast; graph-mode SpecAugment is covered in its own test module.
    model = _build("crnn_attention", augment={"specaugment": {"enabled": True}})
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", run_eagerly=True)
    before = [w.numpy().copy() for w in model.trainable_weights]
    history = model.fit(waveform_batch(rng, batch=4), np.array([0, 1, 2, 0]), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.allclose(a, w.numpy()) for a, w in zip(before, model.trainable_weights))


def test_hyper_parameters_follow_config():
    model = _build("cnn_lstm", model={"conv_filters": [2, 3, 5], "rnn_units": 6,
                                      "dense_units": 7, "dropout": 0.1})
    assert model.get_layer("conv_3").filters == 5
    assert model.get_layer("rnn").units == 6 and model.get_layer("dense").units == 7
    assert model.get_layer("dense_dropout").rate == pytest.approx(0.1)


@pytest.mark.parametrize(
    "model_overrides, fragment",
    [
        ({"conv_filters": [4, 8, 8, 8, 8]}, "smaller than pool_size"),
        ({"rnn": "transformer"}, "'transformer'"),
        ({"rnn_unitz": 4}, "rnn_unitz"),
        ({"pool_size": [[2, 2]]}, "1 sizes for 2 conv blocks"),
    ],
)
def test_config_errors(model_overrides, fragment):
    with pytest.raises(ConfigError, match=fragment):
        _build("cnn_lstm", model=model_overrides)
