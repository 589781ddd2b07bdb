"""TFRecord shards of a corpus: decoded 16 kHz int16 audio, its labels, and a manifest.

``python -m ser_tf.data --data ravdess=/data/r --export-tfrecord OUT --shard-size 1000`` writes::

    OUT/shard-00000-of-00002.tfrecord   one tf.train.Example per clip (FEATURES below)
    OUT/shard-00001-of-00002.tfrecord
    OUT/manifest.json                   counts, label set, clips, split assignment, shard hashes

Clips go into the shards in the data's own order (corpora as given, each sorted by path), so
shard ``j`` holds clip ids ``[j * shard_size, (j + 1) * shard_size)`` and a split part that covers
a few speakers reads only the shards they are in. The split is drawn once, at export time, and
stored in the manifest as clip ids per part; training (``--data tfrecord=DIR``) uses the stored
split and runs the leak guard (``splits.check_disjoint``) on it, so a manifest that puts a speaker
in two parts is refused, naming the speaker.

Every path goes through ``tf.io.gfile``, so ``OUT`` / ``DIR`` may be any file system TensorFlow
reads (``gs://`` built in; ``s3://`` with ``tensorflow-io``). Audio is int16 (2 bytes a sample,
half of float32): 16-bit sources round-trip exactly (``int16 / 32768`` is what the file pipeline
decodes), other formats are quantised once to 16 bits.

Opening a folder and checking its shards (size, SHA-256, records) is ``ser_tf.data.shard_files``.
"""

from __future__ import annotations

import json
import posixpath
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Sequence

import numpy as np

from ser_tf.constants import SAMPLE_RATE
from ser_tf.data.records import Record
from ser_tf.data.shard_files import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST_FILE,
    ShardSet,
    tf_gfile,
    file_sha256,
    shard_name,
)
from ser_tf.data.splits import Split, check_disjoint
from ser_tf.errors import DataError, ParameterError

DEFAULT_SHARD_SIZE = 1000  # clips per shard: ~100 MB of 3 s int16 clips, a good size for gs://
INT16_SCALE = 32768.0  # int16 / 32768 = the float samples the file pipeline decodes
DECODE_WORKERS = 4  # threads decoding source files while exporting (libsndfile drops the GIL)
# What each tf.train.Example holds. "index" is the clip id (the position in manifest["clips"]).
FEATURES = ("audio", "index", "label", "emotion", "speaker", "corpus", "path", "sample_rate")


def _to_int16(wave: np.ndarray) -> np.ndarray:
    return np.clip(np.round(wave * INT16_SCALE), -32768, 32767).astype("<i2")


def _example(wave: np.ndarray, index: int, label: int, record: Record, sample_rate: int) -> bytes:
    import tensorflow as tf

    def b(value: str):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value.encode("utf-8")]))

    def i(value: int):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))

    features = {
        "audio": tf.train.Feature(bytes_list=tf.train.BytesList(value=[_to_int16(wave).tobytes()])),
        "index": i(index), "label": i(label), "emotion": b(record.emotion),
        "speaker": b(record.speaker), "corpus": b(record.corpus), "path": b(record.path),
        "sample_rate": i(sample_rate),
    }
    return tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString()


