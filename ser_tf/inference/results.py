"""What inference returns: a clip's prediction, a long recording's timeline, a live update.

Plain frozen dataclasses (no TensorFlow), so renderers and callers can use them without a model.
Each has ``to_dict()``: the JSON-ready form that ``audio_test.py --json`` prints (the one owner of
that shape; ``ser_tf.inference.render`` only adds the CLI's envelope).
"""

from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional, Tuple

SILENCE = "silence"


def _r(x: Optional[float], nd: int = 6) -> Optional[float]:
    return None if x is None else round(float(x), nd)


def _span(start: float, end: float, label: str, confidence: Optional[float]) -> dict:
    """The keys a timeline window and a live update share: where, what, how sure."""
    return {"start": _r(start, 3), "end": _r(end, 3), "label": label, "confidence": _r(confidence)}


def _probabilities(probs: Optional[Dict[str, float]]) -> Optional[Dict[str, float]]:
    return None if probs is None else {k: _r(v) for k, v in probs.items()}


@dataclasses.dataclass(frozen=True)
class Prediction:
    """One label for one clip (or the overall label of a long recording).

    Attributes:
        label: the most probable class.
        confidence: its probability, in [0, 1].
        probabilities: ``{class: probability}`` for every class, in the model's output order.
        top_k: the ``k`` most probable ``(class, probability)`` pairs, most probable first.
        duration: seconds of audio classified (``None`` if unknown).
        path: the file, for ``predict_file`` / ``predict_long``.
    """

    label: str
    confidence: float
    probabilities: Dict[str, float]
    top_k: List[Tuple[str, float]]
    duration: Optional[float] = None
    path: Optional[str] = None

    def to_dict(self) -> dict:
        """``{"source", "status": "ok", "label", "confidence", "probabilities", "top_k", "duration"}``;
        ``source`` is the file (``None`` for in-memory audio). Numbers rounded to 6 decimals."""
        return {
            "source": self.path,
            "status": "ok",
            "label": self.label,
            "confidence": _r(self.confidence),
            "probabilities": _probabilities(self.probabilities),
            "top_k": [{"label": k, "probability": _r(v)} for k, v in self.top_k],
            "duration": _r(self.duration, 3),
        }


@dataclasses.dataclass(frozen=True)
class WindowPrediction:
    """One window of a long recording's timeline.

    ``label`` is ``"silence"`` (and ``confidence`` ``None``) when the window failed the energy gate;
    ``probabilities`` is then ``None`` for digital silence (the model was not run), else the model's
    output, kept only for the all-silent fallback described in ``LongPrediction``.
    """

    start: float
    end: float
    label: str
    confidence: Optional[float]
    probabilities: Optional[Dict[str, float]]
    voiced: bool
    level_db: float

    def to_dict(self) -> dict:
        return {
            **_span(self.start, self.end, self.label, self.confidence),
            "voiced": self.voiced,
            "level_db": _r(self.level_db, 1),
            # A silent window's model output is not a prediction; leave it out so nobody reads it as one.
            "probabilities": _probabilities(self.probabilities) if self.voiced else None,
        }


@dataclasses.dataclass(frozen=True)
class LongPrediction:
    """Sliding-window result for a recording longer than the model's window.

    Attributes:
        timeline: one entry per window, in time order.
        overall: mean of the window probabilities over the voiced windows; if no window is voiced,
            over all windows, and ``basis`` says so.
        basis: a sentence saying which windows ``overall`` averages.
        window, hop: seconds.
        duration: seconds of audio.
    """

    timeline: List[WindowPrediction]
    overall: Prediction
    basis: str
    window: float
    hop: float
    duration: float

    @property
    def voiced_windows(self) -> int:
        return sum(w.voiced for w in self.timeline)

    def to_dict(self) -> dict:
        """``overall.to_dict()`` plus ``overall_basis``, ``window``, ``hop`` and the ``timeline``."""
        return {
            **self.overall.to_dict(),
            "overall_basis": self.basis,
            "window": self.window,
            "hop": self.hop,
            "timeline": [w.to_dict() for w in self.timeline],
        }


@dataclasses.dataclass(frozen=True)
class StreamUpdate:
    """The live label after one more window of a stream.

    Attributes:
        start, end: the window's position in the stream, in seconds.
        label: smoothed most probable class, or ``"silence"`` when the window failed the gate.
        confidence: smoothed probability of ``label`` (``None`` for silence).
        probabilities: smoothed ``{class: probability}`` (``None`` for silence).
        raw: the window's own (unsmoothed) prediction, ``None`` for silence.
        level_db: the window's RMS level, dBFS.
        compute_s: seconds spent on this window (gate + model).
        total_compute_s, audio_s: cumulative compute seconds and seconds of audio received.
        dropped: windows skipped so far because the consumer fell behind (``drop_late``).
    """

    start: float
    end: float
    label: str
    confidence: Optional[float]
    probabilities: Optional[Dict[str, float]]
    raw: Optional[Prediction]
    level_db: float
    compute_s: float
    total_compute_s: float
    audio_s: float
    dropped: int = 0

    def to_dict(self) -> dict:
        return {
            **_span(self.start, self.end, self.label, self.confidence),
            "probabilities": _probabilities(self.probabilities),
            "raw_label": None if self.raw is None else self.raw.label,
            "level_db": _r(self.level_db, 1),
            "compute_s": _r(self.compute_s, 4),
        }

    @property
    def real_time_factor(self) -> float:
        """Compute time over audio time so far; below 1 keeps up with real time."""
        return self.total_compute_s / self.audio_s if self.audio_s > 0 else 0.0
