"""Load the clips a run will use: scan corpora, check every file, drop duplicates, apply labels.

``load_data(["ravdess=/data/ravdess", "tess=/data/tess"], labels="common6")`` gives a
``DataBundle``: the usable records, the label set, and an account of everything left out:

- ``skipped``: ``(path, reason)`` for files that do not fit a naming scheme (from the scanners)
  or cannot be read / hold no samples / declare a rate outside 4-384 kHz (from probing every
  file's header with ``ser_tf.data.audio_io.probe_audio``), last longer than ``MAX_CLIP_SECONDS``
  or hold NaN/Inf float samples (``check_training_clip``). One ``UnreadableAudioWarning`` counts the unreadable ones.
  Each kept record carries its probed header (``Record.header``), so the input pipeline does not
  read it again.
- ``dropped``: a ``Counter`` keyed by reason. ``"label:<emotion>"`` for clips outside the label set,
  ``"duplicate:path"`` for a file reached twice (overlapping corpus folders, symlinks),
  ``"duplicate:content"`` for byte-identical clips (same size and SHA-1 of the first 64 KiB; only
  the first is kept, since a copy on each side of a split leaks), ``"label-conflict"`` for
  identical copies whose emotions disagree (see below), and ``"<corpus>: <reason>"`` for
  what a scanner left out on request (e.g. RAVDESS songs).
- ``duplicates``: ``(dropped_path, kept_path, kind)`` for every duplicate.
- ``conflicts``: the sets of identical copies (same file, or same bytes) that carry different
  emotions, each ``(kind, ((path, emotion), ...))``. Which copy is "right" is a coin toss, so by
  default (``on_label_conflict="drop"``) every copy is dropped; ``"keep-first"`` keeps the first
  as for any duplicate, ``"error"`` raises a ``DataError`` listing them all.

No argument means the built-in demo corpus (``is_demo`` is then set, and reports say so).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ser_tf.data.audio_io import check_training_clip, probe_audio
from ser_tf.data.corpora import (
    DEMO_CORPUS_NAME,
    SkippedFilesWarning,
    corpus_names,
    resolve_corpus_name,
    scan_corpus,
)
from ser_tf.data.labels import LabelSet, apply_label_set, get_label_set
from ser_tf.data.records import Record
from ser_tf.data.shard_files import TFRECORD, ShardSet, open_shards
from ser_tf.errors import AudioError, DataError, ParameterError
from ser_tf.settings.sections import LABEL_CONFLICT_POLICIES
from ser_tf.utils.progress import progress

# Bytes hashed per file to find identical clips: enough to tell recordings apart (the header plus
# ~2 s of 16-bit 16 kHz audio), cheap enough for 10 000 files. The file size is compared as well.
HASH_BYTES = 64 * 1024
# Threads probing headers: I/O-bound, so more than the CPU count helps on network disks.
PROBE_WORKERS = 8
MAX_EXAMPLES = 3
LABEL_DROP = "label:"
DUPLICATE_PATH = "duplicate:path"
DUPLICATE_CONTENT = "duplicate:content"
LABEL_CONFLICT = "label-conflict"


class UnreadableAudioWarning(SkippedFilesWarning):
    """Some audio files could not be read (corrupt, empty) and were left out."""


class DuplicateClipsWarning(SkippedFilesWarning):
    """Some files were reached twice or are byte-identical copies; only the first is kept."""


class LabelConflictWarning(SkippedFilesWarning):
    """Some identical clips carry different emotions; all copies dropped (or the first kept)."""


@dataclasses.dataclass
class DataBundle:
    """The clips of a run and the account of what was left out (see the module docstring).

    Attributes:
        records: usable records, corpora in the order given, each sorted by path; ``emotion``
            is the label set's class name (merged emotions rewritten, ``corpus_label`` kept).
        label_set: the classes, in model-output order.
        skipped: ``(path, reason)`` of files that fit no naming scheme or could not be read.
        dropped: ``Counter`` of records left out, keyed by reason (see module docstring).
        roots: ``{corpus: folder}`` as given (the demo corpus: its cache folder).
        is_demo: the data includes the synthetic demo corpus (reports then say so).
        durations: ``{path: seconds}`` of every probed record (empty when not probed).
        duplicates: ``(dropped_path, kept_path, "path" | "content")``.
        conflicts: ``("path" | "content", ((path, emotion), ...))`` per set of identical copies
            whose emotions disagree.
        on_label_conflict: what was done with them: ``drop`` (every copy) or ``keep-first``.
    """

    records: List[Record]
    label_set: LabelSet
    skipped: List[Tuple[str, str]] = dataclasses.field(default_factory=list)
    dropped: Counter = dataclasses.field(default_factory=Counter)
    roots: Dict[str, str] = dataclasses.field(default_factory=dict)
    is_demo: bool = False
    durations: Dict[str, float] = dataclasses.field(default_factory=dict)
    duplicates: List[Tuple[str, str, str]] = dataclasses.field(default_factory=list)
    conflicts: List[Tuple[str, Tuple[Tuple[str, str], ...]]] = dataclasses.field(default_factory=list)
    on_label_conflict: str = "drop"
    shards: Optional[ShardSet] = None  # set for --data tfrecord=DIR: the audio is in these shards

    @property
    def classes(self) -> Tuple[str, ...]:
        return self.label_set.classes

    def labels_array(self, records: Optional[Sequence[Record]] = None) -> np.ndarray:
        """int32 class indices (in ``label_set.classes`` order) of ``records`` (default: all)."""
        records = self.records if records is None else records
        index = {c: i for i, c in enumerate(self.label_set.classes)}
        return np.asarray([index[r.emotion] for r in records], dtype=np.int32)

    def label_drops(self) -> Counter:
        """``Counter`` of emotions the label set left out."""
        return Counter(
            {k[len(LABEL_DROP):]: v for k, v in self.dropped.items() if k.startswith(LABEL_DROP)}
        )


def parse_data_spec(spec: str) -> Tuple[str, Optional[str]]:
    """Split a ``--data`` argument ``"corpus=PATH"`` into ``(corpus, path)``.

    The corpus name is resolved (aliases such as ``crema-d`` allowed, any case); ``~`` in the path
    is expanded. ``"demo"`` alone gives ``("demo", None)``; ``"tfrecord=DIR"`` gives
    ``("tfrecord", DIR)``, a folder of shards (``ser_tf.data.shards``; any ``tf.io.gfile`` path).

    Raises:
        ParameterError: not of the form ``corpus=PATH``; repeats the spec.
        DataError: an unknown corpus name; lists the known ones.
    """
    text = str(spec).strip()
    if text.lower() == DEMO_CORPUS_NAME:
        return DEMO_CORPUS_NAME, None
    name, sep, path = text.partition("=")
    if not sep or not path.strip() or not re.fullmatch(r"[A-Za-z][\w-]*", name.strip()):
        raise ParameterError(
            f"bad data spec {spec!r}: expected corpus=PATH, e.g. ravdess=/data/ravdess or "
            f"cremad=~/CREMA-D/AudioWAV (corpora: {', '.join(corpus_names())})"
        )
    if name.strip().lower() == TFRECORD:
        return TFRECORD, path.strip() if "://" in path else os.path.expanduser(path.strip())
    return resolve_corpus_name(name), os.path.expanduser(path.strip())


def load_data(
    specs: Optional[Sequence[str]] = None,
    *,
    labels: Optional[str] = "auto",
    probe: bool = True,
    require_all: bool = False,
    dedupe_content: bool = True,
    scan_options: Optional[Mapping[str, Mapping]] = None,
    on_label_conflict: str = "drop",
) -> DataBundle:
    """Scan, check and label the corpora named by ``specs``.

    Args:
        specs: ``"corpus=PATH"`` strings (see ``parse_data_spec``); ``None`` or empty = the demo.
        labels: a label-set name, a comma-separated emotion list, or ``"auto"``/``None`` for the
            emotions present (see ``ser_tf.data.labels.get_label_set``).
        probe: read every file's header (kept as ``Record.header``) and skip unreadable or empty
            files. Turn off only when the files were checked before; a bad file then fails later,
            in the pipeline, which then reads the headers itself.
        require_all: raise if a class of the label set has no clip.
        dedupe_content: drop byte-identical copies (hashing the first 64 KiB of each file).
        scan_options: per-corpus scanner options, e.g. ``{"folder": {"speaker_pattern": "..."}}``.
        on_label_conflict: identical clips (same file or same bytes) with different emotions:
            ``drop`` every copy, ``keep-first`` as for any duplicate, or ``error``.

    Raises:
        ParameterError: a malformed spec, scanner options a corpus does not take, or an unknown
            ``on_label_conflict``.
        DataError: unknown corpus, a missing folder or one without matching clips, a corpus given
            twice, no usable clip left, a label set the data cannot fill (``LabelError``), or
            label conflicts with ``on_label_conflict="error"`` (all of them listed).
    """
    if on_label_conflict not in LABEL_CONFLICT_POLICIES:
        raise ParameterError(f"on_label_conflict must be one of {list(LABEL_CONFLICT_POLICIES)}, "
                             f"got {on_label_conflict!r}")
    parsed = [parse_data_spec(s) for s in specs] if specs else [(DEMO_CORPUS_NAME, None)]
    names = [name for name, _ in parsed]
    if TFRECORD in names:
        if len(parsed) > 1 or scan_options:
            raise ParameterError(f"tfrecord=DIR is read alone, without other corpora or scan options; got {list(specs)}")
        return _load_shards(parsed[0][1], labels=labels, require_all=require_all)
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DataError(
            f"corpus {repeated} given more than once ({list(specs)}); give each corpus once"
        )
    scan_options = {resolve_corpus_name(k): dict(v) for k, v in (scan_options or {}).items()}
    unused = sorted(set(scan_options) - set(names))
    if unused:
        raise ParameterError(f"scan options for {unused}, which are not among the corpora {names}")

    records, skipped, dropped, roots = [], [], Counter(), {}
    for name, path in parsed:
        result = scan_corpus(name, path, **scan_options.get(name, {}))
        records.extend(result.records)
        skipped.extend(result.skipped)
        dropped.update({f"{name}: {reason}": n for reason, n in result.dropped.items()})
        roots[name] = os.path.abspath(path) if path is not None else _common_folder(result.records)

    records, duplicates, conflicts = _drop_copies(records, key_of=_real_path, kind="path",
                                                  policy=on_label_conflict)
    durations = {}
    if probe or dedupe_content:
        records, bad, durations, digests = _inspect(records, probe=probe, digest=dedupe_content)
        skipped.extend(bad)
        if bad:
            warnings.warn(
                f"left out {len(bad)} unreadable or empty audio file(s): {_examples(bad)}; "
                "DataBundle.skipped lists them all",
                UnreadableAudioWarning,
                stacklevel=2,
            )
        if dedupe_content:
            records, same, clashes = _drop_copies(records, key_of=lambda r: digests.get(r.path), kind="content",
                                                  policy=on_label_conflict)
            duplicates.extend(same)
            conflicts.extend(clashes)
    _report_conflicts(conflicts, policy=on_label_conflict, dropped=dropped)
    if duplicates:
        dropped.update(
            DUPLICATE_PATH if kind == "path" else DUPLICATE_CONTENT for _, _, kind in duplicates
        )
        shown = "; ".join(f"{a} = {b} ({kind})" for a, b, kind in duplicates[:MAX_EXAMPLES])
        warnings.warn(
            f"dropped {len(duplicates)} duplicate clip(s), keeping the first of each: {shown}"
            + (" ..." if len(duplicates) > MAX_EXAMPLES else ""),
            DuplicateClipsWarning,
            stacklevel=2,
        )
    if not records:
        raise DataError(
            f"no usable clips in {names}: {len(skipped)} file(s) skipped, e.g. {_examples(skipped)}"
        )

    label_set = get_label_set(labels, present=[r.emotion for r in records])
    kept, label_dropped = apply_label_set(records, label_set, require_all=require_all)
    dropped.update({LABEL_DROP + emotion: n for emotion, n in label_dropped.items()})
    if not kept:
        raise DataError(
            f"label set {label_set.name!r} {list(label_set.classes)} keeps none of the "
            f"{len(records)} clips (their emotions: {sorted({r.emotion for r in records})})"
        )
    return DataBundle(
        records=kept,
        label_set=label_set,
        skipped=skipped,
        dropped=dropped,
        roots=roots,
        is_demo=DEMO_CORPUS_NAME in names,
        durations={r.path: durations[r.path] for r in kept if r.path in durations},
        duplicates=duplicates,
        conflicts=conflicts,
        on_label_conflict=on_label_conflict,
    )


def _load_shards(root: str, *, labels, require_all: bool) -> DataBundle:
    """The bundle of a shard folder: its manifest's clips, the label set applied to them."""
    shard_set = open_shards(root)
    manifest = shard_set.manifest
    label_set = get_label_set(labels, present=[r.emotion for r in shard_set.records])
    kept, label_dropped = apply_label_set(shard_set.records, label_set, require_all=require_all)
    if not kept:
        raise DataError(f"label set {label_set.name!r} {list(label_set.classes)} keeps none of the "
                        f"{len(shard_set.records)} clips in {root}")
    samples = {c["path"]: c["samples"] for c in manifest["clips"]}
    return DataBundle(
        records=kept, label_set=label_set,
        dropped=Counter({**(manifest.get("dropped") or {}), **{LABEL_DROP + e: n for e, n in label_dropped.items()}}),
        roots=dict(manifest.get("roots") or {TFRECORD: root}), is_demo=bool(manifest.get("is_demo")),
        durations={r.path: samples[r.path] / shard_set.sample_rate for r in kept}, shards=shard_set,
        # What the export's load_data left out, so a summary from the shards reads like one from the folders.
        skipped=[tuple(s) for s in manifest.get("skipped") or []],
        duplicates=[tuple(d) for d in manifest.get("duplicates") or []],
        conflicts=[(kind, tuple(map(tuple, clips))) for kind, clips in manifest.get("label_conflicts") or []],
        on_label_conflict=manifest.get("on_label_conflict") or "drop",
    )


