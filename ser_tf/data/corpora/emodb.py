"""EmoDB: the Berlin Database of Emotional Speech (10 actors, 10 German sentences, 7 emotions).

Files are named like ``wav/03a01Fa.wav``:

- characters 1-2: speaker (03, 08, 09, 10, 11, 12, 13, 14, 15, 16);
- characters 3-5: text code (``a01`` ... ``b10``);
- character 6: emotion letter, from the German name: ``W`` Wut (anger), ``L`` Langeweile
  (boredom), ``E`` Ekel (disgust), ``A`` Angst (fear), ``F`` Freude (happiness), ``T`` Trauer
  (sadness), ``N`` neutral;
- character 7: version letter (``a``, ``b``, ...) when a sentence was recorded more than once.

Speakers 03, 10, 11, 12 and 15 are male; 08, 09, 13, 14 and 16 female. Boredom maps to the
canonical ``boredom``, which only the ``all10`` label set keeps.
"""

from __future__ import annotations

import re
from pathlib import Path

from ser_tf.data.corpora._common import Clip, scan_records
from ser_tf.data.records import ScanResult

CORPUS = "emodb"
NAMING_SCHEME = (
    "<speaker 2 digits><text 3 chars><emotion letter W/L/E/A/F/T/N><version letter>.wav, "
    "e.g. wav/03a01Fa.wav"
)

# Emotion letters -> canonical names of ser_tf.data.labels.
EMOTIONS = {
    "W": "angry",
    "L": "boredom",
    "E": "disgust",
    "A": "fearful",
    "F": "happy",
    "T": "sad",
    "N": "neutral",
}
SPEAKER_GENDER = {
    **{s: "male" for s in ("03", "10", "11", "12", "15")},
    **{s: "female" for s in ("08", "09", "13", "14", "16")},
}

_NAME = re.compile(r"^(\d\d)([a-z]\d\d)([a-z])([a-z])$", re.IGNORECASE)


def parse_name(stem: str) -> dict:
    """Decode an EmoDB stem such as ``"03a01Fa"``.

    Returns:
        ``{"speaker": "03", "text": "a01", "emotion_letter": "F", "version": "a"}``.

    Raises:
        ValueError: the stem does not fit the scheme; the message names the wrong field.
    """
    m = _NAME.match(stem)
    if m is None:
        raise ValueError("name is not <2-digit speaker><3-char text><emotion letter><version>")
    speaker, text, letter, version = m.groups()
    letter = letter.upper()
    if speaker not in SPEAKER_GENDER:
        raise ValueError(f"unknown speaker {speaker!r} (expected {sorted(SPEAKER_GENDER)})")
    if letter not in EMOTIONS:
        raise ValueError(f"unknown emotion letter {letter!r} (expected {'/'.join(EMOTIONS)})")
    return {"speaker": speaker, "text": text.lower(), "emotion_letter": letter, "version": version}


def _describe(path: Path) -> Clip:
    fields = parse_name(path.stem)
    speaker = fields["speaker"]
    kept = {k: fields[k] for k in ("text", "emotion_letter", "version")}
    return Clip(fields["emotion_letter"], speaker, SPEAKER_GENDER[speaker], kept)


def scan(root) -> ScanResult:
    """Scan an EmoDB folder (the release's ``wav/`` folder, or its parent).

    Returns:
        ``ScanResult`` with records sorted by path; speaker ``"emodb:03"``, ``corpus_label`` the
        emotion letter, ``fields`` text, emotion_letter and version.

    Raises:
        DataError: ``root`` is missing, or nothing under it fits the scheme.
    """
    return scan_records(
        root, corpus=CORPUS, naming_scheme=NAMING_SCHEME, emotions=EMOTIONS, describe=_describe
    )
