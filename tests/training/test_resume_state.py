"""EpochBackup keeps early stopping's patience across a resume; StopOnNonFinite stops a diverged
fit naming the epoch and batch, and leaves the last good backup in place.

In process, on a tiny Dense model and real tensors. The interruption here is an exception raised
by a callback at the start of an epoch (what ``fit`` sees of a kill is the same: it never reaches
``on_train_end``); the real SIGKILL of ``train.py`` is in ``test_resume.py``.
"""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from ser_tf.errors import TrainingDivergedError
from ser_tf.training.callbacks import StopOnNonFinite
from ser_tf.training.resume import METADATA, EpochBackup

STEPS = 3  # batches per epoch


class _Interrupt(Exception):
    pass


class _InterruptAt(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.at = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at:
            raise _Interrupt()


def _model(learning_rate):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="sparse_categorical_crossentropy")
    return model


def _data(nan_at=None):
    """STEPS batches of 2 per epoch, repeated; the element numbered ``nan_at`` holds a NaN."""
    def make(i):
        x = tf.fill([4], tf.cast(i % 5, tf.float32) / 5.0)
        if nan_at is not None:
            x = tf.where(tf.equal(i, nan_at), tf.fill([4], np.nan), x)
        return x, tf.cast(i % 2, tf.int32)
    return tf.data.Dataset.range(10_000).map(make).batch(2)


def _stopper():
    # learning rate 0: val_loss never improves after the first epoch, so patience alone decides.
    return keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)


def _fit(model, callbacks, epochs=10):
    val = _data().take(2)
    return model.fit(_data(), steps_per_epoch=STEPS, validation_data=val, epochs=epochs,
                     callbacks=callbacks, verbose=0,
                     shuffle=False)


def test_early_stopping_patience_survives_a_resume(tmp_path):
    stop = _stopper()
    uninterrupted = _fit(_model(0.0), [stop])
    assert len(uninterrupted.history["loss"]) == 4 and stop.stopped_epoch == 3  # best, then 3 waits

    backup = tmp_path / "backup"
    first = _stopper()
    with pytest.raises(_Interrupt):
        _fit(_model(0.0), [first, EpochBackup(backup, stateful=[first]), _InterruptAt(2)])
    assert json.loads((backup / METADATA).read_text())["epoch"] == 2 and first.wait == 1

    again = _stopper()
    history = _fit(_model(0.0), [again, EpochBackup(backup, stateful=[again])])
    # Resumed at epoch 3 with wait 1: two more epochs reach patience 3, as the uninterrupted run did.
    assert len(history.history["loss"]) == 2
    assert again.stopped_epoch == 3 and again.best == pytest.approx(stop.best)
    assert again.best_weights is not None and again.best_epoch == 0
    assert not backup.exists()  # a finished fit removes its backup


def test_nan_loss_stops_naming_epoch_and_batch_and_keeps_the_backup(tmp_path):
    backup = tmp_path / "backup"
    model = _model(0.1)
    nan_element = 2 * (STEPS + 1)  # epoch 2, batch 2 (batches of 2 elements)
    callbacks = [StopOnNonFinite(epochs=3, backup_dir=backup), EpochBackup(backup)]
    with pytest.raises(TrainingDivergedError) as info:
        model.fit(_data(nan_at=nan_element), steps_per_epoch=STEPS, epochs=3, callbacks=callbacks, verbose=0,
                     shuffle=False)
    message = str(info.value)
    assert "nan at epoch 2 of 3, batch 2" in message
    assert "the backup of epoch 1 is kept" in message and str(backup) in message
    # The backup is epoch 1's, and its weights are finite: the run folder resumes from there.
    meta = json.loads((backup / METADATA).read_text())
    assert meta["epoch"] == 1
    restored = _model(0.1)
    restored.load_weights(backup / meta["folder"] / "model.weights.h5")
    assert all(np.all(np.isfinite(w)) for w in restored.get_weights())


def test_nan_in_the_first_epoch_says_there_is_no_backup(tmp_path):
    callbacks = [StopOnNonFinite(epochs=2, backup_dir=tmp_path / "backup"), EpochBackup(tmp_path / "backup")]
    with pytest.raises(TrainingDivergedError, match="epoch 1 of 2, batch 1: .*no epoch finished"):
        _model(0.1).fit(_data(nan_at=0), steps_per_epoch=STEPS, epochs=2, callbacks=callbacks, verbose=0,
                     shuffle=False)
