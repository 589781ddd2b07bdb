"""Classification metrics for emotion recognition, computed so that they can be reported honestly.

Emotion corpora are small and often unbalanced, so accuracy alone (WA, weighted accuracy) flatters
a model that favours the big classes. Every report therefore gives UA (unweighted average recall,
i.e. balanced accuracy) and macro-F1 next to WA, plus one-vs-rest ROC-AUC.

Conventions (also stated in every report):

* **Absent classes.** A class with no clip in ``y_true`` has no recall. UA and macro-F1 average over
  the classes *present* in ``y_true`` only; the absent class's recall and F1 are ``None``. Its
  wrong predictions still count, since they lower the recall of the true classes.
* **Undefined precision.** A class the model never predicts has precision ``None`` (0/0). If it is
  present in ``y_true`` its recall is 0, so its F1 is 0.
* **ROC-AUC** is one-vs-rest on the class's probability. A class with no positive or no negative
  clip has AUC ``None``; the macro AUC averages the defined ones (``None`` if none is defined).

All values are plain Python ``int``/``float``/``None``, so the dicts go straight into JSON.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
from sklearn.metrics import roc_auc_score

from ser_tf.errors import ParameterError

__all__ = ["compute_metrics", "aggregate_folds", "confusion_matrix", "ua_from_confusion"]


def _check_inputs(y_true, y_prob, class_names, speakers):
    class_names = [str(c) for c in class_names]
    if not class_names:
        raise ParameterError("class_names is empty; expected one name per model output")
    if len(set(class_names)) != len(class_names):
        raise ParameterError(f"class_names has duplicates: {class_names!r}")
    n_classes = len(class_names)

    y_true = np.asarray(y_true)
    if y_true.ndim != 1:
        raise ParameterError(f"y_true must be 1-D (n,), got shape {y_true.shape}")
    if y_true.size == 0:
        raise ParameterError("y_true is empty: there are no clips to evaluate")
    if not np.issubdtype(y_true.dtype, np.integer):
        if not (np.issubdtype(y_true.dtype, np.floating) and np.all(y_true == np.round(y_true))):
            raise ParameterError(
                f"y_true must hold integer class indices, got dtype {y_true.dtype} "
                f"(first values {y_true[:5].tolist()!r})"
            )
    y_true = y_true.astype(np.int64)
    bad = y_true[(y_true < 0) | (y_true >= n_classes)]
    if bad.size:
        raise ParameterError(
            f"y_true holds class index {int(bad[0])}, expected 0..{n_classes - 1} "
            f"for classes {class_names!r}"
        )

    y_prob = np.asarray(y_prob, dtype=np.float64)
    if y_prob.shape != (y_true.size, n_classes):
        raise ParameterError(
            f"y_prob must have shape (n, C) = ({y_true.size}, {n_classes}), got {y_prob.shape}"
        )
    if not np.all(np.isfinite(y_prob)):
        raise ParameterError("y_prob holds NaN or infinite values; expected finite probabilities")

    if speakers is not None:
        speakers = np.asarray([str(s) for s in speakers])
        if speakers.shape != y_true.shape:
            raise ParameterError(
                f"speakers must have one entry per clip ({y_true.size}), got {speakers.size}"
            )
    return y_true, y_prob, class_names, speakers


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """Counts ``(C, C)`` int64; rows are the true class, columns the predicted class."""
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64)), 1)
    return cm


def ua_from_confusion(cm) -> Optional[float]:
    """Unweighted average recall of a confusion matrix, over the rows (true classes) with clips."""
    cm = np.asarray(cm, dtype=np.float64)
    support = cm.sum(axis=1)
    present = support > 0
    if not present.any():
        return None
    return float(np.mean(np.diag(cm)[present] / support[present]))


def _ratio(num: float, den: float) -> Optional[float]:
    return None if den == 0 else float(num / den)


def _per_class(cm: np.ndarray, class_names: Sequence[str]) -> dict:
    out = {}
    for i, name in enumerate(class_names):
        tp = cm[i, i]
        support = int(cm[i].sum())
        predicted = int(cm[:, i].sum())
        precision = _ratio(tp, predicted)
        recall = _ratio(tp, support)
        if recall is None:
            f1 = None  # absent class: F1 is as undefined as its recall
        elif precision is None or precision + recall == 0:
            f1 = 0.0  # present but never (correctly) predicted
        else:
            f1 = float(2 * precision * recall / (precision + recall))
        out[name] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": support,
            "roc_auc": None,  # filled in by compute_metrics
        }
    return out


def _roc_auc(y_true: np.ndarray, y_prob: np.ndarray, class_names) -> dict:
    per_class = {}
    for i, name in enumerate(class_names):
        positives = y_true == i
        if positives.all() or not positives.any():
            per_class[name] = None  # AUC needs both positive and negative clips
        else:
            per_class[name] = float(roc_auc_score(positives, y_prob[:, i]))
    defined = [v for v in per_class.values() if v is not None]
    return {"macro": float(np.mean(defined)) if defined else None, "per_class": per_class}


def compute_metrics(y_true, y_prob, *, class_names: Sequence[str], speakers=None) -> dict:
    """Every metric of one evaluation.

    Args:
        y_true: int array ``(n,)``, true class index in ``0..C-1`` per clip.
        y_prob: float array ``(n, C)``, the model's class probabilities (any score works for the
            ROC curves; the prediction is the argmax).
        class_names: ``C`` unique class names in model-output order.
        speakers: optional ``(n,)`` speaker ids (e.g. ``"ravdess:07"``) for per-speaker results.

    Returns:
        dict with ``accuracy`` (WA), ``ua``, ``macro_f1``, ``per_class`` {name: {precision,
        recall, f1, support, roc_auc}}, ``roc_auc`` {"macro", "per_class"}, ``confusion_matrix``
        (list of lists, rows = true), ``per_speaker`` {speaker: {accuracy, ua, n}} if speakers
        were given, ``n_clips``, ``class_names``, ``classes_absent`` (names with no clip in
        ``y_true``, left out of UA and macro-F1). See the module docstring for undefined values.
    """
    y_true, y_prob, class_names, speakers = _check_inputs(y_true, y_prob, class_names, speakers)
    n_classes = len(class_names)
    y_pred = np.argmax(y_prob, axis=1)
    cm = confusion_matrix(y_true, y_pred, n_classes)

    per_class = _per_class(cm, class_names)
    roc = _roc_auc(y_true, y_prob, class_names)
    for name in class_names:
        per_class[name]["roc_auc"] = roc["per_class"][name]
    present = [name for name in class_names if per_class[name]["support"] > 0]

    metrics = {
        "accuracy": float(np.mean(y_pred == y_true)),
        "ua": ua_from_confusion(cm),
        "macro_f1": float(np.mean([per_class[name]["f1"] for name in present])),
        "per_class": per_class,
        "roc_auc": roc,
        "confusion_matrix": cm.tolist(),
        "n_clips": int(y_true.size),
        "class_names": list(class_names),
        "classes_absent": [name for name in class_names if name not in present],
    }
    if speakers is not None:
        per_speaker = {}
        for speaker in sorted(set(speakers.tolist())):
            mask = speakers == speaker
            speaker_cm = confusion_matrix(y_true[mask], y_pred[mask], n_classes)
            per_speaker[speaker] = {
                "accuracy": float(np.mean(y_pred[mask] == y_true[mask])),
                "ua": ua_from_confusion(speaker_cm),
                "n": int(mask.sum()),
            }
        metrics["per_speaker"] = per_speaker
    return metrics


def _mean_std(values) -> tuple[Optional[float], Optional[float]]:
    """Mean and sample std (ddof=1) of the defined values; std is None with fewer than 2."""
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    mean = float(np.mean(values))
    std = float(np.std(values, ddof=1)) if len(values) >= 2 else None
    return mean, std


def aggregate_folds(fold_metrics: Sequence[dict]) -> dict:
    """Summarise k folds (each a :func:`compute_metrics` dict) as mean ± std.

    The std is the *sample* standard deviation (ddof=1): the folds are a sample of the possible
    speaker partitions. With a single fold it is ``None``. Values undefined in a fold (e.g. the
    AUC of a class absent from that fold) are left out of that mean; ``n_folds_defined`` says how
    many folds a per-class mean rests on.

    Returns:
        dict with ``n_folds``, ``std_ddof`` (1), ``accuracy``/``ua``/``macro_f1``/``roc_auc_macro``
        and their ``*_std``, ``per_fold`` (one row per fold), ``per_class`` {name: {recall_mean,
        recall_std, f1_mean, f1_std, n_folds_defined}}, ``confusion_matrix`` (the sum over folds),
        ``pooled`` {accuracy, ua} of that summed matrix, ``n_clips`` (total), ``class_names``.
    """
    fold_metrics = list(fold_metrics)
    if not fold_metrics:
        raise ParameterError("fold_metrics is empty; expected one metrics dict per fold")
    class_names = list(fold_metrics[0]["class_names"])
    for i, fm in enumerate(fold_metrics):
        if list(fm["class_names"]) != class_names:
            raise ParameterError(
                f"fold {i + 1} has classes {fm['class_names']!r}, fold 1 has {class_names!r}; "
                "folds must share one label set"
            )

    per_fold = [
        {
            "fold": i + 1,  # 1-based, as the run folders fold-1 ... fold-k
            "accuracy": fm["accuracy"],
            "ua": fm["ua"],
            "macro_f1": fm["macro_f1"],
            "roc_auc_macro": fm["roc_auc"]["macro"],
            "n_clips": fm["n_clips"],
        }
        for i, fm in enumerate(fold_metrics)
    ]
    out = {"n_folds": len(fold_metrics), "std_ddof": 1}
    for key in ("accuracy", "ua", "macro_f1", "roc_auc_macro"):
        out[key], out[f"{key}_std"] = _mean_std(row[key] for row in per_fold)

    per_class = {}
    for name in class_names:
        recalls = [fm["per_class"][name]["recall"] for fm in fold_metrics]
        f1s = [fm["per_class"][name]["f1"] for fm in fold_metrics]
        aucs = [fm["per_class"][name]["roc_auc"] for fm in fold_metrics]
        recall_mean, recall_std = _mean_std(recalls)
        f1_mean, f1_std = _mean_std(f1s)
        auc_mean, auc_std = _mean_std(aucs)
        per_class[name] = {
            "recall_mean": recall_mean,
            "recall_std": recall_std,
            "f1_mean": f1_mean,
            "f1_std": f1_std,
            "roc_auc_mean": auc_mean,
            "roc_auc_std": auc_std,
            "support": int(sum(fm["per_class"][name]["support"] for fm in fold_metrics)),
            "n_folds_defined": sum(r is not None for r in recalls),
        }

    pooled = np.sum([np.asarray(fm["confusion_matrix"], np.int64) for fm in fold_metrics], axis=0)
    out.update(
        per_fold=per_fold,
        per_class=per_class,
        confusion_matrix=pooled.tolist(),
        pooled={
            "accuracy": float(np.trace(pooled) / pooled.sum()),
            "ua": ua_from_confusion(pooled),
        },
        n_clips=int(pooled.sum()),
        class_names=class_names,
    )
    return out
