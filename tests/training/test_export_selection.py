"""runner._select_export: the exported k-fold model is chosen on validation, never on test."""

from pathlib import Path

from ser_tf.training.runner import SplitResult, _select_export


def _result(name, val_score, test_ua):
    return SplitResult(name, {"ua": test_ua}, {}, val_score, Path(name), 0.0)


def test_loss_monitor_picks_the_lowest_validation_loss_whatever_the_test_scores():
    results = [_result("fold-1", 0.9, 0.99), _result("fold-2", 0.4, 0.10), _result("fold-3", 0.6, 0.50)]
    assert _select_export(results, monitor="val_loss").name == "fold-2"


def test_score_monitor_picks_the_highest_validation_score():
    results = [_result("fold-1", 0.3, 0.99), _result("fold-2", 0.7, 0.10)]
    assert _select_export(results, monitor="val_ua").name == "fold-2"
    assert _select_export(results, monitor="val_accuracy").name == "fold-2"
