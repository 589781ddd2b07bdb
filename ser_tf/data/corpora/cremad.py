"""CREMA-D: Crowd-sourced Emotional Multimodal Actors Dataset (91 actors, 12 sentences, 6 emotions).

Files are named ``<ActorID>_<Sentence>_<Emotion>_<Level>.wav``, e.g.
``AudioWAV/1001_DFA_ANG_XX.wav``:

- ActorID: 1001-1091;
- Sentence: one of the 12 three-letter codes (``IEO``, ``TIE``, ``IOM``, ``IWW``, ``TAI``, ``MTI``,
  ``IWL``, ``ITH``, ``DFA``, ``ITS``, ``TSI``, ``WSI``);
- Emotion: ``ANG`` angry, ``DIS`` disgust, ``FEA`` fearful, ``HAP`` happy, ``NEU`` neutral,
  ``SAD`` sad;
- Level: ``LO``, ``MD``, ``HI``, or ``XX`` (unspecified).

``AudioWAV/`` and ``AudioMP3/`` hold the same clips. When a clip appears in several formats, one
copy is kept (WAV first, then FLAC, OGG, MP3) and the others are counted in ``ScanResult.dropped``,
so no clip is counted twice.

Speaker metadata comes from ``VideoDemographics.csv`` (columns ActorID, Age, Sex, Race,
Ethnicity), looked for in the root and its parent unless given. Sex gives the gender; age, sex,
race and ethnicity are copied into ``fields``.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Dict, Optional

from ser_tf.data.corpora._common import (
    AUDIO_EXTENSIONS,
    Clip,
    check_root,
    corpus_record,
    finish_scan,
    parse_files,
)
from ser_tf.data.records import ScanResult
from ser_tf.errors import DataError

CORPUS = "cremad"
NAMING_SCHEME = (
    "<ActorID>_<Sentence>_<Emotion>_<Level>.wav with emotion ANG/DIS/FEA/HAP/NEU/SAD and level "
    "LO/MD/HI/XX, e.g. AudioWAV/1001_DFA_ANG_XX.wav"
)
DEMOGRAPHICS_FILE = "VideoDemographics.csv"
DEMOGRAPHICS_COLUMNS = ("ActorID", "Age", "Sex", "Race", "Ethnicity")

# Emotion codes -> canonical names of ser_tf.data.labels.
EMOTIONS = {
    "ANG": "angry",
    "DIS": "disgust",
    "FEA": "fearful",
    "HAP": "happy",
    "NEU": "neutral",
    "SAD": "sad",
}
SENTENCES = ("IEO", "TIE", "IOM", "IWW", "TAI", "MTI", "IWL", "ITH", "DFA", "ITS", "TSI", "WSI")
LEVELS = ("LO", "MD", "HI", "XX")
_GENDERS = {"male": "male", "female": "female"}

_NAME = re.compile(r"^(\d{4})_([A-Za-z]{3})_([A-Za-z]{3})_([A-Za-z]{2})$")


def parse_name(stem: str) -> dict:
    """Decode a CREMA-D stem such as ``"1001_DFA_ANG_XX"``.

    Returns:
        ``{"actor": "1001", "sentence": "DFA", "emotion_code": "ANG", "level": "XX"}`` (upper case).

    Raises:
        ValueError: the stem does not fit the scheme; the message names the wrong field.
    """
    m = _NAME.match(stem)
    if m is None:
        raise ValueError("name is not <ActorID>_<Sentence>_<Emotion>_<Level>")
    actor, sentence, emotion, level = (g.upper() for g in m.groups())
    if not 1001 <= int(actor) <= 1091:
        raise ValueError(f"actor id {actor} is outside 1001-1091")
    for field, code, valid in (
        ("sentence", sentence, SENTENCES),
        ("emotion", emotion, tuple(EMOTIONS)),
        ("level", level, LEVELS),
    ):
        if code not in valid:
            raise ValueError(f"unknown {field} code {code!r} (expected {'/'.join(valid)})")
    return {"actor": actor, "sentence": sentence, "emotion_code": emotion, "level": level}


def find_demographics(root: Path) -> Optional[Path]:
    """``VideoDemographics.csv`` in ``root`` or its parent, or ``None``."""
    for folder in (root, root.parent):
        candidate = folder / DEMOGRAPHICS_FILE
        if candidate.is_file():
            return candidate
    return None


def read_demographics(path) -> Dict[str, dict]:
    """Read ``VideoDemographics.csv`` into ``{actor_id: {"age", "sex", "race", "ethnicity"}}``.

    Raises:
        DataError: the file is missing or lacks a required column (the message names both).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{CORPUS}: demographics file {str(path)!r} does not exist")
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header = [h.strip() for h in reader.fieldnames or ()]
        missing = [c for c in DEMOGRAPHICS_COLUMNS if c not in header]
        if missing:
            raise DataError(
                f"{CORPUS}: demographics file {str(path)!r} lacks column(s) {missing}; expected "
                f"{list(DEMOGRAPHICS_COLUMNS)}, found {header}"
            )
        table = {}
        for row in reader:
            row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
            if row["ActorID"]:
                table[row["ActorID"]] = {
                    "age": row["Age"],
                    "sex": row["Sex"],
                    "race": row["Race"],
                    "ethnicity": row["Ethnicity"],
                }
    return table


def _format_rank(path: Path) -> int:
    return AUDIO_EXTENSIONS.index(path.suffix.lower())


def scan(root, *, demographics=None) -> ScanResult:
    """Scan a CREMA-D folder (``AudioWAV/``, ``AudioMP3/``, or the files themselves).

    Args:
        root: the corpus folder.
        demographics: path of ``VideoDemographics.csv``; ``None`` looks for it in ``root`` and its
            parent and goes on without it if absent.

    Returns:
        ``ScanResult`` with records sorted by path; speaker ``"cremad:1001"``, ``corpus_label`` the
        emotion code (``"ANG"``), ``fields`` sentence and level (+ age, sex, race, ethnicity when
        the demographics are known). Copies of a clip in other formats are counted in ``dropped``.

    Raises:
        DataError: ``root`` or a given ``demographics`` file is missing, the CSV lacks columns, or
            nothing under ``root`` fits the scheme.
    """
    root = check_root(root, corpus=CORPUS)
    if demographics is None:
        demographics = find_demographics(root)
    people = read_demographics(demographics) if demographics is not None else {}

    # Group files by clip so the same clip in AudioWAV/ and AudioMP3/ is kept once.
    parsed, skipped, dropped = parse_files(root, lambda path: parse_name(path.stem))
    clips = {}
    for path, fields in parsed:
        key = (fields["actor"], fields["sentence"], fields["emotion_code"], fields["level"])
        clips.setdefault(key, []).append((path, fields))

    records = []
    for copies in clips.values():
        copies.sort(key=lambda pf: (_format_rank(pf[0]), str(pf[0])))
        path, fields = copies[0]
        for other, _ in copies[1:]:
            kept, dup = path.suffix.lower(), other.suffix.lower()
            dropped[f"duplicate {dup} copy of a clip kept as {kept}"] += 1
        person = people.get(fields["actor"], {})
        gender = _GENDERS.get(person.get("sex", "").lower())
        kept = {"sentence": fields["sentence"], "level": fields["level"], **person}
        clip = Clip(fields["emotion_code"], fields["actor"], gender, kept)
        records.append(corpus_record(path, clip, corpus=CORPUS, emotions=EMOTIONS))
    return finish_scan(
        records, skipped, corpus=CORPUS, root=root, naming_scheme=NAMING_SCHEME, dropped=dropped
    )
