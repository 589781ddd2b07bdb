"""Callbacks of a training run: model selection on validation speakers, logs, and resumable backups."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from ser_tf.errors import ConfigError
from ser_tf.runs import RunFolder
from ser_tf.settings import TrainConfig


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


def make_callbacks(*, train: TrainConfig, fold_dir: Path, val_dataset, val_labels, verbose: int):
    """The standard callbacks, in the order they must run.

    ``train`` (the config's section) decides which: ``ValidationUA`` when a monitor is ``val_ua``,
    ``BackupAndRestore`` with ``checkpoint_every_epoch``, ``EarlyStopping``, and
    ``ReduceLROnPlateau`` when ``reduce_lr`` is set and ``lr_schedule`` is ``constant``.

    Writes ``training_history.csv`` and TensorBoard logs (``logs/``) into ``fold_dir``, and keeps
    a per-epoch backup in ``fold_dir/backup`` (removed when the fold finishes) so that an
    interrupted run continues from its last finished epoch with ``--resume``.
    """
    folder = RunFolder(fold_dir)
    callbacks = []
    stop, reduce = train.early_stopping, train.reduce_lr
    if "val_ua" in {stop.monitor, reduce.monitor if reduce else ""}:
        callbacks.append(ValidationUA(val_dataset, val_labels))
    if train.checkpoint_every_epoch:
        callbacks.append(keras.callbacks.BackupAndRestore(str(folder.backup)))
    if stop.monitor not in ("val_loss", "val_accuracy", "val_ua"):
        raise ConfigError(
            f"train.early_stopping.monitor must be val_loss, val_accuracy or val_ua, "
            f"got {stop.monitor!r}"
        )
    callbacks.append(
        keras.callbacks.EarlyStopping(
            monitor=stop.monitor,
            mode=_mode(stop.monitor),
            patience=stop.patience,
            restore_best_weights=stop.restore_best_weights,
            verbose=1 if verbose else 0,
        )
    )
    # A learning-rate schedule owns the rate; ReduceLROnPlateau would fight it.
    if reduce is not None and train.lr_schedule == "constant":
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=reduce.monitor,
                mode=_mode(reduce.monitor),
                factor=reduce.factor,
                patience=reduce.patience,
                min_lr=reduce.min_lr,
                verbose=0,
            )
        )
    callbacks.append(keras.callbacks.CSVLogger(str(folder.history_csv), append=True))
    callbacks.append(keras.callbacks.TensorBoard(log_dir=str(folder.logs), write_graph=False))
    return callbacks
