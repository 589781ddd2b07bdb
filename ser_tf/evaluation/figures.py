"""The report's figures, drawn with matplotlib's Agg backend (no display needed, safe in CI).

Each function draws one PNG, writes it atomically and closes its figure, so a long k-fold run does
not accumulate open figures.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Mapping, Optional, Sequence

import matplotlib

matplotlib.use("Agg")  # before pyplot: headless servers and CI have no display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from sklearn.metrics import auc as area_under_curve, roc_curve  # noqa: E402

from ser_tf.errors import ParameterError  # noqa: E402
from ser_tf.utils.io import atomic_path  # noqa: E402

__all__ = [
    "plot_confusion_matrix",
    "confusion_matrix_png",
    "plot_roc_curves",
    "plot_training_curves",
    "plot_fold_metrics",
]

_DPI = 120


def _save(fig, path) -> Path:
    path = Path(path)
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=_DPI, bbox_inches="tight")
    finally:
        plt.close(fig)
    return path


def _png_bytes(fig) -> bytes:
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=_DPI, bbox_inches="tight")
    finally:
        plt.close(fig)
    return buffer.getvalue()


def plot_confusion_matrix(
    cm,
    *,
    class_names: Sequence[str],
    path,
    normalize: bool = False,
    title: Optional[str] = None,
) -> Path:
    """Draw a confusion matrix with the value written in every cell.

    Args:
        cm: ``(C, C)`` counts, rows = true class, columns = predicted class.
        class_names: the ``C`` class names.
        path: the PNG to write.
        normalize: divide each row by its total, so a cell is the share of that true class
            predicted as the column's class (the diagonal is then per-class recall). Rows with no
            clip are left blank.
        title: figure title; a default says which kind of matrix it is.
    """
    return _save(_confusion_figure(cm, class_names=class_names, normalize=normalize, title=title), path)


def confusion_matrix_png(
    cm, *, class_names: Sequence[str], normalize: bool = True, title: Optional[str] = None
) -> bytes:
    """The figure of :func:`plot_confusion_matrix` as PNG bytes, for loggers that take images
    (TensorBoard, Weights & Biases) rather than files. Row-normalised by default."""
    return _png_bytes(_confusion_figure(cm, class_names=class_names, normalize=normalize, title=title))


def _confusion_figure(cm, *, class_names: Sequence[str], normalize: bool, title: Optional[str]):
    cm = np.asarray(cm, dtype=np.float64)
    n = len(class_names)
    if cm.shape != (n, n):
        raise ParameterError(f"confusion matrix must be ({n}, {n}) for {n} classes, got {cm.shape}")
    if normalize:
        totals = cm.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(totals > 0, cm / totals, np.nan)
        vmax, cbar_label = 1.0, "share of the true class"
        default_title = "Confusion matrix (row-normalised: diagonal = recall)"
    else:
        values = cm
        vmax, cbar_label = max(float(cm.max()), 1.0), "clips"
        default_title = "Confusion matrix (clip counts)"

    size = max(4.5, 0.75 * n + 2.5)
    fig, ax = plt.subplots(figsize=(size + 1.0, size))
    image = ax.imshow(np.nan_to_num(values, nan=0.0), cmap="Blues", vmin=0.0, vmax=vmax)
    colorbar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    colorbar.set_label(cbar_label)

    font = 10 if n <= 8 else 8
    for i in range(n):
        for j in range(n):
            value = values[i, j]
            if np.isnan(value):
                text, shade = "–", 0.0
            else:
                text = f"{value:.2f}" if normalize else f"{int(value)}"
                shade = value / vmax
            ax.text(j, i, text, ha="center", va="center", fontsize=font,
                    color="white" if shade > 0.55 else "black")

    ax.set_xticks(range(n), labels=list(class_names), rotation=45, ha="right",
                  rotation_mode="anchor")
    ax.set_yticks(range(n), labels=list(class_names))
    ax.set_xlabel("predicted emotion")
    ax.set_ylabel("true emotion")
    ax.set_title(title or default_title)
    return fig


def plot_roc_curves(
    y_true, y_prob, *, class_names: Sequence[str], path, title: Optional[str] = None
) -> Path:
    """One-vs-rest ROC curve per class, with its AUC in the legend and the chance diagonal.

    A class with no positive or no negative clip has no curve; the legend says so.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    y_prob = np.asarray(y_prob, dtype=np.float64)
    n = len(class_names)
    if y_prob.ndim != 2 or y_prob.shape != (y_true.size, n):
        raise ParameterError(f"y_prob must have shape ({y_true.size}, {n}), got {y_prob.shape}")

    fig, ax = plt.subplots(figsize=(6.5, 6.0))
    colours = plt.get_cmap("tab10" if n <= 10 else "tab20")
    aucs = []
    for i, name in enumerate(class_names):
        positives = y_true == i
        if positives.all() or not positives.any():
            reason = "no clip of this class" if not positives.any() else "every clip is this class"
            ax.plot([], [], color="none", label=f"{name}: no curve ({reason})")
            continue
        fpr, tpr, _ = roc_curve(positives, y_prob[:, i])
        auc = float(area_under_curve(fpr, tpr))
        aucs.append(auc)
        ax.plot(fpr, tpr, lw=1.6, color=colours(i % colours.N), label=f"{name} (AUC {auc:.2f})")
    ax.plot([0, 1], [0, 1], ls="--", lw=1, color="grey", label="chance (AUC 0.50)")
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_aspect("equal")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    macro = f"macro AUC {np.mean(aucs):.2f}" if aucs else "no class has a defined AUC"
    ax.set_title(title or f"ROC curves, one-vs-rest ({macro})")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    return _save(fig, path)


