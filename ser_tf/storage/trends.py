"""Trends: recordings' emotion shares per day or ISO week, weighted by their voiced seconds.

Aggregated in Python from plain column values, so SQLite and PostgreSQL give identical results
(their date functions and float sums differ).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Dict, Iterable, List, Tuple

PERIODS = ("day", "week")


def period_start(moment: datetime, *, period: str) -> date:
    """The first day of ``moment``'s day or ISO week (a Monday), in UTC."""
    day = moment.date()
    return day - timedelta(days=day.weekday()) if period == "week" else day


def aggregate(rows: Iterable[Tuple[datetime, float, Dict[str, float]]], *, period: str) -> List[Dict]:
    """Trend rows from ``(uploaded_at UTC, voiced_seconds, shares)``, read oldest first.

    Returns:
        ``[{"start": "YYYY-MM-DD", "recordings": int, "voiced_seconds": float (s),
        "shares": {emotion: float}}]``, oldest first, one per period that has recordings.
        ``shares`` are each recording's shares weighted by its voiced seconds, so they sum to 1
        unless the period has no voiced time (then ``{}``).
    """
    periods: Dict[date, Dict] = {}
    for uploaded_at, voiced_seconds, shares in rows:
        bucket = periods.setdefault(period_start(uploaded_at, period=period),
                                    {"recordings": 0, "voiced_seconds": 0.0, "weighted": {}})
        bucket["recordings"] += 1
        bucket["voiced_seconds"] += voiced_seconds
        for emotion, share in shares.items():
            bucket["weighted"][emotion] = bucket["weighted"].get(emotion, 0.0) + share * voiced_seconds
    result = []
    for start in sorted(periods):
        bucket = periods[start]
        total = bucket["voiced_seconds"]
        shares = {emotion: weighted / total for emotion, weighted in sorted(bucket["weighted"].items())} if total > 0 else {}
        result.append({"start": start.isoformat(), "recordings": bucket["recordings"],
                       "voiced_seconds": total, "shares": shares})
    return result
