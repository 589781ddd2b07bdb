"""Atomic file writes: an artefact is either complete or absent, never half-written."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path``.

    The temporary file keeps ``path``'s suffix, so writers that pick a format from the suffix
    (Keras's ``.keras``/``.h5``/``.weights.h5``) still work. A full disk (``ENOSPC``, ``EDQUOT``)
    raises :class:`ser_tf.errors.DiskFullError` naming ``path``; ``path`` keeps its old content.
    """
    path = Path(path)
    suffix = ".weights.h5" if path.name.endswith(".weights.h5") else path.suffix
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=suffix, dir=path.parent)
    except OSError as err:
        _raise_if_full(err, path)
        raise
    os.close(fd)
    os.unlink(tmp)  # writers such as h5py refuse to overwrite an existing empty file
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except OSError as err:
        _raise_if_full(err, path)
        raise
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _raise_if_full(err: OSError, path: Path) -> None:
    # h5py reports a full disk as a plain OSError whose text carries the errno, not in .errno.
    if err.errno in (errno.ENOSPC, errno.EDQUOT) or "No space left on device" in str(err):
        from ser_tf.errors import DiskFullError

        raise DiskFullError(f"no space left on the device while writing {path}; the file keeps its "
                            "previous content (or is absent). Free some space, or write elsewhere "
                            "(--out), and run again") from err


def write_text(path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path, data, *, indent: int = 2) -> None:
    """Write ``data`` as JSON to ``path`` atomically."""
    write_text(path, json.dumps(data, indent=indent, sort_keys=False, default=_json_default) + "\n")


def copy_file(src, dst) -> None:
    """Copy ``src`` to ``dst`` atomically, with its metadata (``shutil.copy2``)."""
    import shutil

    with atomic_path(dst) as tmp:
        shutil.copy2(src, tmp)


def _json_default(value):
    # numpy scalars and arrays appear in metrics; write them as plain numbers and lists.
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} as JSON: {value!r}")


def file_sha256(path) -> str:
    """SHA-256 hex digest of the file at ``path``, read 4 MB at a time (large checkpoints too)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()
