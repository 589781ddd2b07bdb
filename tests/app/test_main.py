"""``python -m ser_tf.app`` as a user runs it: flags, the refusal to serve the network without a
token, and a real server process that is SIGKILLed after an upload without losing it."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from ser_tf.storage import Store
from tests.app import support
from tests.inference import support as inference_support

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args, env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "ser_tf.app", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def test_help_shows_the_defaults():
    out = run_cli("--help").stdout
    for words in ("--host", "(default: 127.0.0.1)", "(default: 8000)", "(default: 200.0)", "--token",
                  "SER_TF_APP_TOKEN", "--cors-origin", "CORS is off by default"):
        assert words in out


def test_it_refuses_to_serve_the_network_without_a_token(tmp_path):
    result = run_cli("--host", "0.0.0.0", "--db", f"sqlite:///{tmp_path}/a.sqlite3", env={"SER_TF_APP_TOKEN": ""})
    assert result.returncode == 2
    assert "--host 0.0.0.0 serves beyond this machine; set --token or SER_TF_APP_TOKEN" in result.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_killed_server_keeps_every_recording_it_answered(tmp_path):
    run = inference_support.make_run_folder(tmp_path / "models")
    db = f"sqlite:///{tmp_path}/app.sqlite3"
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "ser_tf.app", "--model", str(run), "--db", db,
                                "--port", str(port), "--quiet"], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, process.stderr.read()
            try:
                if httpx.get(f"{url}/api/info", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the app did not start"
            time.sleep(0.2)
        clip = support.wav_bytes(support.voices_clip(("neutral",), seconds_each=3.0))
        answer = httpx.post(f"{url}/api/recordings", files=[("files", ("n.wav", clip, "audio/wav"))], timeout=60)
        assert answer.status_code == 201
        [recording] = answer.json()["recordings"]
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        process.stdout.close()
        process.stderr.close()
    with Store(db) as store:
        kept = store.get_recording(recording["id"])
    assert kept["label"] == "neutral"
    assert kept["timeline"] == recording["timeline"]
