"""A period's report (a day, or an ISO week from Monday): how much was recorded, what was heard,
day by day, and which alerts fired.

Files: ``index.html``, ``daily_shares.png`` (stacked share of voiced time per emotion per day),
``labels.png`` (recordings per overall label), ``recordings.csv``, ``alerts.csv`` and
``daily_shares.csv``. A period without recordings still gives a complete page that says so, and
no charts.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import List, Mapping, Sequence

from ser_tf.errors import ParameterError
from ser_tf.report import charts
from ser_tf.report.alerts import alerts_csv, alerts_table
from ser_tf.report.document import (
    INDEX, Html, Report, csv_bytes, facts, figure, fmt_hours, fmt_percent, fmt_seconds, fmt_time, link,
    page, section, table,
)

# Days in each period; a week starts on Monday (ISO 8601).
PERIOD_DAYS = {"day": 1, "week": 7}
_RECORDING_COLUMNS = ("id", "uploaded_at", "name", "source", "duration", "label", "confidence",
                      "voiced_seconds", "silence_share", "alert_count")


def period_title(period: str, start: dt.date) -> str:
    """``Day 2026-11-30 (Monday)`` or ``Week 2026-W48 (Mon 23 Nov – Sun 29 Nov 2026)``."""
    if period == "day":
        return f"Day {start.isoformat()} ({start:%A})"
    year, week, _ = start.isocalendar()
    last = start + dt.timedelta(days=6)
    return f"Week {year}-W{week:02d} ({start:%a %d %b} – {last:%a %d %b %Y})"


def period_report(*, period: str, start: dt.date, recordings: Sequence[Mapping],
                  alerts: Sequence[Mapping], trend: Sequence[Mapping]) -> Report:
    """The report of the period [``start``, ``start`` + 1 or 7 days), UTC.

    Args:
        period: ``"day"`` or ``"week"`` (then ``start`` must be a Monday).
        start: the period's first day.
        recordings: the contract's summary dicts of the recordings uploaded in the period.
        alerts: the contract's fired-alert dicts of the period.
        trend: the contract's trend rows per *day* of the period (days without recordings may be
            absent); they give the daily shares.

    Raises:
        ParameterError: an unknown ``period``, a ``start`` that is not a date, or a week that does
            not start on a Monday.
    """
    _check_period(period, start)
    days = [start + dt.timedelta(days=i) for i in range(PERIOD_DAYS[period])]
    by_day = {row["start"]: row for row in trend}
    daily = [by_day.get(d.isoformat(), {"start": d.isoformat(), "recordings": 0, "voiced_seconds": 0.0,
                                        "shares": {}}) for d in days]
    recordings = sorted(recordings, key=lambda r: r.get("uploaded_at") or "")
    # Emotions heard at all (a store may list every class, zeros included), and the labels given.
    emotions = charts.emotion_order(
        {e for row in [*daily, *recordings] for e, share in (row.get("shares") or {}).items() if share > 0}
        | {r["label"] for r in recordings})
    labels = Counter(r["label"] for r in recordings)
    title = period_title(period, start)
    files = {
        "recordings.csv": _recordings_csv(recordings, emotions),
        "alerts.csv": alerts_csv(alerts, with_recording=True),
        "daily_shares.csv": _daily_csv(daily, emotions),
    }
    total = sum(float(r.get("duration") or 0.0) for r in recordings)
    voiced = sum(float(r.get("voiced_seconds") or 0.0) for r in recordings)
    body = [section("Summary", facts([
        ("Recordings", len(recordings)),
        ("Recorded", f"{fmt_hours(total)} ({fmt_seconds(total)})"),
        ("Voiced", f"{fmt_hours(voiced)} ({fmt_seconds(voiced)})"),
        ("Alerts fired", len(alerts)),
        ("Overall labels", ", ".join(f"{e}: {labels[e]}" for e in _by_count(labels, emotions)) or "–"),
    ]))]
    if not recordings:
        body.append(Html('<p><strong>No recordings in this period.</strong></p>'))
    else:
        palette = charts.stable_colours(emotions)
        if any(row.get("shares") for row in daily):
            files["daily_shares.png"] = charts.daily_shares_chart(
                days=[f"{d:%a %d %b}" for d in days], shares=[row.get("shares") or {} for row in daily],
                emotions=emotions, palette=palette)
            body.append(section("Emotions day by day", figure(
                "daily_shares.png", alt="share of voiced time per emotion, per day",
                caption="Each bar is one day's voiced time, split by the emotion heard.")))
        counts = {e: labels[e] for e in _by_count(labels, emotions)}
        files["labels.png"] = charts.bar_chart(values=counts, palette=palette,
                                               xlabel="recordings", percent=False)
        body.append(section("Overall label of the recordings", figure(
            "labels.png", alt="number of recordings per overall label")))
    body.append(section("Recordings", _recordings_table(recordings)))
    body.append(section("Alerts", alerts_table(alerts, with_recording=True)))
    body.append(section("Tables", Html(
        f"<p>{link('recordings.csv', 'recordings.csv')} · {link('alerts.csv', 'alerts.csv')} · "
        f"{link('daily_shares.csv', 'daily_shares.csv')}</p>")))
    end = days[-1] + dt.timedelta(days=1)
    files[INDEX] = page(title=title, subtitle=f"From {start.isoformat()} 00:00 UTC to "
                                              f"{end.isoformat()} 00:00 UTC", body=body)
    return Report(title=title, files=files)


def _check_period(period, start) -> None:
    if period not in PERIOD_DAYS:
        raise ParameterError(f"period must be one of {sorted(PERIOD_DAYS)}, got {period!r}")
    if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
        raise ParameterError(f"start must be a datetime.date (the period's first day), got {start!r}")
    if period == "week" and start.weekday() != 0:
        raise ParameterError(f"a week starts on a Monday; start={start.isoformat()} is a {start:%A}")


def _by_count(labels: Counter, emotions: Sequence[str]) -> List[str]:
    """The labels present, most frequent first, ties in class order (silence last)."""
    order = [*emotions, "silence"]
    present = [e for e in order if labels[e]] + sorted(set(labels) - set(order))
    return sorted(present, key=lambda e: -labels[e])


def _recordings_table(recordings: Sequence[Mapping]) -> Html:
    rows = [[fmt_time(r.get("uploaded_at")), r.get("name"), r.get("source"), fmt_seconds(r.get("duration")),
             r.get("label"), fmt_percent(r.get("confidence")), r.get("alert_count", 0)]
            for r in recordings]
    return table(["uploaded", "name", "source", "duration", "label", "confidence", "alerts"], rows,
                 numeric=[3, 5, 6], empty="No recordings in this period.")


def _recordings_csv(recordings: Sequence[Mapping], emotions: Sequence[str]) -> bytes:
    """``recordings.csv``: the summary fields, then each emotion's share of voiced time."""
    rows = [[r.get(c) for c in _RECORDING_COLUMNS] + [(r.get("shares") or {}).get(e) for e in emotions]
            for r in recordings]
    return csv_bytes([*_RECORDING_COLUMNS, *(f"share_{e}" for e in emotions)], rows)


def _daily_csv(daily: Sequence[Mapping], emotions: Sequence[str]) -> bytes:
    """``daily_shares.csv``: per day, recordings, voiced seconds, and each emotion's share."""
    rows = [[row["start"], row.get("recordings", 0), float(row.get("voiced_seconds") or 0.0)]
            + [(row.get("shares") or {}).get(e) for e in emotions] for row in daily]
    return csv_bytes(["day", "recordings", "voiced_seconds", *(f"share_{e}" for e in emotions)], rows)
