"""The run folder: where a training run's artefacts live, and the ``latest`` pointer beside it.

    models/<arch>-<YYYYmmdd-HHMMSS>/
        config.yaml, labels.json, model.keras, model.h5, training_history.csv, logs/, report/
        fold-1/ ... fold-k/          (k-fold runs: one model and report per fold)
    models/latest                    (text file: the newest run folder's name)
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Mapping, Optional

from ser_tf.utils.io import write_json, write_text

MODELS_DIR = Path("models")
LATEST = "latest"


def new_run_dir(arch: str, *, models_dir: Path = MODELS_DIR, now: Optional[_dt.datetime] = None) -> Path:
    """A fresh ``<models_dir>/<arch>-<timestamp>`` folder (suffixed if the name is taken)."""
    stamp = (now or _dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    run_dir = Path(models_dir) / f"{arch}-{stamp}"
    n = 1
    while run_dir.exists():
        n += 1
        run_dir = Path(models_dir) / f"{arch}-{stamp}-{n}"
    run_dir.mkdir(parents=True)
    return run_dir


def point_latest(run_dir: Path) -> Path:
    """Write ``<run_dir.parent>/latest`` naming ``run_dir``; returns the pointer's path."""
    pointer = Path(run_dir).parent / LATEST
    write_text(pointer, Path(run_dir).name + "\n")
    return pointer


def write_labels(run_dir: Path, *, classes, label_set: str, config: Mapping) -> None:
    write_json(
        Path(run_dir) / "labels.json",
        {
            "classes": list(classes),
            "label_set": label_set,
            "sample_rate": int(config["audio"]["sample_rate"]),
            "duration": float(config["audio"]["duration"]),
            "arch": config["model"]["arch"],
        },
    )