def _common_folder(records: Sequence[Record]) -> str:
    return os.path.commonpath([os.path.dirname(r.path) for r in records]) if records else ""


def _examples(items: Sequence[Tuple[str, str]]) -> str:
    shown = "; ".join(f"{os.path.basename(p)} ({why})" for p, why in items[:MAX_EXAMPLES])
    return shown + (f"; and {len(items) - MAX_EXAMPLES} more" if len(items) > MAX_EXAMPLES else "")


def _real_path(record: Record) -> str:
    """The file a record names, symlinks resolved: the same file reached twice has one key."""
    return os.path.normcase(os.path.realpath(record.path))


def _inspect_one(path: str, probe: bool, digest: bool):
    """``(AudioInfo or None, digest or None, error reason or None)`` of one file."""
    header = key = None
    try:
        if probe:
            header = probe_audio(path)
            check_training_clip(path, header)  # too long, or NaN/Inf: skipped now, not mid-epoch
        if digest:
            with open(path, "rb") as fh:
                key = (os.fstat(fh.fileno()).st_size, hashlib.sha1(fh.read(HASH_BYTES)).hexdigest())
    except AudioError as err:
        message = str(err)
        prefix = f"{err.path}: " if err.path else ""
        return None, None, message[len(prefix):] if message.startswith(prefix) else message
    except OSError as err:
        return None, None, f"cannot read ({err.strerror or err})"
    return header, key, None


