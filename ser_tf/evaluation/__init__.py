"""Honest evaluation: metrics (WA, UA, macro-F1, ROC-AUC), k-fold aggregation, reports, figures.

No TensorFlow here: the package works on arrays of labels and probabilities, so it is fast to test
and can re-score saved predictions. Figures use matplotlib's headless Agg backend.
"""

from ser_tf.evaluation.cross_corpus import (
    cross_corpus_protocol,
    restrict_to_shared,
    shared_classes,
    shared_mask,
)
from ser_tf.evaluation.metrics import aggregate_folds, compute_metrics
from ser_tf.evaluation.report import format_summary, write_cv_report, write_report

__all__ = [
    "aggregate_folds",
    "compute_metrics",
    "cross_corpus_protocol",
    "format_summary",
    "restrict_to_shared",
    "shared_classes",
    "shared_mask",
    "write_cv_report",
    "write_report",
]
