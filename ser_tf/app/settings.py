"""The server's settings, and the rule that keeps it off the network without a token."""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from typing import Optional, Tuple

from ser_tf.errors import ParameterError

TOKEN_ENV = "SER_TF_APP_TOKEN"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_MAX_UPLOAD_MB = 200.0
# Two hours: a long call or session; a 200 MB 16 kHz 16-bit WAV holds 1.8 h.
DEFAULT_MAX_DURATION_S = 7200.0
# Seconds between the starts of live-stream updates: two a second (the issue asks for >= 1).
STREAM_HOP_S = 0.5


@dataclasses.dataclass(frozen=True)
class AppSettings:
    """How ``python -m ser_tf.app`` serves.

    Attributes:
        model: ``"default"``, a run folder or a model file (``ser_tf.load_model``).
        db_url: ``sqlite:///file`` or ``postgresql://user@host:port/db``.
        host, port: where to listen.
        token: the API token; required when ``host`` is not loopback.
        max_upload_bytes: largest request body accepted (bytes).
        max_duration_s: longest recording accepted (seconds), uploaded or streamed.
        hop: seconds between timeline windows.
        concurrency: recordings classified at the same time; more wait their turn.
        cors_origins: origins allowed to call the API from another page; empty: CORS off.
    """

    model: str = "default"
    db_url: str = ""
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: Optional[str] = None
    max_upload_bytes: int = int(DEFAULT_MAX_UPLOAD_MB * 1024 * 1024)
    max_duration_s: float = DEFAULT_MAX_DURATION_S
    hop: float = 1.0
    concurrency: int = 2
    cors_origins: Tuple[str, ...] = ()

    def __post_init__(self):
        if self.max_upload_bytes <= 0:
            raise ParameterError(f"the upload limit must be > 0 bytes, got {self.max_upload_bytes!r}")
        if not self.max_duration_s > 0:
            raise ParameterError(f"the duration limit must be > 0 s, got {self.max_duration_s!r}")
        if int(self.concurrency) < 1:
            raise ParameterError(f"concurrency must be >= 1, got {self.concurrency!r}")
        if self.token is not None and len(self.token) < 8:
            raise ParameterError(f"the token must be at least 8 characters, got {len(self.token)}")
        if not is_loopback(self.host) and not self.token:
            raise ParameterError(
                f"--host {self.host} serves beyond this machine; set --token or {TOKEN_ENV} so only "
                f"people with the token can use the API (or keep the default --host {DEFAULT_HOST})"
            )


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (``127.0.0.1``, ``::1``, ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def token_from_env(token: Optional[str]) -> Optional[str]:
    """``token`` if given, else ``$SER_TF_APP_TOKEN`` (``None`` if neither or empty)."""
    return token or os.environ.get(TOKEN_ENV) or None
