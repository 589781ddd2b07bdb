"""Hand-built dicts in the shapes of notes/app-contract.md (what Store returns), for the report tests."""

from __future__ import annotations

import csv
import io
import re
from typing import Dict, List, Optional, Sequence

CLASSES = ("neutral", "happy", "sad", "angry")


def window(start: float, *, label: str, hop: float = 1.0, length: float = 2.0,
           classes: Sequence[str] = CLASSES) -> dict:
    """A timeline window; ``label="silence"`` gives a window that failed the voice gate."""
    if label == "silence":
        return {"start": start, "end": start + length, "label": "silence", "confidence": None,
                "voiced": False, "level_db": -62.5, "probabilities": None}
    rest = 0.4 / (len(classes) - 1)
    probs = {c: (0.6 if c == label else rest) for c in classes}
    return {"start": start, "end": start + length, "label": label, "confidence": 0.6, "voiced": True,
            "level_db": -20.25 + start, "probabilities": probs}


def make_recording(*, name: str = "call 1.wav", labels: Sequence[str] = ("happy", "happy", "silence", "sad"),
                   rid: int = 7, uploaded_at: str = "2026-11-24T09:30:00Z",
                   alerts: Optional[List[dict]] = None, classes: Sequence[str] = CLASSES) -> dict:
    """The full recording shape: one window per label, 2 s long every 1 s."""
    timeline = [window(float(i), label=lab, classes=classes) for i, lab in enumerate(labels)]
    voiced = [w for w in timeline if w["voiced"]]
    shares: Dict[str, float] = {}
    for w in voiced:
        shares[w["label"]] = shares.get(w["label"], 0.0) + 1.0 / len(voiced)
    duration = timeline[-1]["end"] if timeline else 0.0
    bins = 50
    return {
        "id": rid, "name": name, "source": "upload", "uploaded_at": uploaded_at, "duration": duration,
        "label": max(shares, key=shares.get) if shares else "silence", "confidence": 0.55,
        "shares": shares, "silence_share": 1 - len(voiced) / max(len(timeline), 1),
        "voiced_seconds": float(len(voiced)), "alert_count": len(alerts or []), "has_audio": True,
        "model_id": 1,
        "probabilities": {c: 1.0 / len(classes) for c in classes}, "basis": "mean over voiced windows",
        "window": 2.0, "hop": 1.0,
        "envelope": {"mins": [-0.1 * (i % 5) for i in range(bins)],
                     "maxs": [0.1 * (i % 5) for i in range(bins)], "duration": duration},
        "model": {"id": 1, "path": "models/run1/model.keras", "arch": "cnn_lstm_small",
                  "classes": list(classes), "sha256": "ab" * 32},
        "timeline": timeline,
        "alerts": alerts or [],
    }


def summary_of(recording: dict) -> dict:
    """The summary shape (Store.list_recordings) of a full recording."""
    keys = ("id", "name", "source", "uploaded_at", "duration", "label", "confidence", "shares",
            "silence_share", "voiced_seconds", "alert_count", "has_audio", "model_id")
    return {k: recording[k] for k in keys}


def make_alert(*, rid: int = 7, name: str = "call 1.wav", fired_at: str = "2026-11-24T09:30:05Z",
               start: Optional[float] = 1.0, value: float = 0.82) -> dict:
    """A fired alert; ``start=None`` gives a share rule's alert."""
    sustained = start is not None
    return {"id": 3, "recording_id": rid, "recording_name": name, "rule_id": 2,
            "rule": "angry ≥ 0.70 for ≥ 5 s" if sustained else "sad share ≥ 40 %",
            "emotion": "angry" if sustained else "sad", "kind": "sustained" if sustained else "share",
            "start": start, "end": start + 6.0 if sustained else None, "value": value,
            "fired_at": fired_at, "webhook": "sent: HTTP 200"}


def trend_row(day: str, *, recordings: int = 1, voiced: float = 3.0,
              shares: Optional[Dict[str, float]] = None) -> dict:
    return {"start": day, "recordings": recordings, "voiced_seconds": voiced,
            "shares": {"happy": 0.75, "sad": 0.25} if shares is None else shares}


def read_csv(data: bytes) -> List[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def decode_png(data: bytes):
    """The PNG as an ``(H, W, channels)`` array, decoded by matplotlib (raises if it is not a PNG)."""
    import matplotlib.image

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return matplotlib.image.imread(io.BytesIO(data), format="png")


def links_of(html: bytes) -> List[str]:
    """Every ``href``/``src`` target of the page."""
    return re.findall(r'(?:href|src)="([^"]*)"', html.decode("utf-8"))
