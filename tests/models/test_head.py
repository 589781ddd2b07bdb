"""ser_tf.models.head: waveform input, hyper-parameter resolution, the one classifier head."""

import keras
import numpy as np
import pytest

from ser_tf.errors import ConfigError
from ser_tf.layers import (
    AttentionPooling,
    AttentiveStatisticsPooling,
    MaskedMeanPooling,
    StatisticsPooling,
    WeightedLayerSum,
)
from ser_tf.models.head import (
    MASKED_POOLINGS,
    POOLINGS,
    classifier_head,
    feature_stem,
    features_kind,
    head_from_hparams,
    model_hparams,
    waveform_input,
)
from tests.helpers import run_model_saving_test, tiny_config


def test_waveform_input_shape_follows_audio_section():
    inputs = waveform_input({"audio": {"sample_rate": 16000, "duration": 2.5}})
    assert inputs.shape == (None, 40000) and inputs.dtype == "float32"
    assert waveform_input({}).shape == (None, 48000)  # constants: 3 s at 16 kHz
    with pytest.raises(ConfigError, match="duration=0"):
        waveform_input({"audio": {"duration": 0}})


POOLING_LAYERS = {
    "masked_mean": MaskedMeanPooling,
    "stats": StatisticsPooling,
    "attention": AttentionPooling,
    "attentive_stats": AttentiveStatisticsPooling,
}


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
    if pooling in POOLING_LAYERS:
        assert isinstance(model.get_layer("pooling"), POOLING_LAYERS[pooling])


def test_head_layers_and_options():
    inputs = keras.Input((6,))
    model = keras.Model(inputs, classifier_head(inputs, num_classes=4, dense_units=8, l2=0.01))
    assert [layer.name for layer in model.layers[1:]] == ["dense", "dense_dropout", "classifier"]
    assert model.get_layer("dense").kernel_regularizer.l2 == pytest.approx(0.01)
    bare = keras.Model(inputs, classifier_head(inputs, num_classes=4, dense_units=0, dropout=0.0))
    assert [layer.name for layer in bare.layers[1:]] == ["classifier"]
    # Dropout goes before the output layer, with or without a hidden layer (the HF head).
    no_dense = keras.Model(inputs, classifier_head(inputs, num_classes=4, dense_units=0, dropout=0.1))
    assert [layer.name for layer in no_dense.layers[1:]] == ["dense_dropout", "classifier"]


def _hidden_states(rng, count=3):
    return [rng.standard_normal((2, 7, 5)).astype(np.float32) for _ in range(count)]


def test_weighted_sum_and_projection_layers(rng):
    inputs = [keras.Input((7, 5)) for _ in range(3)]
    outputs = classifier_head(inputs, num_classes=3, pooling="masked_mean", dense_units=0,
                              dropout=0.1, weighted_layer_sum=True, projection_units=6)
    model = keras.Model(inputs, outputs)
    names = [layer.name for layer in model.layers[3:]]
    assert names == ["weighted_layer_sum", "projector", "pooling", "dense_dropout", "classifier"]
    assert isinstance(model.get_layer("weighted_layer_sum"), WeightedLayerSum)
    assert model.get_layer("projector").units == 6
    # At initialisation the weighted sum is the mean of the hidden states.
    states = _hidden_states(rng)
    mixed = keras.Model(inputs, model.get_layer("weighted_layer_sum").output)(states)
    np.testing.assert_allclose(np.asarray(mixed), np.mean(states, axis=0), atol=1e-6)


