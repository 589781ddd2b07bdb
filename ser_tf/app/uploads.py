"""Checking what a browser sends before the model hears it: the name, the format, the length.

A file name from the network is only ever a label shown on the page. The bytes go to a temporary
file the server names itself; a name that tries to be a path (``../x.wav``, ``C:\\x.wav``) is
refused rather than quietly cleaned, so the person who sent it finds out.
"""

from __future__ import annotations

import re

from ser_tf.data.audio_io import AudioInfo, probe_audio
from ser_tf.errors import AudioError

# Longest display name kept (characters).
MAX_NAME = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class UploadRefused(Exception):
    """An upload the API will not classify: ``status`` is the HTTP status, the message says why."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def display_name(filename) -> str:
    """The name shown for an upload.

    Raises:
        UploadRefused: 400 for an empty name, control characters, a path separator or ``..``.
    """
    name = "" if filename is None else str(filename)
    if not name.strip():
        raise UploadRefused(400, "the file has no name; send it with a file name such as clip.wav")
    if _CONTROL.search(name):
        raise UploadRefused(400, f"file name {name!r} holds control characters; send a plain file name")
    if "/" in name or "\\" in name or name in (".", "..") or name.startswith("..") or ":" in name[:3]:
        raise UploadRefused(400, f"file name {name!r} looks like a path; send a plain file name "
                                 f"such as clip.wav (names are labels here, never paths)")
    return name[:MAX_NAME]


def check_audio(path, *, name: str, max_duration_s: float) -> AudioInfo:
    """Probe the saved upload at ``path`` (the server's own temporary file).

    Raises:
        UploadRefused: 415 if it is not audio the library reads, 413 if it is longer than
            ``max_duration_s`` seconds. Messages name ``name``, never the temporary path.
    """
    try:
        info = probe_audio(path)
    except AudioError as err:
        raise UploadRefused(415, f"{name}: not audio this server can read ({err.reason})") from None
    if info.duration > max_duration_s:
        raise UploadRefused(413, f"{name}: {info.duration:.0f} s is longer than the limit of "
                                 f"{max_duration_s:g} s (--max-duration)")
    return info

