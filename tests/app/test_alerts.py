"""ser_tf.app.alerts: rule validation, evaluation on a timeline, and the webhook POST on loopback."""

import http.server
import json
import threading

import pytest

from ser_tf.app.alerts import describe_rule, evaluate, post_webhook, validate_rule
from ser_tf.errors import ParameterError

CLASSES = ["neutral", "happy", "sad"]


def window(start, label, happy=0.0, *, length=1.0):
    voiced = label != "silence"
    probs = {"neutral": 1 - happy, "happy": happy, "sad": 0.0} if voiced else None
    return {"start": start, "end": start + length, "label": label, "voiced": voiced, "probabilities": probs}


def sustained(threshold=0.7, seconds=2.0):
    return validate_rule({"kind": "sustained", "emotion": "happy", "threshold": threshold,
                          "min_seconds": seconds}, classes=CLASSES)


def test_rules_read_as_people_write_them():
    assert describe_rule(sustained(0.7, 5)) == "happy ≥ 0.70 for ≥ 5 s"
    share = validate_rule({"kind": "share", "emotion": "sad", "threshold": 0.4}, classes=CLASSES)
    assert describe_rule(share) == "sad share ≥ 40 %" and share["name"] == "sad share ≥ 40 %"
    assert share["min_seconds"] == 0.0 and share["enabled"] is True and share["webhook_url"] is None


@pytest.mark.parametrize("rule, words", [
    ({"kind": "loud", "emotion": "happy", "threshold": 0.5}, "kind must be one of sustained, share, got 'loud'"),
    ({"kind": "share", "emotion": "joy", "threshold": 0.5}, "got 'joy'"),
    ({"kind": "share", "emotion": "sad", "threshold": 40}, "threshold must be in (0, 1]"),
    ({"kind": "share", "emotion": "sad", "threshold": "0.4"}, "threshold must be a finite number, got '0.4'"),
    ({"kind": "sustained", "emotion": "sad", "threshold": 0.4, "min_seconds": -1}, "min_seconds must be in"),
    ({"kind": "share", "emotion": "sad", "threshold": 0.4, "webhook_url": "file:///etc/passwd"},
     "webhook_url must be an http:// or https:// URL"),
])
def test_bad_rules_name_the_field_and_value(rule, words):
    with pytest.raises(ParameterError, match=None) as err:
        validate_rule(rule, classes=CLASSES)
    assert words in str(err.value)


def test_a_sustained_rule_fires_once_per_run_long_enough():
    timeline = [window(0, "happy", 0.9), window(1, "happy", 0.8), window(2, "happy", 0.95),  # 3 s run
                window(3, "neutral", 0.2),
                window(4, "happy", 0.9),  # 1 s run: too short
                window(5, "silence"), window(6, "happy", 0.9), window(7, "happy", 0.9)]  # 2 s run
    fired = evaluate([{**sustained(), "id": 7}], timeline=timeline, shares={})
    assert [(a["start"], a["end"], a["value"]) for a in fired] == [(0, 3, 0.95), (6, 8, 0.9)]
    assert fired[0]["rule_id"] == 7 and fired[0]["rule"] == "happy ≥ 0.70 for ≥ 2 s"
    assert fired[0]["kind"] == "sustained" and fired[0]["emotion"] == "happy"


def test_overlapping_windows_count_the_time_they_own():
    # 2 s windows every 0.5 s; the middle three are happy and own 1.75-3.25 s: 1.5 s, not 3 s.
    timeline = [window(0.5 * i, "happy", 0.9 if 2 <= i <= 4 else 0.1, length=2.0) for i in range(7)]
    assert evaluate([sustained(0.7, 2.0)], timeline=timeline, shares={}) == []
    [alert] = evaluate([sustained(0.7, 1.5)], timeline=timeline, shares={})
    assert (alert["start"], alert["end"]) == (1.75, 3.25)


def test_share_rules_and_disabled_rules():
    share = validate_rule({"kind": "share", "emotion": "sad", "threshold": 0.4}, classes=CLASSES)
    [alert] = evaluate([share], timeline=[], shares={"sad": 0.5})
    assert alert["start"] is None and alert["value"] == 0.5
    assert evaluate([share], timeline=[], shares={"sad": 0.39}) == []
    assert evaluate([{**share, "enabled": False}], timeline=[], shares={"sad": 0.9}) == []


class Receiver(http.server.BaseHTTPRequestHandler):
    received = []
    status = 204

    def do_POST(self):  # noqa: N802 -- the http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((self.headers["Content-Type"], json.loads(body)))
        self.send_response(Receiver.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    Receiver.received, Receiver.status = [], 204
    server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", Receiver
    server.shutdown()
    server.server_close()


def test_webhook_posts_json_and_reports_the_status(receiver):
    url, handler = receiver
    assert post_webhook(url, {"alert": {"id": 1}}) == "sent: HTTP 204"
    assert handler.received == [("application/json", {"alert": {"id": 1}})]
    handler.status = 500
    assert post_webhook(url, {"x": 1}) == "failed: HTTP 500"


def test_an_unreachable_webhook_fails_without_raising():
    status = post_webhook("http://127.0.0.1:9/nothing-listens-here", {"x": 1}, timeout=2)
    assert status.startswith("failed: ")
