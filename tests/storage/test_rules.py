"""Store: alert rules and fired alerts (storage only; evaluating rules is the app's job)."""

from datetime import timedelta

import pytest

from ser_tf.errors import ParameterError
from tests.storage.support import T0, add_full_recording, add_model, fired_alert, rule


def test_a_rule_is_returned_as_stored(store):
    stored = store.add_rule(rule(webhook_url="https://example.org/hook"))
    assert set(stored) == {"id", "name", "kind", "emotion", "threshold", "min_seconds", "webhook_url",
                           "enabled", "created_at"}
    assert stored["threshold"] == 0.7 and stored["min_seconds"] == 5.0 and stored["enabled"] is True
    assert stored["webhook_url"] == "https://example.org/hook" and stored["created_at"].endswith("Z")
    assert store.list_rules() == [stored]


def test_share_rules_default_to_zero_seconds_and_rules_list_by_enabled(store):
    share = store.add_rule({"name": "sad day", "kind": "share", "emotion": "sad", "threshold": 0.4})
    off = store.add_rule(rule(enabled=False))
    assert share["min_seconds"] == 0.0 and share["webhook_url"] is None and share["enabled"] is True
    assert store.list_rules() == [share, off]
    assert store.list_rules(enabled_only=True) == [share]


@pytest.mark.parametrize("overrides, bad", [
    ({"kind": "peak"}, "kind'\\]='peak' is not one of sustained, share"),
    ({"threshold": 0}, "threshold'\\]=0 is out of range \\(0"),
    ({"threshold": 1.01}, "threshold'\\]=1.01"),
    ({"min_seconds": -1}, "min_seconds'\\]=-1"),
    ({"kind": "share", "min_seconds": 3}, "min_seconds'\\]=3 applies to sustained rules only"),
    ({"webhook_url": "ftp://host/x"}, "webhook_url'\\]='ftp://host/x'"),
    ({"emotion": None}, "emotion'\\]=None"),
])
def test_bad_rules_are_refused_by_name(store, overrides, bad):
    with pytest.raises(ParameterError, match=bad):
        store.add_rule(rule(**overrides))
    assert store.list_rules() == []


def test_deleting_a_rule_keeps_its_alerts_with_the_frozen_text(store):
    stored = store.add_rule(rule())
    recording_id = add_full_recording(store, add_model(store),
                                      alerts=[fired_alert(rule_id=stored["id"], rule="angry ≥ 0.70 for ≥ 5 s")])
    assert store.delete_rule(stored["id"]) is True
    assert store.delete_rule(stored["id"]) is False
    [alert] = store.list_alerts()
    assert alert["rule_id"] is None and alert["rule"] == "angry ≥ 0.70 for ≥ 5 s"
    assert alert["recording_id"] == recording_id
    assert store.list_rules() == []


def test_alerts_list_newest_first_with_filters(store):
    model_id = add_model(store)
    first = add_full_recording(store, model_id, name="first.wav",
                               alerts=[fired_alert(fired_at=T0), fired_alert(fired_at=T0 + timedelta(hours=2))])
    second = add_full_recording(store, model_id, name="second.wav",
                                alerts=[fired_alert(kind="share", start=None, end=None, value=0.5,
                                                    fired_at=T0 + timedelta(hours=1))])
    listed = store.list_alerts()
    assert [(alert["recording_name"], alert["fired_at"]) for alert in listed] == [
        ("first.wav", "2026-11-30T16:55:03Z"), ("second.wav", "2026-11-30T15:55:03Z"),
        ("first.wav", "2026-11-30T14:55:03Z")]
    assert listed[1]["start"] is None and listed[1]["end"] is None and listed[1]["kind"] == "share"
    assert len(store.list_alerts(since=T0 + timedelta(hours=1))) == 2
    assert len(store.list_alerts(until=T0 + timedelta(hours=1))) == 1
    assert [alert["recording_id"] for alert in store.list_alerts(recording_id=second)] == [second]
    assert len(store.list_alerts(recording_id=first, limit=1)) == 1
    with pytest.raises(ParameterError, match="limit=-2"):
        store.list_alerts(limit=-2)


def test_webhook_status_is_recorded_and_a_vanished_alert_is_skipped(store):
    recording_id = add_full_recording(store, add_model(store), alerts=[fired_alert()])
    [alert] = store.list_alerts()
    store.set_webhook_status(alert["id"], "sent: HTTP 200")
    assert store.get_recording(recording_id)["alerts"][0]["webhook"] == "sent: HTTP 200"
    store.delete_recording(recording_id)
    store.set_webhook_status(alert["id"], "failed: timeout")  # no error: nothing left to annotate
