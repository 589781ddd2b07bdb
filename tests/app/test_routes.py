"""The JSON API over real HTTP on loopback: uploads, history, trends, rules, alerts and every refusal."""

import http.server
import json
import threading

import httpx
import numpy as np
import pytest

from tests.app import support

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def upload(client, *files, **form):
    return client.post("/api/recordings", files=[("files", f) for f in files], data=form)


def happy_wav(seconds=3.0, seed=0):
    return ("happy.wav", support.wav_bytes(support.voices_clip(("happy",), seconds_each=seconds, seed=seed)),
            "audio/wav")


def test_info_names_the_model_limits_and_colours(client):
    info = client.get("/api/info").json()
    assert info["model"]["classes"] == list(support.CLASSES)
    assert info["model"]["arch"] == "cnn_lstm_small"
    assert info["token_required"] is False
    assert info["limits"] == {"max_upload_bytes": 2 * 1024 * 1024, "max_duration_s": 60.0}
    assert set(info["colours"]) == {*support.CLASSES, "silence"}
    assert info["database"] == "sqlite"


def test_upload_returns_the_stored_timeline_and_summary(client):
    response = upload(client, happy_wav(4.0), source="upload")
    assert response.status_code == 201, response.text
    [recording] = response.json()["recordings"]
    assert recording["label"] == "happy" and recording["source"] == "upload"
    assert recording["name"] == "happy.wav" and recording["duration"] == pytest.approx(4.0)
    assert len(recording["timeline"]) >= 3  # 1 s windows, 1 s hop
    voiced = [w for w in recording["timeline"] if w["voiced"]]
    assert voiced and all(w["label"] == "happy" for w in voiced)
    assert sum(recording["shares"].values()) == pytest.approx(1.0)
    assert recording["shares"]["happy"] == pytest.approx(1.0)
    assert len(recording["envelope"]["mins"]) == len(recording["envelope"]["maxs"]) > 100
    assert recording["model"]["classes"] == list(support.CLASSES)
    assert len(recording["model"]["sha256"]) == 64
    # What GET answers is what the upload answered: it was read back from the database.
    assert client.get(f"/api/recordings/{recording['id']}").json() == recording


def test_history_filters_by_label_source_and_date(client):
    sad = ("sad.wav", support.wav_bytes(support.voices_clip(("sad",), seconds_each=2.0)), "audio/wav")
    [rec] = upload(client, sad, source="record").json()["recordings"]
    assert rec["label"] == "sad"
    listed = client.get("/api/recordings", params={"label": "sad", "source": "record"}).json()
    assert rec["id"] in [r["id"] for r in listed["recordings"]]
    assert all(r["label"] == "sad" and r["source"] == "record" for r in listed["recordings"])
    assert listed["total"] == len(listed["recordings"])
    assert "timeline" not in listed["recordings"][0]  # the list is summaries
    later = client.get("/api/recordings", params={"since": "2999-01-01"}).json()
    assert later["recordings"] == [] and later["total"] == 0
    today = rec["uploaded_at"][:10]
    rows = client.get("/api/trends", params={"period": "day"}).json()["rows"]
    assert today in [r["start"] for r in rows]


def test_a_batch_keeps_the_good_files_and_lists_the_refused(client):
    response = upload(client, happy_wav(2.0), ("notes.txt", b"not audio at all", "text/plain"))
    assert response.status_code == 201
    body = response.json()
    assert len(body["recordings"]) == 1
    [refused] = body["refused"]
    assert refused["name"] == "notes.txt" and refused["status"] == 415 and "notes.txt" in refused["error"]


