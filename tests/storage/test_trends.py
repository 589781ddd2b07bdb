"""trend(): shares per day or ISO week, weighted by voiced seconds, identical on both databases."""

from datetime import datetime, timedelta, timezone

import pytest

from ser_tf.errors import ParameterError
from ser_tf.storage import Store, default_url
from ser_tf.storage.trends import period_start
from tests.storage.support import T0, add_full_recording, add_model

SUNDAY = T0 - timedelta(days=1)  # T0 is Monday 2026-11-30


def _add_week(store):
    """Sunday: 1 s all sad. Monday: 3 s 2/3 angry, and 1 s all happy (recorded). Tuesday: silent."""
    model_id = add_model(store)
    add_full_recording(store, model_id, uploaded_at=SUNDAY.replace(hour=23, minute=59), voiced_seconds=1.0,
                       shares={"sad": 1.0})
    add_full_recording(store, model_id, uploaded_at=T0, voiced_seconds=3.0, shares={"angry": 2 / 3, "sad": 1 / 3})
    add_full_recording(store, model_id, uploaded_at=T0 + timedelta(hours=1), voiced_seconds=1.0,
                       shares={"happy": 1.0}, source="record")
    add_full_recording(store, model_id, uploaded_at=T0 + timedelta(days=1), voiced_seconds=0.0, shares={},
                       silence_share=1.0)


def test_daily_trend_weights_shares_by_voiced_seconds(store):
    _add_week(store)
    days = store.trend(period="day")
    assert [(day["start"], day["recordings"], day["voiced_seconds"]) for day in days] == [
        ("2026-11-29", 1, 1.0), ("2026-11-30", 2, 4.0), ("2026-12-01", 1, 0.0)]
    assert days[0]["shares"] == {"sad": 1.0}
    assert days[1]["shares"] == pytest.approx({"angry": 0.5, "happy": 0.25, "sad": 0.25})
    assert days[2]["shares"] == {}  # no voiced time: nothing to share out


def test_weekly_trend_starts_on_monday(store):
    _add_week(store)
    weeks = store.trend(period="week")
    assert [(week["start"], week["recordings"], week["voiced_seconds"]) for week in weeks] == [
        ("2026-11-23", 1, 1.0), ("2026-11-30", 3, 4.0)]


def test_trend_filters(store):
    _add_week(store)
    assert [day["start"] for day in store.trend(since=T0, until=T0 + timedelta(days=1))] == ["2026-11-30"]
    [day] = store.trend(source="record")
    assert day["shares"] == {"happy": 1.0}
    with pytest.raises(ParameterError, match="period='month'"):
        store.trend(period="month")


def test_period_start_uses_iso_weeks():
    sunday = datetime(2026, 1, 4, 12)  # ISO week 1 of 2026 runs Mon 2025-12-29 .. Sun 2026-01-04
    assert period_start(sunday, period="week").isoformat() == "2025-12-29"
    assert period_start(sunday, period="day").isoformat() == "2026-01-04"


def test_sqlite_and_postgresql_give_identical_trends(tmp_path, fresh_postgres_url):
    results = []
    for url in (default_url(tmp_path), fresh_postgres_url):
        with Store(url) as store:
            model_id = add_model(store)
            for hour in range(0, 24 * 15, 7):
                add_full_recording(store, model_id, uploaded_at=T0 + timedelta(hours=hour, seconds=0.123),
                                   voiced_seconds=0.1 * (hour % 11) + 0.3,
                                   shares={"angry": 1 / 3 + hour / 1000, "sad": 2 / 3 - hour / 1000})
            results.append([store.trend(period=period) for period in ("day", "week")])
    assert results[0] == results[1]  # exactly equal, floats included


def test_trend_times_are_utc(store):
    model_id = add_model(store)
    late_evening_in_new_york = datetime(2026, 11, 30, 22, 0, tzinfo=timezone(timedelta(hours=-5)))
    add_full_recording(store, model_id, uploaded_at=late_evening_in_new_york)
    assert [day["start"] for day in store.trend()] == ["2026-12-01"]
