"""Builders of the contract's dicts for storage tests: valid by default, overridable per key."""

from datetime import datetime, timedelta, timezone

CLASSES = ["angry", "happy", "neutral", "sad"]
T0 = datetime(2026, 11, 30, 14, 55, 3, tzinfo=timezone.utc)  # a Monday


def add_model(store, **overrides) -> int:
    identity = {"path": "/models/final.keras", "arch": "cnn_rnn", "classes": CLASSES, "sha256": "ab" * 32}
    return store.ensure_model(**{**identity, **overrides})


def recording(model_id: int, **overrides) -> dict:
    """A recording dict for ``Store.add_recording``: 4 s, 3 s voiced, mostly angry."""
    base = {
        "name": "clip.wav", "source": "upload", "uploaded_at": T0, "duration": 4.0, "label": "angry",
        "confidence": 0.7, "probabilities": {"angry": 0.7, "happy": 0.1, "neutral": 0.1, "sad": 0.1},
        "shares": {"angry": 2 / 3, "sad": 1 / 3}, "silence_share": 0.25, "voiced_seconds": 3.0,
        "basis": "voiced windows", "window": 1.0, "hop": 1.0,
        "envelope": {"mins": [-0.5, -0.25], "maxs": [0.5, 0.25], "duration": 4.0}, "model_id": model_id,
    }
    return {**base, **overrides}


def timeline(count: int = 4) -> list:
    """``count`` one-second windows; the last is silence."""
    windows = []
    for index in range(count):
        voiced = index < count - 1
        windows.append({
            "start": float(index), "end": index + 1.0, "label": "angry" if voiced else "silence",
            "confidence": 0.8 if voiced else None, "voiced": voiced, "level_db": -20.0 if voiced else -70.0,
            "probabilities": {"angry": 0.8, "happy": 0.0, "neutral": 0.1, "sad": 0.1} if voiced else None,
        })
    return windows


def fired_alert(**overrides) -> dict:
    base = {"rule_id": None, "rule": "angry ≥ 0.70 for ≥ 2 s", "emotion": "angry", "kind": "sustained",
            "start": 0.0, "end": 3.0, "value": 0.8, "fired_at": T0 + timedelta(seconds=1)}
    return {**base, **overrides}


def rule(**overrides) -> dict:
    base = {"name": "angry caller", "kind": "sustained", "emotion": "angry", "threshold": 0.7,
            "min_seconds": 5.0, "webhook_url": None, "enabled": True}
    return {**base, **overrides}


def add_full_recording(store, model_id: int, *, alerts=(), audio=None, **overrides) -> int:
    """Store a recording with ``timeline()`` and the given alerts; its id."""
    return store.add_recording(recording=recording(model_id, **overrides), timeline=timeline(),
                               alerts=list(alerts), audio=audio, audio_type="audio/wav" if audio else None)
