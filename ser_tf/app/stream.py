"""``WS /api/stream``: live classification of the browser's microphone.

The conversation, one WebSocket per stream:

    client -> {"type": "start", "sample_rate": 48000, "name": "desk mic", "store_audio": false}
    server -> {"type": "ready", "hop": 0.5, "window": 3.0, "sample_rate": 16000}
    client -> binary frames: mono float32 little-endian samples at the announced rate, any size
    server -> {"type": "update", "start", "end", "label", "confidence", "probabilities", "level_db",
               "audio_s", ...}    one per hop (``StreamUpdate.to_dict()``; two a second)
    client -> {"type": "stop"}    (or it just closes the socket)
    server -> {"type": "saved", "recording": {...}}   the whole stream, analysed as an upload is
              and stored with source "stream"; then the server closes the socket.
    server -> {"type": "error", "detail": "..."}      on bad input, then closes (code 1008)

A missing or wrong token closes the handshake with code 1008 before anything is accepted.
"""

import asyncio
import datetime as dt
import json
import logging
import os
import queue
import tempfile
from pathlib import Path

import numpy as np

from ser_tf.app import security, uploads
from ser_tf.app.service import Service
from ser_tf.app.settings import STREAM_HOP_S
from ser_tf.constants import MIN_DURATION
from ser_tf.errors import SerError

log = logging.getLogger("ser_tf.app")
# Browsers capture at 8-96 kHz; anything else is a client bug.
RATES = (8000, 192000)


class StreamRefused(Exception):
    pass


def _start_message(message: dict) -> tuple:
    """``(sample_rate, name, store_audio)`` from the client's first message."""
    if not isinstance(message, dict) or message.get("type") != "start":
        raise StreamRefused(f"the first message must be {{'type': 'start', 'sample_rate': ...}}, got {message!r}")
    rate = message.get("sample_rate")
    if isinstance(rate, bool) or not isinstance(rate, int) or not RATES[0] <= rate <= RATES[1]:
        raise StreamRefused(f"sample_rate must be an integer in [{RATES[0]}, {RATES[1]}] Hz, got {rate!r}")
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    try:
        name = uploads.display_name(message.get("name") or f"live stream {now} UTC")
    except uploads.UploadRefused as err:
        raise StreamRefused(str(err)) from None
    return rate, name, bool(message.get("store_audio", False))


def _json(message: dict) -> dict:
    """A text frame's JSON object (``{}`` for a binary frame or anything not an object)."""
    try:
        value = json.loads(message.get("text") or "null")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class _Recorder:
    """The stream's audio as it arrives, written to a 16-bit WAV temporary file: memory stays
    bounded however long the stream (an hour at 48 kHz would be 690 MB as float32 in memory)."""

    def __init__(self, sample_rate: int):
        import soundfile as sf

        handle, self.path = tempfile.mkstemp(prefix="ser_tf_stream_", suffix=".wav")
        os.close(handle)
        self.samples = 0
        self.sample_rate = int(sample_rate)
        self._file = sf.SoundFile(self.path, "w", samplerate=sample_rate, channels=1, format="WAV",
                                  subtype="PCM_16")

    def write(self, chunk: np.ndarray) -> None:
        self._file.write(np.clip(chunk, -1.0, 1.0))
        self.samples += len(chunk)

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def discard(self) -> None:
        self.close()
        if os.path.exists(self.path):
            os.unlink(self.path)