def test_concat_layers_pools_each_state_then_joins_and_normalises(rng):
    inputs = [keras.Input((7, 5)) for _ in range(3)]
    mask_input = keras.Input((7,), dtype="bool")
    outputs = classifier_head(inputs, num_classes=3, pooling="stats", dense_units=0, dropout=0.0,
                              concat_layers=True, normalize_pooled=True, mask=mask_input)
    model = keras.Model([*inputs, mask_input], outputs)
    names = {layer.name for layer in model.layers}
    assert {"pooling_0", "pooling_1", "pooling_2", "layer_concat", "pooled_norm", "classifier"} <= names
    assert "pooling" not in names and "weighted_layer_sum" not in names
    states = _hidden_states(rng)
    mask = np.ones((2, 7), bool)
    mask[1, 5:] = False
    joined = keras.Model([*inputs, mask_input], model.get_layer("layer_concat").output)([*states, mask])
    # Each state's masked mean and std, side by side in layer order.
    expected = []
    for state in states:
        valid = [state[b][mask[b]] for b in range(2)]
        expected.append(np.stack([np.concatenate([v.mean(0), v.std(0)]) for v in valid]))
    np.testing.assert_allclose(np.asarray(joined), np.concatenate(expected, axis=1), atol=1e-4)
    noisy = [s.copy() for s in states]
    for s in noisy:
        s[1, 5:] = 50.0  # padded frames change nothing
    np.testing.assert_allclose(model([*states, mask]), model([*noisy, mask]), atol=1e-5)


def test_concat_layers_with_projection_names_one_projector_per_state():
    inputs = [keras.Input((7, 5)) for _ in range(2)]
    model = keras.Model(inputs, classifier_head(inputs, num_classes=2, pooling="attentive_stats",
                                                attention_units=4, projection_units=3, concat_layers=True))
    assert model.get_layer("projector_1").units == 3
    assert model.get_layer("layer_concat").output.shape == (None, 2 * 2 * 3)


@pytest.mark.parametrize("pooling", MASKED_POOLINGS)
def test_mask_argument_is_honoured(rng, pooling):
    """Padding frames change nothing when the head is given the padding mask."""
    x = rng.standard_normal((2, 7, 5)).astype(np.float32)
    mask = np.ones((2, 7), bool)
    mask[1, 4:] = False
    inputs, mask_input = keras.Input((7, 5)), keras.Input((7,), dtype="bool")
    outputs = classifier_head(inputs, num_classes=3, pooling=pooling, dense_units=4,
                              attention_units=4, projection_units=6, mask=mask_input)
    model = keras.Model([inputs, mask_input], outputs)
    noisy = x.copy()
    noisy[1, 4:] = 100.0  # garbage in the padded frames
    np.testing.assert_allclose(model([x, mask]), model([noisy, mask]), atol=1e-5)


def test_head_rejects_bad_values():
    inputs = keras.Input((6,))
    sequence = keras.Input((7, 5))
    cases = [
        (dict(pooling="median"), "pooling.*'median'"),
        (dict(pooling="mean"), "pooling.*'mean'"),
        (dict(dropout=1.5), "dropout.*1.5"),
        (dict(dropout="0.1"), "dropout.*'0.1'"),
        (dict(l2=-0.1), "l2.*-0.1"),
        (dict(dense_units=-3), "dense_units.*-3"),
        (dict(dense_units=2.5), "dense_units.*2.5"),
        (dict(projection_units=-1), "projection_units.*-1"),
        (dict(attention_units=0, pooling="attention"), "attention_units.*0"),
        (dict(num_classes=1), "num_classes.*1"),
        (dict(weighted_layer_sum="yes"), "weighted_layer_sum.*'yes'"),
        (dict(weighted_layer_sum=True), "weighted_layer_sum=True.*KerasTensor"),
        (dict(concat_layers=1), "concat_layers.*1"),
        (dict(normalize_pooled="no"), "normalize_pooled.*'no'"),
    ]
    for kwargs, message in cases:
        kwargs = {"num_classes": 2, **kwargs}
        with pytest.raises(ConfigError, match=message):
            classifier_head(inputs, **kwargs)
    with pytest.raises(ConfigError, match="weighted_layer_sum=False.*list"):
        classifier_head([sequence, sequence], num_classes=2, pooling="avg")
    with pytest.raises(ConfigError, match="exclude each other"):
        classifier_head([sequence, sequence], num_classes=2, pooling="avg", weighted_layer_sum=True,
                        concat_layers=True)
    with pytest.raises(ConfigError, match="concat_layers pools each.*'flatten'"):
        classifier_head([sequence, sequence], num_classes=2, pooling="flatten", concat_layers=True)
    with pytest.raises(ConfigError, match="pooling 'max' cannot honour a padding mask"):
        classifier_head(sequence, num_classes=2, pooling="max", mask=keras.Input((7,), dtype="bool"))


