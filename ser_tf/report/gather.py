"""From a ``Store`` to a ``Report``: which rows a period is, and fetching them.

The store is used through its public methods only (``list_recordings``, ``list_alerts``, ``trend``,
``get_recording``), so anything with those methods serves, a test double included.
"""

from __future__ import annotations

import datetime as dt
from typing import List, Optional, Tuple

from ser_tf.errors import ParameterError
from ser_tf.report.document import Report
from ser_tf.report.period import PERIOD_DAYS, period_report
from ser_tf.report.recording import recording_report

# Rows fetched per list_recordings call; the store's own default limit is 200.
_PAGE = 500
# list_alerts has no offset: ask for more than a period can sensibly hold, and say so if reached.
_ALERT_LIMIT = 100_000


def period_bounds(period: str, start: Optional[dt.date] = None, *,
                  today: Optional[dt.date] = None) -> Tuple[dt.datetime, dt.datetime]:
    """``(since, until)``: the period holding ``start`` as aware UTC datetimes, ``until`` exclusive.

    A week is the ISO week, Monday 00:00 to the next Monday 00:00 (a Sunday maps to the Monday
    before it); a day is midnight to midnight.

    Args:
        period: ``"day"`` or ``"week"``.
        start: a day in the period; ``None``: ``today`` (default: today in UTC), i.e. the period
            still running.
    """
    if period not in PERIOD_DAYS:
        raise ParameterError(f"period must be one of {sorted(PERIOD_DAYS)}, got {period!r}")
    if start is None:
        start = today or dt.datetime.now(dt.timezone.utc).date()
    if isinstance(start, dt.datetime) or not isinstance(start, dt.date):
        raise ParameterError(f"start must be a datetime.date, got {start!r}")
    if period == "week":
        start = start - dt.timedelta(days=start.weekday())
    since = dt.datetime(start.year, start.month, start.day, tzinfo=dt.timezone.utc)
    return since, since + dt.timedelta(days=PERIOD_DAYS[period])


def gather_period(store, *, period: str, start: Optional[dt.date] = None) -> Report:
    """The report of the day or week holding ``start`` (default: the one holding today, UTC)."""
    since, until = period_bounds(period, start)
    recordings = _all_recordings(store, since=since, until=until)
    alerts = store.list_alerts(since=since, until=until, limit=_ALERT_LIMIT)
    if len(alerts) >= _ALERT_LIMIT:
        raise ParameterError(f"{period} from {since.date()} holds {_ALERT_LIMIT} alerts or more; "
                             "report a shorter period (--period day)")
    trend = store.trend(period="day", since=since, until=until)
    return period_report(period=period, start=since.date(), recordings=recordings, alerts=alerts,
                         trend=trend)


def gather_recording(store, recording_id: int) -> Report:
    """The report of the recording ``recording_id``.

    Raises:
        ParameterError: no such recording in the store (the id is named).
    """
    recording = store.get_recording(recording_id)
    if recording is None:
        # Not the store's URL: a PostgreSQL one may hold a password.
        raise ParameterError(f"no recording with id {recording_id!r} in the database")
    return recording_report(recording)


def _all_recordings(store, *, since: dt.datetime, until: dt.datetime) -> List[dict]:
    """Every recording of [since, until), page by page (the store caps each answer)."""
    rows: List[dict] = []
    while True:
        page = store.list_recordings(since=since, until=until, limit=_PAGE, offset=len(rows))
        rows.extend(page)
        if len(page) < _PAGE:
            return rows
