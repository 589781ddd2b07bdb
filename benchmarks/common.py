"""What the benchmarks share: finding the real data, or saying clearly why they skip."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional


def ravdess_folder(spec: str) -> Optional[Path]:
    """The folder of ``--data`` (``ravdess=PATH``, or a bare ``PATH``), or ``None`` after printing
    why the benchmark skips (the folder is absent: benchmarks exit 0 without real data)."""
    spec = spec if "=" in spec else f"ravdess={spec}"
    folder = Path(os.path.expanduser(spec.partition("=")[2]))
    if not folder.is_dir():
        print(f"skipped: data folder not found: {folder} (pass --data ravdess=PATH)")
        return None
    return folder
