"""Callbacks of a training run: model selection on validation speakers, logs, and resumable backups."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from ser_tf.errors import ConfigError, TrainingDivergedError
from ser_tf.runs import RunFolder
from ser_tf.settings import TrainConfig


class ValidationMetrics(keras.callbacks.Callback):
    """Scores the validation split after every epoch and adds ``val_ua`` (unweighted average
    recall) to the epoch logs.

    Accuracy rewards the majority classes; UA is the figure we report, so model selection may
    monitor it. It must come before the callbacks that read it (early stopping, CSV logger,
    TensorBoard, the trackers of ``ser_tf.training.tracking``). The last epoch's metrics, as
    ``ser_tf.evaluation.metrics.compute_metrics`` gives them (per-class recall, confusion matrix),
    stay in ``metrics`` for the trackers.

    Args:
        dataset: the validation ``tf.data.Dataset`` of ``(waveform, label)`` batches, unshuffled.
        labels: int class indices of that dataset, in order, shape ``(n,)``.
        class_names: the model's class names in output order; default ``"0"``, ``"1"``, ...
    """

    def __init__(self, dataset, labels, class_names=None):
        super().__init__()
        self.dataset = dataset
        self.labels = np.asarray(labels)
        self.class_names = None if class_names is None else list(class_names)
        self.metrics = None

    def on_epoch_end(self, epoch, logs=None):
        if logs is None or not self.labels.size:
            return
        from ser_tf.evaluation.metrics import compute_metrics

        y_prob = self.model.predict(self.dataset, verbose=0)
        if not np.all(np.isfinite(y_prob)):  # a diverged model: no score, and no crash mid-fit
            self.metrics, logs["val_ua"] = None, float("nan")
            return
        names = self.class_names or [str(i) for i in range(y_prob.shape[-1])]
        self.metrics = compute_metrics(self.labels, y_prob, class_names=names)
        logs["val_ua"] = self.metrics["ua"]


class StopOnNonFinite(keras.callbacks.Callback):
    """Stops ``fit`` at the first batch whose loss is NaN or infinite, with an error naming the
    epoch and the batch (Keras's ``TerminateOnNaN`` names neither, and lets the epoch end run, so
    the backup would store the diverged weights).

    Raising before ``on_epoch_end`` keeps the last epoch backup (``EpochBackup``) as it was: the
    run folder stays resumable from the last good epoch.

    Args:
        epochs: the fit's epoch count, for the message.
        backup_dir: the fold's ``backup/`` folder, named in the message.
    """

    def __init__(self, *, epochs: int, backup_dir=None):
        super().__init__()
        self.epochs, self.backup_dir = int(epochs), backup_dir
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or np.isfinite(float(loss)):
            return
        self.model.stop_training = True
        from ser_tf.training.resume import backup_epoch

        done = backup_epoch(self.backup_dir) if self.backup_dir is not None else 0
        kept = (f"the backup of epoch {done} is kept in {self.backup_dir}; `python train.py --resume` "
                "continues from it" if done else "no epoch finished, so there is no backup to resume from")
        raise TrainingDivergedError(
            f"the training loss became {float(loss)} at epoch {self.epoch + 1} of {self.epochs}, batch "
            f"{batch + 1}: training stopped. {kept}. The same seed and settings diverge again; a new run "
            "with a lower train.learning_rate (or gradient clipping, train.clipnorm) avoids it")


def _mode(monitor: str) -> str:
    return "min" if monitor.endswith("loss") else "max"


def make_callbacks(*, train: TrainConfig, fold_dir: Path, val_dataset, val_labels, verbose: int,
                   tracking=None):
    """The standard callbacks, in the order they must run.

    ``train`` (the config's section) decides which: ``ValidationMetrics`` when a monitor is
    ``val_ua`` or something is tracked, ``StopOnNonFinite``, ``EarlyStopping``,
    ``ReduceLROnPlateau`` when ``reduce_lr`` is set and ``lr_schedule`` is
    ``constant``, the CSV logger, Keras's ``TensorBoard`` with ``tracking.tensorboard``,
    ``ser_tf.training.resume.EpochBackup`` with ``checkpoint_every_epoch``, and last the
    ``ser_tf.training.tracking.Tracker`` when a ``tracking`` context is given (its ``TrackingContext``;
    hyperparameters, per-class recall, confusion-matrix images, W&B).

    Writes ``training_history.csv`` and TensorBoard logs (``logs/``) into ``fold_dir``, and keeps
    a per-epoch backup in ``fold_dir/backup`` (removed when the fold finishes) so that an
    interrupted run continues from its last finished epoch with ``--resume``, with the random
    state and the early-stopping patience it had (``ser_tf.training.resume``).
    """
    from ser_tf.training import tracking as tracking_lib

    folder = RunFolder(fold_dir)
    callbacks = []
    stop, reduce = train.early_stopping, train.reduce_lr
    tracked = tracking is not None and bool(train.tracking.tensorboard or train.tracking.wandb_project)
    validation = None
    if tracked or "val_ua" in {stop.monitor, reduce.monitor if reduce else ""}:
        class_names = tracking.class_names if tracking is not None else None
        validation = ValidationMetrics(val_dataset, val_labels, class_names=class_names)
        callbacks.append(validation)
    callbacks.append(StopOnNonFinite(epochs=train.epochs,
                                     backup_dir=folder.backup if train.checkpoint_every_epoch else None))
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
    if train.tracking.tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(folder.logs), write_graph=False))
    if train.checkpoint_every_epoch:  # after the callbacks whose state it keeps, and the CSV logger
        from ser_tf.training.resume import EpochBackup

        callbacks.append(EpochBackup(folder.backup, stateful=callbacks))
    if tracked:
        callbacks.append(tracking_lib.make_trackers(validation, context=tracking, log_dir=folder.logs,
                                                    fold_dir=fold_dir))
    return callbacks
