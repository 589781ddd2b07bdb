"""Export a trained model for deployment: TFLite (LiteRT) and SavedModel (TF Serving).

    python -m ser_tf.export --model models/latest --format tflite --quantize float16 --out ser.tflite

``export_model`` (``ser_tf.export.api``) does the work; ``ser_tf.export.tflite`` converts with
TFLite's builtin ops and names the layer and op when one is missing; ``ser_tf.export.savedmodel``
writes the ``serving_default`` signature (``ser_tf.export.signature``). None of these imports
TensorFlow until a conversion starts, so ``python -m ser_tf.export --help`` stays instant.
"""

from ser_tf.export.api import FORMATS, ExportResult, export_model
from ser_tf.export.tflite import QUANTIZE_MODES

__all__ = ["FORMATS", "QUANTIZE_MODES", "ExportResult", "export_model"]
