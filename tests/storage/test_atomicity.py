"""add_recording writes a recording with its whole timeline and alerts, or nothing at all."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ser_tf.errors import ParameterError, StorageError
from ser_tf.storage import Store, schema, store as store_module
from tests.storage.support import add_model, fired_alert, recording, timeline

ROOT = Path(__file__).resolve().parents[2]
WINDOWS_PER_RECORDING = 400
# The child stores recordings in a loop and says so after its third commit; it is then killed
# with SIGKILL, most likely inside a transaction (the window inserts take most of each loop).
CHILD = f"""
import sys
from ser_tf.storage import Store
from tests.storage.support import add_model, fired_alert, recording, timeline
store = Store(sys.argv[1])
model_id = add_model(store)
windows = timeline({WINDOWS_PER_RECORDING})
for number in range(1_000_000):
    store.add_recording(recording=recording(model_id, name=f"clip{{number}}.wav"), timeline=windows,
                        alerts=[fired_alert(), fired_alert()])
    if number == 2:
        print("committed 3", flush=True)
"""


def _count(store, table) -> int:
    with store._engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def _assert_nothing_written(store) -> None:
    assert store.count_recordings() == 0
    assert _count(store, schema.windows) == 0 and _count(store, schema.alerts) == 0
    assert _count(store, schema.audio) == 0


def test_a_window_the_database_refuses_leaves_no_recording(store):
    model_id = add_model(store)
    windows = timeline(6)
    windows[4]["label"] = None  # NOT NULL: refused by the database after four windows are sent
    with pytest.raises(StorageError, match="recording 'clip.wav' was not stored"):
        store.add_recording(recording=recording(model_id), timeline=windows, alerts=[fired_alert()],
                            audio=b"x", audio_type="audio/wav")
    _assert_nothing_written(store)


def test_a_failure_after_the_windows_are_inserted_leaves_no_recording(store, monkeypatch):
    model_id = add_model(store)

    def fail(*args, **kwargs):
        raise RuntimeError("killed between the windows and the alerts")

    monkeypatch.setattr(store_module, "_insert_alerts", fail)
    with pytest.raises(RuntimeError, match="between the windows and the alerts"):
        store.add_recording(recording=recording(model_id), timeline=timeline(), alerts=[fired_alert()])
    _assert_nothing_written(store)


def test_an_unknown_model_leaves_no_recording(store):
    with pytest.raises(StorageError, match="not stored"):
        store.add_recording(recording=recording(999), timeline=timeline(), alerts=[])
    _assert_nothing_written(store)


def test_a_bad_alert_is_refused_before_anything_is_written(store):
    model_id = add_model(store)
    with pytest.raises(ParameterError, match=r"alerts\[1\]\['kind'\]='peak'"):
        store.add_recording(recording=recording(model_id), timeline=timeline(),
                            alerts=[fired_alert(), fired_alert(kind="peak")])
    _assert_nothing_written(store)


def test_a_writer_killed_mid_insert_leaves_only_whole_recordings(store_url):
    Store(store_url).close()  # migrate first, so the child only inserts
    child = subprocess.Popen([sys.executable, "-c", CHILD, store_url], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert child.stdout.readline().strip() == "committed 3", child.stderr.read()
        time.sleep(0.3)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    with Store(store_url) as store:
        count = store.count_recordings()
        assert count >= 3
        for summary in store.list_recordings(limit=count):
            full = store.get_recording(summary["id"])
            assert len(full["timeline"]) == WINDOWS_PER_RECORDING and full["alert_count"] == 2, summary["name"]
        # No orphans either: every window and alert row belongs to a whole recording.
        assert _count(store, schema.windows) == count * WINDOWS_PER_RECORDING
        assert _count(store, schema.alerts) == count * 2
