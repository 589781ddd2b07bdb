"""ser_tf.training.optim: optimiser kinds and learning-rate schedule values from the train section."""

import keras
import numpy as np
import pytest

from ser_tf.errors import ConfigError
from ser_tf.settings import TrainConfig
from ser_tf.training.optim import WarmupThen, make_learning_rate, make_optimizer


def test_default_is_adam_with_the_constant_rate():
    opt = make_optimizer(train=TrainConfig(), steps_per_epoch=10)
    assert type(opt) is keras.optimizers.Adam
    assert float(opt.learning_rate) == pytest.approx(1e-3)
    assert opt.clipnorm is None and opt.gradient_accumulation_steps is None


def test_adamw_with_weight_decay_clipping_and_accumulation():
    train = TrainConfig(optimizer="adamw", weight_decay=0.01, clipnorm=1.0, gradient_accumulation_steps=4)
    opt = make_optimizer(train=train, steps_per_epoch=10)
    assert type(opt) is keras.optimizers.AdamW
    assert opt.weight_decay == pytest.approx(0.01) and opt.clipnorm == 1.0
    assert opt.gradient_accumulation_steps == 4


def test_linear_schedule_warms_up_then_decays_to_zero():
    # 10 epochs x 10 steps = 100 optimiser steps, 10 % of them warm-up.
    train = TrainConfig(learning_rate=1e-3, lr_schedule="linear", warmup_ratio=0.1, epochs=10)
    schedule = make_learning_rate(train=train, total_steps=100)
    assert isinstance(schedule, WarmupThen) and schedule.warmup_steps == 10
    values = [float(schedule(step)) for step in (0, 5, 10, 55, 100)]
    np.testing.assert_allclose(values, [0.0, 5e-4, 1e-3, 5e-4, 0.0], atol=1e-9)
    restored = WarmupThen.from_config(schedule.get_config())
    assert float(restored(55)) == pytest.approx(values[3])


def test_accumulation_shortens_the_schedule():
    train = TrainConfig(lr_schedule="linear", epochs=10, gradient_accumulation_steps=2)
    opt = make_optimizer(train=train, steps_per_epoch=10)
    assert opt.learning_rate is not None
    assert make_learning_rate(train=train, total_steps=50).after.decay_steps == 50


@pytest.mark.parametrize("train, message", [
    (TrainConfig(optimizer="sgd"), r"train.optimizer.*'sgd'"),
    (TrainConfig(lr_schedule="cosine"), r"train.lr_schedule.*'cosine'"),
    (TrainConfig(lr_schedule="linear", warmup_ratio=1.0), r"train.warmup_ratio.*1.0"),
    (TrainConfig(gradient_accumulation_steps=0), r"train.gradient_accumulation_steps.*0"),
])
def test_bad_values_name_key_and_value(train, message):
    with pytest.raises(ConfigError, match=message):
        make_optimizer(train=train, steps_per_epoch=10)
