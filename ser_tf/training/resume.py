"""Resumable training: an epoch backup that holds every random and stateful part of a fit.

A resumed run must equal an uninterrupted one. Keras's ``BackupAndRestore`` keeps the weights
and the optimizer (its slots and step count) but not:

- the layers' random state (the ``SeedGenerator`` states that draw dropout and SpecAugment masks);
- early stopping's and ReduceLROnPlateau's counters (patience restarted from zero on resume);
- the position of the data: a new ``fit`` starts a new iterator, whose first epoch is the first
  epoch's shuffle and augmentation draws, whatever epoch it trains.

``EpochBackup`` stores the first two with the weights; :func:`resume_batches` skips the finished
epochs' batches, so epoch ``k`` of a resumed run sees the batches epoch ``k`` of an uninterrupted
run saw. Skipping (rather than seeding each epoch afresh) leaves the batches of an uninterrupted
run as they were; its cost is one pass of the input pipeline per finished epoch at resume, without
any training step.

Each backup is written to its own folder ``backup/epoch-N/``; ``backup/training_metadata.json``,
replaced atomically last, names the complete one. A kill at any moment leaves the previous
complete backup in force.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import keras
import numpy as np

from ser_tf.utils.io import atomic_path, write_json, write_text

METADATA = "training_metadata.json"
# Counters of the stateful callbacks, restored after their own on_train_begin resets them.
_CALLBACK_STATE = {
    keras.callbacks.EarlyStopping: ("wait", "best", "best_epoch", "stopped_epoch"),
    keras.callbacks.ReduceLROnPlateau: ("wait", "best", "cooldown_counter"),
}


def backup_epoch(backup_dir) -> int:
    """Epochs finished according to the backup in ``backup_dir`` (0 when there is none)."""
    path = Path(backup_dir) / METADATA
    if not path.is_file():
        return 0
    return int(json.loads(path.read_text(encoding="utf-8"))["epoch"])


def resume_point(folder) -> int:
    """Epochs a fold's fit resumes after (0 for a fresh fold), with the history cut back to them.

    Call it before ``fit``: the CSV logger appends to the history file it opens at train begin.

    Args:
        folder: the fold's ``ser_tf.runs.RunFolder``.
    """
    start = backup_epoch(folder.backup)
    trim_history(folder.history_csv, epochs=start)
    return start


def resume_batches(train_ds, *, steps: int, start_epoch: int):
    """``train_ds`` (already repeated) without the ``start_epoch * steps`` batches the finished
    epochs trained on; the draws of a repeated dataset depend on how many repetitions came
    before, so skipping them gives epoch ``start_epoch`` its own shuffle and augmentation."""
    return train_ds.skip(int(start_epoch) * int(steps)) if start_epoch > 0 else train_ds


def trim_history(csv_path, *, epochs: int) -> None:
    """Keep the header and the first ``epochs`` rows of ``training_history.csv``: a run killed
    after logging an epoch but before backing it up trains that epoch again on resume, and must
    not log it twice."""
    path = Path(csv_path)
    if not path.is_file():
        return
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    if len(rows) <= epochs + 1:
        return
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as out:
        csv.writer(out).writerows(rows[: epochs + 1])


def _seed_states(model):
    """The model's ``SeedGenerator`` states in a fixed order (layer order, then generator order)."""
    return [sg.state for layer in model._flatten_layers(include_self=True) for sg in layer._seed_generators]


class EpochBackup(keras.callbacks.Callback):
    """Backs up weights, optimizer, the layers' random state and the stateful callbacks' counters
    at every epoch end, and restores them at the start of a resumed ``fit``.

    It must come after the callbacks whose state it keeps (and after the CSV logger: a backup
    never claims an epoch that the history lacks). The backup is removed when ``fit`` ends
    normally; an exception (a kill, a diverged loss) leaves the last complete one.

    Args:
        backup_dir: the fold's ``backup/`` folder.
        stateful: the callbacks whose counters are kept (EarlyStopping, ReduceLROnPlateau; others
            are ignored).
    """

    def __init__(self, backup_dir, *, stateful=()):
        super().__init__()
        self.backup_dir = Path(backup_dir)
        self.stateful = [cb for cb in stateful if type(cb) in _CALLBACK_STATE]

    def on_train_begin(self, logs=None):
        meta = self.backup_dir / METADATA
        if not meta.is_file():
            return
        info = json.loads(meta.read_text(encoding="utf-8"))
        folder = self.backup_dir / info["folder"]
        optimizer = self.model.optimizer
        if optimizer is not None and not optimizer.built:  # its slots must exist to be loaded
            optimizer.build(self.model.trainable_variables)
        self.model.load_weights(folder / "model.weights.h5")
        state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
        for var, value in zip(_seed_states(self.model), state["seed_states"], strict=True):
            var.assign(np.asarray(value, dtype=var.dtype))
        for cb, saved in zip(self.stateful, state["callbacks"], strict=True):
            for name, value in saved.items():
                setattr(cb, name, value)
            if getattr(cb, "restore_best_weights", False) and (folder / "best.npz").is_file():
                with np.load(folder / "best.npz", allow_pickle=False) as best:
                    cb.best_weights = [best[f"w{i}"] for i in range(len(best.files))]
        self.model._initial_epoch = int(info["epoch"])

    def on_epoch_end(self, epoch, logs=None):
        folder = self.backup_dir / f"epoch-{epoch + 1}"
        shutil.rmtree(folder, ignore_errors=True)  # a partial one left by a kill at this epoch
        folder.mkdir(parents=True)
        with atomic_path(folder / "model.weights.h5") as tmp:
            self.model.save_weights(tmp)
        state = {
            "seed_states": [np.asarray(v).tolist() for v in _seed_states(self.model)],
            "callbacks": [{name: _plain(getattr(cb, name)) for name in _CALLBACK_STATE[type(cb)]}
                          for cb in self.stateful],
        }
        for cb in self.stateful:
            if getattr(cb, "best_weights", None) is not None:
                with atomic_path(folder / "best.npz") as tmp, open(tmp, "wb") as fh:
                    np.savez(fh, **{f"w{i}": w for i, w in enumerate(cb.best_weights)})
        write_text(folder / "state.json", json.dumps(state))
        # The commit point: until this rename, the previous epoch's backup is the one in force.
        write_json(self.backup_dir / METADATA, {"epoch": epoch + 1, "folder": folder.name})
        for old in self.backup_dir.glob("epoch-*"):
            if old != folder:
                shutil.rmtree(old, ignore_errors=True)

    def on_train_end(self, logs=None):
        shutil.rmtree(self.backup_dir, ignore_errors=True)


def _plain(value):
    """A JSON-ready scalar: Keras keeps ``best`` as a NumPy or backend scalar, or ``None``."""
    if value is None:
        return None
    return float(value) if not isinstance(value, int) else value
