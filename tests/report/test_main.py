"""``python -m ser_tf.report`` end to end: a real SQLite Store, the CLI as a real subprocess."""

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ser_tf import storage
from tests.report.support import decode_png, make_alert, make_recording, read_csv

ROOT = Path(__file__).resolve().parents[2]
# Fields of the full shape that the store derives itself (see Store.add_recording).
_DERIVED = ("id", "alert_count", "has_audio", "model", "timeline", "alerts")


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    """A SQLite database with two recordings in ISO week 2026-W48 and one the week after."""
    path = tmp_path_factory.mktemp("db") / "app.sqlite3"
    with storage.Store(f"sqlite:///{path}") as store:
        model_id = store.ensure_model(path="models/run1/model.keras", arch="cnn_lstm_small",
                                      classes=["neutral", "happy", "sad", "angry"], sha256="ab" * 32)
        rule = store.add_rule({"name": "long anger", "kind": "sustained", "emotion": "angry",
                               "threshold": 0.7, "min_seconds": 5.0})
        for name, uploaded, labels in [("<b>call</b> 1", "2026-11-24T09:30:00", ("happy", "silence", "sad")),
                                       ("call 2", "2026-11-29T23:59:00", ("angry", "angry")),
                                       ("next week", "2026-11-30T00:00:00", ("sad",))]:
            full = make_recording(name=name, labels=labels)
            recording = {k: v for k, v in full.items() if k not in _DERIVED}
            recording.update(model_id=model_id,
                             uploaded_at=dt.datetime.fromisoformat(uploaded).replace(tzinfo=dt.timezone.utc))
            alerts = [] if name != "call 2" else [
                {k: v for k, v in make_alert().items() if k not in ("id", "recording_id", "recording_name")}
                | {"fired_at": recording["uploaded_at"], "rule_id": rule["id"]}]
            store.add_recording(recording=recording, timeline=full["timeline"], alerts=alerts)
    return f"sqlite:///{path}"


def _run(*args):
    return subprocess.run([sys.executable, "-m", "ser_tf.report", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_week_report_from_the_database(db, tmp_path):
    out = tmp_path / "2026-W48"
    done = _run("--db", db, "--period", "week", "--start", "2026-11-29", "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out / "index.html")
    assert {p.name for p in out.iterdir()} == {"index.html", "daily_shares.png", "labels.png",
                                               "recordings.csv", "alerts.csv", "daily_shares.csv"}
    assert [r["name"] for r in read_csv((out / "recordings.csv").read_bytes())] == ["<b>call</b> 1", "call 2"]
    assert read_csv((out / "alerts.csv").read_bytes())[0]["recording_name"] == "call 2"
    days = read_csv((out / "daily_shares.csv").read_bytes())
    assert [d["recordings"] for d in days] == ["0", "1", "0", "0", "0", "0", "1"]
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "&lt;b&gt;call&lt;/b&gt; 1" in html and "<b>call" not in html
    decode_png((out / "daily_shares.png").read_bytes())


def test_recording_report_from_the_database(db, tmp_path):
    done = _run("--db", db, "--recording", "1", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "Recording: <b>call</b> 1" in done.stderr  # the title, unless --quiet
    assert len(read_csv((tmp_path / "windows.csv").read_bytes())) == 3
    decode_png((tmp_path / "timeline.png").read_bytes())


def test_an_empty_day(db, tmp_path):
    from ser_tf.report.__main__ import main

    assert main(["--db", db, "--period", "day", "--start", "2026-11-25", "--out", str(tmp_path), "--quiet"]) == 0
    assert "No recordings in this period." in (tmp_path / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("args, message", [
    (["--start", "2026-13-01"], "'2026-13-01'"),
    (["--db", "sqlite:///no/such/app.sqlite3"], "no/such/app.sqlite3"),
    (["--recording", "3", "--start", "2026-11-23"], "--start 2026-11-23"),
])
def test_bad_arguments_are_named(db, tmp_path, capsys, args, message):
    from ser_tf.report.__main__ import main

    with pytest.raises(SystemExit) as exit_:
        main(["--db", db, "--out", str(tmp_path), *args])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_an_unknown_recording_is_named(db, tmp_path, capsys):
    from ser_tf.report.__main__ import main

    assert main(["--db", db, "--recording", "99", "--out", str(tmp_path)]) == 2
    assert "id 99" in capsys.readouterr().err
    assert not (tmp_path / "index.html").exists()


@pytest.mark.skipif(shutil.which("date") is None, reason="no date command")
def test_the_documented_cron_line_writes_last_weeks_report(tmp_path):
    import ser_tf.report.__main__ as cli

    line = next(l.strip() for l in cli.__doc__.splitlines() if l.strip().startswith("0 6 * * 1 "))
    # What cron hands the shell: the schedule gone, "\%" unescaped; here, in a scratch checkout.
    command = (line.removeprefix("0 6 * * 1 ").replace("\\%", "%")
               .replace("cd /srv/ser_tf", f"cd {tmp_path}").replace("venv/bin/python", sys.executable))
    (tmp_path / "models").mkdir()
    storage.Store(f"sqlite:///{tmp_path / 'models' / 'ser_tf_app.sqlite3'}").close()
    done = subprocess.run(["sh", "-c", command], env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    today = dt.datetime.now(dt.timezone.utc).date()
    last_monday = today - dt.timedelta(days=today.weekday() or 7)  # GNU date's 'last monday'
    year, week, _ = last_monday.isocalendar()
    index = tmp_path / "reports" / f"{year}-W{week:02d}" / "index.html"
    assert done.stdout.strip().endswith(str(index.relative_to(tmp_path)))
    assert f"Week {year}-W{week:02d}" in index.read_text(encoding="utf-8")
