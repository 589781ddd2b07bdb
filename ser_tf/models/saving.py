"""Loading a saved ser_tf model: the one place that knows which modules register its classes.

A ``.keras`` / ``.h5`` file written by ser_tf names its custom classes (``ser_tf>LogMelSpectrogram``,
``ser_tf>AttentionPooling``, ...) and Keras can rebuild them only once the modules holding their
``@keras.saving.register_keras_serializable(package="ser_tf")`` decorators have been imported.
``register_serializables`` imports them all; ``load_model`` does that, then calls
``keras.saving.load_model``. Users reach it as ``ser_tf.load_keras_model(path)``, which also registers
the one serializable of a higher floor, the optimiser's learning-rate schedule
(``ser_tf.training.optim.WarmupThen``, needed only with ``compile=True``); ``ser_tf.inference``
loads through this module with ``compile=False``.
"""

from __future__ import annotations

from typing import Mapping

from ser_tf.errors import ModelError


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



def architecture_differences(expected: Mapping, found: Mapping) -> str:
    """``"num_layers: 2 (preset 4), ..."``: the keys of ``expected`` (a preset's shape-defining
    kwargs) whose value in ``found`` (a checkpoint's) differs, for an error message; ``""`` if none."""
    differ = sorted(k for k in expected if expected[k] != found.get(k))
    return ", ".join(f"{k}: {found.get(k)!r} (preset {expected[k]!r})" for k in differ)


def count_h5_variables(path) -> int:
    """Arrays stored in a Keras ``.weights.h5`` file.

    Raises:
        ModelError: ``path`` is not an HDF5 file.
    """
    import h5py

    count = 0

    def visit(name, obj):
        nonlocal count
        count += isinstance(obj, h5py.Dataset)

    try:
        with h5py.File(path, "r") as handle:
            handle.visititems(visit)
    except OSError as err:
        raise ModelError(f"{str(path)!r} is not a Keras weights file: {err}") from None
    return count


def load_weights_exactly(model, path, *, into: str) -> None:
    """``model.load_weights(path)`` for a ``.weights.h5`` that must hold exactly ``model``'s variables.

    Keras ignores extra variables in a weights file and leaves layers the file lacks at their
    initial values (with only a warning), so the variables are counted first.

    Args:
        model: the model to load into.
        path: the ``.weights.h5`` file.
        into: what ``model`` is, for the messages (e.g. ``"preset 'hubert_tiny'"``).

    Raises:
        ModelError: another number of variables, or shapes Keras refuses; the message names the
            file, ``into`` and both counts.
    """
    stored = count_h5_variables(path)
    if stored != len(model.weights):
        raise ModelError(f"cannot load {str(path)!r} into {into}: the file holds {stored} variables, "
                         f"{into} has {len(model.weights)}")
    try:
        model.load_weights(path)
    except Exception as err:  # Keras raises ValueError/KeyError variants on mismatched files
        raise ModelError(f"cannot load {str(path)!r} into {into}: {err}") from err
