"""Which layers of a backbone are frozen, kept in its config so that a saved model reloads as saved.

A backbone (a functional ``keras.Model`` subclass built from keyword arguments) is rebuilt from its
``get_config()`` when a ``.keras`` / ``.h5`` file is loaded, so the ``trainable`` flags set on its
layers after construction (``ser_tf.models.transfer.freeze_encoder``, HuBERT's ``freeze_layers``
and feature-encoder schedule) are lost unless the config records them. Legacy ``.h5`` files need
them back: they store a layer's weights as ``trainable_weights + non_trainable_weights``, an order
that depends on the flags, and a reloaded model with other flags gets its weights shuffled (Keras
then fails on the first shape mismatch). The backbones put ``frozen_layers`` (the names of the
layers frozen since construction) in their config and freeze them again when rebuilt.
"""

from __future__ import annotations

from typing import FrozenSet, Iterable

import keras

from ser_tf.errors import ParameterError

CONFIG_KEY = "frozen_layers"


def frozen_names(model: keras.Model) -> FrozenSet[str]:
    """Names of the layers of ``model``'s graph whose ``trainable`` is False."""
    return frozenset(layer.name for layer in model.layers if not layer.trainable)


def freeze_named(model: keras.Model, names: Iterable[str]) -> None:
    """Set ``trainable = False`` on the layers of ``model`` named ``names``.

    Raises:
        ParameterError: a name that is not a layer of ``model`` (the message lists them).
    """
    layers = {layer.name: layer for layer in model.layers}
    for name in names:
        if name not in layers:
            raise ParameterError(f"{model.name}: frozen_layers names {name!r}, which is not one of its layers "
                                 f"{sorted(layers)}")
        layers[name].trainable = False


def frozen_config(model: keras.Model, at_construction: FrozenSet[str]) -> dict:
    """``{"frozen_layers": [...]}`` for ``get_config``: the layers frozen since construction (none
    if ``model`` itself is frozen, which its own ``trainable`` records); ``{}`` when there are none."""
    if not model.trainable:
        return {}
    names = sorted(frozen_names(model) - at_construction)
    return {CONFIG_KEY: names} if names else {}