@pytest.mark.parametrize("name, content, status, words", [
    ("notes.txt", b"hello, I am text", 415, "not audio"),
    ("../../etc/passwd.wav", None, 400, "looks like a path"),
    ("..\\evil.wav", None, 400, "looks like a path"),
    ("quiet.wav", "silence", 422, "digital silence"),
    ("blip.wav", "short", 422, "too short"),
    ("long.wav", "long", 413, "longer than the limit of 60 s"),
])
def test_each_refused_upload_says_why(client, name, content, status, words):
    if content is None:
        content = happy_wav(1.0)[1]
    elif content == "silence":
        content = support.wav_bytes(np.zeros(support.SR * 2, np.float32))
    elif content == "short":
        content = support.wav_bytes(support.voices_clip(seconds_each=0.2))
    elif content == "long":  # 61 s of 16-bit audio: under the 2 MB limit, over the 60 s one
        content = support.wav_bytes(np.full(support.SR * 61, 0.01, np.float32))
    response = upload(client, (name, content, "application/octet-stream"))
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]


def test_too_large_is_refused_before_it_is_read(client):
    response = upload(client, ("big.wav", b"\0" * (3 * 1024 * 1024), "audio/wav"))
    assert response.status_code == 413
    assert "limit is 2097152 bytes (2 MB" in response.json()["detail"]


def test_chunked_body_over_the_limit_is_refused_too(client):
    def body():  # no Content-Length: the limit is counted as the bytes arrive
        yield (b'--xyz\r\nContent-Disposition: form-data; name="files"; filename="big.wav"\r\n'
               b"Content-Type: audio/wav\r\n\r\n")
        for _ in range(40):
            yield b"x" * (100 * 1024)
    response = client.post("/api/recordings", content=body(),
                           headers={"Content-Type": "multipart/form-data; boundary=xyz"})
    assert response.status_code == 413


@pytest.mark.parametrize("method, path", [
    ("GET", "/api/recordings/999999"), ("DELETE", "/api/recordings/999999"),
    ("GET", "/api/recordings/999999/audio"), ("GET", "/api/recordings/999999/report/index.html"),
    ("DELETE", "/api/rules/999999"),
])
def test_unknown_ids_are_404_naming_the_id(client, method, path):
    response = client.request(method, path)
    assert response.status_code == 404
    assert "999999" in response.json()["detail"]


def test_bad_query_values_are_400_naming_the_value(client):
    response = client.get("/api/recordings", params={"since": "last tuesday"})
    assert response.status_code == 400 and "'last tuesday'" in response.json()["detail"]
    assert client.get("/api/trends", params={"period": "fortnight"}).status_code == 400


def test_audio_is_kept_only_when_asked(client):
    name, content, kind = happy_wav(1.5, seed=3)
    [kept] = upload(client, (name, content, kind), store_audio="true").json()["recordings"]
    [plain] = upload(client, (name, content, kind)).json()["recordings"]
    assert kept["has_audio"] and not plain["has_audio"]
    audio = client.get(f"/api/recordings/{kept['id']}/audio")
    assert audio.status_code == 200 and audio.content == content
    assert audio.headers["content-type"] == "audio/wav"
    assert client.get(f"/api/recordings/{plain['id']}/audio").status_code == 404


def test_delete_removes_the_recording(client):
    [rec] = upload(client, happy_wav(1.0, seed=5)).json()["recordings"]
    assert client.delete(f"/api/recordings/{rec['id']}").json() == {"deleted": rec["id"]}
    assert client.get(f"/api/recordings/{rec['id']}").status_code == 404


def test_responses_carry_the_security_headers_and_no_cors(client):
    response = client.get("/api/info", headers={"Origin": "http://evil.example"})
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "access-control-allow-origin" not in response.headers


def test_the_page_and_its_scripts_are_served_without_a_cdn(client):
    page = client.get("/")
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert "https://" not in page.text and "http://" not in page.text


