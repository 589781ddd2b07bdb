"""RAVDESS: the Ryerson Audio-Visual Database of Emotional Speech and Song.

Files are named ``MM-VV-EE-II-SS-RR-AA.wav`` (usually under ``Actor_AA/``, but any folder depth
is accepted), seven two-digit fields:

==  ============  ==========================================================================
MM  modality      01 full audio-video, 02 video-only, 03 audio-only
VV  vocal channel 01 speech, 02 song
EE  emotion       01 neutral, 02 calm, 03 happy, 04 sad, 05 angry, 06 fearful, 07 disgust,
                  08 surprised
II  intensity     01 normal, 02 strong (neutral has no strong intensity)
SS  statement     01 "Kids are talking by the door", 02 "Dogs are sitting by the door"
RR  repetition    01 first, 02 second
AA  actor         01-24; odd actors are male, even actors female
==  ============  ==========================================================================

Only audio-only files (modality 03) are kept by default; a ``.wav`` coded as a video modality is
skipped with a reason, since its name claims it is not an audio clip. Songs or speech left out by
``vocal_channels`` are counted in ``ScanResult.dropped`` (a choice, not a naming problem).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

from ser_tf.data.corpora._common import Clip, LeftOut, scan_records
from ser_tf.data.records import ScanResult
from ser_tf.errors import ParameterError

CORPUS = "ravdess"
NAMING_SCHEME = (
    "MM-VV-EE-II-SS-RR-AA.wav, seven two-digit fields modality-channel-emotion-intensity-"
    "statement-repetition-actor, e.g. Actor_07/03-01-05-02-01-02-07.wav"
)

MODALITIES = {"01": "full_av", "02": "video_only", "03": "audio_only"}
VOCAL_CHANNELS = {"01": "speech", "02": "song"}
# Emotion codes -> canonical names of ser_tf.data.labels.
EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
INTENSITIES = {"01": "normal", "02": "strong"}
STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}
REPETITIONS = ("01", "02")
ACTORS = tuple(f"{i:02d}" for i in range(1, 25))

_NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")


def actor_gender(actor: str) -> str:
    """``"male"`` for odd actor numbers, ``"female"`` for even ones (RAVDESS's convention)."""
    return "male" if int(actor) % 2 == 1 else "female"


def parse_name(stem: str) -> dict:
    """Decode a RAVDESS file stem into its fields.

    Args:
        stem: the file name without extension, e.g. ``"03-01-05-02-01-02-07"``.

    Returns:
        ``{"modality": "audio_only", "vocal_channel": "speech", "emotion_code": "05",
        "intensity": "strong", "statement": "01", "repetition": "02", "actor": "07"}``;
        modality, channel and intensity decoded to names, the others kept as codes.

    Raises:
        ValueError: the stem does not fit the scheme; the message says which field is wrong.
    """
    m = _NAME.match(stem)
    if m is None:
        raise ValueError("name is not seven two-digit fields MM-VV-EE-II-SS-RR-AA")
    mod, chan, emo, inten, stmt, rep, actor = m.groups()
    checks = (
        ("modality", mod, MODALITIES),
        ("vocal channel", chan, VOCAL_CHANNELS),
        ("emotion", emo, EMOTIONS),
        ("intensity", inten, INTENSITIES),
        ("statement", stmt, STATEMENTS),
        ("repetition", rep, REPETITIONS),
        ("actor", actor, ACTORS),
    )
    for field, code, valid in checks:
        if code not in valid:
            expected = "01-24" if field == "actor" else "/".join(valid)
            raise ValueError(f"unknown {field} code {code!r} (expected {expected})")
    return {
        "modality": MODALITIES[mod],
        "vocal_channel": VOCAL_CHANNELS[chan],
        "emotion_code": emo,
        "intensity": INTENSITIES[inten],
        "statement": stmt,
        "repetition": rep,
        "actor": actor,
    }


def _check_choice(name: str, values: Sequence[str], allowed) -> frozenset:
    if isinstance(values, str):
        values = (values,)
    bad = [v for v in values if v not in allowed]
    if bad or not values:
        raise ParameterError(f"{name}={tuple(values)!r}: expected a non-empty subset of {allowed}")
    return frozenset(values)


def scan(
    root,
    *,
    vocal_channels: Sequence[str] = ("speech", "song"),
    modalities: Sequence[str] = ("audio_only",),
) -> ScanResult:
    """Scan a RAVDESS folder.

    Args:
        root: the corpus folder (holding ``Actor_XX/`` folders, or the files themselves).
        vocal_channels: which of ``"speech"``, ``"song"`` to keep; the others are counted in
            ``ScanResult.dropped``.
        modalities: which of ``"audio_only"``, ``"full_av"``, ``"video_only"`` to keep. Only keep a
            video modality if its audio track was extracted under the original name.

    Returns:
        ``ScanResult`` with records sorted by path; speaker ``"ravdess:AA"``, ``corpus_label`` the
        emotion code (``"05"``), gender from the actor number.

    Raises:
        DataError: ``root`` is missing, or nothing under it fits the scheme.
        ParameterError: an unknown vocal channel or modality name.
    """
    channels = _check_choice("vocal_channels", vocal_channels, tuple(VOCAL_CHANNELS.values()))
    keep_mod = _check_choice("modalities", modalities, tuple(MODALITIES.values()))

    def describe(path: Path) -> Clip:
        fields = parse_name(path.stem)
        if fields["modality"] not in keep_mod:
            # Skipped, not dropped: the name says the file is not an audio clip.
            raise ValueError(
                f"modality {fields['modality']} is not in modalities={sorted(keep_mod)}"
            )
        if fields["vocal_channel"] not in channels:
            raise LeftOut(f"vocal_channel={fields['vocal_channel']} not selected")
        actor = fields["actor"]
        return Clip(fields["emotion_code"], actor, actor_gender(actor), fields)

    return scan_records(
        root, corpus=CORPUS, naming_scheme=NAMING_SCHEME, emotions=EMOTIONS, describe=describe
    )
