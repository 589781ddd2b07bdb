"""Class balancing for the training split: random oversampling or class weights.

Both act on the TRAINING part of a split only (``ser_tf.data.splits``): oversampling validation or
test clips would inflate their scores, and repeating a clip in two parts would leak it. Pick one
of the two, not both (``data.balance`` in the config): weights on an oversampled set double-count.
"""

from __future__ import annotations

from collections import Counter
from typing import Dict, List, Sequence

import numpy as np

from ser_tf.data.records import Record
from ser_tf.errors import DataError, ParameterError


def oversample(records: Sequence[Record], *, seed: int) -> List[Record]:
    """Repeat clips of the smaller classes until every class has as many as the largest.

    Uses imbalanced-learn's ``RandomOverSampler`` on record indices, so nothing is synthesised:
    the result holds the original records, each once, followed by random repeats. Call it on the
    training records of a split only, never on validation or test.

    Args:
        records: training records; the class is ``Record.emotion``.
        seed: seed of the repeat draw.

    Returns:
        a new list, at least as long as ``records``, with equal counts per emotion.

    Raises:
        DataError: no records, or a single class (nothing to balance against).
    """
    records = list(records)
    classes = Counter(r.emotion for r in records)
    if len(classes) < 2:
        raise DataError(
            f"cannot oversample {len(records)} training record(s) of {len(classes)} class(es) "
            f"{sorted(classes)}; balancing needs at least two classes"
        )
    # Imported here: imblearn pulls in scikit-learn, which nothing else in ser_tf.data needs.
    from imblearn.over_sampling import RandomOverSampler

    index = np.arange(len(records)).reshape(-1, 1)
    labels = np.array([r.emotion for r in records])
    resampled, _ = RandomOverSampler(random_state=seed).fit_resample(index, labels)
    return [records[i] for i in resampled[:, 0]]


def class_weights(labels: Sequence[int], *, num_classes: int) -> Dict[int, float]:
    """Keras ``class_weight`` from the training labels, by scikit-learn's "balanced" formula.

    ``weight[c] = n_samples / (n_present_classes * count[c])`` for every class present, so a
    balanced set gets all ones. Classes absent from ``labels`` get ``0.0``: they never occur in
    training, and Keras wants a weight for every class index.

    Args:
        labels: integer class indices of the training clips, each in ``[0, num_classes)``.
        num_classes: number of model outputs.

    Returns:
        ``{class_index: weight}`` for every index ``0 .. num_classes - 1``.

    Raises:
        ParameterError: ``num_classes`` < 1 or a label outside ``[0, num_classes)``.
        DataError: no labels.
    """
    is_int = isinstance(num_classes, (int, np.integer)) and not isinstance(num_classes, bool)
    if not is_int or num_classes < 1:
        raise ParameterError(f"num_classes={num_classes!r}: expected a positive integer")
    labels = np.asarray(labels)
    if labels.size == 0:
        raise DataError("cannot compute class weights of an empty training set")
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ParameterError(
            f"labels: expected a 1-D sequence of integer class indices, got dtype {labels.dtype} "
            f"and shape {labels.shape}"
        )
    bad = labels[(labels < 0) | (labels >= num_classes)]
    if bad.size:
        raise ParameterError(
            f"labels {sorted(set(bad.tolist()))[:5]} out of range for num_classes={num_classes}"
        )
    counts = np.bincount(labels, minlength=num_classes)
    present = np.count_nonzero(counts)
    return {
        c: (float(labels.size / (present * counts[c])) if counts[c] else 0.0)
        for c in range(num_classes)
    }
