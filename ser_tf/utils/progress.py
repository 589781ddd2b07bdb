"""Progress bars for long steps, on stderr, through tqdm: one place decides whether they show.

A bar shows only when stderr is a terminal (a log file or a pipe gets no ``\\r`` clutter) and
``--quiet`` did not turn bars off for the process (``set_enabled(False)``). Callers write::

    for path in progress(paths, desc="probing", unit="file"):
        ...

and, for lines printed while a bar is drawn, ``write(...)`` so the line does not tear the bar.
"""

from __future__ import annotations

import sys
from typing import Iterable, Iterator, Optional, Sequence, TypeVar

T = TypeVar("T")

_enabled = True  # the process-wide switch; --quiet turns it off


def set_enabled(enabled: bool) -> None:
    """Turn every progress bar of this process on (the default: still only on a terminal) or off."""
    global _enabled
    _enabled = bool(enabled)


def bars_enabled(enabled: Optional[bool] = None, *, stream=None) -> bool:
    """Whether a bar would show: ``enabled`` if given, else the process switch, and in either case
    only when ``stream`` (default ``sys.stderr``) is a terminal."""
    stream = sys.stderr if stream is None else stream
    wanted = _enabled if enabled is None else enabled
    if not wanted:
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def progress(iterable: Iterable[T], *, desc: str, unit: str = "it", total: Optional[int] = None,
             enabled: Optional[bool] = None, leave: bool = False) -> Iterator[T]:
    """``iterable``, with a tqdm bar on stderr when ``bars_enabled(enabled)``; else ``iterable`` itself.

    Args:
        iterable: what to walk; its ``len()`` is the total unless ``total`` is given.
        desc: what is being done, e.g. ``"probing ravdess"``.
        unit: what one step is, e.g. ``"file"``.
        total: number of steps, when ``iterable`` has no length.
        enabled: force the bar on or off for this call (still only on a terminal).
        leave: keep the finished bar on screen; by default it is erased when done.
    """
    if not bars_enabled(enabled):
        return iter(iterable)
    from tqdm import tqdm

    return iter(tqdm(iterable, desc=desc, unit=unit, total=total, leave=leave, file=sys.stderr,
                     dynamic_ncols=True))


def bar(*, desc: str, total: Optional[int], unit: str = "it", enabled: Optional[bool] = None,
        leave: bool = False):
    """A bar to advance by hand (``.update(n)``, ``.close()``; also a context manager), for work
    that is not a loop over an iterable; a do-nothing stand-in when bars are off."""
    if not bars_enabled(enabled):
        return _NoBar()
    from tqdm import tqdm

    return tqdm(desc=desc, total=total, unit=unit, leave=leave, file=sys.stderr, dynamic_ncols=True)


def is_quiet() -> bool:
    """Whether ``--quiet`` turned progress off (``set_enabled(False)``): progress lines are skipped too."""
    return not _enabled


def step_line(what: str, index: int, count: int, seconds_done: Sequence[float]) -> str:
    """``"fold 3 of 6, about 12 min left"``: the ETA of steps ``index..count`` at the mean time of
    ``seconds_done`` (the steps timed so far in this process); no ETA before the first one."""
    line = f"{what} {index} of {count}"
    if seconds_done:
        left = (count - index + 1) * sum(seconds_done) / len(seconds_done)
        line += f", about {format_duration(left)} left"
    return line


def format_duration(seconds: float) -> str:
    """``"40 s"``, ``"12 min"``, ``"2 h 05 min"``."""
    seconds = max(0, round(seconds))
    if seconds < 90:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def write(message: str) -> None:
    """Print ``message`` on stdout without tearing a bar drawn on stderr."""
    if bars_enabled():
        from tqdm import tqdm

        tqdm.write(message, file=sys.stdout)
    else:
        print(message, flush=True)


class _NoBar:
    """The part of tqdm's interface that ``bar`` callers use, doing nothing."""

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