def export_shards(
    records: Sequence[Record],
    *,
    classes: Sequence[str],
    out: str,
    splits: Sequence[Split] = (),
    shard_size: int = DEFAULT_SHARD_SIZE,
    sample_rate: int = SAMPLE_RATE,
    label_set_name: str = "custom",
    extra: Optional[dict] = None,
) -> dict:
    """Decode ``records`` and write them as TFRecord shards plus ``manifest.json`` under ``out``.

    Args:
        records: the clips, in the order they get their ids (``load_data``'s order).
        classes: the label set's classes; a record's label is the index of its ``emotion``.
        out: folder to write (created; any ``tf.io.gfile`` path). Must hold no manifest yet.
        splits: the splits to store (``make_splits``); each is leak-checked first. None: no split.
        shard_size: clips per shard (> 0).
        sample_rate: Hz; every clip is decoded (and resampled) to it.
        label_set_name: recorded in the manifest.
        extra: more JSON-able entries for the manifest (corpus roots, drop counts...).

    Returns:
        the manifest written.

    Raises:
        ParameterError: ``shard_size`` < 1, no records, an emotion outside ``classes``.
        DataError: ``out`` already holds a manifest, a split is not disjoint (leak guard), a
            split names a clip that is not among ``records``.
        AudioError: a source file cannot be decoded (names it).
    """
    from ser_tf.data.audio_io import load_audio
    import tensorflow as tf

    if isinstance(shard_size, bool) or not isinstance(shard_size, int) or shard_size < 1:
        raise ParameterError(f"shard_size must be an integer >= 1 (clips per shard), got {shard_size!r}")
    records = list(records)
    if not records:
        raise ParameterError("export_shards needs at least one record, got none")
    index_of = {c: k for k, c in enumerate(classes)}
    outside = sorted({r.emotion for r in records} - set(index_of))
    if outside:
        raise ParameterError(f"emotions {outside} are not among the classes {list(classes)}")
    gfile = tf_gfile()
    manifest_path = posixpath.join(out, MANIFEST_FILE)
    if gfile.exists(manifest_path):
        raise DataError(f"{manifest_path} already exists; export into a new or empty folder")
    ids = {r.path: k for k, r in enumerate(records)}
    stored_splits = [_split_entry(split, ids) for split in splits]
    gfile.makedirs(out)

    n_shards = -(-len(records) // shard_size)
    shards, samples = [], []
    with ThreadPoolExecutor(max_workers=DECODE_WORKERS) as pool:
        for j in range(n_shards):
            chunk = range(j * shard_size, min(len(records), (j + 1) * shard_size))
            path = posixpath.join(out, shard_name(j, n_shards))
            waves = pool.map(lambda k: load_audio(records[k].path, sample_rate=sample_rate), chunk)
            with tf.io.TFRecordWriter(path) as writer:
                for k, wave in zip(chunk, waves):
                    writer.write(_example(wave, k, index_of[records[k].emotion], records[k], sample_rate))
                    samples.append(int(len(wave)))
            shards.append({"file": shard_name(j, n_shards), "first": chunk[0], "clips": len(chunk),
                           "bytes": int(gfile.stat(path).length), "sha256": file_sha256(path)})
    manifest = {
        "format": FORMAT, "version": FORMAT_VERSION, "sample_rate": int(sample_rate),
        "dtype": "int16", "shard_size": shard_size,
        "label_set": {"name": label_set_name, "classes": list(classes)},
        "counts": {
            "clips": len(records), "shards": n_shards, "samples": int(sum(samples)),
            "speakers": len({r.speaker for r in records}),
            "per_class": dict(Counter(r.emotion for r in records)),
            "per_corpus": dict(Counter(r.corpus for r in records)),
        },
        "shards": shards,
        "clips": [{**_record_entry(r), "samples": n} for r, n in zip(records, samples)],
        "splits": stored_splits,
        **(extra or {}),
    }
    with gfile.GFile(manifest_path, "w") as fh:
        fh.write(json.dumps(manifest, indent=1))
    return manifest


def _record_entry(record: Record) -> dict:
    entry = record.to_dict()
    entry.pop("header", None)  # a fact about the source file; the shards hold decoded audio
    return entry


def _split_entry(split: Split, ids: Dict[str, int]) -> dict:
    check_disjoint(split)
    parts = {}
    for part, recs in split.parts().items():
        missing = [r.path for r in recs if r.path not in ids]
        if missing:
            raise DataError(f"split {split.name!r} {part} holds clips that are not exported, e.g. {missing[:3]}")
        parts[part] = [ids[r.path] for r in recs]
    return {"name": split.name, "method": split.method, "seed": split.seed,
            "val_from_train_speakers": split.val_from_train_speakers, "parts": parts}


def stored_splits(shard_set: ShardSet, records: Sequence[Record], *, method: Optional[str] = None,
                  only_folds: Optional[Sequence[int]] = None) -> List[Split]:
    """The splits stored in the manifest, restricted to ``records`` (the clips a label set kept),
    each passed through the leak guard.

    Args:
        method: the split method the run asks for; must be the stored one (None: any).
        only_folds: 1-based fold numbers to keep (None or empty: all).

    Raises:
        DataError: no split stored, another method than ``method``, a fold out of range, a clip id
            out of range, or a split whose parts share a speaker or a file (names them).
    """
    stored = shard_set.manifest.get("splits") or []
    where = posixpath.join(shard_set.root, MANIFEST_FILE)
    if not stored:
        raise DataError(f"{where} stores no split; export again with --split speaker|kfold|loso|random")
    if method is not None and stored[0]["method"] != method:
        raise DataError(f"{where} stores a {stored[0]['method']!r} split but the run asks for "
                        f"{method!r}; pass --split {stored[0]['method']} or export again with --split {method}")
    if only_folds:
        bad = [n for n in only_folds if not 1 <= n <= len(stored)]
        if bad:
            raise DataError(f"folds {bad} out of range: {where} stores folds 1..{len(stored)}")
        stored = [stored[n - 1] for n in only_folds]
    keep = {r.path for r in records}
    splits = []
    for entry in stored:
        parts = {}
        for part, ids in entry["parts"].items():
            bad = [i for i in ids if not 0 <= int(i) < len(shard_set.records)]
            if bad:
                raise DataError(f"{where}: split {entry['name']!r} {part} names clip ids {bad[:5]} "
                                f"outside 0..{len(shard_set.records) - 1}")
            parts[part] = [shard_set.records[i] for i in ids if shard_set.records[i].path in keep]
        split = Split(entry["name"], method=entry["method"], seed=entry.get("seed"),
                      val_from_train_speakers=bool(entry.get("val_from_train_speakers")), **parts)
        try:
            check_disjoint(split)
        except DataError as err:
            raise DataError(f"{where}: {err}") from None
        splits.append(split)
    return splits


