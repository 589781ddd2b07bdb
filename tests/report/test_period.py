import datetime as dt

import pytest

from ser_tf.errors import ParameterError
from ser_tf.report.document import INDEX
from ser_tf.report.period import period_report, period_title
from tests.report.support import decode_png, links_of, make_alert, make_recording, read_csv, summary_of, trend_row

MONDAY = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def inputs():
    first = make_recording(rid=1, name="call <1>", uploaded_at="2026-11-24T09:30:00Z",
                           alerts=[make_alert(rid=1, name="call <1>")])
    second = make_recording(rid=2, name="call 2", labels=("sad", "sad", "angry"),
                            uploaded_at="2026-11-23T08:00:00Z")
    return {
        "recordings": [summary_of(first), summary_of(second)],  # newest first, as the store lists
        "alerts": first["alerts"],
        "trend": [trend_row("2026-11-23", shares={"sad": 2 / 3, "angry": 1 / 3}), trend_row("2026-11-24")],
    }


@pytest.fixture(scope="module")
def report(inputs):
    return period_report(period="week", start=MONDAY, **inputs)


def test_files_and_links(report):
    assert set(report.files) == {INDEX, "daily_shares.png", "labels.png", "recordings.csv", "alerts.csv",
                                 "daily_shares.csv"}
    assert set(links_of(report.files[INDEX])) == set(report.files) - {INDEX}


def test_charts_are_real_pngs(report):
    assert decode_png(report.files["daily_shares.png"]).shape[:2] == (450, 1000)
    assert decode_png(report.files["labels.png"]).shape[1] == 800


def test_recordings_csv_oldest_first_with_shares(report, inputs):
    rows = read_csv(report.files["recordings.csv"])
    assert [r["name"] for r in rows] == ["call 2", "call <1>"]
    newest = inputs["recordings"][0]
    assert float(rows[1]["duration"]) == newest["duration"]
    assert float(rows[1]["share_happy"]) == newest["shares"]["happy"]
    assert rows[0]["share_happy"] == ""  # no happy voiced time in call 2


def test_daily_shares_csv_has_every_day(report):
    rows = read_csv(report.files["daily_shares.csv"])
    assert [r["day"] for r in rows] == [(MONDAY + dt.timedelta(days=i)).isoformat() for i in range(7)]
    assert [int(r["recordings"]) for r in rows] == [1, 1, 0, 0, 0, 0, 0]
    assert float(rows[0]["share_sad"]) == 2 / 3 and rows[2]["share_sad"] == ""


def test_alerts_csv_names_the_recording(report):
    rows = read_csv(report.files["alerts.csv"])
    assert len(rows) == 1 and rows[0]["recording_name"] == "call <1>" and rows[0]["recording_id"] == "1"


def test_page_counts_and_escapes(report):
    html = report.files[INDEX].decode("utf-8")
    assert report.title == "Week 2026-W48 (Mon 23 Nov – Sun 29 Nov 2026)"
    assert "call &lt;1&gt;" in html and "call <1>" not in html
    assert "happy: 1, sad: 1" in html
    assert "2026-11-30 00:00 UTC" in html  # the exclusive end


def test_an_empty_period_says_so_without_charts():
    report = period_report(period="day", start=dt.date(2026, 11, 30), recordings=[], alerts=[], trend=[])
    html = report.files[INDEX].decode("utf-8")
    assert "No recordings in this period." in html
    assert not any(name.endswith(".png") for name in report.files)
    assert set(links_of(report.files[INDEX])) <= set(report.files)
    assert read_csv(report.files["recordings.csv"]) == []
    assert [r["recordings"] for r in read_csv(report.files["daily_shares.csv"])] == ["0"]
    assert report.title == "Day 2026-11-30 (Monday)"


def test_a_period_of_silent_recordings_draws_labels_but_no_shares():
    silent = summary_of(make_recording(labels=("silence",)))
    report = period_report(period="day", start=dt.date(2026, 11, 24), recordings=[silent], alerts=[],
                           trend=[trend_row("2026-11-24", voiced=0.0, shares={})])
    assert "labels.png" in report.files and "daily_shares.png" not in report.files
    decode_png(report.files["labels.png"])


@pytest.mark.parametrize("kwargs, message", [
    ({"period": "month", "start": MONDAY}, "'month'"),
    ({"period": "week", "start": dt.date(2026, 11, 25)}, "2026-11-25 is a Wednesday"),
    ({"period": "day", "start": "2026-11-25"}, "'2026-11-25'"),
])
def test_bad_arguments_are_repeated(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        period_report(recordings=[], alerts=[], trend=[], **kwargs)


def test_titles():
    assert period_title("week", dt.date(2026, 12, 28)) == "Week 2026-W53 (Mon 28 Dec – Sun 03 Jan 2027)"


def test_an_emotion_keeps_its_colour_from_period_to_period():
    from ser_tf.report.charts import stable_colours

    assert stable_colours(["sad"])["sad"] == stable_colours(["happy", "sad", "boredom"])["sad"]
    assert stable_colours(["sad", "custom"])["custom"] not in {stable_colours([])["sad"], "#bbbbbb"}


def test_emotions_never_heard_get_no_column():
    recording = summary_of(make_recording(labels=("sad",)))
    recording["shares"] = {"neutral": 0.0, "happy": 0.0, "sad": 1.0, "angry": 0.0}
    report = period_report(period="day", start=dt.date(2026, 11, 24), recordings=[recording], alerts=[],
                           trend=[trend_row("2026-11-24", shares=recording["shares"])])
    assert list(read_csv(report.files["daily_shares.csv"])[0]) == ["day", "recordings", "voiced_seconds",
                                                                    "share_sad"]
