"""What the benchmarks share: finding the real data, or saying clearly why they skip."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Tuple

import numpy as np

SR = 16_000


def ravdess_folder(data: str) -> Tuple[str, Optional[Path]]:
    """``(spec, folder)`` of ``--data`` (``ravdess=PATH``, or a bare ``PATH``); ``folder`` is
    ``None`` after printing why the benchmark skips (it is absent: benchmarks exit 0 without data)."""
    spec = data if "=" in data else f"ravdess={data}"
    folder = Path(os.path.expanduser(spec.partition("=")[2]))
    if not folder.is_dir():
        print(f"skipped: data folder not found: {folder} (pass --data ravdess=PATH)")
        return spec, None
    return spec, folder


def speechlike(seconds: float, *, seed: int = 0) -> np.ndarray:
    """Syllable-rate bursts of a harmonic tone with pauses, float32 at 16 kHz: every window passes
    the energy gate like speech, so the model runs on each (the worst case for speed)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    envelope = np.clip(np.sin(2 * np.pi * 3.0 * t), 0.0, None)
    x = sum(np.sin(2 * np.pi * 150.0 * k * t) / k for k in range(1, 5))
    return (0.2 * envelope * x + 1e-3 * rng.standard_normal(len(t))).astype(np.float32)
