"""Helpers every corpus parser shares: finding audio files, checking the root, and reporting.

Scanners parse file *names* only; they never open a file. Probing content (unreadable, silent,
too short) happens when the audio is loaded, so a scan of a 10 000-clip corpus takes well under a
second.

Reporting rules, the same for every corpus:

- hidden files and folders (``.DS_Store``, macOS ``._x.wav`` forks) and non-audio files
  (``README.md``, ``*.csv``) are ignored without a word: they are not clips;
- an audio file whose name does not fit the scheme is *skipped*: it lands in
  ``ScanResult.skipped`` with a reason, and the scan emits one ``SkippedFilesWarning`` with the
  count and a few examples;
- an audio file that fits the scheme but that the scan's options leave out (a RAVDESS song when
  only speech is asked for, a second copy of a CREMA-D clip) is *dropped*: counted in
  ``ScanResult.dropped`` by reason, without a warning, since it is a choice, not a problem;
- a root that is missing, or that holds no clip fitting the scheme, raises ``DataError`` naming the
  path and the expected naming scheme.

A parser whose clips map one-to-one to files only writes ``describe(path) -> Clip`` (its naming
scheme) and hands it to ``scan_records``; one that must see every file first (CREMA-D, to drop
duplicate copies) calls ``parse_files``, ``corpus_record`` and ``finish_scan`` itself.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from collections import Counter
from typing import Callable, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Tuple, TypeVar

from ser_tf.data.records import Record, ScanResult
from ser_tf.errors import DataError

# Name of the built-in synthetic corpus (ser_tf.data.demo); its root defaults to the cache. It lives
# here, not in the package, so that demo.py can use it without importing ser_tf.data.corpora back.
DEMO_CORPUS_NAME = "demo"

# Extensions the audio loader can decode (libsndfile; mp3 needs libsndfile >= 1.1). Lower case.
AUDIO_EXTENSIONS: Tuple[str, ...] = (".wav", ".flac", ".ogg", ".mp3")

# How many skipped files a warning or error message shows.
MAX_EXAMPLES = 3


Fields = TypeVar("Fields")


class SkippedFilesWarning(UserWarning):
    """Some audio files under a corpus root did not fit its naming scheme and were left out."""


class Clip(NamedTuple):
    """What a corpus's file name says about one clip, before it becomes a ``Record``."""

    code: str  # the corpus's own emotion code or token, a key of its EMOTIONS table
    speaker: str  # the corpus's speaker id, not yet qualified by the corpus name
    gender: Optional[str]
    fields: Mapping[str, str]  # becomes Record.fields


class LeftOut(Exception):
    """Raised by a ``parse`` callback for a clip that fits the scheme but the options exclude.

    ``parse_files`` counts it in ``dropped`` under the exception's message, e.g.
    ``"vocal_channel=song not selected"``.
    """


def check_root(root, *, corpus: str) -> Path:
    """Return ``root`` as an absolute path, or raise ``DataError`` if it is not a folder.

    The path is made absolute without resolving symlinks, so records keep the path the user gave.
    """
    if root is None:
        raise DataError(f"{corpus}: no corpus folder given (root=None)")
    path = Path(os.path.abspath(os.path.expanduser(os.fspath(root))))
    if not path.exists():
        raise DataError(f"{corpus}: corpus folder {str(path)!r} does not exist")
    if not path.is_dir():
        raise DataError(f"{corpus}: {str(path)!r} is not a folder; pass the corpus's root folder")
    return path


def is_audio_file(name: str) -> bool:
    """True for a non-hidden file name with an audio extension (any case)."""
    return not name.startswith(".") and name.lower().endswith(AUDIO_EXTENSIONS)


def iter_audio_files(root: Path) -> List[Path]:
    """Every audio file under ``root``, recursively, sorted; hidden files and folders left out.

    Symlinked folders are followed (corpora are often assembled from links).
    """
    found = []
    for folder, dirs, files in os.walk(root, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(folder) / f for f in files if is_audio_file(f))
    return sorted(found)


def parse_files(
    root: Path, parse: Callable[[Path], Fields]
) -> Tuple[List[Tuple[Path, Fields]], List[Tuple[str, str]], Counter]:
    """Run ``parse`` on every audio file under ``root`` (in ``iter_audio_files`` order).

    Args:
        root: a folder already checked with ``check_root``.
        parse: ``path -> fields``; raises ``ValueError`` whose message says why the file does not
            fit the naming scheme, or ``LeftOut`` for a clip the scan's options exclude.

    Returns:
        ``(parsed, skipped, dropped)``: ``(path, fields)`` for the files that parsed,
        ``(path, reason)`` for the ``ValueError`` ones, and a ``Counter`` of ``LeftOut`` reasons.
    """
    parsed, skipped, dropped = [], [], Counter()
    for path in iter_audio_files(root):
        try:
            parsed.append((path, parse(path)))
        except LeftOut as why:
            dropped[str(why)] += 1
        except ValueError as err:
            skipped.append((str(path), str(err)))
    return parsed, skipped, dropped


