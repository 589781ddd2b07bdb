"""WS /api/stream over a real WebSocket on loopback: live updates, the saved recording, refusals."""

import json

import httpx
import numpy as np
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.app import support
from tests.app.conftest import TOKEN


def send_audio(ws, audio: np.ndarray, *, chunk_s: float = 0.1, rate: int = support.SR):
    step = int(chunk_s * rate)
    for i in range(0, len(audio), step):
        ws.send(audio[i:i + step].astype("<f4").tobytes())


def messages_until_closed(ws):
    out = []
    try:
        while True:
            out.append(json.loads(ws.recv(timeout=60)))
    except Exception:  # the server closed the socket after its last message
        return out


def test_a_live_stream_updates_twice_a_second_and_is_saved(server):
    audio = support.voices_clip(("sad",), seconds_each=4.0, seed=11)
    with connect(f"{server.ws_url}/api/stream") as ws:
        ws.send(json.dumps({"type": "start", "sample_rate": support.SR, "name": "desk mic", "store_audio": True}))
        ready = json.loads(ws.recv(timeout=30))
        assert ready["type"] == "ready" and ready["hop"] == 0.5 and ready["window"] == 1.0
        send_audio(ws, audio)
        ws.send(json.dumps({"type": "stop"}))
        messages = messages_until_closed(ws)
    updates = [m for m in messages if m["type"] == "update"]
    # One update per 0.5 s hop once 0.5 s has arrived: 4 s of audio gives 7 or 8.
    assert len(updates) >= 7
    assert np.all(np.diff([u["end"] for u in updates]) > 0)
    voiced = [u for u in updates if u["label"] != "silence"]
    assert voiced and voiced[-1]["label"] == "sad"
    assert set(voiced[-1]["probabilities"]) == set(support.CLASSES)
    saved = messages[-1]
    assert saved["type"] == "saved"
    recording = saved["recording"]
    assert recording["source"] == "stream" and recording["name"] == "desk mic"
    assert recording["label"] == "sad" and recording["duration"] == pytest.approx(4.0, abs=0.01)
    assert recording["has_audio"]
    stored = httpx.get(f"{server.url}/api/recordings/{recording['id']}").json()
    assert stored["timeline"] == recording["timeline"]


def test_a_stream_resampled_from_48_khz(server):
    from ser_tf.data.audio_io import resample

    audio = resample(support.voices_clip(("happy",), seconds_each=2.0, seed=12), orig_sr=support.SR, target_sr=48000)
    with connect(f"{server.ws_url}/api/stream") as ws:
        ws.send(json.dumps({"type": "start", "sample_rate": 48000}))
        ws.recv(timeout=30)
        send_audio(ws, audio, rate=48000)
        ws.send(json.dumps({"type": "stop"}))
        saved = messages_until_closed(ws)[-1]
    assert saved["type"] == "saved"
    assert saved["recording"]["label"] == "happy"
    assert saved["recording"]["name"].startswith("live stream ")


@pytest.mark.parametrize("start, words", [
    ({"type": "begin"}, "the first message must be"),
    ({"type": "start", "sample_rate": 3}, "sample_rate must be an integer in [8000, 192000]"),
    ({"type": "start", "sample_rate": 16000, "name": "../x"}, "looks like a path"),
])
def test_a_bad_start_is_refused_with_the_reason(server, start, words):
    with connect(f"{server.ws_url}/api/stream") as ws:
        ws.send(json.dumps(start))
        [error] = messages_until_closed(ws)
    assert error["type"] == "error" and words in error["detail"]


def test_a_stream_too_short_to_keep_says_so(server):
    with connect(f"{server.ws_url}/api/stream") as ws:
        ws.send(json.dumps({"type": "start", "sample_rate": support.SR}))
        ws.recv(timeout=30)
        send_audio(ws, support.voices_clip(seconds_each=0.2))
        ws.send(json.dumps({"type": "stop"}))
        messages = messages_until_closed(ws)
    assert messages[-1]["type"] == "error" and "need at least 0.5 s" in messages[-1]["detail"]


def test_a_stream_past_the_duration_limit_is_stopped(server):
    with connect(f"{server.ws_url}/api/stream") as ws:
        ws.send(json.dumps({"type": "start", "sample_rate": 8000}))
        ws.recv(timeout=30)
        send_audio(ws, np.full(8000 * 61, 0.01, np.float32), chunk_s=5.0, rate=8000)
        messages = messages_until_closed(ws)
    assert messages[-1]["type"] == "error" and "limit of 60 s" in messages[-1]["detail"]


def test_the_stream_needs_the_token_when_one_is_set(token_server):
    with pytest.raises(InvalidStatus) as refused:
        with connect(f"{token_server.ws_url}/api/stream"):
            pass
    assert refused.value.response.status_code == 403
    with connect(f"{token_server.ws_url}/api/stream?token={TOKEN}") as ws:
        ws.send(json.dumps({"type": "start", "sample_rate": support.SR}))
        assert json.loads(ws.recv(timeout=30))["type"] == "ready"
