"""Reading a CTranslate2 model folder (``model.bin`` + ``config.json``) with NumPy only.

The format is the one ``ctranslate2/specs/model_spec.py`` (``ModelSpec._serialize``, binary
version 6) writes, all integers little-endian::

    uint32 binary_version                      (6)
    string spec_name                           ("WhisperSpec" for Whisper)
    uint32 spec_revision                       (3 for Whisper)
    uint32 num_variables
    num_variables x:
        string name                            ("encoder/layer_0/ffn/linear_0/weight", ...)
        uint8  rank; rank x uint32 dims
        uint8  dtype id                        (0 float32, 1 int8, 2 int16, 3 int32, 4 float16, 5 bfloat16)
        uint32 num_bytes; num_bytes of raw data (C order)
    uint32 num_aliases
    num_aliases x: string alias, string target  (a variable equal to an earlier one is stored once)

where ``string`` is a uint16 length (including a trailing NUL), the UTF-8 bytes and the NUL.
Quantised weights (``int8*``: int8 values and a float32 ``<name>_scale`` with one scale per output
row; ``int16``: one scalar scale) are dequantised as ``value / scale``. Nothing here imports
``ctranslate2``.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, Tuple

import numpy as np

from ser_tf.errors import ModelError

SUPPORTED_BINARY_VERSIONS = (6,)
WHISPER_SPEC_NAME = "WhisperSpec"
# DataType enum of include/ctranslate2/types.h, in id order (model_spec._dtype_to_type_id).
_DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")


@dataclass(frozen=True)
class _Entry:
    offset: int  # of the raw data in the file
    shape: Tuple[int, ...]
    dtype: str
    num_bytes: int


class CT2Model:
    """The variables of a CTranslate2 ``model.bin``, read lazily from a memory map.

    Attributes:
        path: the ``model.bin`` file.
        binary_version, spec_name, spec_revision: from the header.
        config: the folder's ``config.json``.

    Raises (on construction):
        ModelError: missing files, an unreadable or truncated ``model.bin``, or an unsupported
            binary version; the message names the path and what was expected.
    """

    def __init__(self, folder):
        folder = Path(folder)
        if not folder.is_dir():
            raise ModelError(f"CTranslate2 folder {str(folder)!r} does not exist")
        self.path = folder / "model.bin"
        config_path = folder / "config.json"
        missing = [p.name for p in (self.path, config_path) if not p.is_file()]
        if missing:
            raise ModelError(
                f"{str(folder)!r} is not a CTranslate2 model folder: missing {missing} "
                f"(expected model.bin and config.json; found {sorted(p.name for p in folder.iterdir())})"
            )
        try:
            self.config = json.loads(config_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise ModelError(f"{str(config_path)!r} is not valid JSON: {err}") from None
        self._size = self.path.stat().st_size
        self._entries: Dict[str, _Entry] = {}
        self._aliases: Dict[str, str] = {}
        with open(self.path, "rb") as handle:
            self._parse(handle)
        self._data = np.memmap(self.path, dtype=np.uint8, mode="r") if self._size else None

    # -- header -----------------------------------------------------------------------------

    def _read(self, handle, num_bytes: int, what: str) -> bytes:
        data = handle.read(num_bytes)
        if len(data) != num_bytes:
            raise ModelError(
                f"{str(self.path)!r} is truncated: expected {num_bytes} more bytes for {what} at offset "
                f"{handle.tell() - len(data)}, but the file has {self._size} bytes"
            )
        return data

    def _uint(self, handle, fmt: str, what: str) -> int:
        return struct.unpack(fmt, self._read(handle, struct.calcsize(fmt), what))[0]

    def _string(self, handle, what: str) -> str:
        length = self._uint(handle, "<H", what)
        raw = self._read(handle, length, what)
        try:
            return raw.rstrip(b"\0").decode("utf-8")
        except UnicodeDecodeError:
            raise ModelError(f"{str(self.path)!r}: {what} is not UTF-8 text; not a CTranslate2 model.bin") from None

    def _parse(self, handle) -> None:
        self.binary_version = self._uint(handle, "<I", "the binary version")
        if self.binary_version not in SUPPORTED_BINARY_VERSIONS:
            raise ModelError(
                f"{str(self.path)!r}: CTranslate2 binary version {self.binary_version} is not supported "
                f"(expected one of {SUPPORTED_BINARY_VERSIONS}); re-convert the model with ctranslate2 >= 3"
            )
        self.spec_name = self._string(handle, "the spec name")
        self.spec_revision = self._uint(handle, "<I", "the spec revision")
        count = self._uint(handle, "<I", "the variable count")
        for index in range(count):
            name = self._string(handle, f"the name of variable {index}")
            rank = self._uint(handle, "<B", f"the rank of {name!r}")
            shape = tuple(self._uint(handle, "<I", f"the shape of {name!r}") for _ in range(rank))
            type_id = self._uint(handle, "<B", f"the dtype of {name!r}")
            if type_id >= len(_DTYPES):
                raise ModelError(
                    f"{str(self.path)!r}: variable {name!r} has unknown dtype id {type_id} "
                    f"(known: {dict(enumerate(_DTYPES))})"
                )
            num_bytes = self._uint(handle, "<I", f"the size of {name!r}")
            offset = handle.tell()
            if offset + num_bytes > self._size:
                raise ModelError(
                    f"{str(self.path)!r} is truncated: variable {name!r} needs bytes {offset}..{offset + num_bytes}, "
                    f"but the file has {self._size} bytes"
                )
            dtype = _DTYPES[type_id]
            expected = int(np.prod(shape, dtype=np.int64)) * _itemsize(dtype)
            if expected != num_bytes:
                raise ModelError(
                    f"{str(self.path)!r}: variable {name!r} of shape {shape} and dtype {dtype} should take "
                    f"{expected} bytes, the file says {num_bytes}"
                )
            self._entries[name] = _Entry(offset, shape, dtype, num_bytes)
            handle.seek(num_bytes, 1)
        alias_count = self._uint(handle, "<I", "the alias count")
        for _ in range(alias_count):
            alias = self._string(handle, "an alias name")
            self._aliases[alias] = self._string(handle, f"the target of alias {alias!r}")

    # -- variables --------------------------------------------------------------------------

    def names(self) -> Iterator[str]:
        """Every variable name, aliases included."""
        yield from self._entries
        yield from self._aliases

    def __contains__(self, name: str) -> bool:
        return name in self._entries or name in self._aliases

    def dtype(self, name: str) -> str:
        """Storage dtype of ``name`` (``float16``, ``int8``, ...)."""
        return self._entries[self._resolve(name)].dtype

    def _resolve(self, name: str) -> str:
        seen = set()
        while name in self._aliases:
            if name in seen:
                raise ModelError(f"{str(self.path)!r}: alias cycle through {name!r}")
            seen.add(name)
            name = self._aliases[name]
        if name not in self._entries:
            raise ModelError(f"{str(self.path)!r} has no variable {name!r}")
        return name

    def raw(self, name: str) -> np.ndarray:
        """Variable ``name`` as stored (aliases followed), copied out of the memory map."""
        entry = self._entries[self._resolve(name)]
        if entry.dtype == "bfloat16":
            import ml_dtypes  # installed with TensorFlow

            dtype = ml_dtypes.bfloat16
        else:
            dtype = np.dtype(entry.dtype).newbyteorder("<")
        flat = np.frombuffer(self._data[entry.offset:entry.offset + entry.num_bytes], dtype=dtype)
        return np.array(flat.reshape(entry.shape))

    def float32(self, name: str) -> np.ndarray:
        """Variable ``name`` as float32, dequantised when stored as int8 / int16 with a scale.

        int8 weights carry ``<name>_scale`` (one float per output row, ``value = q / scale``);
        int16 weights a scalar scale.

        Raises:
            ModelError: an integer weight without a scale, or a quantisation this reader does not
                know (e.g. AWQ's ``<name>_zero``); the message names the variable.
        """
        stored = self.raw(name)
        dtype = self.dtype(name)
        if dtype in ("float32", "float16", "bfloat16"):
            return stored.astype(np.float32)
        if f"{name}_zero" in self:
            raise ModelError(
                f"{str(self.path)!r}: variable {name!r} uses a zero-point (AWQ) quantisation, which is not "
                "supported; convert the model with quantization float32, float16, bfloat16, int8* or int16"
            )
        scale_name = f"{name}_scale"
        if dtype in ("int8", "int16") and scale_name in self:
            scale = self.raw(scale_name).astype(np.float32)
            values = stored.astype(np.float32)
            if scale.ndim == 0 or scale.size == 1:
                return values / scale.reshape(())
            # One scale per output row (axis 0); conv kernels (out, in, k) included.
            return values / scale.reshape((-1,) + (1,) * (values.ndim - 1))
        raise ModelError(
            f"{str(self.path)!r}: variable {name!r} is stored as {dtype} without a '{scale_name}' variable; "
            "expected float32/float16/bfloat16 or CTranslate2's int8/int16 quantisation with a scale"
        )


def _itemsize(dtype: str) -> int:
    return {"float32": 4, "int8": 1, "int16": 2, "int32": 4, "float16": 2, "bfloat16": 2}[dtype]


def read_ct2_model(folder, *, expected_spec: str = WHISPER_SPEC_NAME) -> CT2Model:
    """Open a CTranslate2 model folder and check its spec name.

    Raises:
        ModelError: see ``CT2Model``; or the header's spec name is not ``expected_spec`` (e.g. a
            translation model's ``TransformerSpec``).
    """
    model = CT2Model(folder)
    if model.spec_name != expected_spec:
        raise ModelError(
            f"{str(model.path)!r} holds a CTranslate2 {model.spec_name!r} model; expected {expected_spec!r} "
            "(a Whisper model converted with ctranslate2's TransformersConverter or faster-whisper)"
        )
    return model
