"""Cutting audio into model-sized windows, from a file read in blocks or from a live stream.

``WindowFramer`` takes chunks of any size and emits windows of ``window`` samples every ``hop``
samples while holding at most about one window plus one chunk in memory, which is what lets an
hour-long recording be classified in bounded memory.

Window placement over ``n`` samples (``W`` = window, ``H`` = hop):

- full windows start at ``0, H, 2H, ...`` while they fit;
- ``flush()`` adds one last window ending exactly at ``n`` when the regular grid left samples
  uncovered, so the end of a recording is always classified;
- a recording shorter than ``W`` gives one short window (the model input is padded later);
- in ``head=True`` mode (live streams), windows ending at ``W - kH`` (``k >= 1``) are emitted while
  the buffer is still filling, so a live label appears after one hop instead of one full window.
  They all start at sample 0 and stay on the same ``H`` cadence as the full windows.
"""

from __future__ import annotations

import dataclasses
from typing import List

import numpy as np

from ser_tf.errors import ParameterError


@dataclasses.dataclass(frozen=True)
class Window:
    """One window: ``samples`` covers stream samples ``[start, start + len(samples))``."""

    start: int
    samples: np.ndarray

    @property
    def end(self) -> int:
        return self.start + len(self.samples)


class WindowFramer:
    """Emit windows of ``window`` samples every ``hop`` samples from pushed chunks.

    Args:
        window: samples per window (> 0).
        hop: samples between window starts (> 0; a hop larger than the window skips audio).
        min_length: shortest partial window worth emitting (head windows and a short recording's
            single window), in samples.
        head: emit growing windows while the first full window is not yet available (live mode).
    """

    def __init__(self, *, window: int, hop: int, min_length: int = 1, head: bool = False):
        if int(window) <= 0 or int(hop) <= 0:
            raise ParameterError(f"window and hop must be > 0 samples, got {window!r} and {hop!r}")
        self.window, self.hop = int(window), int(hop)
        self.min_length = max(1, int(min_length))
        self.head = bool(head)
        self._buf = np.zeros(0, dtype=np.float32)
        self._buf_start = 0  # stream index of _buf[0]
        self._total = 0  # samples pushed so far
        self._next_start = 0  # start of the next full window
        self._last_end = 0  # end of the last emitted window
        # Ends of the head windows still to come, ascending: W - kH for k = ..., 2, 1.
        ends = range(self.window - self.hop, 0, -self.hop) if head else ()
        self._head_ends: List[int] = sorted(e for e in ends if e >= self.min_length)

    @property
    def total(self) -> int:
        """Samples pushed so far."""
        return self._total

    def push(self, chunk: np.ndarray) -> List[Window]:
        """Append ``chunk`` (``(samples,)`` float) and return the windows it completed, in order."""
        chunk = np.asarray(chunk, dtype=np.float32).reshape(-1)
        self._buf = np.concatenate([self._buf, chunk]) if len(self._buf) else chunk.copy()
        self._total += len(chunk)
        out: List[Window] = []
        while self._head_ends and self._head_ends[0] <= self._total:
            end = self._head_ends.pop(0)
            out.append(self._emit(0, end))
        while self._next_start + self.window <= self._total:
            out.append(self._emit(self._next_start, self._next_start + self.window))
            self._next_start += self.hop
        self._trim()
        return out

    def flush(self) -> List[Window]:
        """Windows owed at the end of the stream: the tail window, or a short recording's only one."""
        out: List[Window] = []
        if self._total >= self.window:
            if self._last_end < self._total:
                out.append(self._emit(self._total - self.window, self._total))
        elif self._total >= self.min_length and self._last_end < self._total:
            out.append(self._emit(0, self._total))
        return out

    def _emit(self, start: int, end: int) -> Window:
        self._last_end = max(self._last_end, end)
        a, b = start - self._buf_start, end - self._buf_start
        return Window(start, self._buf[a:b].copy())

    def _trim(self) -> None:
        # Keep what the next full window needs and, for flush(), the last `window` samples.
        keep_from = min(self._next_start, max(0, self._total - self.window))
        if self._head_ends:
            keep_from = 0
        drop = keep_from - self._buf_start
        if drop > 0:
            self._buf = self._buf[drop:]
            self._buf_start = keep_from
