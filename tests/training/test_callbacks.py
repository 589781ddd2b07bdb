"""ser_tf.training.callbacks: which callbacks a train section (and a tracking context) asks for, in their order."""

import dataclasses

import keras
import pytest

from ser_tf.errors import ConfigError
from ser_tf.settings import TrainConfig
from ser_tf.training.callbacks import ValidationMetrics, make_callbacks


def _kinds(train, tmp_path):
    cbs = make_callbacks(train=train, fold_dir=tmp_path, val_dataset=None, val_labels=[0, 1], verbose=0)
    return cbs, [type(cb).__name__ for cb in cbs]


def test_defaults(tmp_path):
    cbs, kinds = _kinds(TrainConfig(), tmp_path)
    assert kinds == ["StopOnNonFinite", "EarlyStopping", "ReduceLROnPlateau", "CSVLogger", "TensorBoard",
                     "EpochBackup"]
    stop = cbs[1]
    assert cbs[-1].stateful == [stop, cbs[2]]  # the backup keeps patience and plateau counters
    assert stop.monitor == "val_loss" and stop.patience == 12 and stop.restore_best_weights
    assert cbs[2].factor == 0.5 and cbs[2].patience == 5


def test_val_ua_monitor_adds_validation_ua_first(tmp_path):
    train = TrainConfig.from_mapping({"early_stopping": {"monitor": "val_ua", "patience": 3}})
    cbs, kinds = _kinds(train, tmp_path)
    assert isinstance(cbs[0], ValidationMetrics)
    stop = next(cb for cb in cbs if isinstance(cb, keras.callbacks.EarlyStopping))
    assert stop.monitor == "val_ua" and stop.patience == 3 and stop.mode == "max"


def test_schedule_or_null_reduce_lr_drops_the_plateau_callback_and_no_backup(tmp_path):
    _, kinds = _kinds(TrainConfig(lr_schedule="linear"), tmp_path)
    assert "ReduceLROnPlateau" not in kinds
    _, kinds = _kinds(TrainConfig.from_mapping({"reduce_lr": None, "checkpoint_every_epoch": False}), tmp_path)
    assert "ReduceLROnPlateau" not in kinds and "EpochBackup" not in kinds


def test_unknown_monitor_names_key_and_value(tmp_path):
    train = TrainConfig()
    train = dataclasses.replace(train, early_stopping=dataclasses.replace(train.early_stopping, monitor="loss"))
    with pytest.raises(ConfigError, match=r"train.early_stopping.monitor.*'loss'"):
        _kinds(train, tmp_path)


def test_tracking_adds_validation_metrics_first_and_the_tracker_last(tmp_path):
    from ser_tf.settings import TrackingConfig
    from ser_tf.training.tracking import Tracker, TrackingContext

    def context(train):
        return TrackingContext(train.tracking, ("a", "b"), {"seed": 1}, "run", "holdout")

    train = TrainConfig()
    cbs = make_callbacks(train=train, fold_dir=tmp_path, val_dataset=None, val_labels=[0, 1], verbose=0,
                         tracking=context(train))
    assert [type(cb).__name__ for cb in cbs] == [
        "ValidationMetrics", "StopOnNonFinite", "EarlyStopping", "ReduceLROnPlateau", "CSVLogger", "TensorBoard",
        "EpochBackup", "Tracker"]
    assert cbs[-1].validation is cbs[0] and cbs[0].class_names == ["a", "b"]
    assert [type(sink).__name__ for sink in cbs[-1].sinks] == ["TensorBoardSink"]
    off = dataclasses.replace(train, tracking=TrackingConfig(tensorboard=False))
    cbs = make_callbacks(train=off, fold_dir=tmp_path, val_dataset=None, val_labels=[0, 1], verbose=0,
                         tracking=context(off))
    assert not any(isinstance(cb, (keras.callbacks.TensorBoard, Tracker, ValidationMetrics)) for cb in cbs)
    wandb = dataclasses.replace(train, tracking=TrackingConfig(tensorboard=False, wandb_project="p"))
    cbs = make_callbacks(train=wandb, fold_dir=tmp_path, val_dataset=None, val_labels=[0, 1], verbose=0,
                         tracking=context(wandb))
    assert [type(sink).__name__ for sink in cbs[-1].sinks] == ["WandbSink"]
    assert not any(isinstance(cb, keras.callbacks.TensorBoard) for cb in cbs)
