"""Metric maths checked against hand-computed fractions."""

from fractions import Fraction as F

import numpy as np
import pytest

from ser_tf.errors import ParameterError
from ser_tf.evaluation.metrics import aggregate_folds, compute_metrics

CLASSES = ["a", "b", "c"]


def from_confusion(cm, *, n_classes=None):
    """y_true and y_prob (0.8 on the predicted class) that give exactly the confusion matrix cm."""
    cm = np.asarray(cm)
    n_classes = n_classes or cm.shape[1]
    y_true, y_pred = [], []
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            y_true += [i] * int(cm[i, j])
            y_pred += [j] * int(cm[i, j])
    y_prob = np.full((len(y_pred), n_classes), 0.2 / (n_classes - 1))
    y_prob[np.arange(len(y_pred)), y_pred] = 0.8
    return np.asarray(y_true), y_prob


def test_hand_made_confusion_matrix():
    # rows = true a, b, c; columns = predicted a, b, c
    cm = [[3, 1, 0],
          [1, 2, 1],
          [0, 0, 2]]
    m = compute_metrics(*from_confusion(cm), class_names=CLASSES)
    assert m["confusion_matrix"] == cm
    assert m["n_clips"] == 10
    assert m["accuracy"] == pytest.approx(float(F(7, 10)))
    # recalls 3/4, 1/2, 1 -> UA 3/4 (WA 7/10 differs: c has fewer clips)
    assert m["ua"] == pytest.approx(float(F(3, 4)))
    expected = {  # precision, recall, f1, support
        "a": (F(3, 4), F(3, 4), F(3, 4), 4),
        "b": (F(2, 3), F(1, 2), F(4, 7), 4),
        "c": (F(2, 3), F(1, 1), F(4, 5), 2),
    }
    for name, (precision, recall, f1, support) in expected.items():
        row = m["per_class"][name]
        assert row["precision"] == pytest.approx(float(precision))
        assert row["recall"] == pytest.approx(float(recall))
        assert row["f1"] == pytest.approx(float(f1))
        assert row["support"] == support
    assert m["macro_f1"] == pytest.approx(float(F(99, 140)))
    assert m["classes_absent"] == []
    # JSON-ready: plain Python numbers only
    assert type(m["accuracy"]) is float and type(m["per_class"]["a"]["support"]) is int


def test_roc_auc_perfectly_separable():
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_prob = np.eye(3)[y_true] * 0.7 + 0.1
    m = compute_metrics(y_true, y_prob, class_names=CLASSES)
    assert m["roc_auc"]["macro"] == pytest.approx(1.0)
    assert all(v == pytest.approx(1.0) for v in m["roc_auc"]["per_class"].values())
    assert m["per_class"]["b"]["roc_auc"] == pytest.approx(1.0)


def test_roc_auc_hand_computed_and_random(rng):
    # class 0 scores: positives 0.9, 0.4; negatives 0.6, 0.2 -> 3 of 4 pairs ranked right
    y_prob = np.array([[0.9, 0.1], [0.4, 0.6], [0.6, 0.4], [0.2, 0.8]])
    m = compute_metrics([0, 0, 1, 1], y_prob, class_names=["x", "y"])
    assert m["roc_auc"]["per_class"]["x"] == pytest.approx(0.75)
    assert m["roc_auc"]["per_class"]["y"] == pytest.approx(0.75)

    y_true = rng.integers(0, 3, size=3000)
    y_prob = rng.dirichlet(np.ones(3), size=3000)
    m = compute_metrics(y_true, y_prob, class_names=CLASSES)
    assert m["roc_auc"]["macro"] == pytest.approx(0.5, abs=0.04)
    assert m["ua"] == pytest.approx(1 / 3, abs=0.04)


def test_class_absent_from_y_true():
    # true a, a, b, b; predicted a, c, b, b: c has no clip but is predicted once
    y_true = np.array([0, 0, 1, 1])
    y_prob = np.eye(3)[[0, 2, 1, 1]]
    m = compute_metrics(y_true, y_prob, class_names=CLASSES)
    assert m["classes_absent"] == ["c"]
    c = m["per_class"]["c"]
    assert c["recall"] is None and c["f1"] is None and c["roc_auc"] is None
    assert c["precision"] == 0.0 and c["support"] == 0
    assert m["ua"] == pytest.approx(0.75)  # (1/2 + 1) / 2, not divided by 3
    assert m["macro_f1"] == pytest.approx((2 / 3 + 1) / 2)
    assert set(k for k, v in m["roc_auc"]["per_class"].items() if v is not None) == {"a", "b"}
    assert m["roc_auc"]["macro"] == pytest.approx(
        np.mean([m["roc_auc"]["per_class"]["a"], m["roc_auc"]["per_class"]["b"]]))


