"""Canonical emotions, synonyms, and named label sets.

Every corpus maps its own codes into ``CANONICAL_EMOTIONS``. A label set then picks the classes a
model is trained on, optionally merging some (e.g. TESS's *pleasant surprise* into *surprised*).
Records whose emotion is outside the chosen set are dropped, and the drop is counted.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Mapping, Optional, Sequence, Tuple

from ser_tf.errors import LabelError

# The canonical emotion set. Order is the canonical class order for reports.
CANONICAL_EMOTIONS: Tuple[str, ...] = (
    "neutral",
    "calm",
    "happy",
    "sad",
    "angry",
    "fearful",
    "disgust",
    "surprised",
    "pleasant_surprise",
    "boredom",
)

# Names people use for the canonical emotions (folder names, dataset codes, other languages'
# abbreviations in English). Keys are lower-case with spaces and hyphens turned to underscores.
SYNONYMS: Mapping[str, str] = {
    **{e: e for e in CANONICAL_EMOTIONS},
    "neu": "neutral", "neutrality": "neutral", "normal": "neutral",
    "calmness": "calm", "cal": "calm",
    "hap": "happy", "happiness": "happy", "joy": "happy", "happy_joy": "happy", "glad": "happy",
    "sadness": "sad", "sa": "sad",
    "ang": "angry", "anger": "angry", "mad": "angry", "annoyed": "angry",
    "fea": "fearful", "fear": "fearful", "afraid": "fearful", "scared": "fearful",
    "dis": "disgust", "disgusted": "disgust",
    "sur": "surprised", "surprise": "surprised", "su": "surprised",
    "ps": "pleasant_surprise", "pleasant_surprised": "pleasant_surprise",
    "pleasantsurprise": "pleasant_surprise",
    "bored": "boredom", "boring": "boredom",
}


@dataclasses.dataclass(frozen=True)
class LabelSet:
    """A named choice of classes.

    Attributes:
        name: the set's name, e.g. ``"common6"``.
        classes: class names in model-output order.
        merge: canonical emotion -> class it is counted as (for emotions folded into another).
    """

    name: str
    classes: Tuple[str, ...]
    merge: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def class_of(self, emotion: str) -> Optional[str]:
        """The class ``emotion`` belongs to in this set, or ``None`` if it is left out."""
        emotion = self.merge.get(emotion, emotion)
        return emotion if emotion in self.classes else None

    def index_of(self, emotion: str) -> Optional[int]:
        cls = self.class_of(emotion)
        return None if cls is None else self.classes.index(cls)


LABEL_SETS: Mapping[str, LabelSet] = {
    # CREMA-D's six classes, shared by most corpora: the usual cross-corpus set.
    "common6": LabelSet("common6", ("angry", "disgust", "fearful", "happy", "neutral", "sad")),
    # RAVDESS's eight emotions; TESS's pleasant surprise counts as surprised.
    "ravdess8": LabelSet(
        "ravdess8",
        ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"),
        merge={"pleasant_surprise": "surprised"},
    ),
    # The 9-class union of RAVDESS and TESS used by the CNN-RNN suite.
    "all9": LabelSet("all9", CANONICAL_EMOTIONS[:9]),
    # Everything, boredom (EmoDB) included.
    "all10": LabelSet("all10", CANONICAL_EMOTIONS),
}


def canonical_emotion(name: str) -> str:
    """Map a label name (any case, synonyms allowed) to its canonical emotion.

    Raises:
        LabelError: the name is not a known emotion; the message lists the known names.
    """
    key = str(name).strip().lower().replace(" ", "_").replace("-", "_")
    if key not in SYNONYMS:
        raise LabelError(
            f"unknown emotion name {name!r}; expected one of {list(CANONICAL_EMOTIONS)} "
            f"or a synonym such as {sorted(k for k in SYNONYMS if k not in CANONICAL_EMOTIONS)[:12]}"
        )
    return SYNONYMS[key]


def get_label_set(name: Optional[str], *, present: Sequence[str] = ()) -> LabelSet:
    """Resolve a label-set name.

    Args:
        name: a name from ``LABEL_SETS``, a comma-separated list of emotions
            (``"angry,happy,sad"``), or ``None``/``"auto"`` for the emotions ``present`` in the
            data, in canonical order.
        present: canonical emotions found in the data (used for ``None``/``"auto"``).

    Raises:
        LabelError: unknown set or emotion name.
    """
    if name is None or name == "auto":
        classes = tuple(e for e in CANONICAL_EMOTIONS if e in set(present))
        if not classes:
            raise LabelError("no emotions present in the data to build the default label set from")
        return LabelSet("auto", classes)
    if name in LABEL_SETS:
        return LABEL_SETS[name]
    if "," in name:
        classes = tuple(dict.fromkeys(canonical_emotion(n) for n in name.split(",") if n.strip()))
        return LabelSet("custom", classes)
    raise LabelError(
        f"unknown label set {name!r}; expected one of {sorted(LABEL_SETS)}, 'auto', "
        "or a comma-separated list of emotions"
    )


def apply_label_set(records, label_set: LabelSet, *, require_all: bool = False):
    """Keep the records whose emotion the label set covers.

    Args:
        records: iterable of ``Record``.
        label_set: the chosen set.
        require_all: raise if some class of the set has no record at all.

    Returns:
        ``(kept, dropped)``: the kept records, with ``emotion`` rewritten to the set's class name
        when it was merged, and a ``Counter`` of dropped canonical emotions.

    Raises:
        LabelError: ``require_all`` and a class of the set is empty; names the empty classes.
    """
    kept, dropped = [], Counter()
    for rec in records:
        cls = label_set.class_of(rec.emotion)
        if cls is None:
            dropped[rec.emotion] += 1
        else:
            kept.append(rec if cls == rec.emotion else dataclasses.replace(rec, emotion=cls))
    if require_all:
        have = {r.emotion for r in kept}
        missing = [c for c in label_set.classes if c not in have]
        if missing:
            raise LabelError(
                f"label set {label_set.name!r} needs classes {list(label_set.classes)}, but the "
                f"data has no clips of {missing}; choose a label set the data can fill "
                f"(present: {sorted(have)})"
            )
    return kept, dropped
