"""Recording, window, alert and rule dicts: checked on the way in, shaped on the way out.

The dict shapes are those of ``/work/notes/app-contract.md`` (the app's contract); this module is
the one place that maps them onto table rows.
"""

from __future__ import annotations

from typing import Dict, List

from ser_tf.errors import ParameterError
from ser_tf.storage import values
from ser_tf.storage.schema import RULE_KINDS, SOURCES

# Keys of the full recording shape that the store derives itself; a caller may pass them back
# (e.g. a dict it got from get_recording) and they are ignored.
DERIVED_RECORDING_KEYS = {"id", "alert_count", "has_audio", "model", "timeline", "alerts"}
RECORDING_KEYS = {"name", "source", "uploaded_at", "duration", "label", "confidence", "probabilities",
                  "shares", "silence_share", "voiced_seconds", "basis", "window", "hop", "envelope",
                  "model_id"}
WINDOW_KEYS = {"start", "end", "label", "confidence", "voiced", "level_db", "probabilities"}
ALERT_KEYS = {"rule_id", "rule", "emotion", "kind", "start", "end", "value", "webhook", "fired_at"}
RULE_KEYS = {"name", "kind", "emotion", "threshold", "min_seconds", "webhook_url", "enabled"}
# Summary columns of a recording (the list view), in the contract's order.
SUMMARY_KEYS = ("id", "name", "source", "uploaded_at", "duration", "label", "confidence", "shares",
                "silence_share", "voiced_seconds", "alert_count", "has_audio", "model_id")


def _check_keys(given: dict, *, allowed: set, required: set, what: str) -> None:
    if not isinstance(given, dict):
        raise ParameterError(f"{what} must be a dict, got {type(given).__name__}: {given!r:.200}")
    unknown = set(given) - allowed
    if unknown:
        raise ParameterError(f"{what} has unknown keys {sorted(unknown)}; expected {sorted(allowed)}")
    missing = required - set(given)
    if missing:
        raise ParameterError(f"{what} lacks keys {sorted(missing)}")


def recording_row(recording: dict) -> dict:
    """The ``recordings`` row for a recording dict (see ``Store.add_recording``)."""
    _check_keys(recording, allowed=RECORDING_KEYS | DERIVED_RECORDING_KEYS,
                required=RECORDING_KEYS - {"uploaded_at"}, what="recording")
    uploaded_at = recording.get("uploaded_at")
    return {
        "name": values.text(recording["name"], name="recording['name']"),
        "source": values.choice(recording["source"], SOURCES, name="recording['source']"),
        "uploaded_at": values.utc_now() if uploaded_at is None
        else values.to_utc(uploaded_at, name="recording['uploaded_at']"),
        "duration": values.number(recording["duration"], name="recording['duration']", low=0),
        "label": values.text(recording["label"], name="recording['label']"),
        "confidence": values.number(recording["confidence"], name="recording['confidence']", low=0, high=1),
        "probabilities": values.scores(recording["probabilities"], name="recording['probabilities']"),
        "shares": values.scores(recording["shares"], name="recording['shares']"),
        "silence_share": values.number(recording["silence_share"], name="recording['silence_share']",
                                       low=0, high=1),
        "voiced_seconds": values.number(recording["voiced_seconds"], name="recording['voiced_seconds']",
                                        low=0),
        "basis": str(recording["basis"]),
        "window": values.number(recording["window"], name="recording['window']", low=0),
        "hop": values.number(recording["hop"], name="recording['hop']", low=0),
        "envelope": values.envelope(recording["envelope"], name="recording['envelope']"),
        "model_id": _identifier(recording["model_id"], name="recording['model_id']"),
    }


def window_rows(timeline: List[dict]) -> List[dict]:
    """The ``windows`` rows for a timeline, ``position`` numbering them in order, less
    ``recording_id`` (the recording has no id until it is inserted).

    Only keys and number types are checked here; ``None`` in a required column is left for the
    database to refuse (inside the recording's transaction, so nothing is written).
    """
    rows = []
    for position, window in enumerate(timeline):
        what = f"timeline[{position}]"
        _check_keys(window, allowed=WINDOW_KEYS, required=WINDOW_KEYS - {"confidence", "probabilities"},
                    what=what)
        rows.append({
            "position": position,
            "start": values.number(window["start"], name=f"{what}['start']", optional=True),
            "end": values.number(window["end"], name=f"{what}['end']", optional=True),
            # None is left for the database's NOT NULL to refuse (tests use it to fail mid-insert).
            "label": None if window["label"] is None else values.text(window["label"], name=f"{what}['label']"),
            "confidence": values.number(window.get("confidence"), name=f"{what}['confidence']",
                                        optional=True),
            "voiced": None if window["voiced"] is None else bool(window["voiced"]),
            "level_db": values.number(window["level_db"], name=f"{what}['level_db']", optional=True),
            "probabilities": values.scores(window.get("probabilities"), name=f"{what}['probabilities']",
                                           optional=True),
        })
    return rows