def _inspect(records: Sequence[Record], *, probe: bool, digest: bool):
    """Probe and/or hash every record's file on a thread pool (the work is I/O).

    Kept records come back with their ``header`` set when probed.
    """
    paths = [r.path for r in records]
    with ThreadPoolExecutor(max_workers=max(1, min(PROBE_WORKERS, len(paths)))) as pool:
        results = list(progress(pool.map(lambda p: _inspect_one(p, probe, digest), paths), total=len(paths),
                                desc="probing" if probe else "hashing", unit="file"))
    kept, bad, durations, digests = [], [], {}, {}
    for r, (header, key, error) in zip(records, results):
        if error is not None:
            bad.append((r.path, error))
            continue
        if header is not None:
            r = dataclasses.replace(r, header=header)
            durations[r.path] = header.duration
        kept.append(r)
        if key is not None:
            digests[r.path] = key
    return kept, bad, durations, digests


def _drop_copies(records: Sequence[Record], *, key_of, kind: str, policy: str):
    """Keep one record of each set of copies (records whose ``key_of`` is equal and not None).

    Returns ``(kept, duplicates, conflicts)``: ``kept`` in the records' order; ``duplicates``
    ``(dropped_path, kept_path, kind)``; ``conflicts`` ``(kind, ((path, emotion), ...))`` for the
    sets whose emotions disagree, which ``policy`` ``keep-first`` treats as any duplicate and the
    others drop whole (``error`` is raised later, once every conflict is known).
    """
    groups: Dict[object, List[Record]] = {}
    for r in records:
        key = key_of(r)
        groups.setdefault(("file", r.path) if key is None else ("key", key), []).append(r)
    kept, duplicates, conflicts = [], [], []
    for copies in groups.values():  # in the order of each set's first record
        first = copies[0]
        if len({c.emotion for c in copies}) > 1:
            conflicts.append((kind, tuple((c.path, c.emotion) for c in copies)))
            if policy != "keep-first":
                continue
        kept.append(first)
        duplicates.extend((c.path, first.path, kind) for c in copies[1:])
    return kept, duplicates, conflicts


def _report_conflicts(conflicts, *, policy: str, dropped: Counter) -> None:
    """Raise (``error``), or count the dropped copies and warn once, naming paths and labels."""
    if not conflicts:
        return
    shown = [" = ".join(f"{path} ({emotion})" for path, emotion in clips) for _, clips in conflicts]
    if policy == "error":
        raise DataError(f"{len(conflicts)} set(s) of identical clips carry different emotions: "
                        + "; ".join(shown) + ". Fix the labels, or choose --on-label-conflict "
                        "(data.on_label_conflict) drop, to drop every copy, or keep-first")
    copies = sum(len(clips) for _, clips in conflicts)
    if policy == "drop":
        dropped[LABEL_CONFLICT] += copies
    action = (f"dropped all {copies} copies" if policy == "drop"
              else "kept the first of each (--on-label-conflict keep-first)")
    warnings.warn(
        f"{len(conflicts)} set(s) of identical clips carry different emotions; {action}: "
        + "; ".join(shown[:MAX_EXAMPLES]) + (" ..." if len(shown) > MAX_EXAMPLES else ""),
        LabelConflictWarning,
        stacklevel=3,
    )
