"""The config shared by the backbones (``WhisperEncoderBackbone``, ``HubertBackbone``).

Each backbone takes ``BackboneConfigMixin``, whose ``get_config`` is
``backbone_config(self, self._CONFIG_KEYS)``: its ``name`` and ``trainable``,
the constructor arguments ``_CONFIG_KEYS`` (kept as attributes of the same names), then what every backbone
records the same way: the dtype policy it was built with (``self._dtype_arg``, serialised, only if
one was given) and the layers frozen since construction (``self._frozen_at_construction``, see
``ser_tf.models.frozen_layers``). Its ``from_config`` undoes the dtype serialisation (``from_config_kwargs``).
"""

from __future__ import annotations

from typing import FrozenSet, Iterable, Optional, Tuple

import keras

from ser_tf.models.frozen_layers import freeze_named, frozen_config, frozen_names


def backbone_config(model: keras.Model, keys: Iterable[str]) -> dict:
    """``get_config()`` of ``model``: name, trainable, ``keys`` read from its attributes, dtype, frozen layers."""
    config = {"name": model.name, "trainable": model.trainable}
    config.update((key, getattr(model, key)) for key in keys)
    return with_dtype_and_frozen(model, config, dtype_arg=model._dtype_arg,
                                 frozen_at_construction=model._frozen_at_construction)


def with_dtype_and_frozen(model: keras.Model, config: dict, *, dtype_arg: Optional[object],
                          frozen_at_construction: FrozenSet[str]) -> dict:
    """``config`` plus ``"dtype"`` (when ``dtype_arg`` is not None) and ``"frozen_layers"`` (if any)."""
    if dtype_arg is not None:
        config["dtype"] = keras.dtype_policies.serialize(keras.dtype_policies.get(dtype_arg))
    config.update(frozen_config(model, frozen_at_construction))
    return config


def from_config_kwargs(config: dict) -> dict:
    """A copy of ``config`` with a serialised ``"dtype"`` policy turned back into a policy."""
    config = dict(config)
    if isinstance(config.get("dtype"), dict):
        config["dtype"] = keras.dtype_policies.deserialize(config["dtype"])
    return config


class BackboneConfigMixin:
    """``get_config`` / ``from_config`` of a backbone: put it before ``keras.Model`` in the bases
    and list the constructor arguments to keep in ``_CONFIG_KEYS`` (in order)."""

    _CONFIG_KEYS: Tuple[str, ...] = ()

    def _record_dtype_and_frozen(self, dtype, frozen_layers: Optional[Iterable[str]]) -> None:
        """End of the constructor: keep ``dtype`` for the config, note the layers frozen by
        construction itself, then freeze ``frozen_layers`` (from a saved config) again."""
        self._dtype_arg = dtype
        self._frozen_at_construction = frozen_names(self)
        freeze_named(self, frozen_layers or ())

    def get_config(self):
        return backbone_config(self, self._CONFIG_KEYS)

    @classmethod
    def from_config(cls, config):
        return cls(**from_config_kwargs(config))
