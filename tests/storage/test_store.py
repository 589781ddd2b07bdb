"""Store: recordings round-trip in the contract's shapes; filters, paging, deletion, audio opt-in."""

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from sqlalchemy import func, select

from ser_tf.errors import ParameterError
from ser_tf.storage import Store, schema
from tests.storage.support import CLASSES, T0, add_full_recording, add_model, fired_alert, recording, timeline

SUMMARY_KEYS = {"id", "name", "source", "uploaded_at", "duration", "label", "confidence", "shares",
                "silence_share", "voiced_seconds", "alert_count", "has_audio", "model_id"}
FULL_KEYS = SUMMARY_KEYS | {"probabilities", "basis", "window", "hop", "envelope", "model", "timeline", "alerts"}


def _rows(store, table) -> int:
    with store._engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_recording_round_trips_in_the_full_shape(store):
    model_id = add_model(store)
    recording_id = add_full_recording(store, model_id, alerts=[fired_alert()])
    stored = store.get_recording(recording_id)
    assert set(stored) == FULL_KEYS
    expected = recording(model_id)
    for key in ("name", "source", "duration", "label", "confidence", "probabilities", "shares",
                "silence_share", "voiced_seconds", "basis", "window", "hop", "envelope", "model_id"):
        assert stored[key] == expected[key], key
    assert stored["uploaded_at"] == "2026-11-30T14:55:03Z"
    assert stored["id"] == recording_id and stored["alert_count"] == 1 and stored["has_audio"] is False
    assert stored["model"] == {"id": model_id, "path": "/models/final.keras", "arch": "cnn_rnn",
                               "classes": CLASSES, "sha256": "ab" * 32}
    assert stored["timeline"] == timeline()
    [alert] = stored["alerts"]
    assert alert["recording_name"] == "clip.wav" and alert["fired_at"] == "2026-11-30T14:55:04Z"
    assert alert["start"] == 0.0 and alert["end"] == 3.0 and alert["webhook"] is None


def test_summaries_have_the_contract_keys_and_numpy_values_are_accepted(store):
    model_id = add_model(store)
    store.add_recording(recording=recording(model_id, duration=np.float32(4.0), confidence=np.float64(0.5),
                                            shares={"angry": np.float32(1.0)}),
                        timeline=[{**timeline(1)[0], "start": np.float32(0), "voiced": np.bool_(True)}],
                        alerts=[])
    [summary] = store.list_recordings()
    assert set(summary) == SUMMARY_KEYS
    assert summary["duration"] == 4.0 and summary["confidence"] == 0.5 and summary["shares"] == {"angry": 1.0}


def test_uploaded_at_defaults_to_now_in_utc(store):
    model_id = add_model(store)
    before = datetime.now(timezone.utc).replace(microsecond=0)
    record = recording(model_id)
    del record["uploaded_at"]
    recording_id = store.add_recording(recording=record, timeline=[], alerts=[])
    stored = store.get_recording(recording_id)["uploaded_at"]
    assert stored.endswith("Z")
    moment = datetime.fromisoformat(stored[:-1]).replace(tzinfo=timezone.utc)
    assert before <= moment <= datetime.now(timezone.utc)


def test_ensure_model_stores_each_identity_once(store):
    first = add_model(store)
    assert add_model(store) == first
    assert add_model(store, sha256="cd" * 32) != first
    assert add_model(store, classes=CLASSES[::-1]) != first


def test_filters_newest_first_and_paging(store):
    model_id = add_model(store)
    ids = [add_full_recording(store, model_id, name=f"clip{day}.wav", uploaded_at=T0 + timedelta(days=day),
                              label="sad" if day == 2 else "angry", source="record" if day == 3 else "upload")
           for day in range(5)]
    assert [row["id"] for row in store.list_recordings()] == ids[::-1]
    since, until = T0 + timedelta(days=1), T0 + timedelta(days=3)
    assert [row["id"] for row in store.list_recordings(since=since, until=until)] == [ids[2], ids[1]]
    assert store.count_recordings(since=since, until=until) == 2
    assert [row["id"] for row in store.list_recordings(label="sad")] == [ids[2]]
    assert [row["id"] for row in store.list_recordings(source="record")] == [ids[3]]
    assert store.count_recordings(source="stream") == 0
    assert [row["id"] for row in store.list_recordings(limit=2, offset=1)] == [ids[3], ids[2]]
    assert store.list_recordings(limit=0) == []
    # since/until in another timezone mean the same instants.
    plus_two = timezone(timedelta(hours=2))
    assert store.count_recordings(since=since.astimezone(plus_two), until=until.astimezone(plus_two)) == 2


