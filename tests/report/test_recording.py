import pytest

from ser_tf.errors import ParameterError
from ser_tf.report.document import INDEX
from ser_tf.report.recording import recording_report
from tests.report.support import CLASSES, decode_png, links_of, make_alert, make_recording, read_csv


@pytest.fixture(scope="module")
def recording():
    return make_recording(alerts=[make_alert(), make_alert(start=None, fired_at="2026-11-24T09:30:06Z")])


@pytest.fixture(scope="module")
def report(recording):
    return recording_report(recording)


def test_files_and_links(report):
    assert set(report.files) == {INDEX, "timeline.png", "shares.png", "windows.csv", "alerts.csv"}
    links = links_of(report.files[INDEX])
    assert set(links) == set(report.files) - {INDEX}


def test_charts_are_real_pngs_of_fixed_size(report):
    timeline = decode_png(report.files["timeline.png"])
    assert timeline.shape[:2] == (600, 1000)
    shares = decode_png(report.files["shares.png"])
    assert shares.shape[1] == 800 and shares.shape[0] >= 150
    assert timeline.std() > 0.05  # not a blank canvas


def test_windows_csv_reads_back_the_timeline(report, recording):
    rows = read_csv(report.files["windows.csv"])
    assert len(rows) == len(recording["timeline"])
    assert list(rows[0]) == ["start", "end", "label", "confidence", "voiced", "level_db", *CLASSES]
    for row, w in zip(rows, recording["timeline"]):
        assert float(row["start"]) == w["start"] and float(row["end"]) == w["end"]
        assert row["label"] == w["label"]
        assert row["voiced"] == ("true" if w["voiced"] else "false")
        assert float(row["level_db"]) == w["level_db"]
        if w["probabilities"] is None:
            assert row["confidence"] == "" and all(row[c] == "" for c in CLASSES)
        else:
            assert float(row["confidence"]) == w["confidence"]
            assert {c: float(row[c]) for c in CLASSES} == w["probabilities"]


def test_alerts_csv_oldest_first(report, recording):
    rows = read_csv(report.files["alerts.csv"])
    assert [r["rule"] for r in rows] == [a["rule"] for a in recording["alerts"]]
    assert "recording_name" not in rows[0]
    assert rows[1]["start"] == "" and float(rows[0]["value"]) == 0.82


def test_page_names_the_recording_and_its_verdict(report, recording):
    html = report.files[INDEX].decode("utf-8")
    for text in ("call 1.wav", "happy", "cnn_lstm_small", "models/run1/model.keras", "ab" * 32,
                 "mean over voiced windows", "angry ≥ 0.70 for ≥ 5 s", "sent: HTTP 200"):
        assert text in html
    assert report.title == "Recording: call 1.wav"


def test_user_names_are_escaped():
    report = recording_report(make_recording(name="<script>x</script>",
                                             alerts=[make_alert(name="<script>x</script>")]))
    html = report.files[INDEX].decode("utf-8")
    assert "<script" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html


def test_an_all_silent_recording_has_no_share_chart():
    report = recording_report(make_recording(labels=("silence", "silence")))
    assert "shares.png" not in report.files and "timeline.png" in report.files
    assert "No voiced time" in report.files[INDEX].decode("utf-8")
    decode_png(report.files["timeline.png"])


def test_missing_keys_are_named():
    with pytest.raises(ParameterError, match="timeline"):
        recording_report({"id": 3, "name": "x", "duration": 1.0, "label": "happy"})


def test_alert_values_read_like_their_rules(report):
    html = report.files[INDEX].decode("utf-8")
    assert "<td class=\"num\">0.82</td>" in html  # the sustained rule's peak probability
    assert "<td class=\"num\">82.0 %</td>" in html  # the share rule's share


def test_a_recording_without_windows_still_reports():
    recording = make_recording(labels=())
    report = recording_report(recording)
    assert "timeline.png" not in report.files
    assert read_csv(report.files["windows.csv"]) == []
    assert set(links_of(report.files[INDEX])) <= set(report.files)


def test_reports_built_in_threads_are_the_same_as_one_built_alone(recording, report):
    # The app builds reports in worker threads; the charts must not share pyplot's global state.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=3) as pool:
        built = list(pool.map(lambda _: recording_report(recording), range(3)))
    assert all(b.files == report.files for b in built)
