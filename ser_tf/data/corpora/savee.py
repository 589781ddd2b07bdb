"""SAVEE: Surrey Audio-Visual Expressed Emotion (4 male British English speakers, 7 emotions).

Two layouts are accepted, at any depth:

- the flat Kaggle layout ``DC_a01.wav``: speaker, underscore, emotion code, sentence number;
- the original ``AudioData/DC/a01.wav``: the speaker is the parent folder.

Speakers: ``DC``, ``JE``, ``JK``, ``KL``, all male. Emotion codes: ``a`` angry, ``d`` disgust,
``f`` fearful, ``h`` happy, ``n`` neutral, ``sa`` sad, ``su`` surprised (the two-letter codes are
matched before the one-letter ones). Sentence numbers run 01-15 (01-30 for neutral). Matching
ignores case. If a file name's speaker prefix disagrees with a speaker-named parent folder, the
file is skipped rather than guessed.
"""

from __future__ import annotations

import re
from pathlib import Path

from ser_tf.data.corpora._common import Clip, scan_records
from ser_tf.data.records import ScanResult

CORPUS = "savee"
NAMING_SCHEME = (
    "[<speaker DC/JE/JK/KL>_]<emotion a/d/f/h/n/sa/su><2-digit sentence>.wav, e.g. DC_a01.wav or "
    "AudioData/DC/a01.wav"
)

# Emotion codes -> canonical names of ser_tf.data.labels.
EMOTIONS = {
    "a": "angry",
    "d": "disgust",
    "f": "fearful",
    "h": "happy",
    "n": "neutral",
    "sa": "sad",
    "su": "surprised",
}
SPEAKERS = ("DC", "JE", "JK", "KL")
GENDER = "male"

# Two-letter codes first in the alternation: "sa01" must not be read as an unknown "s".
_NAME = re.compile(r"^(?:([a-z]{2})_)?(sa|su|a|d|f|h|n)(\d{2})$", re.IGNORECASE)


def parse_name(stem: str, *, folder: str = "") -> dict:
    """Decode a SAVEE stem such as ``"DC_sa03"``, or ``"sa03"`` inside folder ``"DC"``.

    Args:
        stem: file name without extension.
        folder: the parent folder's name, the speaker in the ``AudioData/DC/`` layout.

    Returns:
        ``{"speaker": "DC", "emotion_code": "sa", "sentence": "03"}``.

    Raises:
        ValueError: the stem does not fit the scheme, or names no (or a conflicting) speaker.
    """
    m = _NAME.match(stem)
    if m is None:
        raise ValueError("name is not [<speaker>_]<emotion code><2-digit sentence>")
    prefix, code, sentence = m.groups()
    prefix = prefix.upper() if prefix else None
    parent = folder.upper() if folder.upper() in SPEAKERS else None
    if prefix is not None and prefix not in SPEAKERS:
        raise ValueError(f"unknown speaker {prefix!r} (expected {'/'.join(SPEAKERS)})")
    if prefix and parent and prefix != parent:
        raise ValueError(f"file name says speaker {prefix} but its folder is {folder!r}")
    speaker = prefix or parent
    if speaker is None:
        raise ValueError(
            "no speaker: no DC_ style prefix and the parent folder is not " + "/".join(SPEAKERS)
        )
    return {"speaker": speaker, "emotion_code": code.lower(), "sentence": sentence}


def _describe(path: Path) -> Clip:
    # In the AudioData/DC/a01.wav layout the speaker is the parent folder.
    fields = parse_name(path.stem, folder=path.parent.name)
    return Clip(fields["emotion_code"], fields["speaker"], GENDER, {"sentence": fields["sentence"]})


def scan(root) -> ScanResult:
    """Scan a SAVEE folder (flat Kaggle layout or ``AudioData/<speaker>/``).

    Returns:
        ``ScanResult`` with records sorted by path; speaker ``"savee:DC"``, ``corpus_label`` the
        emotion code (``"sa"``), ``fields={"sentence": "03"}``.

    Raises:
        DataError: ``root`` is missing, or nothing under it fits the scheme.
    """
    return scan_records(
        root, corpus=CORPUS, naming_scheme=NAMING_SCHEME, emotions=EMOTIONS, describe=_describe
    )
