"""Tests of ser_tf/models/hubert/head.py: the weighted layer sum and the classifier."""

import numpy as np
import pytest

from ser_tf.errors import ParameterError
from ser_tf.models.hubert.backbone import HubertBackbone
from ser_tf.models.hubert.head import WeightedLayerSum, build_classifier
from ser_tf.models.hubert.presets import get_preset
from ser_tf.models.registry import build_model
from tests.helpers import run_model_saving_test


def test_weighted_layer_sum_starts_as_mean_and_follows_softmax(rng):
    states = [rng.standard_normal((2, 5, 4)).astype(np.float32) for _ in range(3)]
    layer = WeightedLayerSum()
    np.testing.assert_allclose(layer(states), np.mean(states, axis=0), atol=1e-6)
    layer.layer_weights.assign([0.0, 0.0, np.log(2.0)])  # softmax -> 1/4, 1/4, 1/2
    np.testing.assert_allclose(layer(states), 0.25 * states[0] + 0.25 * states[1] + 0.5 * states[2], atol=1e-6)


@pytest.mark.parametrize("pooling, weighted", [("mean", False), ("attention", True)])
def test_classifier_saves_and_reloads(tmp_path, audio, pooling, weighted):
    model = build_model("hubert_tiny", num_classes=3,
                        config={"model": {"pooling": pooling, "weighted_layer_sum": weighted}})
    probs = np.asarray(model(audio[:, :6000]))
    assert probs.shape == (2, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    reloaded = run_model_saving_test(model, audio[:, :6000], tmp_path)
    assert reloaded["keras"].get_layer("hubert_backbone").get_config() == model.get_layer("hubert_backbone").get_config()


def test_classifier_rejects_bad_options():
    backbone = HubertBackbone(**get_preset("hubert_tiny"))
    with pytest.raises(ParameterError, match="pooling must be one of"):
        build_classifier(backbone, num_classes=3, pooling="max")
    with pytest.raises(ParameterError, match="dropout must be in"):
        build_classifier(backbone, num_classes=3, dropout=1.0)
