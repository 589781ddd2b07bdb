"""The HuBERT family's classifier (``ser_tf/models/hubert/__init__.py``): backbone + the shared head."""

import keras
import numpy as np
import pytest

from ser_tf.errors import ConfigError
from ser_tf.models.hubert import HPARAMS, build_classifier
from ser_tf.models.hubert.backbone import HubertBackbone
from ser_tf.models.hubert.presets import get_preset
from ser_tf.models.registry import build_model
from tests.helpers import run_model_saving_test


@pytest.mark.parametrize("pooling, weighted", [("masked_mean", False), ("attention", True),
                                               ("attentive_stats", True)])
def test_classifier_saves_and_reloads(tmp_path, audio, pooling, weighted):
    model = build_model("hubert_tiny", num_classes=3,
                        config={"model": {"pooling": pooling, "weighted_layer_sum": weighted}})
    probs = np.asarray(model(audio[:, :6000]))
    assert probs.shape == (2, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    names = [layer.name for layer in model.layers]
    head = ["projector", "pooling", "dense_dropout", "classifier"]
    assert names == ["waveform", "all_valid_mask", "encoder"] + ["weighted_layer_sum"] * weighted + head
    reloaded = run_model_saving_test(model, audio[:, :6000], tmp_path)
    assert reloaded["keras"].get_layer("encoder").get_config() == model.get_layer("encoder").get_config()


def test_pooling_gets_the_backbone_padding_mask(audio):
    model = build_model("hubert_tiny", num_classes=3, config={"model": {"pooling": "attention"}})
    features, mask = model.get_layer("pooling").input  # (inputs, mask=...) of its one call
    features, mask = keras.Model(model.input, [features, mask])(audio[:, :6000])
    assert features.shape[-1] == HPARAMS["classifier_proj_size"]
    assert mask.shape == features.shape[:2]  # one flag per 20 ms frame
    np.testing.assert_array_equal(mask, 1)  # the model marks every sample real


def test_classifier_rejects_bad_options():
    backbone = HubertBackbone(**get_preset("hubert_tiny"))
    with pytest.raises(ConfigError, match="pooling.*'mean'"):
        build_classifier(backbone, num_classes=3, hparams={"pooling": "mean"})
    with pytest.raises(ConfigError, match="pooling 'max' cannot honour a padding mask"):
        build_classifier(backbone, num_classes=3, hparams={"pooling": "max"})
    with pytest.raises(ConfigError, match="dropout.*1.0"):
        build_classifier(backbone, num_classes=3, hparams={"dropout": 1.0})
    with pytest.raises(ConfigError, match=r"\['poolng'\].*valid keys: \[.*'pooling'"):
        build_classifier(backbone, num_classes=3, hparams={"poolng": "attention"})


def test_builder_validates_model_keys_and_features_kind():
    with pytest.raises(ConfigError, match=r"\['pooling_type'\].*'hubert_tiny'.*valid keys: \[.*'freeze_layers'"):
        build_model("hubert_tiny", num_classes=3, config={"model": {"pooling_type": "mean"}})
    with pytest.raises(ConfigError, match=r"'hubert_tiny'.*features.kind.*'logmel'"):
        build_model("hubert_tiny", num_classes=3, config={"features": {"kind": "logmel"}})
    with pytest.raises(ConfigError, match="weighted_layer_sum.*'yes'"):
        build_model("hubert_tiny", num_classes=3, config={"model": {"weighted_layer_sum": "yes"}})


def test_a_classifier_with_frozen_layers_reloads_with_its_flags(tmp_path, audio):
    # Legacy .h5 stores trainable weights first: the reloaded backbone must be frozen the same way.
    model = build_model("hubert_tiny", num_classes=3, config={"model": {"freeze_layers": 1}})
    assert "feature_encoder" in model.get_layer("encoder").get_config()["frozen_layers"]
    reloaded = run_model_saving_test(model, audio[:, :6000], tmp_path)
    for suffix, restored in reloaded.items():
        assert len(restored.trainable_weights) == len(model.trainable_weights), suffix
