"""What every training path shares about targets: the loss for the recipe's labels, and the check
that an evaluation split came through the pipeline whole (metrics pair predictions with records by
position). Used by the end-to-end runner and the cached transfer trainer alike."""

from __future__ import annotations

import numpy as np

from ser_tf.errors import DataError
from ser_tf.settings import SerConfig


def check_labels(seen, labels, name: str) -> None:
    """Raise ``DataError`` unless the labels that came through the pipeline (``seen``) are the
    split's ``labels``, in order (no clip was lost while decoding)."""
    if len(seen) != len(labels) or not np.array_equal(seen, labels):
        raise DataError(
            f"the {name} split lost {len(labels) - len(seen)} of its {len(labels)} clips while "
            "decoding (see the warnings above); fix or remove those files and run again"
        )


def loss_from_config(config: SerConfig):
    import keras

    smoothing = config.train.label_smoothing
    if smoothing > 0:
        return keras.losses.CategoricalCrossentropy(label_smoothing=smoothing)
    return keras.losses.SparseCategoricalCrossentropy()
