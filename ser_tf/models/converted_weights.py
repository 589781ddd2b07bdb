"""The converted-weights format shared by the model families: ``X.weights.h5`` + ``X.config.json``.

A converted backbone is saved as its Keras weights (``X.weights.h5``, written atomically) and,
beside them, the kwargs that rebuild its architecture (``X.config.json``: its ``get_config()``
without ``name``, ``trainable``, ``dtype`` and ``frozen_layers``). ``load_converted`` takes the
backbone class (or any callable taking those kwargs) to rebuild it. Each family's ``convert.py``
wraps these with its own backbone class.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Callable, TypeVar

import keras

from ser_tf.errors import ModelError

WEIGHTS_SUFFIX = ".weights.h5"
# get_config() entries that are not architecture and stay out of the sidecar config.
_NOT_SAVED = ("name", "trainable", "dtype", "frozen_layers")

BackboneT = TypeVar("BackboneT", bound=keras.Model)


def sidecar_config_path(weights_path) -> Path:
    """``X.config.json`` beside ``X.weights.h5``: the backbone kwargs the weights belong to."""
    weights_path = Path(weights_path)
    name = weights_path.name
    stem = name[: -len(WEIGHTS_SUFFIX)] if name.endswith(WEIGHTS_SUFFIX) else weights_path.stem
    return weights_path.with_name(stem + ".config.json")


def save_converted(backbone: keras.Model, out) -> Path:
    """Write ``backbone``'s weights to ``out`` (``X.weights.h5``) and its kwargs to ``X.config.json``.

    Raises:
        ModelError: ``out`` does not end in ``.weights.h5``.
    """
    from ser_tf.utils.io import write_json

    out = Path(out)
    if not out.name.endswith(WEIGHTS_SUFFIX):
        raise ModelError(f"output {str(out)!r} must end in '{WEIGHTS_SUFFIX}' (Keras weights file)")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:  # same filesystem: the rename is atomic
        tmp_path = Path(tmp) / out.name
        backbone.save_weights(tmp_path)
        os.replace(tmp_path, out)
    config = {k: v for k, v in backbone.get_config().items() if k not in _NOT_SAVED}
    write_json(sidecar_config_path(out), config)
    return out


def load_converted(build: Callable[..., BackboneT], path, **overrides) -> BackboneT:
    """``build(**config)`` from ``X.config.json`` (``overrides`` replacing entries), with
    ``X.weights.h5`` loaded into it.

    Raises:
        ModelError: a missing weights file or sidecar config.
    """
    path = Path(path)
    config_path = sidecar_config_path(path)
    if not path.is_file():
        raise ModelError(f"weights file {str(path)!r} does not exist")
    if not config_path.is_file():
        raise ModelError(f"{str(config_path)!r} is missing: it records the architecture of {str(path)!r}")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    backbone = build(**{**config, **overrides})
    backbone.load_weights(path)
    return backbone
