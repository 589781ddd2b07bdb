"""Test support for the app: a real uvicorn server on a free loopback port, and audio to send it.

The server runs in a thread of the test process (real sockets, real HTTP and WebSocket), around
the suite's one tiny trained model (``tests.inference.support``: three synthetic voices, 1 s window).
"""

from __future__ import annotations

import io
import socket
import threading
import time
from pathlib import Path
from typing import Optional

import numpy as np

from tests.inference import support as inference_support

SR = inference_support.SR
CLASSES = inference_support.CLASSES


def wav_bytes(audio: np.ndarray, *, sr: int = SR, subtype: str = "PCM_16") -> bytes:
    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, audio, sr, format="WAV", subtype=subtype)
    return buffer.getvalue()


def voices_clip(kinds=("happy",), *, seconds_each: float = 3.0, seed: int = 0) -> np.ndarray:
    """The synthetic voices one after another: ``seconds_each`` seconds of each kind."""
    return np.concatenate([inference_support.voice(k, seconds_each, seed=seed + i) for i, k in enumerate(kinds)])


class LiveServer:
    """``create_app(service)`` served by uvicorn on 127.0.0.1:<free port> until ``stop()``."""

    def __init__(self, service):
        import uvicorn

        from ser_tf.app.server import create_app

        self.service = service
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(service), log_level="warning", ws_max_size=4 * 1024 * 1024)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        daemon=True, name=f"uvicorn-{self.port}")
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._socket.close()


def make_service(models_dir: Path, db_url: str, *, token: Optional[str] = None, **settings):
    """A ``Service`` around the suite's tiny run, with a store at ``db_url``."""
    from ser_tf.app.__main__ import build_service
    from ser_tf.app.settings import AppSettings

    run = inference_support.make_run_folder(models_dir)
    return build_service(AppSettings(model=str(run), db_url=db_url, token=token, **settings))
