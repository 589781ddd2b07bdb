"""Where ser_tf keeps what it can rebuild: the one owner of the cache folder.

    $SER_TF_CACHE                 if set (tests and shared machines point it elsewhere)
    $XDG_CACHE_HOME/ser_tf        else, as the XDG base-directory convention asks
    ~/.cache/ser_tf               else

Everything under it (the demo corpus, cached encoder states, the assembled default model) is a
cache: deleting the folder costs only the time to rebuild it.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["CACHE_ENV", "cache_root"]

CACHE_ENV = "SER_TF_CACHE"


def cache_root() -> Path:
    """``$SER_TF_CACHE``, else ``$XDG_CACHE_HOME/ser_tf``, else ``~/.cache/ser_tf`` (not created)."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and Path(xdg).is_absolute():  # the spec says relative values are to be ignored
        return Path(xdg) / "ser_tf"
    return Path.home() / ".cache" / "ser_tf"
