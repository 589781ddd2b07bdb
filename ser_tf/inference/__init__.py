"""Inference: classify files, folders, long recordings and live microphone audio.

``Predictor`` loads a trained model once; see ``ser_tf.inference.predictor``. The names below are
imported on first use, so ``import ser_tf.inference`` (and ``audio_test.py --help``) stays instant.
"""

import importlib

_EXPORTS = {
    "Predictor": "ser_tf.inference.predictor",
    "Prediction": "ser_tf.inference.results",
    "LongPrediction": "ser_tf.inference.results",
    "WindowPrediction": "ser_tf.inference.results",
    "StreamUpdate": "ser_tf.inference.results",
    "EnergyVAD": "ser_tf.inference.vad",
    "ProbabilitySmoother": "ser_tf.inference.smoothing",
    "WindowFramer": "ser_tf.inference.windows",
    "denoise": "ser_tf.inference.denoise",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'ser_tf.inference' has no attribute {name!r}")
