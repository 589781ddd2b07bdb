"""Optimiser and learning-rate schedule from the ``train`` section of a config."""

from __future__ import annotations

import keras
from keras import ops

from ser_tf.errors import ConfigError
from ser_tf.settings import TrainConfig

OPTIMIZERS = ("adam", "adamw")
SCHEDULES = ("constant", "linear")


def make_learning_rate(*, train: TrainConfig, total_steps: int):
    """A float, or a warm-up-then-linear-decay schedule over ``total_steps`` optimiser steps.

    Reads ``train.learning_rate``, ``train.lr_schedule`` and ``train.warmup_ratio`` (in [0, 1)).
    """
    lr = train.learning_rate
    schedule = train.lr_schedule
    if schedule not in SCHEDULES:
        raise ConfigError(f"train.lr_schedule must be one of {list(SCHEDULES)}, got {schedule!r}")
    if schedule == "constant":
        return lr
    ratio = train.warmup_ratio
    if not 0.0 <= ratio < 1.0:
        raise ConfigError(f"train.warmup_ratio must be in [0, 1), got {ratio!r}")
    total_steps = max(int(total_steps), 1)
    warmup = int(round(ratio * total_steps))
    # PolynomialDecay with power 1 is the linear decay the HuBERT/wav2vec 2.0 fine-tunes use.
    decay = keras.optimizers.schedules.PolynomialDecay(
        initial_learning_rate=lr, decay_steps=max(total_steps - warmup, 1), end_learning_rate=0.0
    )
    return WarmupThen(peak=lr, warmup_steps=warmup, after=decay)


def make_optimizer(*, train: TrainConfig, steps_per_epoch: int):
    """Adam or AdamW with optional clipping and gradient accumulation.

    Args:
        train: the config's ``train`` section (optimizer, learning_rate, weight_decay,
            lr_schedule, warmup_ratio, clipnorm, gradient_accumulation_steps, epochs).
        steps_per_epoch: batches per epoch (>= 1), used to size the schedule.
    """
    name = train.optimizer
    if name not in OPTIMIZERS:
        raise ConfigError(f"train.optimizer must be one of {list(OPTIMIZERS)}, got {name!r}")
    accumulate = train.gradient_accumulation_steps
    if accumulate < 1:
        raise ConfigError(f"train.gradient_accumulation_steps must be >= 1, got {accumulate!r}")
    total = steps_per_epoch * train.epochs // accumulate
    kwargs = dict(learning_rate=make_learning_rate(train=train, total_steps=total))
    if train.clipnorm is not None:
        kwargs["clipnorm"] = train.clipnorm
    if accumulate > 1:
        kwargs["gradient_accumulation_steps"] = accumulate
    if name == "adamw":
        return keras.optimizers.AdamW(weight_decay=train.weight_decay, **kwargs)
    return keras.optimizers.Adam(**kwargs)


@keras.saving.register_keras_serializable(package="ser_tf")
class WarmupThen(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up from 0 to ``peak`` over ``warmup_steps`` steps, then the ``after`` schedule."""

    def __init__(self, peak, warmup_steps, after):
        self.peak = float(peak)
        self.warmup_steps = int(warmup_steps)
        self.after = after

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warm = self.peak * step / max(self.warmup_steps, 1)
        rest = self.after(ops.maximum(step - self.warmup_steps, 0.0))
        return ops.where(step < self.warmup_steps, warm, rest)

    def get_config(self):
        return {
            "peak": self.peak,
            "warmup_steps": self.warmup_steps,
            "after": keras.optimizers.schedules.serialize(self.after),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["after"] = keras.optimizers.schedules.deserialize(config["after"])
        return cls(**config)