def alert_rows(alerts: List[dict]) -> List[dict]:
    """The ``alerts`` rows for fired alerts (``fired_at`` defaults to now), less ``recording_id``."""
    rows = []
    for index, alert in enumerate(alerts):
        what = f"alerts[{index}]"
        _check_keys(alert, allowed=ALERT_KEYS, required={"rule", "emotion", "kind", "value"}, what=what)
        fired_at = alert.get("fired_at")
        rule_id = alert.get("rule_id")
        rows.append({
            "rule_id": None if rule_id is None else _identifier(rule_id, name=f"{what}['rule_id']"),
            "rule": values.text(alert["rule"], name=f"{what}['rule']"),
            "emotion": values.text(alert["emotion"], name=f"{what}['emotion']"),
            "kind": values.choice(alert["kind"], RULE_KINDS, name=f"{what}['kind']"),
            "start": values.number(alert.get("start"), name=f"{what}['start']", optional=True),
            "end": values.number(alert.get("end"), name=f"{what}['end']", optional=True),
            "value": values.number(alert["value"], name=f"{what}['value']"),
            "fired_at": values.utc_now() if fired_at is None else values.to_utc(fired_at, name=f"{what}['fired_at']"),
            "webhook": alert.get("webhook"),
        })
    return rows


def rule_row(rule: dict) -> dict:
    """The ``rules`` row for a rule dict (see ``Store.add_rule``); ``created_at`` is now."""
    _check_keys(rule, allowed=RULE_KEYS, required={"name", "kind", "emotion", "threshold"}, what="rule")
    kind = values.choice(rule["kind"], RULE_KINDS, name="rule['kind']")
    min_seconds = values.number(rule.get("min_seconds", 0.0), name="rule['min_seconds']", low=0)
    if kind == "share" and min_seconds:
        raise ParameterError(f"rule['min_seconds']={rule['min_seconds']!r} applies to sustained rules "
                             f"only; a share rule needs 0")
    webhook_url = rule.get("webhook_url")
    if webhook_url is not None and not (isinstance(webhook_url, str)
                                        and webhook_url.startswith(("http://", "https://"))):
        raise ParameterError(f"rule['webhook_url']={webhook_url!r} must be an http:// or https:// URL, or None")
    return {
        "name": values.text(rule["name"], name="rule['name']"),
        "kind": kind,
        "emotion": values.text(rule["emotion"], name="rule['emotion']"),
        "threshold": values.number(rule["threshold"], name="rule['threshold']", low=0, high=1, low_open=True),
        "min_seconds": min_seconds,
        "webhook_url": webhook_url,
        "enabled": bool(rule.get("enabled", True)),
        "created_at": values.utc_now(),
    }


def _identifier(value, *, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ParameterError(f"{name}={value!r} must be a positive integer id")
    return value


def summary(row) -> Dict:
    """A summary recording dict from a row holding ``SUMMARY_KEYS``."""
    mapping = row._mapping
    result = {key: mapping[key] for key in SUMMARY_KEYS}
    result["uploaded_at"] = values.iso_z(result["uploaded_at"])
    result["has_audio"] = bool(result["has_audio"])
    return result


def window(row) -> Dict:
    """A timeline entry from a ``windows`` row."""
    mapping = row._mapping
    return {key: mapping[key] for key in ("start", "end", "label", "confidence", "voiced", "level_db",
                                          "probabilities")}


def alert(row) -> Dict:
    """A fired-alert dict from an ``alerts`` row joined with its recording's name."""
    mapping = row._mapping
    result = {key: mapping[key] for key in ("id", "recording_id", "recording_name", "rule_id", "rule",
                                            "emotion", "kind", "start", "end", "value", "fired_at",
                                            "webhook")}
    result["fired_at"] = values.iso_z(result["fired_at"])
    return result


def rule(row) -> Dict:
    """A rule dict from a ``rules`` row."""
    result = dict(row._mapping)
    result["created_at"] = values.iso_z(result["created_at"])
    return result
