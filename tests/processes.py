"""A subprocess that the test kills with a real SIGKILL when its ``with`` block ends."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess


@contextlib.contextmanager
def sigkilled_on_exit(cmd, **popen_kwargs):
    """Start ``cmd``; yield the ``Popen``; on leaving the block, SIGKILL it if it still runs and
    wait for it, so ``returncode`` is ``-signal.SIGKILL`` when the kill hit it mid-work."""
    proc = subprocess.Popen(cmd, **popen_kwargs)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
