"""A disk cache of a frozen encoder's outputs, one entry per clip.

Training a head (or the top layers) on a frozen pretrained encoder runs the frozen part on the same
clips every epoch. This cache runs it once per clip and keeps the result on disk, so later epochs,
later folds of a k-fold run and later runs of the same recipe read it back::

    <cache>/encoder-states-v1/                <cache>: ser_tf.utils.paths.cache_root()
        <namespace>/                          one encoder and front-end (see EncoderCache.namespace)
            namespace.json                    what the namespace key was made of, for people
            <hh>/<content hash>.npz           one clip: states (layers, frames, dim), valid (frames)

The namespace is a hash of the encoder's fingerprint (its weights and front-end config, from
``ser_tf.models.transfer.encoder_fingerprint``), the sample rate, the clip duration, the crop mode
and the storage precision; the entry name is the SHA-256 of the decoded, cropped float32 waveform
that went into the encoder. A changed checkpoint, crop or clip therefore misses, never reads stale
states.

Precision: states are stored as float16 by default. Whisper's hidden states are LayerNorm-scale
activations (|x| well below float16's 65504); float16 keeps ~3 significant digits, which moves
head probabilities by about 1e-3 and halves disk and memory (whisper tiny.en, 3 s: 5 x 150 x 384
values, 0.58 MB per clip). An entry whose values overflow float16 is stored as float32 instead,
with a warning. ``dtype="float32"`` stores exactly what the encoder computed.

Each entry holds the SHA-256 of its own states and valid count (``sha256``), checked on every read:
a changed byte the zip container does not catch is still caught. Writes are atomic (a temporary
file renamed into place), so a reader sees a whole entry or none; an entry that cannot be read
(truncated, corrupt, wrong shape) or fails its hash is removed and recomputed with a warning
naming it (an entry written before the hash existed is recomputed quietly). The
folder is bounded: after each pass the oldest entries (by last use) are removed until it holds at
most ``max_gb``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Callable, Optional, Tuple

import numpy as np

from ser_tf.errors import ConfigError
from ser_tf.utils import paths
from ser_tf.utils.io import atomic_path, write_json
from ser_tf.utils.paths import CACHE_ENV
from ser_tf.utils.progress import bar

__all__ = ["CACHE_ENV", "EncoderCache", "CacheStats", "EncodedSplit", "cache_root", "content_hash",
           "entry_sha256", "encode_dataset"]

logger = logging.getLogger(__name__)

CACHE_VERSION = 1  # bump when the entry format changes: old entries are then never read
DTYPES = ("float16", "float32")
FLOAT16_MAX = float(np.finfo(np.float16).max)


def cache_root() -> Path:
    """``encoder-states-v1`` in ser_tf's cache folder (``ser_tf.utils.paths.cache_root``)."""
    return paths.cache_root() / f"encoder-states-v{CACHE_VERSION}"


def content_hash(waveform: np.ndarray) -> str:
    """SHA-256 of a cropped clip as the encoder receives it (float32 samples and their count)."""
    wave = np.ascontiguousarray(waveform, dtype=np.float32)
    digest = hashlib.sha256(str(wave.shape).encode("ascii"))
    digest.update(wave.tobytes())
    return digest.hexdigest()


def entry_sha256(states: np.ndarray, valid: int) -> str:
    """SHA-256 of an entry's content as stored: the states' dtype, shape and bytes, and ``valid``."""
    digest = hashlib.sha256(f"{states.dtype.str}{states.shape}{int(valid)}".encode("ascii"))
    digest.update(np.ascontiguousarray(states).tobytes())
    return digest.hexdigest()


@dataclasses.dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    recovered: int = 0  # unreadable entries recomputed (also counted as misses)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


