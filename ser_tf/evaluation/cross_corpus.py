"""Cross-corpus evaluation: score a model on a corpus whose label set differs from its own.

A model trained on RAVDESS (8 classes) tested on TESS (7 classes) can only be judged on the
emotions both know. Clips of an emotion the model never learnt are dropped (and counted), and the
model's probabilities are renormalised over the shared classes, so the argmax can only pick a class
that can be right. The report's protocol says which classes were left out on each side; use
:func:`cross_corpus_protocol` to build that part.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ser_tf.errors import ParameterError

__all__ = ["shared_classes", "shared_mask", "restrict_to_shared", "cross_corpus_protocol"]


def shared_classes(
    model_classes: Sequence[str], data_classes: Sequence[str]
) -> tuple[list[str], list[str], list[str]]:
    """Split two class lists into what they share and what only one side has.

    Returns:
        ``(shared, model_only, data_only)``: ``shared`` and ``model_only`` in the model's output
        order, ``data_only`` in the data's order.
    """
    model_classes, data_classes = list(model_classes), list(data_classes)
    data_set, model_set = set(data_classes), set(model_classes)
    shared = [c for c in model_classes if c in data_set]
    model_only = [c for c in model_classes if c not in data_set]
    data_only = [c for c in data_classes if c not in model_set]
    return shared, model_only, data_only


def shared_mask(y_true_names: Sequence[str], shared: Sequence[str]) -> np.ndarray:
    """Boolean ``(n,)``: True for the clips whose true class is shared (the clips kept).

    Use it to filter anything aligned with the clips (speakers, paths) the same way as
    :func:`restrict_to_shared` filters the labels.
    """
    shared_set = set(shared)
    return np.fromiter((str(name) in shared_set for name in y_true_names), dtype=bool)


def restrict_to_shared(
    y_true_names: Sequence[str],
    y_prob,
    model_classes: Sequence[str],
    shared: Sequence[str],
) -> tuple[np.ndarray, np.ndarray]:
    """Keep the clips of shared classes and the model outputs of shared classes.

    Args:
        y_true_names: ``(n,)`` true class name per clip (names in the data's label set).
        y_prob: ``(n, len(model_classes))`` model probabilities.
        model_classes: the model's class names, in output order.
        shared: the shared classes (a subset of ``model_classes``), e.g. from
            :func:`shared_classes`; this is the class order of the result.

    Returns:
        ``(y_true_idx, y_prob_shared)``: int64 ``(m,)`` indices into ``shared`` and float64
        ``(m, len(shared))`` probabilities renormalised to sum to 1 over the shared classes,
        where ``m`` is the number of kept clips. A clip whose model put no mass on any shared
        class gets a uniform row (no class is favoured).
    """
    model_classes, shared = list(model_classes), list(shared)
    if not shared:
        raise ParameterError(
            f"no shared classes between the model ({model_classes!r}) and the data; "
            "cross-corpus evaluation needs at least one emotion both know"
        )
    missing = [c for c in shared if c not in model_classes]
    if missing:
        raise ParameterError(f"shared classes {missing!r} are not model classes {model_classes!r}")
    y_prob = np.asarray(y_prob, dtype=np.float64)
    names = [str(name) for name in y_true_names]
    if y_prob.ndim != 2 or y_prob.shape != (len(names), len(model_classes)):
        raise ParameterError(
            f"y_prob must have shape ({len(names)}, {len(model_classes)}) "
            f"(clips, model classes), got {y_prob.shape}"
        )

    keep = shared_mask(names, shared)
    columns = [model_classes.index(c) for c in shared]
    probs = y_prob[keep][:, columns]
    totals = probs.sum(axis=1, keepdims=True)
    uniform = np.full_like(probs, 1.0 / len(shared))
    probs = np.where(totals > 0, probs / np.where(totals > 0, totals, 1.0), uniform)
    index = {c: i for i, c in enumerate(shared)}
    y_true_idx = np.asarray([index[n] for n, k in zip(names, keep) if k], dtype=np.int64)
    return y_true_idx, probs


def cross_corpus_protocol(
    model_classes: Sequence[str], data_classes: Sequence[str], *, n_clips_dropped: int = 0
) -> dict:
    """The ``protocol["cross_corpus"]`` entry the reports print.

    Returns:
        dict with ``shared_classes``, ``model_only_classes`` (never scored: the data has no clip
        of them and their probability mass is removed), ``data_only_classes`` (their clips are
        dropped) and ``n_clips_dropped``.
    """
    shared, model_only, data_only = shared_classes(model_classes, data_classes)
    return {
        "shared_classes": shared,
        "model_only_classes": model_only,
        "data_only_classes": data_only,
        "n_clips_dropped": int(n_clips_dropped),
    }