def test_postgres_backed_server_stores_and_lists(postgres_app):
    with httpx.Client(base_url=postgres_app.url, timeout=60) as client:
        assert client.get("/api/info").json()["database"] == "postgresql"
        [rec] = upload(client, happy_wav(2.0)).json()["recordings"]
        assert client.get(f"/api/recordings/{rec['id']}").json() == rec
        assert [r["id"] for r in client.get("/api/recordings").json()["recordings"]] == [rec["id"]]
        assert json.loads(json.dumps(client.get("/api/trends").json()))["rows"][0]["recordings"] == 1


def test_reports_of_a_recording_and_of_its_week(client):
    [rec] = upload(client, happy_wav(3.0, seed=7)).json()["recordings"]
    base = f"/api/recordings/{rec['id']}/report"
    page = client.get(f"{base}/index.html")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "happy.wav" in page.text and 'src="timeline.png"' in page.text
    chart = client.get(f"{base}/timeline.png")
    assert chart.headers["content-type"] == "image/png" and chart.content[:8] == b"\x89PNG\r\n\x1a\n"
    rows = client.get(f"{base}/windows.csv").text.splitlines()
    assert len(rows) == 1 + len(rec["timeline"])
    assert client.get(f"{base}/secrets.txt").status_code == 404
    week = client.get(f"/api/reports/week/{rec['uploaded_at'][:10]}/recordings.csv")
    assert week.status_code == 200 and "happy.wav" in week.text
    assert client.get("/api/reports/fortnight/2026-11-30/index.html").status_code == 400


def test_rules_fire_on_upload_and_post_to_the_webhook(client, server):
    received = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 -- the http.server API
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    hook = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    try:
        rule = client.post("/api/rules", json={"kind": "sustained", "emotion": "happy", "threshold": 0.5,
                                                "min_seconds": 2, "webhook_url":
                                                f"http://127.0.0.1:{hook.server_address[1]}/ser"})
        assert rule.status_code == 201, rule.text
        rule = rule.json()
        assert rule["name"] == "happy ≥ 0.50 for ≥ 2 s" and rule["id"] in [r["id"] for r in client.get("/api/rules").json()["rules"]]
        [rec] = upload(client, happy_wav(4.0, seed=8)).json()["recordings"]
        [alert] = rec["alerts"]
        assert alert["rule_id"] == rule["id"] and alert["emotion"] == "happy"
        assert alert["end"] - alert["start"] >= 2.0 and alert["value"] >= 0.5
        server.service.wait_for_webhooks()
        assert received and received[0]["event"] == "ser_tf.alert"
        assert received[0]["alert"]["id"] == alert["id"] and received[0]["recording"]["id"] == rec["id"]
        alerts = client.get("/api/alerts", params={"recording_id": rec["id"]}).json()["alerts"]
        assert alerts[0]["webhook"] == "sent: HTTP 200"
        # A sad clip does not fire it.
        sad = ("sad.wav", support.wav_bytes(support.voices_clip(("sad",), seconds_each=3.0)), "audio/wav")
        assert upload(client, sad).json()["recordings"][0]["alerts"] == []
    finally:
        client.delete(f"/api/rules/{rule['id']}")
        hook.shutdown()
        hook.server_close()


def test_bad_rules_are_400_naming_the_value(client):
    response = client.post("/api/rules", json={"kind": "share", "emotion": "joy", "threshold": 0.4})
    assert response.status_code == 400 and "'joy'" in response.json()["detail"]


def test_concurrent_uploads_share_the_one_loaded_model(server):
    import concurrent.futures

    model = server.service.analyzer.model
    kinds = ["happy", "sad", "neutral", "happy"]

    def send(i):
        data = support.wav_bytes(support.voices_clip((kinds[i],), seconds_each=2.0, seed=20 + i))
        with httpx.Client(base_url=server.url, timeout=60) as http:
            return upload(http, (f"{kinds[i]}-{i}.wav", data, "audio/wav"))

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(send, range(4)))
    assert [r.status_code for r in responses] == [201] * 4
    assert [r.json()["recordings"][0]["label"] for r in responses] == kinds
    assert server.service.analyzer.model is model  # nothing was reloaded
