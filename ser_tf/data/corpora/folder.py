"""Folder per class: any corpus laid out as ``<root>/<emotion>/<...>/<clip>.wav``.

The first folder level under the root names the emotion (``Anger/``, ``happy/``, ``Neutral/``,
``Surprise/``, ...); files may sit at any depth below it. Folder names are mapped with
``ser_tf.data.labels.canonical_emotion`` (any case; spaces and hyphens read as underscores), plus
the few extra names in ``EXTRA_SYNONYMS`` below that show up in folder-per-class releases. A folder
name that maps to no emotion raises ``LabelError`` listing every such folder and the accepted names,
rather than silently dropping a class. Files directly in the root belong to no class and are
skipped with a reason.

The layout carries no speaker. Pass ``speaker_pattern``, a regular expression with a named group
``speaker`` searched in the file name (e.g. ``r"^(?P<speaker>[A-Z]{2})_"``), to get speaker ids
``"folder:<id>"``. Files it does not match, and all files without a pattern, get the speaker
``"folder:unknown"``; speaker-independent splits refuse such records, so use a random split (and
read its scores as optimistic) or supply a pattern.
"""

from __future__ import annotations

import re
import warnings
from typing import Optional

from ser_tf.data.corpora._common import check_root, finish_scan, iter_audio_files
from ser_tf.data.labels import SYNONYMS, canonical_emotion
from ser_tf.data.records import UNKNOWN_SPEAKER, Record, ScanResult
from ser_tf.errors import LabelError, ParameterError

CORPUS = "folder"
NAMING_SCHEME = (
    "one sub-folder per emotion holding the clips, e.g. Anger/clip001.wav, happy/x.wav, "
    "Neutral/speaker3/x.wav"
)

# Folder names seen in folder-per-class releases that ser_tf.data.labels does not know. Keys are
# normalised like canonical_emotion's (lower case, spaces and hyphens -> underscores).
EXTRA_SYNONYMS = {
    "angry_anger": "angry",
    "fright": "fearful",
    "frightened": "fearful",
    "fearfulness": "fearful",
    "sorrow": "sad",
    "unhappy": "sad",
    "happyness": "happy",
    "surprising": "surprised",
    "disgusting": "disgust",
    "calmed": "calm",
}


def _normalise(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def folder_emotion(name: str) -> str:
    """Canonical emotion of a class folder name.

    Raises:
        LabelError: the name maps to no emotion.
    """
    key = _normalise(name)
    if key in EXTRA_SYNONYMS:
        return EXTRA_SYNONYMS[key]
    return canonical_emotion(name)


def accepted_names() -> list:
    """Every folder name (normalised) that maps to an emotion."""
    return sorted(set(SYNONYMS) | set(EXTRA_SYNONYMS))


def _compile_pattern(speaker_pattern: Optional[str]):
    if speaker_pattern is None:
        return None
    try:
        pattern = re.compile(speaker_pattern)
    except re.error as err:
        raise ParameterError(f"speaker_pattern {speaker_pattern!r} is not a valid regex: {err}")
    if "speaker" not in pattern.groupindex:
        raise ParameterError(
            f"speaker_pattern {speaker_pattern!r} has no named group 'speaker'; write it like "
            r"'^(?P<speaker>[A-Z]{2})_'"
        )
    return pattern


def scan(root, *, speaker_pattern: Optional[str] = None) -> ScanResult:
    """Scan a folder-per-class corpus.

    Args:
        root: the folder holding one sub-folder per emotion.
        speaker_pattern: regex with a named group ``speaker``, searched in each file name (with
            extension); ``None`` leaves every speaker unknown.

    Returns:
        ``ScanResult`` with records sorted by path; ``corpus_label`` and ``fields["class_folder"]``
        the folder name as written, speaker ``"folder:<id>"`` or ``"folder:unknown"``.

    Raises:
        DataError: ``root`` is missing or holds no clip inside a class folder.
        LabelError: some class folders name no known emotion; lists them and the accepted names.
        ParameterError: ``speaker_pattern`` is not a regex with a ``speaker`` group.
    """
    pattern = _compile_pattern(speaker_pattern)
    root = check_root(root, corpus=CORPUS)
    files = iter_audio_files(root)

    # Map every class folder first, so one error lists all unknown names at once.
    folders = sorted({p.relative_to(root).parts[0] for p in files if p.parent != root})
    emotions, unknown = {}, []
    for name in folders:
        try:
            emotions[name] = folder_emotion(name)
        except LabelError:
            unknown.append(name)
    if unknown:
        raise LabelError(
            f"{CORPUS}: class folder(s) {unknown} under {str(root)!r} name no known emotion; "
            f"rename them to one of {accepted_names()} (any case)"
        )

    records, skipped, unmatched = [], [], []
    for path in files:
        if path.parent == root:
            skipped.append((str(path), "not inside a class folder"))
            continue
        class_folder = path.relative_to(root).parts[0]
        speaker = UNKNOWN_SPEAKER
        if pattern is not None:
            m = pattern.search(path.name)
            if m is not None and m.group("speaker"):
                speaker = m.group("speaker")
            else:
                unmatched.append(path.name)
        records.append(
            Record(
                path=str(path),
                emotion=emotions[class_folder],
                corpus_label=class_folder,
                speaker=f"{CORPUS}:{speaker}",
                corpus=CORPUS,
                gender=None,
                fields={"class_folder": class_folder},
            )
        )
    if unmatched:
        # A pattern that misses some files is likely a wrong pattern: say so, keep the clips.
        warnings.warn(
            f"{CORPUS}: speaker_pattern {speaker_pattern!r} matched no speaker in "
            f"{len(unmatched)} of {len(files)} file names (e.g. {unmatched[:3]}); "
            f"they get speaker '{CORPUS}:{UNKNOWN_SPEAKER}'",
            UserWarning,
            stacklevel=2,
        )
    return finish_scan(records, skipped, corpus=CORPUS, root=root, naming_scheme=NAMING_SCHEME)
