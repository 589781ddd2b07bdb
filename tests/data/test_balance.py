"""Tests of ser_tf.data.balance: oversampling the training split, class weights."""

from collections import Counter

import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight

from ser_tf.data.balance import class_weights, oversample
from ser_tf.data.records import Record
from ser_tf.errors import DataError, ParameterError


def _records(counts):
    return [
        Record(f"/train/{e}-{k}.wav", e, e, f"ravdess:{k % 3:02d}", "ravdess")
        for e, n in counts.items()
        for k in range(n)
    ]


def test_oversample_equalises_classes_and_only_grows_the_list():
    train = _records({"angry": 10, "sad": 4, "happy": 1})
    out = oversample(train, seed=0)
    assert Counter(r.emotion for r in out) == {"angry": 10, "sad": 10, "happy": 10}
    assert out[: len(train)] == train  # every original once, first, in order
    assert {r.path for r in out} == {r.path for r in train}  # repeats only, nothing new
    assert oversample(train, seed=0) == out  # deterministic
    assert oversample(train, seed=1) != out


def test_oversample_leaves_a_balanced_set_alone():
    train = _records({"angry": 3, "sad": 3})
    assert oversample(train, seed=0) == train


def test_oversample_needs_two_classes():
    with pytest.raises(DataError, match="at least two classes"):
        oversample(_records({"angry": 5}), seed=0)
    with pytest.raises(DataError):
        oversample([], seed=0)


def test_class_weights_match_sklearn_balanced(rng):
    labels = rng.choice(4, size=200, p=[0.5, 0.3, 0.15, 0.05])
    weights = class_weights(labels, num_classes=4)
    expected = compute_class_weight("balanced", classes=np.arange(4), y=labels)
    assert list(weights) == [0, 1, 2, 3]
    np.testing.assert_allclose([weights[c] for c in range(4)], expected)
    assert class_weights([0, 1, 0, 1], num_classes=2) == {0: 1.0, 1: 1.0}


def test_class_weights_give_absent_classes_zero():
    weights = class_weights([0, 0, 2], num_classes=4)
    # Present classes as sklearn computes them over the classes present (3 / (2 * count)).
    assert weights == {0: 0.75, 1: 0.0, 2: 1.5, 3: 0.0}


def test_class_weights_reject_bad_labels():
    with pytest.raises(ParameterError, match=r"\[5\].*num_classes=3"):
        class_weights([0, 5], num_classes=3)
    with pytest.raises(ParameterError, match="num_classes"):
        class_weights([0], num_classes=0)
    with pytest.raises(ParameterError, match="integer"):
        class_weights([0.5, 1.0], num_classes=2)
    with pytest.raises(DataError, match="empty"):
        class_weights([], num_classes=2)
