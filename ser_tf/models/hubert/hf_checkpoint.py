"""HuBERT / wav2vec 2.0 Hugging Face checkpoint folders: the ``config.json`` with a supported
``model_type``; the generic folder readers (tensors, preprocessor config) are
``ser_tf.models.hf_checkpoint``'s, re-exported here.
"""

from __future__ import annotations

from pathlib import Path

from ser_tf.errors import ModelError
from ser_tf.models.hf_checkpoint import (  # noqa: F401 - re-exported for convenience
    read_config_json,
    read_hf_state_dict,
    read_preprocessor_config,
    read_safetensors,
)

SUPPORTED_MODEL_TYPES = ("hubert", "wav2vec2")


def read_hf_config(folder) -> dict:
    """``config.json`` of an HF checkpoint folder, with a supported ``model_type``.

    Raises:
        ModelError: no folder, no or invalid ``config.json``, or a ``model_type`` other than
            ``hubert`` / ``wav2vec2``.
    """
    config = read_config_json(folder)
    model_type = config.get("model_type")
    if model_type not in SUPPORTED_MODEL_TYPES:
        path = Path(folder) / "config.json"
        raise ModelError(
            f"{str(path)!r}: model_type {model_type!r} is not supported; expected one of {SUPPORTED_MODEL_TYPES}"
        )
    return config