@pytest.mark.parametrize("arguments, bad", [
    ({"limit": -1}, "limit=-1"), ({"offset": -5}, "offset=-5"), ({"limit": 2.5}, "limit=2.5"),
    ({"offset": True}, "offset=True"), ({"source": "radio"}, "source='radio'"),
    ({"since": datetime(2026, 1, 1)}, "no timezone"), ({"until": "2026-01-01"}, "until='2026-01-01'"),
])
def test_bad_filters_are_refused_by_name(store, arguments, bad):
    with pytest.raises(ParameterError, match=bad.replace("(", r"\(").replace(")", r"\)")):
        store.list_recordings(**arguments)


@pytest.mark.parametrize("overrides, bad", [
    ({"source": "radio"}, "source'\\]='radio' is not one of upload, record, stream"),
    ({"confidence": 1.5}, "confidence'\\]=1.5"),
    ({"duration": float("nan")}, "duration'\\]=nan"),
    ({"name": ""}, "name'\\]=''"),
    ({"model_id": 0}, "model_id'\\]=0"),
    ({"colour": "red"}, "unknown keys \\['colour'\\]"),
])
def test_bad_recordings_are_refused_by_name(store, overrides, bad):
    model_id = add_model(store)
    with pytest.raises(ParameterError, match=bad):
        store.add_recording(recording={**recording(model_id), **overrides}, timeline=timeline(), alerts=[])
    assert store.count_recordings() == 0


def test_derived_keys_of_a_stored_recording_are_ignored_on_the_way_back_in(store):
    model_id = add_model(store)
    stored = store.get_recording(add_full_recording(store, model_id))
    again = {key: value for key, value in stored.items() if key != "uploaded_at"}
    copy_id = store.add_recording(recording=again, timeline=stored["timeline"], alerts=[])
    assert store.get_recording(copy_id)["timeline"] == stored["timeline"]


def test_audio_is_stored_only_on_request(store):
    model_id = add_model(store)
    without = add_full_recording(store, model_id)
    with_audio = add_full_recording(store, model_id, audio=b"RIFF\x00\x01wave")
    assert store.get_audio(without) is None
    assert store.get_audio(with_audio) == (b"RIFF\x00\x01wave", "audio/wav")
    assert store.get_recording(with_audio)["has_audio"] is True
    assert store.get_recording(without)["has_audio"] is False
    with pytest.raises(ParameterError, match="audio_type=None"):
        store.add_recording(recording=recording(model_id), timeline=[], alerts=[], audio=b"x")


def test_deleting_a_recording_deletes_its_windows_alerts_and_audio(store):
    model_id = add_model(store)
    kept = add_full_recording(store, model_id, alerts=[fired_alert()], audio=b"kept")
    gone = add_full_recording(store, model_id, alerts=[fired_alert(), fired_alert()], audio=b"gone")
    assert store.delete_recording(gone) is True
    assert store.get_recording(gone) is None and store.get_audio(gone) is None
    assert store.delete_recording(gone) is False
    assert _rows(store, schema.windows) == len(timeline())
    assert _rows(store, schema.alerts) == 1 and _rows(store, schema.audio) == 1
    assert store.get_recording(kept)["alert_count"] == 1


def test_missing_recordings_are_none(store):
    assert store.get_recording(12345) is None
    assert store.get_audio(12345) is None


def test_store_reports_its_dialect_and_url(store_url):
    with Store(store_url) as store:
        assert store.dialect in ("sqlite", "postgresql")
        assert store.dialect in store.url


def test_threads_sharing_one_store_all_get_their_recordings_in(store):
    # As under the web server: concurrent writers wait their turn (SQLite locks the whole file).
    def writer(number):
        model_id = add_model(store, path=f"/models/{number % 2}.keras")
        return [add_full_recording(store, model_id, name=f"t{number}-{index}.wav") for index in range(4)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        ids = [recording_id for batch in pool.map(writer, range(4)) for recording_id in batch]
    assert len(set(ids)) == 16 and store.count_recordings() == 16
    assert len({row["model_id"] for row in store.list_recordings()}) == 2
