"""ser_tf: speech emotion recognition on Keras 3 and TensorFlow.

    import ser_tf
    model = ser_tf.load_model("default")          # or a run folder, a .keras or .h5 file
    result = model.predict_file("clip.wav")        # result.label, result.confidence, result.to_dict()

``load_model`` returns an ``EmotionModel`` (``ser_tf.inference.model``): ``predict``,
``predict_file``, ``predict_long`` and ``stream``. ``load_keras_model`` gives the bare
``keras.Model`` of a saved file, with every ser_tf layer registered first.

Importing the package is cheap on purpose: the names below are imported on first use, and
TensorFlow only by the sub-modules that need it, so that ``python -m ser_tf.data`` and the CLIs'
``--help`` start fast.
"""

import importlib

__version__ = "0.1.0"

# Public names, imported on first use (``ser_tf.X``). Why not at import (as ``import keras_hub``
# registers its classes): that means importing TensorFlow (seconds), and this file runs before any
# ``ser_tf.*`` submodule, so every CLI's --help would pay for it.
_EXPORTS = {
    "load_model": "ser_tf.inference.model",
    "EmotionModel": "ser_tf.inference.model",
    "DemoModelWarning": "ser_tf.inference.model",
    "Prediction": "ser_tf.inference.results",
    "LongPrediction": "ser_tf.inference.results",
    "WindowPrediction": "ser_tf.inference.results",
    "StreamUpdate": "ser_tf.inference.results",
    "SerError": "ser_tf.errors",
    "AudioError": "ser_tf.errors",
    "ModelError": "ser_tf.errors",
    "ParameterError": "ser_tf.errors",
}

__all__ = sorted([*_EXPORTS, "load_keras_model", "__version__"])


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'ser_tf' has no attribute {name!r}")


def load_keras_model(filepath, custom_objects=None, compile: bool = True, safe_mode: bool = True):
    """``keras.saving.load_model(filepath, ...)`` after registering every ser_tf layer and model class.

    Same arguments as ``keras.saving.load_model``; works for ``.keras`` and legacy ``.h5`` files.
    Returns the ``keras.Model`` (waveform ``(batch, samples)`` at 16 kHz in [-1, 1] ->
    probabilities ``(batch, num_classes)``). See ``ser_tf.models.saving.load_model``.
    """
    from ser_tf.models.saving import load_model as _load_model

    if compile:
        # A trained model's compile state holds the optimiser, whose learning-rate schedule may be
        # ser_tf's WarmupThen. It is registered here, not in ser_tf.models.saving, because training
        # sits above models in the import floors (tests/test_architecture.py); this facade is on top.
        import ser_tf.training.optim  # noqa: F401

    return _load_model(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)
