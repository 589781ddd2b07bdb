"""Callbacks of a training run: model selection on validation speakers, logs, and resumable backups."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import keras
import numpy as np

from ser_tf.errors import ConfigError
from ser_tf.runs import RunFolder


class ValidationUA(keras.callbacks.Callback):
    """Adds ``val_ua`` (unweighted average recall on the validation split) to the epoch logs.

    Accuracy rewards the majority classes; UA is the figure we report, so model selection may
    monitor it. It must come before the callbacks that read it (early stopping, CSV logger).

    Args:
        dataset: the validation ``tf.data.Dataset`` of ``(waveform, label)`` batches, unshuffled.
        labels: int class indices of that dataset, in order, shape ``(n,)``.
    """

    def __init__(self, dataset, labels):
        super().__init__()
        self.dataset = dataset
        self.labels = np.asarray(labels)

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        pred = np.argmax(self.model.predict(self.dataset, verbose=0), axis=-1)
        recalls = [np.mean(pred[self.labels == c] == c) for c in np.unique(self.labels)]
        logs["val_ua"] = float(np.mean(recalls))


def _mode(monitor: str) -> str:
    return "min" if monitor.endswith("loss") else "max"


def make_callbacks(train_cfg: Mapping, *, fold_dir: Path, val_dataset, val_labels, verbose: int):
    """The standard callbacks, in the order they must run.

    Writes ``training_history.csv`` and TensorBoard logs (``logs/``) into ``fold_dir``, and keeps
    a per-epoch backup in ``fold_dir/backup`` (removed when the fold finishes) so that an
    interrupted run continues from its last finished epoch with ``--resume``.
    """
    folder = RunFolder(fold_dir)
    callbacks = []
    monitors = {train_cfg["early_stopping"]["monitor"], train_cfg.get("reduce_lr", {}).get("monitor", "")}
    if "val_ua" in monitors:
        callbacks.append(ValidationUA(val_dataset, val_labels))
    if train_cfg.get("checkpoint_every_epoch", True):
        callbacks.append(keras.callbacks.BackupAndRestore(str(folder.backup)))
    stop = dict(train_cfg["early_stopping"])
    if stop["monitor"] not in ("val_loss", "val_accuracy", "val_ua"):
        raise ConfigError(
            f"train.early_stopping.monitor must be val_loss, val_accuracy or val_ua, "
            f"got {stop['monitor']!r}"
        )
    callbacks.append(
        keras.callbacks.EarlyStopping(
            monitor=stop["monitor"],
            mode=_mode(stop["monitor"]),
            patience=int(stop.get("patience", 12)),
            restore_best_weights=bool(stop.get("restore_best_weights", True)),
            verbose=1 if verbose else 0,
        )
    )
    reduce = train_cfg.get("reduce_lr")
    # A learning-rate schedule owns the rate; ReduceLROnPlateau would fight it.
    if reduce and train_cfg.get("lr_schedule", "constant") == "constant":
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=reduce.get("monitor", "val_loss"),
                mode=_mode(reduce.get("monitor", "val_loss")),
                factor=float(reduce.get("factor", 0.5)),
                patience=int(reduce.get("patience", 5)),
                min_lr=float(reduce.get("min_lr", 1e-5)),
                verbose=0,
            )
        )
    callbacks.append(keras.callbacks.CSVLogger(str(folder.history_csv), append=True))
    callbacks.append(keras.callbacks.TensorBoard(log_dir=str(folder.logs), write_graph=False))
    return callbacks
