"""The fired-alerts table, one owner for both reports: its HTML rows and its CSV rows.

A recording's report leaves out the recording column (it is the page's subject); a period's keeps it.
"""

from __future__ import annotations

from typing import List, Mapping, Sequence

from ser_tf.report.document import Html, csv_bytes, fmt_percent, fmt_seconds, fmt_time, table

_CSV_COLUMNS = ("fired_at", "recording_id", "recording_name", "rule", "emotion", "kind",
                "start", "end", "value", "webhook")


def _columns(with_recording: bool) -> List[str]:
    return [c for c in _CSV_COLUMNS if with_recording or not c.startswith("recording_")]


def alerts_csv(alerts: Sequence[Mapping], *, with_recording: bool) -> bytes:
    """``alerts.csv``: one row per fired alert (the contract's dict), oldest first, raw values."""
    columns = _columns(with_recording)
    rows = [[a.get(c) for c in columns] for a in _oldest_first(alerts)]
    return csv_bytes(columns, rows)


def alerts_table(alerts: Sequence[Mapping], *, with_recording: bool) -> Html:
    """The alerts as an HTML table, oldest first: when, (recording,) rule, where, value, webhook."""
    headers = ["fired", *(["recording"] if with_recording else []), "rule", "span", "peak / share", "webhook"]
    rows = []
    for a in _oldest_first(alerts):
        span = ("whole recording" if a.get("start") is None
                else f"{fmt_seconds(a['start'])} – {fmt_seconds(a.get('end'))}")
        rows.append([fmt_time(a.get("fired_at")), *([a.get("recording_name")] if with_recording else []),
                     a.get("rule"), span, _value(a), a.get("webhook") or "–"])
    value_column = headers.index("peak / share")
    return table(headers, rows, numeric=[value_column], empty="No alerts fired.")


def _value(alert: Mapping) -> str:
    """As the rule's text form writes its threshold: a probability for a sustained rule
    (``0.82``), a percentage for a share rule (``43.0 %``)."""
    value = alert.get("value")
    if value is None:
        return "–"
    return fmt_percent(value) if alert.get("kind") == "share" else f"{value:.2f}"


def _oldest_first(alerts: Sequence[Mapping]) -> List[Mapping]:
    # The store lists newest first; a report reads in time order. ISO-8601 "Z" strings sort by time.
    return sorted(alerts, key=lambda a: (a.get("fired_at") or "", a.get("start") or 0.0))
