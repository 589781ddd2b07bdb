"""The record every corpus parser returns, and the scan result that carries skipped files.

A record is one audio clip with everything the splits and reports need. Speaker ids are qualified
by the corpus (``"ravdess:01"``) so that combining corpora never merges two people. Once
``ser_tf.data.manifest.load_data`` has probed the file, the record also carries its header, which
the input pipeline uses instead of reading the file's header again.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Mapping, Optional, Sequence

from ser_tf.data.audio_io import AudioInfo

UNKNOWN_SPEAKER = "unknown"


@dataclasses.dataclass(frozen=True)
class Record:
    """One audio clip of a corpus.

    Attributes:
        path: absolute path of the audio file.
        emotion: canonical emotion name (see ``ser_tf.data.labels.CANONICAL_EMOTIONS``).
        corpus_label: the corpus's own label for the clip (code or folder name), kept for reports.
        speaker: corpus-qualified speaker id, e.g. ``"ravdess:07"``; ``"<corpus>:unknown"`` if
            the naming scheme carries none.
        corpus: corpus name, e.g. ``"ravdess"``.
        gender: ``"male"``, ``"female"`` or ``None`` where the corpus does not say.
        fields: the other fields the naming scheme carries (statement, intensity, ...), as strings.
        header: the file's header (rate, channels, frames, format) once probed, else ``None``
            (scanners read names only). A fact about the file, not about the clip: equality and
            ``repr`` leave it out.
    """

    path: str
    emotion: str
    corpus_label: str
    speaker: str
    corpus: str
    gender: Optional[str] = None
    fields: Mapping[str, str] = dataclasses.field(default_factory=dict)
    header: Optional[AudioInfo] = dataclasses.field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict:
        """A plain, JSON-friendly dict of the record."""
        out = dataclasses.asdict(self)
        out["fields"] = dict(self.fields)
        return out

    @classmethod
    def from_dict(cls, data: Mapping) -> "Record":
        header = data.get("header")
        return cls(**{
            **data,
            "fields": dict(data.get("fields") or {}),
            "header": AudioInfo(**header) if isinstance(header, Mapping) else header,
        })


@dataclasses.dataclass
class ScanResult:
    """What scanning a corpus folder gives: the records, and the files passed over with a reason.

    Attributes:
        records: records in a deterministic (sorted by path) order.
        skipped: ``(path, reason)`` pairs for files that did not fit the naming scheme or could not
            be read.
        dropped: counts of records dropped later (e.g. by a label set), keyed by reason.
    """

    records: list
    skipped: list = dataclasses.field(default_factory=list)
    dropped: Counter = dataclasses.field(default_factory=Counter)

    def extend(self, other: "ScanResult") -> None:
        self.records.extend(other.records)
        self.skipped.extend(other.skipped)
        self.dropped.update(other.dropped)


def speakers_of(records: Sequence[Record]) -> list:
    """Sorted unique speaker ids of ``records``."""
    return sorted({r.speaker for r in records})
