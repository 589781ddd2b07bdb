"""The files of a shard folder: its manifest, and the checks that name a bad shard.

``ser_tf.data.shards`` writes the folder and reads back its split; this module only opens and
checks it, so that ``load_data`` (``--data tfrecord=DIR``) can read a manifest without the split
machinery. Every path goes through ``tf.io.gfile`` (local, ``gs://``, ``s3://`` with its plug-in).

A shard is checked three ways: its size against the manifest before training reads it
(:func:`check_shard_sizes`: cheap, catches truncation, works on remote file systems), its SHA-256
and record count by :func:`verify_shards` (``python -m ser_tf.data --data tfrecord=DIR --verify``),
and TensorFlow's per-record CRC while reading. Each failure names the shard.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import posixpath
from typing import Dict, List, Optional, Sequence

import numpy as np

from ser_tf.data.records import Record
from ser_tf.errors import DataError

TFRECORD = "tfrecord"  # the --data kind: tfrecord=DIR
MANIFEST_FILE = "manifest.json"
FORMAT = "ser_tf.tfrecord"
FORMAT_VERSION = 1
HASH_CHUNK = 8 * 1024 * 1024


@dataclasses.dataclass
class ShardSet:
    """A folder of shards and its manifest, as read by :func:`open_shards`.

    Attributes:
        root: the folder (a local path or a ``tf.io.gfile`` URL).
        manifest: the manifest, as stored.
        records: one ``Record`` per clip id; ``path`` is the source file at export time (it need
            not exist any more: the audio is in the shards).
    """

    root: str
    manifest: dict
    records: List[Record]

    @property
    def sample_rate(self) -> int:
        return int(self.manifest["sample_rate"])

    @property
    def shard_files(self) -> List[str]:
        return [posixpath.join(self.root, s["file"]) for s in self.manifest["shards"]]

    def clip_ids(self) -> Dict[str, int]:
        """``{source path: clip id}``."""
        return {r.path: i for i, r in enumerate(self.records)}

    def shards_of(self, ids: Sequence[int]) -> List[int]:
        """Sorted indices of the shards that hold any of the clip ids ``ids``."""
        starts = np.asarray([s["first"] for s in self.manifest["shards"]])
        return sorted({int(j) for j in np.searchsorted(starts, np.asarray(ids), side="right") - 1})


def tf_gfile():
    """``tf.io.gfile``, imported on first use."""
    import tensorflow as tf  # here: `python -m ser_tf.data` without shards stays TensorFlow-free

    return tf.io.gfile


def shard_name(index: int, count: int) -> str:
    return f"shard-{index:05d}-of-{count:05d}.tfrecord"


def file_sha256(path: str) -> str:
    """SHA-256 of a file read through ``tf.io.gfile`` (hex)."""
    digest = hashlib.sha256()
    with tf_gfile().GFile(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def open_shards(root: str) -> ShardSet:
    """Read ``root/manifest.json`` and check that it is a ser_tf shard manifest.

    Raises:
        DataError: no manifest, not JSON, another format or version, or inconsistent counts.
    """
    path = posixpath.join(root, MANIFEST_FILE)
    gfile = tf_gfile()
    if not gfile.exists(path):
        raise DataError(f"{root!r} holds no {MANIFEST_FILE}; expected a folder written by "
                        "`python -m ser_tf.data --export-tfrecord`")
    try:
        with gfile.GFile(path, "r") as fh:
            manifest = json.loads(fh.read())
    except (ValueError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: not a JSON manifest ({err})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise DataError(f"{path}: not a ser_tf shard manifest (format {FORMAT!r} expected)")
    if manifest.get("version") != FORMAT_VERSION:
        raise DataError(f"{path}: format version {manifest.get('version')!r}; this ser_tf reads "
                        f"version {FORMAT_VERSION}")
    _check_shard_entries(manifest, path)
    clips = manifest["clips"]
    if sum(s["clips"] for s in manifest["shards"]) != len(clips):
        raise DataError(f"{path}: the shards hold {sum(s['clips'] for s in manifest['shards'])} clips "
                        f"but the manifest lists {len(clips)}")
    return ShardSet(root=root, manifest=manifest, records=_records(clips, path))


def _count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_shard_entries(manifest: dict, path: str) -> None:
    """A hand-edited or foreign manifest fails here, naming the key, not with a KeyError later."""
    rate = manifest.get("sample_rate")
    if not _count(rate) or rate == 0:
        raise DataError(f"{path}: sample_rate must be a positive integer (Hz), got {rate!r}")
    for key in ("shards", "clips"):
        if not isinstance(manifest.get(key), list) or not all(isinstance(e, dict) for e in manifest[key]):
            raise DataError(f"{path}: {key!r} must be a list of objects, got {manifest.get(key)!r:.80}")
    first = 0
    for j, entry in enumerate(manifest["shards"]):
        if not isinstance(entry.get("file"), str) or not all(_count(entry.get(k)) for k in ("clips", "first", "bytes")):
            raise DataError(f"{path}: shard {j} needs a file name and counts clips, first, bytes >= 0, "
                            f"got {entry!r:.120}")
        if entry["first"] != first:
            raise DataError(f"{path}: shard {j} starts at clip {entry['first']}, expected {first} "
                            "(the clips of the shards before it)")
        first += entry["clips"]


def _records(clips: List[dict], path: str) -> List[Record]:
    records = []
    for i, clip in enumerate(clips):
        try:
            record = Record.from_dict({k: v for k, v in clip.items() if k != "samples"})
        except (TypeError, ValueError) as err:  # a missing or unknown field
            raise DataError(f"{path}: clip {i} is not a clip record ({err})") from None
        bad = [f for f in ("path", "emotion", "corpus_label", "speaker", "corpus")
               if not isinstance(getattr(record, f), str)]
        if bad:
            raise DataError(f"{path}: clip {i}: {', '.join(bad)} must be text, got {clip!r:.120}")
        records.append(record)
    return records


def check_shard_sizes(shard_set: ShardSet, shard_indices: Optional[Sequence[int]] = None) -> None:
    """Compare the size of each shard (default: all) with the manifest: cheap, remote-friendly,
    and enough to catch a truncated or missing shard before training starts.

    Raises:
        DataError: names every missing or wrong-sized shard with the sizes expected and found.
    """
    gfile = tf_gfile()
    entries = shard_set.manifest["shards"]
    problems = []
    for j in range(len(entries)) if shard_indices is None else shard_indices:
        path = shard_set.shard_files[j]
        if not gfile.exists(path):
            problems.append(f"{path} is missing")
            continue
        size = gfile.stat(path).length
        if size != entries[j]["bytes"]:
            problems.append(f"{path} has {size} bytes, the manifest says {entries[j]['bytes']} (truncated or rewritten)")
    if problems:
        raise DataError("bad shard(s): " + "; ".join(problems)
                        + "; run `python -m ser_tf.data --data tfrecord=DIR --verify` to check every shard")


@dataclasses.dataclass
class ShardReport:
    """What :func:`verify_shards` found: good shards and bad ones, with the reason for each."""

    good: List[str]
    bad: List[tuple]  # (shard path, reason)
    clips: int  # clips in the good shards

    @property
    def ok(self) -> bool:
        return not self.bad


def verify_shards(shard_set: ShardSet) -> ShardReport:
    """Read every shard: size, SHA-256, record count and every record's CRC and parse.

    A bad shard is reported and the others are still read, so one bad file does not hide the
    state of the rest.
    """
    import tensorflow as tf

    gfile = tf_gfile()
    good, bad, clips = [], [], 0
    for entry, path in zip(shard_set.manifest["shards"], shard_set.shard_files):
        if not gfile.exists(path):
            bad.append((path, "missing"))
            continue
        digest = file_sha256(path)
        if digest != entry["sha256"]:
            reason = f"SHA-256 {digest[:12]}... differs from the manifest's {entry['sha256'][:12]}..."
            size = gfile.stat(path).length
            if size != entry["bytes"]:
                reason = f"{size} bytes, the manifest says {entry['bytes']} (truncated?); " + reason
            bad.append((path, reason))
            continue
        try:
            count = 0
            for serialized in tf.data.TFRecordDataset(path):
                tf.train.Example.FromString(serialized.numpy())
                count += 1
        except (tf.errors.DataLossError, ValueError) as err:
            bad.append((path, f"unreadable record: {str(err).splitlines()[0]}"))
            continue
        if count != entry["clips"]:
            bad.append((path, f"{count} records, the manifest says {entry['clips']}"))
            continue
        good.append(path)
        clips += count
    return ShardReport(good=good, bad=bad, clips=clips)
