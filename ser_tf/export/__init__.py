"""Export a trained model for deployment: TFLite (LiteRT) and SavedModel (TF Serving).

    python -m ser_tf.export --model models/latest --format tflite --quantize float16 --out ser.tflite

``export_model`` (``ser_tf.export.api``) does the work; ``ser_tf.export.tflite`` converts with
TFLite's builtin ops and names the layer and op when one is missing; ``ser_tf.export.savedmodel``
writes the ``serving_default`` signature (``ser_tf.export.signature``). Names are imported on
first use, so ``python -m ser_tf.export --help`` stays instant.
"""

import importlib

_EXPORTS = {
    "export_model": "ser_tf.export.api",
    "ExportResult": "ser_tf.export.api",
    "FORMATS": "ser_tf.export.api",
    "QUANTIZE_MODES": "ser_tf.export.tflite",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'ser_tf.export' has no attribute {name!r}")
