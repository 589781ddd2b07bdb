"""What the benchmarks share: finding the real data, or saying clearly why they skip."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Tuple


def ravdess_folder(data: str) -> Tuple[str, Optional[Path]]:
    """``(spec, folder)`` of ``--data`` (``ravdess=PATH``, or a bare ``PATH``); ``folder`` is
    ``None`` after printing why the benchmark skips (it is absent: benchmarks exit 0 without data)."""
    spec = data if "=" in data else f"ravdess={data}"
    folder = Path(os.path.expanduser(spec.partition("=")[2]))
    if not folder.is_dir():
        print(f"skipped: data folder not found: {folder} (pass --data ravdess=PATH)")
        return spec, None
    return spec, folder
