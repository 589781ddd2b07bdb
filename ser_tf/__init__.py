"""ser_tf: speech emotion recognition on Keras 3 and TensorFlow.

Importing the package is cheap on purpose: TensorFlow is imported by the sub-modules that need it
(``ser_tf.layers``, ``ser_tf.models``, ``ser_tf.data.pipeline``), so that ``python -m ser_tf.data``
and the CLIs' ``--help`` start fast.

Load a saved model with ``ser_tf.load_model(path)`` (a ``.keras`` or ``.h5`` file), not with a
bare ``keras.saving.load_model``, which cannot find ser_tf's layers unless ``ser_tf.layers`` and
``ser_tf.models`` were imported first.
"""

__version__ = "0.1.0"


def load_model(filepath, custom_objects=None, compile: bool = True, safe_mode: bool = True):
    """``keras.saving.load_model(filepath, ...)`` after registering every ser_tf layer and model class.

    Same arguments as ``keras.saving.load_model``; works for ``.keras`` and legacy ``.h5`` files.
    See ``ser_tf.models.saving.load_model``.
    """
    # Why a function and not registration at import (as ``import keras_hub`` does): registering
    # means importing ser_tf.layers and every model family, hence TensorFlow (seconds), and this
    # file runs before any ``ser_tf.*`` submodule, so every CLI's --help and ``python -m
    # ser_tf.data`` would pay for it. Importing here, lazily, costs only the callers that load.
    from ser_tf.models.saving import load_model as _load_model

    if compile:
        # A trained model's compile state holds the optimiser, whose learning-rate schedule may be
        # ser_tf's WarmupThen. It is registered here, not in ser_tf.models.saving, because training
        # sits above models in the import floors (tests/test_architecture.py); this facade is on top.
        import ser_tf.training.optim  # noqa: F401

    return _load_model(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)
