import datetime as dt

import pytest

from ser_tf.errors import ParameterError
from ser_tf.report import gather
from ser_tf.report.document import INDEX
from ser_tf.report.gather import gather_period, gather_recording, period_bounds
from tests.report.support import make_alert, make_recording, read_csv, summary_of, trend_row

UTC = dt.timezone.utc


class FakeStore:
    """The four Store methods the reports read, answering from lists and recording each call."""

    def __init__(self, recordings=(), alerts=(), trend=()):
        self.recordings, self.alerts, self.trend_rows = list(recordings), list(alerts), list(trend)
        self.calls = []

    def list_recordings(self, *, since=None, until=None, limit=200, offset=0):
        self.calls.append(("list_recordings", since, until, limit, offset))
        return [summary_of(r) for r in self.recordings][offset:offset + limit]

    def list_alerts(self, *, since=None, until=None, limit=200):
        self.calls.append(("list_alerts", since, until, limit))
        return self.alerts[:limit]

    def trend(self, *, period="day", since=None, until=None):
        self.calls.append(("trend", period, since, until))
        return self.trend_rows

    def get_recording(self, recording_id):
        return next((r for r in self.recordings if r["id"] == recording_id), None)


@pytest.mark.parametrize("day", ["2026-11-23", "2026-11-26", "2026-11-29"])
def test_a_week_runs_from_the_monday_before_for_seven_days(day):
    since, until = period_bounds("week", dt.date.fromisoformat(day))
    assert since == dt.datetime(2026, 11, 23, tzinfo=UTC)
    assert until - since == dt.timedelta(days=7)


def test_a_day_is_midnight_to_midnight_utc():
    assert period_bounds("day", dt.date(2026, 12, 31)) == (dt.datetime(2026, 12, 31, tzinfo=UTC),
                                                           dt.datetime(2027, 1, 1, tzinfo=UTC))


def test_no_start_means_the_period_running_today():
    assert period_bounds("week", today=dt.date(2026, 11, 29))[0] == dt.datetime(2026, 11, 23, tzinfo=UTC)
    since, until = period_bounds("day")
    assert since <= dt.datetime.now(UTC) < until


def test_bad_period_is_repeated():
    with pytest.raises(ParameterError, match="'month'"):
        period_bounds("month", dt.date(2026, 11, 23))


def test_gather_period_asks_the_store_for_the_week_and_pages_through(monkeypatch):
    monkeypatch.setattr(gather, "_PAGE", 2)  # 5 recordings: pages of 2, 2, 1
    recordings = [make_recording(rid=i, name=f"r{i}", uploaded_at=f"2026-11-2{i}T10:00:00Z") for i in range(5, 0, -1)]
    store = FakeStore(recordings=recordings, alerts=[make_alert()], trend=[trend_row("2026-11-24")])
    report = gather_period(store, period="week", start=dt.date(2026, 11, 25))
    since, until = dt.datetime(2026, 11, 23, tzinfo=UTC), dt.datetime(2026, 11, 30, tzinfo=UTC)
    assert [c[4] for c in store.calls if c[0] == "list_recordings"] == [0, 2, 4]
    assert ("trend", "day", since, until) in store.calls
    assert all(c[1:3] == (since, until) for c in store.calls if c[0] != "trend")
    assert len(read_csv(report.files["recordings.csv"])) == 5
    assert report.title.startswith("Week 2026-W48")


def test_gather_recording_and_an_unknown_id():
    store = FakeStore(recordings=[make_recording(rid=7)])
    assert INDEX in gather_recording(store, 7).files
    with pytest.raises(ParameterError, match="id 8"):
        gather_recording(store, 8)