# Keras names the accuracy metric "accuracy" (Keras 3) or "acc"/"categorical_accuracy" elsewhere.
_ACCURACY_KEYS = ("accuracy", "acc", "categorical_accuracy", "sparse_categorical_accuracy")


def plot_training_curves(
    history: Mapping[str, Sequence[float]], *, path, title: Optional[str] = None
) -> Path:
    """Loss and accuracy per epoch, training vs validation (a Keras ``History.history`` dict).

    The epoch with the lowest validation loss is marked: with early stopping restoring the best
    weights, that is the model being reported.
    """
    panels = [("loss", "loss")]
    accuracy_key = next((k for k in _ACCURACY_KEYS if k in history), None)
    if accuracy_key:
        panels.append((accuracy_key, "accuracy"))
    if "loss" not in history and not accuracy_key:
        raise ParameterError(
            f"history has none of 'loss', 'accuracy'; got keys {sorted(history)!r}"
        )
    panels = [(key, label) for key, label in panels if key in history]

    val_loss = np.asarray(history.get("val_loss", []), dtype=np.float64)
    best = None
    if val_loss.size and np.isfinite(val_loss).any():
        best = int(np.nanargmin(val_loss)) + 1

    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.2), squeeze=False)
    for ax, (key, label) in zip(axes[0], panels):
        for series, name, style in ((key, "training", "-"), (f"val_{key}", "validation", "--")):
            if series in history and len(history[series]):
                values = np.asarray(history[series], dtype=np.float64)
                ax.plot(np.arange(1, values.size + 1), values, style, marker=".", label=name)
        if best is not None:
            ax.axvline(best, color="grey", ls=":", lw=1, label=f"best val loss (epoch {best})")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(label)
        ax.set_title(label.capitalize())
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title or "Training curves")
    fig.tight_layout()
    return _save(fig, path)


def plot_fold_metrics(per_fold: Sequence[Mapping], *, path, title: Optional[str] = None) -> Path:
    """WA, UA and macro-F1 per fold as grouped bars, with each metric's mean as a line.

    Args:
        per_fold: rows with ``fold``, ``accuracy``, ``ua``, ``macro_f1`` (``aggregate_folds``'s
            ``per_fold``).
    """
    if not per_fold:
        raise ParameterError("per_fold is empty; expected one row per fold")
    metrics = (("accuracy", "WA"), ("ua", "UA"), ("macro_f1", "macro-F1"))
    x = np.arange(len(per_fold))
    width = 0.27
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(per_fold) + 2.5), 4.2))
    for k, (key, label) in enumerate(metrics):
        values = np.asarray([np.nan if r[key] is None else r[key] for r in per_fold], np.float64)
        bars = ax.bar(x + (k - 1) * width, np.nan_to_num(values), width, label=label)
        mean = np.nanmean(values) if np.isfinite(values).any() else None
        if mean is not None:
            ax.axhline(mean, color=bars.patches[0].get_facecolor(), ls="--", lw=1)
    ax.set_xticks(x, labels=[f"fold {r['fold']}" for r in per_fold])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score")
    ax.set_title(title or "Per-fold results (dashed: mean over folds)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    return _save(fig, path)