def test_head_from_hparams_fills_head_defaults():
    inputs = keras.Input((7, 5))
    hp = {"pooling": "attentive_stats", "attention_units": 4, "dense_units": 8, "dropout": 0.0, "l2": 0.0}
    model = keras.Model(inputs, head_from_hparams(inputs, hp, num_classes=3))
    assert [layer.name for layer in model.layers[1:]] == ["pooling", "dense", "classifier"]
    projected = keras.Model(inputs, head_from_hparams(inputs, {**hp, "classifier_proj_size": 6}, num_classes=3))
    assert projected.get_layer("projector").units == 6


def test_tiny_model_with_weighted_sum_and_attentive_stats_saves_and_reloads(rng, tmp_path):
    inputs = [keras.Input((7, 5), name=f"state_{i}") for i in range(3)]
    outputs = classifier_head(inputs, num_classes=3, pooling="attentive_stats", attention_units=4,
                              weighted_layer_sum=True, projection_units=6, dense_units=4)
    model = keras.Model(inputs, outputs, name="tiny_head")
    model.get_layer("weighted_layer_sum").layer_weights.assign([0.5, -0.5, 0.0])
    clone = keras.Model.from_config(model.get_config())
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    reloaded = run_model_saving_test(model, _hidden_states(rng), tmp_path)
    np.testing.assert_allclose(
        reloaded["keras"].get_layer("weighted_layer_sum").layer_weights.numpy(), [0.5, -0.5, 0.0]
    )


@pytest.fixture
def mixed_precision():
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_float16")
    yield
    keras.mixed_precision.set_global_policy(previous)


def test_head_outputs_float32_under_mixed_precision(rng, mixed_precision):
    inputs = [keras.Input((7, 5)) for _ in range(2)]
    outputs = classifier_head(inputs, num_classes=3, pooling="attentive_stats", attention_units=4,
                              weighted_layer_sum=True, projection_units=6)
    model = keras.Model(inputs, outputs)
    assert model.get_layer("projector").compute_dtype == "float16"
    probs = model(_hidden_states(rng, 2))
    assert probs.dtype == "float32"
    np.testing.assert_allclose(np.asarray(probs).sum(axis=1), 1.0, atol=1e-3)


def test_features_kind():
    assert features_kind({}, arch="hubert", allowed=("raw",)) == "raw"
    assert features_kind({"features": {"kind": "raw"}}, arch="hubert", allowed=("raw",)) == "raw"
    with pytest.raises(ConfigError, match=r"'hubert'.*features.kind.*\('raw',\).*'logmel'"):
        features_kind({"features": {"kind": "logmel"}}, arch="hubert", allowed=("raw",))
    # The spectrogram families' stem refuses the waveform-only kind.
    with pytest.raises(ConfigError, match="features.kind.*'raw'"):
        feature_stem(tiny_config({"features": {"kind": "raw"}}))


def test_model_hparams_overrides_and_rejects_unknown_keys():
    defaults = {"units": 8, "dropout": 0.3}
    config = {"model": {"arch": "x", "units": 16}}
    assert model_hparams(config, defaults, arch="x") == {"units": 16, "dropout": 0.3}
    with pytest.raises(ConfigError, match=r"\['unitz'\].*'x'.*\['dropout', 'units'\]"):
        model_hparams({"model": {"unitz": 4}}, defaults, arch="x")