def scan_records(
    root,
    *,
    corpus: str,
    naming_scheme: str,
    emotions: Mapping[str, str],
    describe: Callable[[Path], Clip],
) -> ScanResult:
    """Check ``root``, describe every audio file under it and build one ``Record`` per clip.

    The whole scan of a corpus whose file names each describe one clip: ``check_root``, then
    ``parse_files`` with ``describe``, ``corpus_record`` for every file that fitted, and
    ``finish_scan`` (which sorts, warns about skipped files and raises when nothing matched).

    Args:
        root: the corpus folder.
        corpus, naming_scheme: the module's ``CORPUS`` and ``NAMING_SCHEME``.
        emotions: the module's ``EMOTIONS`` table, emotion code -> canonical emotion.
        describe: ``path -> Clip``, raising ``ValueError`` or ``LeftOut`` as for ``parse_files``.

    Raises:
        DataError: ``root`` is missing, or nothing under it fits the scheme.
    """
    root = check_root(root, corpus=corpus)
    parsed, skipped, dropped = parse_files(root, describe)
    records = [corpus_record(path, clip, corpus=corpus, emotions=emotions) for path, clip in parsed]
    # stacklevel 4: finish_scan <- scan_records <- the parser's scan <- the user's code.
    return finish_scan(
        records,
        skipped,
        corpus=corpus,
        root=root,
        naming_scheme=naming_scheme,
        dropped=dropped,
        stacklevel=4,
    )


def corpus_record(path, clip: Clip, *, corpus: str, emotions: Mapping[str, str]) -> Record:
    """The ``Record`` of the file ``path`` that ``clip`` describes.

    ``emotion`` is ``emotions[clip.code]`` (a canonical name), ``corpus_label`` the code itself,
    and the speaker is qualified by the corpus: ``"<corpus>:<speaker>"``.
    """
    return Record(
        path=os.fspath(path),
        emotion=emotions[clip.code],
        corpus_label=clip.code,
        speaker=f"{corpus}:{clip.speaker}",
        corpus=corpus,
        gender=clip.gender,
        fields=clip.fields,
    )


def format_examples(skipped: Sequence[Tuple[str, str]], *, root: Path) -> str:
    """``"a.wav (reason); b.wav (reason)"`` for the first few skipped files, paths relative."""
    shown = []
    for path, reason in skipped[:MAX_EXAMPLES]:
        try:
            rel = os.path.relpath(path, root)
        except ValueError:  # another drive on Windows
            rel = str(path)
        shown.append(f"{rel} ({reason})")
    more = len(skipped) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def finish_scan(
    records: Iterable[Record],
    skipped: Iterable[Tuple[str, str]],
    *,
    corpus: str,
    root: Path,
    naming_scheme: str,
    dropped=None,
    stacklevel: int = 3,
) -> ScanResult:
    """Sort, check and report a scan.

    Args:
        records: the records built from matching files.
        skipped: ``(path, reason)`` for audio files that did not fit the scheme.
        corpus: the corpus name, for messages.
        root: the scanned folder, for messages.
        naming_scheme: the module's one-line ``NAMING_SCHEME``, repeated when nothing matched.
        dropped: optional ``Counter`` of files left out on purpose (options, duplicates).
        stacklevel: passed to ``warnings.warn`` so the warning points at the caller's code.

    Raises:
        DataError: no record at all; names the folder, the scheme, and the skipped examples.
    """
    records = sorted(records, key=lambda r: r.path)
    skipped = sorted(((str(p), r) for p, r in skipped), key=lambda pr: pr[0])
    result = ScanResult(records=records, skipped=skipped)
    if dropped:
        result.dropped.update(dropped)
    if not records:
        detail = ""
        if skipped:
            detail = f"; {len(skipped)} audio file(s) did not fit it: " + format_examples(
                skipped, root=root
            )
        elif result.dropped:
            detail = f"; every matching clip was left out by the options: {dict(result.dropped)}"
        else:
            detail = "; the folder holds no audio file (" + ", ".join(AUDIO_EXTENSIONS) + ")"
        raise DataError(
            f"{corpus}: no clips found under {str(root)!r}. Expected naming scheme: "
            f"{naming_scheme}{detail}"
        )
    if skipped:
        warnings.warn(
            f"{corpus}: skipped {len(skipped)} of {len(skipped) + len(records)} audio files under "
            f"{str(root)!r} that do not fit the naming scheme: "
            f"{format_examples(skipped, root=root)}. ScanResult.skipped lists them all.",
            SkippedFilesWarning,
            stacklevel=stacklevel,
        )
    return result
