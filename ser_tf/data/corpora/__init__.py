"""Corpus parsers: one module per corpus, each turning a folder into ``Record``s by file name.

Every module defines ``CORPUS`` (its name), ``NAMING_SCHEME`` (a one-line description with an
example, repeated in errors) and ``scan(root, **options) -> ScanResult``. Scanners read names only,
never audio content. ``scan_corpus`` picks the module by name::

    scan_corpus("ravdess", "/data/ravdess")
    scan_corpus("cremad", "/data/CREMA-D/AudioWAV")  # finds ../VideoDemographics.csv itself
    scan_corpus("folder", "/data/mine", speaker_pattern=r"^(?P<speaker>[A-Z]{2})_")
    scan_corpus("demo")  # the built-in synthetic corpus, generated into the cache on first use

The ``demo`` corpus is synthetic speech in RAVDESS naming (see ``ser_tf.data.demo``); it is
imported lazily because generating it needs numpy, scipy and soundfile.
"""

from __future__ import annotations

import inspect
from types import ModuleType
from typing import Dict

from ser_tf.data.corpora import cremad, emodb, folder, ravdess, savee, tess
from ser_tf.data.corpora._common import AUDIO_EXTENSIONS, DEMO_CORPUS_NAME, SkippedFilesWarning
from ser_tf.data.records import ScanResult
from ser_tf.errors import DataError, ParameterError

CORPORA: Dict[str, ModuleType] = {
    "ravdess": ravdess,
    "tess": tess,
    "cremad": cremad,
    "folder": folder,
    "emodb": emodb,
    "savee": savee,
}

# Other spellings people use for the same corpora (compared in lower case).
ALIASES: Dict[str, str] = {
    "crema-d": "cremad",
    "crema_d": "cremad",
    "crema": "cremad",
    "emo-db": "emodb",
    "emo_db": "emodb",
    "berlin": "emodb",
    "folders": "folder",
    "folder_per_class": "folder",
}

__all__ = [
    "ALIASES",
    "AUDIO_EXTENSIONS",
    "CORPORA",
    "DEMO_CORPUS_NAME",
    "SkippedFilesWarning",
    "corpus_names",
    "resolve_corpus_name",
    "scan_corpus",
]


def corpus_names() -> list:
    """Every name ``scan_corpus`` accepts (aliases left out), the demo corpus last."""
    return [*CORPORA, DEMO_CORPUS_NAME]


def resolve_corpus_name(name: str) -> str:
    """The canonical corpus name for ``name`` or one of its aliases (any case).

    Raises:
        DataError: unknown name; lists the choices.
    """
    key = str(name).strip().lower()
    key = ALIASES.get(key, key)
    if key not in CORPORA and key != DEMO_CORPUS_NAME:
        raise DataError(
            f"unknown corpus {name!r}; choose one of {corpus_names()} "
            f"(aliases: {sorted(ALIASES)})"
        )
    return key


def _check_options(name: str, scan_fn, options: dict) -> None:
    accepted = [
        p.name for p in inspect.signature(scan_fn).parameters.values() if p.kind == p.KEYWORD_ONLY
    ]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ParameterError(
            f"corpus {name!r} takes no option(s) {unknown}; its options are {accepted or 'none'}"
        )


def scan_corpus(name: str, root=None, **options) -> ScanResult:
    """Scan the corpus ``name`` under ``root``.

    Args:
        name: a name from ``corpus_names()`` or ``ALIASES`` (any case).
        root: the corpus folder; for ``"demo"``, ``None`` means the cached default location.
        **options: the corpus module's ``scan`` options (e.g. ``vocal_channels`` for RAVDESS,
            ``demographics`` for CREMA-D, ``speaker_pattern`` for folder).

    Returns:
        ``ScanResult``: records sorted by path, skipped files with reasons.

    Raises:
        DataError: unknown name, missing root, or no clip fitting the corpus's naming scheme.
        ParameterError: an option the corpus does not take.
    """
    key = resolve_corpus_name(name)
    if key == DEMO_CORPUS_NAME:
        from ser_tf.data import demo  # lazy: numpy/scipy/soundfile are only needed here

        _check_options(key, demo.scan, options)
        return demo.scan(root, **options)
    module = CORPORA[key]
    _check_options(key, module.scan, options)
    if root is None:
        raise DataError(f"{key}: no corpus folder given; expected {module.NAMING_SCHEME}")
    return module.scan(root, **options)
