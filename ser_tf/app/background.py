"""The app served from inside a Python program: a uvicorn server in a background thread.

    server = BackgroundServer(service)          # a free port on 127.0.0.1
    httpx.get(f"{server.url}/api/info")
    server.stop()

For notebooks, benchmarks and tests; ``python -m ser_tf.app`` runs uvicorn in the foreground.
The socket is bound before the thread starts, so the port is known and never raced for.
"""

from __future__ import annotations

import socket
import threading
import time

from ser_tf.errors import SerError

# uvicorn's limit on one WebSocket message: a second of 192 kHz float32 audio fits four times over.
WS_MAX_BYTES = 4 * 1024 * 1024


class BackgroundServer:
    """``create_app(service)`` served on ``host:port`` (0: a free port) until ``stop()``.

    Raises:
        SerError: the server did not start within ``start_timeout`` seconds.
    """

    def __init__(self, service, *, host: str = "127.0.0.1", port: int = 0, start_timeout: float = 30.0):
        import uvicorn

        from ser_tf.app.server import create_app

        self.service = service
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.port = self._socket.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        config = uvicorn.Config(create_app(service), log_level="warning", ws_max_size=WS_MAX_BYTES)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        daemon=True, name=f"ser_tf-app-{self.port}")
        self._thread.start()
        deadline = time.monotonic() + start_timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                self.stop()
                raise SerError(f"the app did not start on {self.url} within {start_timeout:g} s")
            time.sleep(0.02)

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1)

    def stop(self) -> None:
        """Stop serving and close the service (the store) once the thread has finished."""
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._socket.close()

    def __enter__(self) -> "BackgroundServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
