"""Cross-corpus class mapping: shared classes, dropped clips, renormalised probabilities."""

import numpy as np
import pytest

from ser_tf.errors import ParameterError
from ser_tf.evaluation.cross_corpus import (
    cross_corpus_protocol,
    restrict_to_shared,
    shared_classes,
    shared_mask,
)

MODEL = ["neutral", "calm", "happy", "sad", "angry"]
DATA = ["angry", "disgust", "happy", "neutral", "sad"]


def test_shared_classes_orders_and_leftovers():
    shared, model_only, data_only = shared_classes(MODEL, DATA)
    assert shared == ["neutral", "happy", "sad", "angry"]  # model order
    assert model_only == ["calm"]
    assert data_only == ["disgust"]


def test_restrict_to_shared_drops_and_renormalises():
    names = ["happy", "disgust", "angry", "neutral"]
    y_prob = np.array([
        [0.1, 0.5, 0.2, 0.1, 0.1],   # calm's 0.5 is removed: happy 0.2/0.5 -> 0.4
        [0.2, 0.2, 0.2, 0.2, 0.2],   # disgust clip: dropped
        [0.0, 0.0, 0.0, 0.0, 1.0],
        [0.0, 1.0, 0.0, 0.0, 0.0],   # all mass on calm: uniform over the shared classes
    ])
    shared = ["neutral", "happy", "sad", "angry"]
    y_true, probs = restrict_to_shared(names, y_prob, MODEL, shared)
    assert y_true.tolist() == [1, 3, 0]
    np.testing.assert_allclose(probs[0], [0.2, 0.4, 0.2, 0.2])
    np.testing.assert_allclose(probs[1], [0, 0, 0, 1])
    np.testing.assert_allclose(probs[2], [0.25] * 4)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert shared_mask(names, shared).tolist() == [True, False, True, True]


def test_restrict_errors():
    with pytest.raises(ParameterError, match="no shared classes"):
        restrict_to_shared(["x"], np.ones((1, 5)), MODEL, [])
    with pytest.raises(ParameterError, match="not model classes"):
        restrict_to_shared(["disgust"], np.ones((1, 5)), MODEL, ["disgust"])
    with pytest.raises(ParameterError, match=r"\(2, 5\)"):
        restrict_to_shared(["happy", "sad"], np.ones((2, 4)), MODEL, ["happy"])


def test_cross_corpus_protocol_names_both_sides():
    p = cross_corpus_protocol(MODEL, DATA, n_clips_dropped=7)
    assert p == {"shared_classes": ["neutral", "happy", "sad", "angry"],
                 "model_only_classes": ["calm"], "data_only_classes": ["disgust"],
                 "n_clips_dropped": 7}
