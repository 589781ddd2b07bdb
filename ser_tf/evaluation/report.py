"""Evaluation reports: ``metrics.json``, a readable ``report.md`` and the figures, in one folder.

A number without its protocol is misleading in speech emotion recognition: the same model scores
far higher when test speakers were also heard in training. So every report states the protocol
*first* (how the split was made, clips and speakers per split, label set, corpora), flags a random
split as optimistic, flags demo data, and gives UA and macro-F1 next to accuracy.

The ``protocol`` dict every function here takes, the overlap checks and the protocol section
of ``report.md`` live in :mod:`ser_tf.evaluation.protocol`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Optional, Sequence

from ser_tf.data.splits import FINAL_MODEL_NOTE as NO_TEST_NOTE
from ser_tf.errors import ParameterError
from ser_tf.evaluation import figures
from ser_tf.evaluation.metrics import aggregate_folds
# OPTIMISTIC_BANNER and is_optimistic are re-exported: they were defined here before the split.
from ser_tf.evaluation.protocol import (  # noqa: F401
    OPTIMISTIC_BANNER,
    _METHODS,
    _check_protocol,
    _fmt_int,
    _n_speakers,
    _protocol_lines,
    _splits_of,
    _table,
    is_optimistic,
)
from ser_tf.runs import ReportFolder
from ser_tf.utils.io import write_json, write_text

__all__ = ["write_report", "write_cv_report", "format_summary", "has_test_metrics", "REQUIRED_KEYS",
           "NO_TEST_NOTE"]

REQUIRED_KEYS = ("accuracy", "ua", "macro_f1", "per_class", "roc_auc", "protocol")

DEMO_BANNER = ("**DEMO DATA.** These numbers come from the synthetic demo corpus, not from "
               "recorded speech. They show that the pipeline runs; they say nothing about "
               "recognising emotion.")
DEFINITIONS = (
    "WA (weighted accuracy) is the share of clips classified correctly. UA (unweighted average "
    "recall) is the mean of the per-class recalls, so every emotion counts the same however many "
    "clips it has; chance UA is 1 / number of classes. UA and macro-F1 average over the classes "
    "with at least one clip in the evaluation set; a class with none has no recall (shown as —). "
    "ROC-AUC is one-vs-rest per class; a class with no positive or no negative clip has none, and "
    "the macro AUC averages the defined ones."
)


# ---------------------------------------------------------------------------------------------
# Formatting


def _fmt(value, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:].rstrip(".") + "."


def _pm(mean, std) -> str:
    if mean is None:
        return "—"
    return f"{mean:.3f}" if std is None else f"{mean:.3f} ± {std:.3f}"


def _chance_ua(metrics: Mapping) -> Optional[float]:
    present = [c for c, v in metrics["per_class"].items()
               if (v.get("support") or 0) > 0]
    return 1.0 / len(present) if present else None


def _header(title: str, is_demo: bool) -> list[str]:
    lines = [f"# {title}", ""]
    if is_demo:
        lines += [f"> {DEMO_BANNER}", ""]
    return lines


def _figure_lines(paths: Mapping[str, Path], captions: Sequence[tuple[str, str]]) -> list[str]:
    lines = ["## Figures", ""]
    for key, caption in captions:
        if key in paths:
            lines += [f"**{caption}**", "", f"![{caption}]({paths[key].name})", ""]
    return lines


def _figure_title(text: str, is_demo: bool) -> str:
    return f"[DEMO DATA] {text}" if is_demo else text


# ---------------------------------------------------------------------------------------------
# Single evaluation


def write_report(
    out_dir,
    *,
    metrics: Optional[dict],
    protocol: dict,
    class_names: Sequence[str],
    y_true=None,
    y_prob=None,
    history: Optional[Mapping] = None,
    title: str = "Speech emotion recognition: evaluation report",
    is_demo: bool = False,
) -> dict[str, Path]:
    """Write ``metrics.json``, ``report.md`` and the figures of one evaluation into ``out_dir``.

    Args:
        out_dir: the report folder (created if needed).
        metrics: a :func:`ser_tf.evaluation.metrics.compute_metrics` dict, or ``None`` when there
            is nothing to score (a final model trained without test speakers): ``metrics.json``
            then holds ``"test": null`` and the protocol, and ``report.md`` says so.
        protocol: how the evaluation was made (see :mod:`ser_tf.evaluation.protocol`).
        class_names: class names in model-output order.
        y_true, y_prob: the labels and probabilities ``metrics`` came from; with them the ROC
            curves are drawn.
        history: a Keras ``History.history``-like dict (loss, val_loss, accuracy, val_accuracy);
            with it the training curves are drawn.
        title: the report's heading.
        is_demo: the data is the synthetic demo corpus; the report and figures say so.

    Returns:
        {"metrics", "report", "confusion_matrix", "confusion_matrix_normalized", and, when drawn,
        "roc_curves", "training_curves"} -> path written.
    """
    protocol = _check_protocol(protocol)
    class_names = [str(c) for c in class_names]
    if metrics is None:
        return _write_no_test_report(Path(out_dir), protocol=protocol, class_names=class_names,
                                     history=history, title=title, is_demo=is_demo)
    for key in ("accuracy", "ua", "macro_f1", "per_class", "roc_auc", "confusion_matrix"):
        if key not in metrics:
            raise ParameterError(f"metrics lacks {key!r}; pass the dict compute_metrics returns")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    is_demo = bool(is_demo or protocol.get("is_demo"))
    protocol["is_demo"] = is_demo

    paths: dict[str, Path] = {}
    paths["confusion_matrix"] = figures.plot_confusion_matrix(
        metrics["confusion_matrix"], class_names=class_names, path=out_dir / "confusion_matrix.png",
        title=_figure_title("Confusion matrix (clip counts)", is_demo))
    paths["confusion_matrix_normalized"] = figures.plot_confusion_matrix(
        metrics["confusion_matrix"], class_names=class_names, normalize=True,
        path=out_dir / "confusion_matrix_normalized.png",
        title=_figure_title("Confusion matrix (row-normalised: diagonal = recall)", is_demo))
    if y_true is not None and y_prob is not None:
        paths["roc_curves"] = figures.plot_roc_curves(
            y_true, y_prob, class_names=class_names, path=out_dir / "roc_curves.png",
            title=_figure_title(f"ROC curves, one-vs-rest (macro AUC "
                                f"{_fmt(metrics['roc_auc']['macro'], 2)})", is_demo))
    if history:
        paths["training_curves"] = figures.plot_training_curves(
            history, path=out_dir / "training_curves.png",
            title=_figure_title("Training curves", is_demo))

    lines = _header(title, is_demo) + _protocol_lines(protocol, class_names)
    lines += ["## Results", ""] + _table(["metric", "value"], [
        ["UA (unweighted average recall)", _fmt(metrics["ua"])],
        ["WA (accuracy)", _fmt(metrics["accuracy"])],
        ["macro-F1", _fmt(metrics["macro_f1"])],
        ["ROC-AUC (macro, one-vs-rest)", _fmt(metrics["roc_auc"]["macro"])],
        ["clips evaluated", _fmt_int(metrics.get("n_clips"))],
        ["chance UA", _fmt(_chance_ua(metrics))],
    ])
    if metrics.get("classes_absent"):
        lines += [f"Classes with no clip in this evaluation (left out of UA and macro-F1): "
                  f"{', '.join(metrics['classes_absent'])}.", ""]
    per_class = metrics["per_class"]
    lines += ["### Per class", ""] + _table(
        ["class", "precision", "recall", "F1", "ROC-AUC", "clips"],
        [[name] + [_fmt(per_class[name][k]) for k in ("precision", "recall", "f1", "roc_auc")]
         + [per_class[name]["support"]] for name in class_names])
    if metrics.get("per_speaker"):
        lines += ["### Per speaker", ""] + _table(
            ["speaker", "clips", "WA", "UA"],
            [[speaker, row["n"], _fmt(row["accuracy"]), _fmt(row["ua"])]
             for speaker, row in metrics["per_speaker"].items()])
    lines += _figure_lines(paths, [
        ("confusion_matrix", "Confusion matrix (counts)"),
        ("confusion_matrix_normalized", "Confusion matrix (row-normalised)"),
        ("roc_curves", "ROC curves"),
        ("training_curves", "Training curves"),
    ])
    lines += ["## Definitions", "", DEFINITIONS, ""]

    paths["metrics"] = ReportFolder(out_dir).metrics
    write_json(paths["metrics"], {**metrics, "protocol": protocol, "is_demo": is_demo,
                                  "definitions": DEFINITIONS})
    paths["report"] = ReportFolder(out_dir).markdown
    write_text(paths["report"], "\n".join(lines))
    return paths


def _write_no_test_report(out_dir: Path, *, protocol: dict, class_names: Sequence[str],
                          history: Optional[Mapping], title: str, is_demo: bool) -> dict[str, Path]:
    """``write_report`` without test metrics: the protocol, the training curves and a plain
    statement that there are no test speakers (no number is made up)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    is_demo = bool(is_demo or protocol.get("is_demo"))
    protocol["is_demo"] = is_demo
    note = protocol.get("description") or NO_TEST_NOTE
    paths: dict[str, Path] = {}
    if history:
        paths["training_curves"] = figures.plot_training_curves(
            history, path=out_dir / "training_curves.png",
            title=_figure_title("Training curves", is_demo))
    lines = _header(title, is_demo) + _protocol_lines(protocol, class_names)
    lines += ["## Results", "", f"{_sentence(note)} No test metrics were computed.", ""]
    lines += _figure_lines(paths, [("training_curves", "Training curves")])
    paths["metrics"] = ReportFolder(out_dir).metrics
    write_json(paths["metrics"], {"test": None, "note": note, "class_names": list(class_names),
                                  "protocol": protocol, "is_demo": is_demo})
    paths["report"] = ReportFolder(out_dir).markdown
    write_text(paths["report"], "\n".join(lines))
    return paths


