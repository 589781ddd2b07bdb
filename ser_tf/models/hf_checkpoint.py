"""Reading a local Hugging Face checkpoint folder: configs and tensors, without torch if possible.

Shared by the model families (HuBERT / wav2vec 2.0, Whisper); each family checks the
``model_type`` of the ``config.json`` it reads with ``read_config_json``.

``model.safetensors`` is parsed directly (an 8-byte header size, a JSON header, raw little-endian
data), which keeps the ``safetensors`` package out of the runtime requirements;
``pytorch_model.bin`` needs torch, imported only then, and is read with
``torch.load(weights_only=True)``: its unpickler rebuilds tensors and plain containers only, so a
file carrying code (a ``__reduce__`` that calls a function) is refused, never run. Sharded
``*.index.json`` checkpoints are read shard by shard.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Dict, Optional

import numpy as np

from ser_tf.errors import ModelError

_SAFETENSORS_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "BF16": "bfloat16"}


def read_config_json(folder, *, kind: str = "HF checkpoint") -> dict:
    """``config.json`` of an HF checkpoint folder, parsed (``model_type`` not checked).

    ``kind`` names the expected folder in the message for a missing ``config.json``
    (``"expected an {kind} folder with config.json"``).

    Raises:
        ModelError: no folder, no or invalid ``config.json``.
    """
    folder = Path(folder)
    path = folder / "config.json"
    if not folder.is_dir():
        raise ModelError(f"checkpoint folder {str(folder)!r} does not exist")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{str(path)!r} is missing: expected an {kind} folder with config.json") from None
    except json.JSONDecodeError as err:
        raise ModelError(f"{str(path)!r} is not valid JSON: {err}") from None


def read_preprocessor_config(folder) -> Optional[dict]:
    """``preprocessor_config.json`` of the folder, or None if absent."""
    path = Path(folder) / "preprocessor_config.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ModelError(f"{str(path)!r} is not valid JSON: {err}") from None


def read_safetensors(path) -> Dict[str, np.ndarray]:
    """All tensors of a ``.safetensors`` file as numpy arrays (float32 for bf16/fp16).

    The format is an 8-byte little-endian header size, a JSON header of ``{name: {dtype, shape,
    data_offsets}}``, then raw little-endian data; reading it directly keeps the ``safetensors``
    package out of the runtime requirements.
    """
    path = Path(path)
    with open(path, "rb") as handle:
        try:
            (size,) = struct.unpack("<Q", handle.read(8))
            header = json.loads(handle.read(size))
        except (struct.error, ValueError) as err:
            raise ModelError(f"{str(path)!r} is not a safetensors file: {err}") from None
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + size)
    tensors = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        dtype = _SAFETENSORS_DTYPES.get(spec["dtype"])
        if dtype is None:
            raise ModelError(f"{str(path)!r}: tensor {name!r} has unsupported dtype {spec['dtype']!r}")
        if dtype == "bfloat16":
            import ml_dtypes  # installed with TensorFlow

            dtype = ml_dtypes.bfloat16
        start, end = spec["data_offsets"]
        array = np.frombuffer(data[start:end], dtype=dtype).reshape(spec["shape"])
        # Half precision is widened to float32; everything is copied out of the memory map.
        half = spec["dtype"] in ("F16", "BF16")
        tensors[name] = array.astype(np.float32) if half else np.array(array)
    return tensors


def _read_torch_bin(path) -> Dict[str, np.ndarray]:
    try:
        import torch
    except ImportError:
        raise ModelError(
            f"{str(path)!r} is a PyTorch pickle; reading it needs torch (pip install torch), or "
            "download the checkpoint's model.safetensors instead"
        ) from None
    try:
        # weights_only: never unpickle arbitrary objects; a pickle naming any other callable is refused.
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 -- UnpicklingError, RuntimeError, zip errors: all "refused"
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelError(f"{str(path)!r} was refused: not a plain tensor checkpoint, or one that would run "
                         f"code on loading ({reason}); use the checkpoint's model.safetensors") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelError(f"{str(path)!r}: expected a state dict of tensors, got {type(state).__name__}")
    return {k: v.detach().float().numpy() if v.is_floating_point() else v.numpy() for k, v in state.items()}


def read_hf_state_dict(folder) -> Dict[str, np.ndarray]:
    """The checkpoint's tensors by HF name: ``model.safetensors`` first, then ``pytorch_model.bin``
    (sharded ``*.index.json`` variants included).

    Raises:
        ModelError: the folder holds no weight file.
    """
    folder = Path(folder)
    for single, index, reader in (
        ("model.safetensors", "model.safetensors.index.json", read_safetensors),
        ("pytorch_model.bin", "pytorch_model.bin.index.json", _read_torch_bin),
    ):
        if (folder / single).is_file():
            return reader(folder / single)
        if (folder / index).is_file():
            shards = sorted(set(json.loads((folder / index).read_text())["weight_map"].values()))
            state = {}
            for shard in shards:
                state.update(reader(folder / shard))
            return state
    raise ModelError(
        f"checkpoint folder {str(folder)!r} has no weights: expected model.safetensors or pytorch_model.bin "
        f"(found {sorted(p.name for p in folder.iterdir())})"
    )