def test_present_class_never_predicted_has_undefined_precision_and_zero_f1():
    m = compute_metrics([0, 1, 1], np.eye(2)[[0, 0, 0]], class_names=["x", "y"])
    assert m["per_class"]["y"]["precision"] is None
    assert m["per_class"]["y"]["recall"] == 0.0 and m["per_class"]["y"]["f1"] == 0.0
    assert m["ua"] == pytest.approx(0.5)


def test_per_speaker():
    y_true = np.array([0, 1, 0, 1, 1])
    y_prob = np.eye(2)[[0, 0, 0, 1, 1]]
    speakers = ["ravdess:02", "ravdess:02", "ravdess:01", "ravdess:01", "ravdess:01"]
    m = compute_metrics(y_true, y_prob, class_names=["x", "y"], speakers=speakers)
    assert list(m["per_speaker"]) == ["ravdess:01", "ravdess:02"]
    assert m["per_speaker"]["ravdess:01"] == {"accuracy": 1.0, "ua": 1.0, "n": 3}
    assert m["per_speaker"]["ravdess:02"] == {"accuracy": 0.5, "ua": 0.5, "n": 2}
    assert "per_speaker" not in compute_metrics(y_true, y_prob, class_names=["x", "y"])


@pytest.mark.parametrize("y_true, y_prob, match", [
    ([0, 3], np.ones((2, 3)) / 3, "class index 3"),
    ([0, 1], np.ones((2, 2)) / 2, r"shape \(n, C\)"),
    ([], np.ones((0, 3)), "empty"),
    ([0.5, 1], np.ones((2, 3)) / 3, "integer class indices"),
    ([0, 1], np.array([[np.nan, 0, 1], [0, 1, 0]]), "NaN"),
])
def test_bad_inputs_name_the_value(y_true, y_prob, match):
    with pytest.raises(ParameterError, match=match):
        compute_metrics(y_true, y_prob, class_names=CLASSES)


def test_speakers_length_must_match():
    with pytest.raises(ParameterError, match="one entry per clip"):
        compute_metrics([0, 1], np.eye(3)[[0, 1]], class_names=CLASSES, speakers=["s1"])


def test_aggregate_folds_mean_sample_std_and_pooled_matrix():
    fold_a = compute_metrics(*from_confusion([[1, 1], [0, 2]]), class_names=["x", "y"])
    fold_b = compute_metrics(*from_confusion([[2, 0], [0, 2]]), class_names=["x", "y"])
    agg = aggregate_folds([fold_a, fold_b])
    assert agg["n_folds"] == 2 and agg["std_ddof"] == 1
    # accuracies 3/4 and 1: mean 7/8, sample std |1 - 3/4| / sqrt(2)
    assert agg["accuracy"] == pytest.approx(7 / 8)
    assert agg["accuracy_std"] == pytest.approx(0.25 / np.sqrt(2))
    assert agg["ua"] == pytest.approx(7 / 8)  # UAs 3/4 and 1
    assert [row["accuracy"] for row in agg["per_fold"]] == pytest.approx([0.75, 1.0])
    assert agg["confusion_matrix"] == [[3, 1], [0, 4]]
    assert agg["pooled"]["accuracy"] == pytest.approx(7 / 8)
    assert agg["pooled"]["ua"] == pytest.approx((3 / 4 + 1) / 2)
    assert agg["per_class"]["x"]["recall_mean"] == pytest.approx(0.75)
    assert agg["per_class"]["x"]["recall_std"] == pytest.approx(0.5 / np.sqrt(2))
    assert agg["per_class"]["y"]["recall_std"] == pytest.approx(0.0)
    assert agg["n_clips"] == 8


def test_aggregate_single_fold_and_absent_class():
    one = aggregate_folds([compute_metrics([0, 1], np.eye(3)[[0, 1]], class_names=CLASSES)])
    assert one["accuracy"] == 1.0 and one["accuracy_std"] is None
    assert one["per_class"]["c"]["recall_mean"] is None
    assert one["per_class"]["c"]["n_folds_defined"] == 0


def test_aggregate_rejects_mixed_label_sets():
    f1 = compute_metrics([0, 1], np.eye(2), class_names=["x", "y"])
    f2 = compute_metrics([0, 1], np.eye(2), class_names=["x", "z"])
    with pytest.raises(ParameterError, match="fold 2 has .*fold 1 has .*one label set"):
        aggregate_folds([f1, f2])  # folds count from 1, as fold-1/ ... and per_fold
    with pytest.raises(ParameterError, match="empty"):
        aggregate_folds([])
