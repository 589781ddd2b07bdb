"""Test support for the app: a real uvicorn server on a free loopback port, and audio to send it.

The server (``ser_tf.app.background``) runs in a thread of the test process (real sockets, real
HTTP and WebSocket), around the suite's one tiny trained model (``tests.inference.support``: three synthetic voices, 1 s window).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Optional

import numpy as np

from ser_tf.app.background import BackgroundServer
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


# The test servers are the library's own background server.
LiveServer = BackgroundServer


def make_service(models_dir: Path, db_url: str, *, token: Optional[str] = None, **settings):
    """A ``Service`` around the suite's tiny run, with a store at ``db_url``."""
    from ser_tf.app.__main__ import build_service
    from ser_tf.app.settings import AppSettings

    run = inference_support.make_run_folder(models_dir)
    return build_service(AppSettings(model=str(run), db_url=db_url, token=token, **settings))
