"""One recording in, the rows the app stores and shows out: the timeline, the overall label, each
emotion's share of voiced time and the waveform envelope.

The model (``ser_tf.load_model``) is loaded once per server; ``Analyzer`` is safe to call from
several threads at once (the inference graph is traced before the first request, so threads only
ever read it).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Dict, List, Optional, Union

import numpy as np

from ser_tf.errors import ParameterError
from ser_tf.inference.results import LongPrediction
from ser_tf.inference.summary import envelope, label_colours, owned_spans, voiced_shares
from ser_tf.utils.io import file_sha256

@dataclasses.dataclass(frozen=True)
class Analysis:
    """What the store keeps of one recording, in the shapes of ``ser_tf.storage.Store.add_recording``.

    Attributes:
        recording: the recording's scalar fields, overall result, shares and envelope.
        timeline: one dict per window (``WindowPrediction.to_dict()``).
    """

    recording: dict
    timeline: List[dict]


class Analyzer:
    """A loaded model and the settings every recording is analysed with.

    Args:
        model: an ``EmotionModel`` (``ser_tf.load_model``).
        hop: seconds between window starts on the timeline, in (0, window].
    """

    def __init__(self, model, *, hop: float = 1.0):
        if not 0.0 < float(hop) <= model.window:
            raise ParameterError(f"hop must be in (0, {model.window:g}] s (the model's window), got {hop!r}")
        self.model = model
        self.hop = float(hop)
        model.warmup()  # trace now: concurrent first requests must not race to trace
        self.classes: List[str] = list(model.classes)
        self.colours: Dict[str, str] = label_colours(self.classes)
        self._identity: Optional[dict] = None

    @property
    def identity(self) -> dict:
        """``{"path", "arch", "classes", "sha256"}``: what the store records as the model."""
        if self._identity is None:  # hashing a 30 MB model takes a moment: only when first needed
            self._identity = {"path": str(self.model.path), "arch": self.model.arch or "unknown",
                              "classes": self.classes, "sha256": file_sha256(self.model.path)}
        return self._identity

    @property
    def sample_rate(self) -> int:
        return self.model.sample_rate

    @property
    def window(self) -> float:
        return self.model.window

    def analyse(self, path: Union[str, Path], *, name: str, source: str) -> Analysis:
        """Classify a recording into a timeline and summarise it.

        Args:
            path: the audio file (any format and rate the library reads), read block by block, so
                memory stays bounded whatever its length. Uploads and streams both arrive as files.
            name: the display name (never used as a path).
            source: ``"upload"``, ``"record"`` or ``"stream"``.

        Raises:
            AudioError: unreadable, shorter than 0.5 s, or digital silence throughout.
        """
        long = self.model.predict_long(path, hop=self.hop)
        mins, maxs, duration = envelope(path, sample_rate=self.sample_rate)
        return Analysis(recording=self._summary(long, name=name, source=source, mins=mins, maxs=maxs,
                                                duration=duration),
                        timeline=[w.to_dict() for w in long.timeline])

    def _summary(self, long: LongPrediction, *, name, source, mins, maxs, duration) -> dict:
        overall = long.overall
        shares, silence_share, voiced_seconds = voiced_shares(owned_spans(long, overall, long.duration),
                                                              self.classes)
        return {
            "name": name, "source": source, "duration": round(float(long.duration), 3),
            "label": overall.label, "confidence": round(float(overall.confidence), 6),
            "probabilities": {c: round(float(p), 6) for c, p in overall.probabilities.items()},
            "shares": {c: round(float(s), 6) for c, s in shares.items()},
            "silence_share": round(float(silence_share), 6), "voiced_seconds": round(float(voiced_seconds), 3),
            "basis": long.basis, "window": float(long.window), "hop": float(long.hop),
            "envelope": {"mins": np.round(mins, 4).tolist(), "maxs": np.round(maxs, 4).tolist(),
                         "duration": round(float(duration), 3)},
        }
