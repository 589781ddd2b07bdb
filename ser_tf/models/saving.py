"""Loading a saved ser_tf model: the one place that knows which modules register its classes.

A ``.keras`` / ``.h5`` file written by ser_tf names its custom classes (``ser_tf>LogMelSpectrogram``,
``ser_tf>AttentionPooling``, ...) and Keras can rebuild them only once the modules holding their
``@keras.saving.register_keras_serializable(package="ser_tf")`` decorators have been imported.
``register_serializables`` imports them all; ``load_model`` does that, then calls
``keras.saving.load_model``. Users reach it as ``ser_tf.load_model(path)``, which also registers
the one serializable of a higher floor, the optimiser's learning-rate schedule
(``ser_tf.training.optim.WarmupThen``, needed only with ``compile=True``); ``ser_tf.inference``
loads through this module with ``compile=False``.
"""

from __future__ import annotations


def register_serializables() -> None:
    """Import every module that registers a ser_tf class with ``keras.saving`` (idempotent).

    That is the layers, every model family (``ser_tf.models.registry`` lists them; importing a
    family registers its layers) and HuBERT's pretraining graph, which no family imports.
    """
    import ser_tf.layers  # noqa: F401
    import ser_tf.models.hubert.masked_prediction  # noqa: F401
    from ser_tf.models.registry import _load_families

    _load_families()


def load_model(filepath, custom_objects=None, compile: bool = True, safe_mode: bool = True):
    """``keras.saving.load_model`` with every ser_tf class registered first.

    Args:
        filepath: a ``.keras`` archive or a legacy ``.h5`` / ``.hdf5`` file.
        custom_objects, compile, safe_mode: as in ``keras.saving.load_model``; safe mode stays on
            by default, so a file holding Python bytecode (a ``Lambda`` layer) is refused.

    Returns:
        The ``keras.Model``. A ser_tf classifier maps a raw 16 kHz waveform batch
        ``(batch, samples)`` in [-1, 1] to class probabilities ``(batch, num_classes)``.
    """
    register_serializables()
    import keras

    return keras.saving.load_model(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)