def endpoint(service: Service):
    """The WebSocket handler, bound to ``service``."""
    from anyio import to_thread
    from starlette.websockets import WebSocket, WebSocketDisconnect

    max_duration = service.settings.max_duration_s

    async def stream(websocket: WebSocket):
        try:
            security.check_token(service.settings.token,
                                 security.presented_token(websocket.headers, websocket.query_params))
        except security.TokenRefused as err:
            await websocket.close(code=1008, reason=str(err)[:120])
            return
        await websocket.accept()
        first = await websocket.receive()
        if first["type"] == "websocket.disconnect":
            return
        try:
            rate, name, store_audio = _start_message(_json(first))
        except StreamRefused as err:
            await _close_with(websocket, {"type": "error", "detail": str(err)}, code=1008)
            return
        await websocket.send_json({"type": "ready", "hop": STREAM_HOP_S, "window": service.analyzer.window,
                                   "sample_rate": service.analyzer.sample_rate})

        loop = asyncio.get_running_loop()
        chunks: "queue.Queue" = queue.Queue()
        updates: "asyncio.Queue" = asyncio.Queue()
        recorder = _Recorder(rate)

        def classify():  # worker thread: the model's stream over the chunks as they arrive
            def source():
                while (chunk := chunks.get()) is not None:
                    yield chunk
            try:
                for update in service.analyzer.model.stream(source(), sample_rate=rate, hop=STREAM_HOP_S):
                    message = {"type": "update", **update.to_dict(), "audio_s": round(update.audio_s, 3)}
                    loop.call_soon_threadsafe(updates.put_nowait, message)
            except SerError as err:
                loop.call_soon_threadsafe(updates.put_nowait, {"type": "error", "detail": str(err)})
            finally:
                loop.call_soon_threadsafe(updates.put_nowait, None)

        async def forward():
            while (message := await updates.get()) is not None:
                await websocket.send_json(message)

        worker = asyncio.ensure_future(to_thread.run_sync(classify))
        sender = asyncio.ensure_future(forward())
        refusal = None
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                if message.get("bytes") is not None:
                    data = message["bytes"]
                    if len(data) % 4:
                        refusal = f"binary frames must hold float32 samples (4 bytes each), got {len(data)} bytes"
                        break
                    chunk = np.frombuffer(data, dtype="<f4").astype(np.float32)
                    if recorder.samples + len(chunk) > max_duration * rate:
                        refusal = f"the stream passed the limit of {max_duration:g} s (--max-duration)"
                        break
                    recorder.write(chunk)
                    chunks.put(chunk)
                elif _json(message).get("type") == "stop":
                    break
        except WebSocketDisconnect:
            pass
        finally:
            chunks.put(None)
            recorder.close()
            await worker
            await sender
        try:
            await _keep(websocket, service, recorder, refusal=refusal, name=name, store_audio=store_audio)
        finally:
            recorder.discard()

    return stream


async def _keep(websocket, service: Service, recorder: _Recorder, *, refusal, name: str, store_audio: bool):
    """Analyse the whole stream as an upload, store it, tell the client; or tell it why not."""
    from anyio import to_thread

    rate, samples = recorder.sample_rate, recorder.samples
    if refusal is None and samples < MIN_DURATION * rate:
        refusal = f"the stream held {samples / rate:.2f} s of audio; need at least {MIN_DURATION} s to keep it"
    if refusal is not None:
        await _close_with(websocket, {"type": "error", "detail": refusal}, code=1008)
        return
    try:
        analysis = await to_thread.run_sync(
            lambda: service.analyzer.analyse(recorder.path, name=name, source="stream"), limiter=service.limiter)
        audio = Path(recorder.path).read_bytes() if store_audio else None
        stored = await to_thread.run_sync(lambda: service.keep(
            analysis, audio=audio, audio_type="audio/wav" if store_audio else None))
    except SerError as err:
        await _close_with(websocket, {"type": "error", "detail": str(err)}, code=1011)
        return
    await _close_with(websocket, {"type": "saved", "recording": stored}, code=1000)


async def _close_with(websocket, message: dict, *, code: int) -> None:
    """Send a last message and close; the client may already have gone (the data is kept)."""
    try:
        await websocket.send_json(message)
        await websocket.close(code=code)
    except Exception:  # noqa: BLE001 -- a closed socket: nothing left to tell
        log.info("stream client left before %s", message["type"])
