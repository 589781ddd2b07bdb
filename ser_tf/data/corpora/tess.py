"""TESS: Toronto Emotional Speech Set (two actresses, 200 words in a carrier phrase, 7 emotions).

Files are named ``<SPEAKER>_<word>_<emotion>.wav``: speaker ``OAF`` (older actress, aged 64) or
``YAF`` (younger actress, aged 26), the target word, and the emotion as the last token(s):
``angry``, ``disgust``, ``fear``, ``happy``, ``neutral``, ``sad``, and pleasant surprise written
``ps``, ``pleasant_surprise`` or ``pleasant_surprised``. Matching ignores case.

The Kaggle layouts are all accepted, at any depth: ``OAF_angry/OAF_back_angry.wav``,
``YAF_pleasant_surprised/YAF_bath_ps.wav``, and the nested
``TESS Toronto emotional speech set data/OAF_Fear/OAF_back_fear.wav``. A few releases abbreviate
the speaker as ``OA``/``YA``; these are read as ``OAF``/``YAF``. When the parent folder is named
``<SPEAKER>_<emotion>`` and disagrees with the file name, the file is skipped rather than guessed.

Both speakers are female. Pleasant surprise maps to the canonical ``pleasant_surprise``; label
sets such as ``ravdess8`` merge it into ``surprised``.
"""

from __future__ import annotations

import re
from pathlib import Path

from ser_tf.data.corpora._common import Clip, scan_records
from ser_tf.data.records import ScanResult

CORPUS = "tess"
NAMING_SCHEME = (
    "<OAF|YAF>_<word>_<emotion>.wav with emotion angry, disgust, fear, happy, neutral, ps "
    "(pleasant surprise) or sad, e.g. OAF_angry/OAF_back_angry.wav"
)

# File-name emotion tokens (lower case) -> canonical names of ser_tf.data.labels.
EMOTIONS = {
    "angry": "angry",
    "disgust": "disgust",
    "fear": "fearful",
    "happy": "happy",
    "neutral": "neutral",
    "sad": "sad",
    "ps": "pleasant_surprise",
    "pleasant_surprise": "pleasant_surprise",
    "pleasant_surprised": "pleasant_surprise",
}
SPEAKERS = {"oaf": "OAF", "yaf": "YAF", "oa": "OAF", "ya": "YAF"}
GENDER = "female"

_FOLDER = re.compile(r"^(oaf|yaf)_(.+)$")


def parse_name(stem: str) -> dict:
    """Decode a TESS file stem.

    Args:
        stem: file name without extension, e.g. ``"YAF_bath_ps"``.

    Returns:
        ``{"speaker": "YAF", "word": "bath", "emotion_token": "ps"}`` (token lower case).

    Raises:
        ValueError: the stem does not fit the scheme.
    """
    tokens = stem.lower().split("_")
    speaker = SPEAKERS.get(tokens[0])
    if speaker is None:
        raise ValueError(f"speaker {stem.split('_')[0]!r} is not OAF or YAF")
    # Try the two-token emotion first so "pleasant_surprise" is not read as word "pleasant".
    for k in (2, 1):
        token = "_".join(tokens[-k:])
        if len(tokens) > k + 1 and token in EMOTIONS:
            word = "_".join(tokens[1:-k])
            return {"speaker": speaker, "word": word, "emotion_token": token}
    raise ValueError(
        f"no word and known emotion after the speaker (emotion must be one of {sorted(EMOTIONS)})"
    )


def _folder_conflict(folder: str, fields: dict):
    """A reason string if the parent folder names another speaker or emotion, else ``None``."""
    m = _FOLDER.match(folder.lower())
    if m is None or m.group(2) not in EMOTIONS:
        return None  # not a <SPEAKER>_<emotion> folder: nothing to compare with
    speaker, emotion = SPEAKERS[m.group(1)], EMOTIONS[m.group(2)]
    if speaker != fields["speaker"] or emotion != EMOTIONS[fields["emotion_token"]]:
        return (
            f"folder {folder!r} says {speaker}/{emotion} but the file name says "
            f"{fields['speaker']}/{EMOTIONS[fields['emotion_token']]}"
        )
    return None


def _describe(path: Path) -> Clip:
    fields = parse_name(path.stem)
    conflict = _folder_conflict(path.parent.name, fields)
    if conflict:
        raise ValueError(conflict)
    return Clip(fields["emotion_token"], fields["speaker"], GENDER, {"word": fields["word"]})


def scan(root) -> ScanResult:
    """Scan a TESS folder (any of the Kaggle layouts).

    Returns:
        ``ScanResult`` with records sorted by path; speaker ``"tess:OAF"``/``"tess:YAF"``,
        ``corpus_label`` the file's emotion token (``"ps"``), ``fields={"word": ...}``.

    Raises:
        DataError: ``root`` is missing, or nothing under it fits the scheme.
    """
    return scan_records(
        root, corpus=CORPUS, naming_scheme=NAMING_SCHEME, emotions=EMOTIONS, describe=_describe
    )