class EncoderCache:
    """The entries of one encoder + front-end + crop (one namespace folder).

    Args:
        fingerprint: the encoder's fingerprint (weights and front-end config).
        sample_rate: Hz of the clips.  duration: seconds per clip.
        crop: how clips were cut: ``"center"`` for clean clips, e.g. ``"random+augment"`` for the
            augmented training views (part of the key, so views never collide with clean clips).
        dtype: ``float16`` or ``float32``: precision of the stored states.
        root: the cache folder; default :func:`cache_root`.
        max_gb: bound of the whole cache folder (all namespaces) kept by :meth:`prune`.
    """

    def __init__(self, *, fingerprint: str, sample_rate: int, duration: float, crop: str,
                 dtype: str = "float16", root: Optional[Path] = None, max_gb: float = 50.0):
        if dtype not in DTYPES:
            raise ConfigError(f"train.encoder_cache.dtype must be one of {list(DTYPES)}, got {dtype!r}")
        if not max_gb > 0:
            raise ConfigError(f"train.encoder_cache.max_gb must be > 0, got {max_gb!r}")
        self.root = Path(root) if root is not None else cache_root()
        self.dtype = dtype
        self.max_bytes = int(max_gb * 1e9)
        self.key = {"version": CACHE_VERSION, "encoder": str(fingerprint), "sample_rate": int(sample_rate),
                    "duration": float(duration), "crop": str(crop), "dtype": dtype}
        text = json.dumps(self.key, sort_keys=True).encode("utf-8")
        self.namespace = hashlib.sha256(text).hexdigest()[:20]
        self.path = self.root / self.namespace
        self.stats = CacheStats()

    def entry_path(self, digest: str) -> Path:
        return self.path / digest[:2] / f"{digest}.npz"

    def load(self, digest: str) -> Optional[Tuple[np.ndarray, int]]:
        """``(states (layers, frames, dim), valid frame count)`` of a clip, or None (a miss).

        An unreadable entry, or one whose content fails its sha256, is removed and reported as a
        miss with a warning.
        """
        path = self.entry_path(digest)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as entry:
                if "sha256" not in entry.files:  # written before entries carried their hash
                    path.unlink(missing_ok=True)
                    return None
                states, valid, recorded = entry["states"], int(entry["valid"]), str(entry["sha256"])
            if states.ndim != 3 or not 0 <= valid <= states.shape[1]:
                raise ValueError(f"states of shape {states.shape} with {valid} valid frames")
            if entry_sha256(states, valid) != recorded:
                raise ValueError(f"its content does not match its sha256 {recorded[:16]}...")
        except Exception as err:  # zip, npy and value errors alike: recompute, never crash
            logger.warning("encoder cache: damaged or unreadable entry %s (%s); recomputing it", path, err)
            self.stats.recovered += 1
            path.unlink(missing_ok=True)
            return None
        os.utime(path)  # the last use, for prune()
        return states, valid

    def store(self, digest: str, states: np.ndarray, valid: int) -> np.ndarray:
        """Write one clip's entry atomically; returns the states as stored (the cache's dtype,
        or float32 where float16 would overflow)."""
        states = _to_storage(states, self.dtype, digest)
        path = self.entry_path(digest)
        if not self.path.joinpath("namespace.json").is_file():
            write_json(self.path / "namespace.json", self.key)
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:  # a file object: numpy appends no second suffix
                np.savez(fh, states=states, valid=np.int64(valid), sha256=np.str_(entry_sha256(states, valid)))
        return states

    def prune(self) -> int:
        """Remove the least recently used entries of the whole cache folder until it holds at most
        ``max_gb``; returns how many were removed."""
        entries = []
        for path in self.root.glob("*/*/*.npz"):
            try:
                stat = path.stat()
            except FileNotFoundError:  # another process pruned it
                continue
            entries.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in entries)
        removed = 0
        for _, size, path in sorted(entries):
            if total <= self.max_bytes:
                break
            path.unlink(missing_ok=True)
            total -= size
            removed += 1
        if removed:
            logger.warning("encoder cache: removed %d old entries to stay under %.1f GB", removed,
                           self.max_bytes / 1e9)
        return removed


def _to_storage(states: np.ndarray, dtype: str, digest: str) -> np.ndarray:
    states = np.asarray(states, dtype=np.float32)
    if dtype == "float16":
        if np.abs(states).max(initial=0.0) > FLOAT16_MAX:
            logger.warning("encoder cache: clip %s overflows float16; stored as float32", digest[:12])
            return states
        return states.astype(np.float16)
    return states


@dataclasses.dataclass
class EncodedSplit:
    """A split's clips as the encoder saw them: ``states`` ``(clips, layers, frames, dim)``,
    ``valid`` frame counts ``(clips,)``, int ``labels`` ``(clips,)``, in the dataset's order."""

    states: np.ndarray
    valid: np.ndarray
    labels: np.ndarray


def encode_dataset(dataset, *, encode: Callable, cache: EncoderCache, batch_size: int,
                   total: Optional[int] = None, desc: str = "encoding") -> EncodedSplit:
    """Encoder outputs of every clip of ``dataset``, read from ``cache`` or computed and stored.

    Args:
        dataset: ``(waveform (batch, samples), label (batch,))`` batches, as ``make_dataset``
            gives them; its order is kept.
        encode: ``waveform (batch_size, samples) -> (hidden_states (batch_size, layers, frames,
            dim), padding_mask (batch_size, frames))`` as numpy, in inference mode. It is always
            called with exactly ``batch_size`` rows (misses are padded with silence), so a
            compiled function is traced once.
        cache: where the entries live; its ``stats`` count the hits and misses.
        batch_size: rows per ``encode`` call.
        total: clips in ``dataset``, for the progress bar (stderr, terminal only; see
            ``ser_tf.utils.progress``).
        desc: the bar's label.
    """
    states, valid, labels = [], [], []
    with bar(desc=desc, total=total, unit="clip") as clips_bar:
        for waves, batch_labels in dataset:
            _encode_batch(np.asarray(waves, dtype=np.float32), encode=encode, cache=cache, batch_size=batch_size,
                          states=states, valid=valid)
            labels.append(np.asarray(batch_labels))
            clips_bar.update(len(waves))
            clips_bar.set_postfix_str(f"{cache.stats.hits} cached, {cache.stats.misses} encoded")
    cache.prune()
    dtype = np.result_type(*{s.dtype for s in states}) if states else np.float16
    return EncodedSplit(
        states=np.stack([s.astype(dtype, copy=False) for s in states]) if states else np.zeros((0,), dtype),
        valid=np.asarray(valid, np.int32),
        labels=np.concatenate(labels).astype(np.int32) if labels else np.zeros(0, np.int32),
    )


def _encode_batch(waves: np.ndarray, *, encode: Callable, cache: EncoderCache, batch_size: int,
                  states: list, valid: list) -> None:
    """Append the cached or freshly encoded outputs of one batch of clips to ``states``/``valid``."""
    digests = [content_hash(w) for w in waves]
    rows = [cache.load(d) for d in digests]
    missing = [i for i, row in enumerate(rows) if row is None]
    cache.stats.hits += len(rows) - len(missing)
    cache.stats.misses += len(missing)
    for start in range(0, len(missing), batch_size):
        chunk = missing[start:start + batch_size]
        padded = np.zeros((batch_size, waves.shape[1]), np.float32)
        padded[:len(chunk)] = waves[chunk]
        hidden, mask = encode(padded)
        for j, i in enumerate(chunk):
            count = int(np.asarray(mask[j]).astype(bool).sum())
            rows[i] = (cache.store(digests[i], np.asarray(hidden[j]), count), count)
    states.extend(r[0] for r in rows)
    valid.extend(r[1] for r in rows)
