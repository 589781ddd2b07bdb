"""SavedModel export for TF Serving: ``serving_default`` maps a waveform batch to probabilities and
labels (``ser_tf.export.signature``); loading it needs TensorFlow only, not ser_tf."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

from ser_tf.export.signature import serving_function


def write_savedmodel(model, classes: Sequence[str], out, *, samples: Optional[int]) -> Path:
    """Write ``model`` as a SavedModel folder ``out`` with the ``serving_default`` signature.

    Args:
        model: a ser_tf classifier (``keras.Model``).
        classes: class names in output order (embedded as a string constant).
        out: the folder to write (created; must not hold another model).
        samples: the input's length in samples when the model fixes it, else ``None`` (any length).

    Returns:
        ``out``.
    """
    import tensorflow as tf

    module = tf.Module()
    module.model = model  # tracks the variables, so they are saved once, as variables
    module.serve = serving_function(model, classes, batch=None, samples=samples)
    tf.saved_model.save(module, str(out), signatures={"serving_default": module.serve})
    return Path(out)