def has_test_metrics(metrics: Mapping) -> bool:
    """False for the ``metrics.json`` of a run without test speakers (``"test": null``)."""
    return not ("test" in metrics and metrics["test"] is None)


# ---------------------------------------------------------------------------------------------
# k-fold summary


def write_cv_report(
    out_dir,
    *,
    fold_metrics: Sequence[dict],
    protocol: dict,
    class_names: Sequence[str],
    is_demo: bool = False,
    fold_histories: Optional[Sequence[Optional[Mapping]]] = None,
    title: str = "Speech emotion recognition: cross-validation report",
) -> dict[str, Path]:
    """Write the k-fold summary: mean ± std over folds, per-fold rows, pooled confusion matrices.

    Args:
        out_dir: the report folder (created if needed).
        fold_metrics: one :func:`~ser_tf.evaluation.metrics.compute_metrics` dict per fold, each
            on that fold's held-out speakers.
        protocol: how the folds were made (see :mod:`ser_tf.evaluation.protocol`).
        class_names: class names in model-output order (the same for every fold).
        is_demo: the data is the synthetic demo corpus.
        fold_histories: optional Keras history dict per fold (None entries skipped).
        title: the report's heading.

    Returns:
        {"metrics", "report", "confusion_matrix", "confusion_matrix_normalized", "fold_metrics",
        "training_curves_fold<i>"...} -> path written; folds are numbered from 1, as in the run
        folder (``fold-1`` ...) and in ``per_fold``.
    """
    protocol = _check_protocol(protocol)
    class_names = [str(c) for c in class_names]
    agg = aggregate_folds(fold_metrics)
    if agg["class_names"] != class_names:
        raise ParameterError(f"folds have classes {agg['class_names']!r}, "
                             f"class_names is {class_names!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    is_demo = bool(is_demo or protocol.get("is_demo"))
    protocol["is_demo"] = is_demo
    k = agg["n_folds"]

    paths: dict[str, Path] = {}
    paths["confusion_matrix"] = figures.plot_confusion_matrix(
        agg["confusion_matrix"], class_names=class_names, path=out_dir / "confusion_matrix.png",
        title=_figure_title(f"Confusion matrix pooled over {k} folds (clip counts)", is_demo))
    paths["confusion_matrix_normalized"] = figures.plot_confusion_matrix(
        agg["confusion_matrix"], class_names=class_names, normalize=True,
        path=out_dir / "confusion_matrix_normalized.png",
        title=_figure_title(f"Confusion matrix pooled over {k} folds (row-normalised)", is_demo))
    paths["fold_metrics"] = figures.plot_fold_metrics(
        agg["per_fold"], path=out_dir / "fold_metrics.png",
        title=_figure_title("Per-fold results (dashed: mean over folds)", is_demo))
    for i, history in enumerate(fold_histories or [], 1):
        if history:
            paths[f"training_curves_fold{i}"] = figures.plot_training_curves(
                history, path=out_dir / f"training_curves_fold{i}.png",
                title=_figure_title(f"Training curves, fold {i}", is_demo))

    # Test speakers are disjoint across folds in kfold/loso, so the per-speaker rows add up.
    per_speaker = {}
    for i, fm in enumerate(fold_metrics):
        for speaker, row in (fm.get("per_speaker") or {}).items():
            key = speaker if speaker not in per_speaker else f"{speaker} (fold {i + 1})"
            per_speaker[key] = {**row, "fold": i + 1}

    summary = {
        "accuracy": agg["accuracy"], "accuracy_std": agg["accuracy_std"],
        "ua": agg["ua"], "ua_std": agg["ua_std"],
        "macro_f1": agg["macro_f1"], "macro_f1_std": agg["macro_f1_std"],
        "roc_auc": {"macro": agg["roc_auc_macro"], "macro_std": agg["roc_auc_macro_std"],
                    "per_class": {c: agg["per_class"][c]["roc_auc_mean"] for c in class_names}},
        **{key: agg[key] for key in ("n_folds", "std_ddof", "per_class", "per_fold",
                                     "confusion_matrix", "pooled", "n_clips", "class_names")},
        "per_speaker": per_speaker,
        "protocol": protocol, "is_demo": is_demo, "definitions": DEFINITIONS,
    }

    lines = _header(title, is_demo) + _protocol_lines(protocol, class_names)
    lines += [
        "## Results", "",
        f"Mean ± sample standard deviation (ddof=1) over {k} folds; \"pooled\" is computed from "
        "the confusion matrix summed over folds.", "",
    ] + _table(["metric", "mean ± std", "pooled"], [
        ["UA (unweighted average recall)", f"UA {_pm(agg['ua'], agg['ua_std'])}",
         _fmt(agg["pooled"]["ua"])],
        ["WA (accuracy)", f"WA {_pm(agg['accuracy'], agg['accuracy_std'])}",
         _fmt(agg["pooled"]["accuracy"])],
        ["macro-F1", f"macro-F1 {_pm(agg['macro_f1'], agg['macro_f1_std'])}", "—"],
        ["ROC-AUC (macro, one-vs-rest)",
         f"ROC-AUC {_pm(agg['roc_auc_macro'], agg['roc_auc_macro_std'])}", "—"],
        ["clips evaluated (all folds)", agg["n_clips"], ""],
        ["chance UA", _fmt(_chance_ua(summary)), ""],
    ])
    lines += ["### Per fold", ""] + _table(
        ["fold", "clips", "WA", "UA", "macro-F1", "ROC-AUC"],
        [[row["fold"], row["n_clips"]]
         + [_fmt(row[k]) for k in ("accuracy", "ua", "macro_f1", "roc_auc_macro")]
         for row in agg["per_fold"]])
    lines += ["### Per class (mean ± std over the folds where the class has clips)", ""]
    lines += _table(
        ["class", "recall", "F1", "ROC-AUC", "clips", "folds"],
        [[name] + [_pm(row[f"{k}_mean"], row[f"{k}_std"]) for k in ("recall", "f1", "roc_auc")]
         + [row["support"], row["n_folds_defined"]]
         for name, row in ((c, agg["per_class"][c]) for c in class_names)])
    if per_speaker:
        lines += ["### Per speaker (each in the fold that held it out)", ""] + _table(
            ["speaker", "fold", "clips", "WA", "UA"],
            [[speaker, row["fold"], row["n"], _fmt(row["accuracy"]), _fmt(row["ua"])]
             for speaker, row in per_speaker.items()])
    lines += _figure_lines(paths, [
        ("fold_metrics", "Per-fold results"),
        ("confusion_matrix", "Pooled confusion matrix (counts)"),
        ("confusion_matrix_normalized", "Pooled confusion matrix (row-normalised)"),
    ] + [(key, f"Training curves, fold {key.rsplit('fold', 1)[1]}")
         for key in paths if key.startswith("training_curves_fold")])
    lines += ["## Definitions", "", DEFINITIONS, ""]

    paths["metrics"] = ReportFolder(out_dir).metrics
    write_json(paths["metrics"], summary)
    paths["report"] = ReportFolder(out_dir).markdown
    write_text(paths["report"], "\n".join(lines))
    return paths


# ---------------------------------------------------------------------------------------------
# Terminal summary


def format_summary(metrics: Mapping, protocol: Mapping) -> str:
    """A one-screen plain-text summary for the terminal, from a single or a k-fold metrics dict."""
    protocol = dict(protocol or {})
    method = protocol.get("method", "not stated")
    lines = [f"Evaluation protocol: {method}"
             + (f" ({_METHODS[method].split(':')[0]})" if method in _METHODS else "")]
    if protocol.get("is_demo") or metrics.get("is_demo"):
        lines.append("DEMO DATA: synthetic clips; these numbers say nothing about real speech.")
    if is_optimistic(protocol):
        lines.append("WARNING, optimistic: speakers overlap between training and evaluation.")
    if protocol.get("warning") and protocol.get("method") != "random":
        lines.append(f"Split warning: {protocol['warning']}")
    for name, split in _splits_of(protocol).items():
        lines.append(f"  {name:<10} {_fmt_int(split.get('n_clips')):>6} clips "
                     f"{_fmt_int(_n_speakers(split)):>4} speakers")
    class_names = list(metrics.get("class_names") or protocol.get("classes")
                       or metrics.get("per_class") or [])
    label_set = protocol.get("label_set")
    lines.append(f"Classes ({len(class_names)}{', ' + label_set if label_set else ''}): "
                 f"{', '.join(class_names)}")
    if not has_test_metrics(metrics):
        lines.append(_sentence(metrics.get("note") or NO_TEST_NOTE))
        return "\n".join(lines)
    cross = protocol.get("cross_corpus")
    if cross:
        lines.append(f"Cross-corpus: left out model-only {cross.get('model_only_classes')}, "
                     f"data-only {cross.get('data_only_classes')} "
                     f"({cross.get('n_clips_dropped', 0)} clips dropped)")

    # write_cv_report's metrics.json nests the AUC under roc_auc; aggregate_folds keeps it flat.
    auc = metrics.get("roc_auc") or {"macro": metrics.get("roc_auc_macro"),
                                     "macro_std": metrics.get("roc_auc_macro_std")}
    if "n_folds" in metrics:
        lines.append(f"Over {metrics['n_folds']} folds (mean ± std): "
                     f"UA {_pm(metrics['ua'], metrics.get('ua_std'))} | "
                     f"WA {_pm(metrics['accuracy'], metrics.get('accuracy_std'))} | "
                     f"macro-F1 {_pm(metrics['macro_f1'], metrics.get('macro_f1_std'))} | "
                     f"ROC-AUC {_pm(auc.get('macro'), auc.get('macro_std'))}")
        recalls = {c: v.get("recall_mean") for c, v in metrics["per_class"].items()}
    else:
        lines.append(f"UA {_fmt(metrics['ua'])} | WA {_fmt(metrics['accuracy'])} | "
                     f"macro-F1 {_fmt(metrics['macro_f1'])} | ROC-AUC {_fmt(auc.get('macro'))} "
                     f"| {metrics.get('n_clips', '?')} clips")
        recalls = {c: v.get("recall") for c, v in metrics["per_class"].items()}
    lines.append(f"Chance UA: {_fmt(_chance_ua(metrics))}")
    lines.append("Recall per class: "
                 + ", ".join(f"{c} {_fmt(r, 2)}" for c, r in recalls.items()))
    return "\n".join(lines)
