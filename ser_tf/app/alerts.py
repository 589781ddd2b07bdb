"""Alert rules: checked against each recording's timeline, fired alerts POSTed to a webhook.

Two kinds of rule, kept in the database (``ser_tf.storage``):

- ``sustained``: ``angry ≥ 0.70 for ≥ 5 s``. A run of consecutive voiced windows whose probability
  of the emotion stays at or above the threshold, lasting at least ``min_seconds`` of the time those
  windows own (``ser_tf.inference.summary.owned_bounds``). A silent window ends a run. Each run fires
  once, with its span and its peak probability.
- ``share``: ``sad share ≥ 40 %``. The emotion's share of the recording's voiced time.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from typing import Dict, List, Optional, Sequence

from ser_tf.errors import ParameterError
from ser_tf.inference.results import SILENCE
from ser_tf.inference.summary import owned_bounds
from ser_tf.storage.schema import RULE_KINDS

# Seconds a webhook receiver gets to answer; a slow receiver must not hold the server's threads.
WEBHOOK_TIMEOUT_S = 5.0


def validate_rule(rule: dict, *, classes: Sequence[str]) -> dict:
    """A rule from the page, checked and normalised for ``Store.add_rule``.

    Args:
        rule: ``{"kind", "emotion", "threshold", "min_seconds" (sustained), "name", "webhook_url",
            "enabled"}``; ``threshold`` in (0, 1] (a share of 40 % is 0.4).
        classes: the model's classes; the emotion must be one of them.

    Raises:
        ParameterError: naming the field and the value received.
    """
    if not isinstance(rule, dict):
        raise ParameterError(f"a rule must be a JSON object, got {type(rule).__name__}")
    kind = rule.get("kind")
    if kind not in RULE_KINDS:
        raise ParameterError(f"kind must be one of {', '.join(RULE_KINDS)}, got {kind!r}")
    emotion = rule.get("emotion")
    if emotion not in classes:
        raise ParameterError(f"emotion must be one of the model's classes ({', '.join(classes)}), got {emotion!r}")
    threshold = _number(rule.get("threshold"), "threshold")
    if not 0.0 < threshold <= 1.0:
        raise ParameterError(f"threshold must be in (0, 1] (a share of 40 % is 0.4), got {threshold!r}")
    min_seconds = _number(rule.get("min_seconds", 0.0), "min_seconds") if kind == "sustained" else 0.0
    if not 0.0 <= min_seconds <= 86400.0:
        raise ParameterError(f"min_seconds must be in [0, 86400], got {min_seconds!r}")
    url = rule.get("webhook_url") or None
    if url is not None:
        parsed = urllib.parse.urlparse(str(url))
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ParameterError(f"webhook_url must be an http:// or https:// URL, got {url!r}")
    out = {"kind": kind, "emotion": emotion, "threshold": threshold, "min_seconds": min_seconds,
           "webhook_url": url, "enabled": bool(rule.get("enabled", True))}
    out["name"] = str(rule.get("name") or describe_rule(out))[:200]
    return out


def _number(value, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ParameterError(f"{field} must be a finite number, got {value!r}")
    return float(value)


def describe_rule(rule: dict) -> str:
    """The rule in words: ``"angry ≥ 0.70 for ≥ 5 s"`` or ``"sad share ≥ 40 %"``."""
    if rule["kind"] == "share":
        return f"{rule['emotion']} share ≥ {100 * rule['threshold']:g} %"
    return f"{rule['emotion']} ≥ {rule['threshold']:.2f} for ≥ {rule['min_seconds']:g} s"


def _sustained(rule: dict, timeline: Sequence[dict]) -> List[dict]:
    fired, run = [], []
    bounds = owned_bounds([(w["start"], w["end"]) for w in timeline])

    def close_run():
        if run:
            start, end = bounds[run[0]][0], bounds[run[-1]][1]
            if end - start >= rule["min_seconds"] - 1e-9:
                peak = max(timeline[i]["probabilities"][rule["emotion"]] for i in run)
                fired.append({"start": round(start, 3), "end": round(end, 3), "value": round(peak, 6)})
            run.clear()

    for i, w in enumerate(timeline):
        probs = w.get("probabilities")
        if w["label"] != SILENCE and probs and probs.get(rule["emotion"], 0.0) >= rule["threshold"]:
            run.append(i)
        else:
            close_run()
    close_run()
    return fired


def evaluate(rules: Sequence[dict], *, timeline: Sequence[dict], shares: Dict[str, float]) -> List[dict]:
    """The alerts ``rules`` fire on one recording, in the shape ``Store.add_recording`` takes.

    Args:
        rules: stored rules (``Store.list_rules``); disabled ones are skipped.
        timeline: the recording's windows in time order (``WindowPrediction.to_dict()``).
        shares: ``{emotion: share of voiced time}``.
    """
    alerts = []
    for rule in rules:
        if not rule.get("enabled", True):
            continue
        base = {"rule_id": rule.get("id"), "rule": describe_rule(rule), "emotion": rule["emotion"],
                "kind": rule["kind"], "webhook": None}
        if rule["kind"] == "share":
            share = float(shares.get(rule["emotion"], 0.0))
            if share >= rule["threshold"]:
                alerts.append({**base, "start": None, "end": None, "value": round(share, 6)})
        else:
            alerts.extend({**base, **span} for span in _sustained(rule, timeline))
    return alerts


def post_webhook(url: str, payload: dict, *, timeout: float = WEBHOOK_TIMEOUT_S) -> str:
    """POST ``payload`` as JSON to ``url``; returns what happened, for the alert's ``webhook`` field.

    Never raises: a receiver that is down or slow is reported as ``"failed: ..."``, and the alert
    stays recorded either way.
    """
    body = json.dumps(payload).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json",
                                              "User-Agent": "ser_tf-app"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return f"sent: HTTP {response.status}"
    except urllib.error.HTTPError as err:
        return f"failed: HTTP {err.code}"
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason: Optional[object] = getattr(err, "reason", None) or err
        return f"failed: {reason}"
