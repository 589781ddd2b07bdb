"""ser_tf.training.runtime on CPU: the `auto` values, explicit choices, and seeding."""

import random

import numpy as np
import pytest

from ser_tf.errors import ConfigError
from ser_tf.settings import TrainConfig
from ser_tf.training.runtime import resolve_runtime, set_seed


def test_auto_on_cpu_is_float32_without_xla_deterministic_default_strategy():
    rt = resolve_runtime(train=TrainConfig())
    assert (rt.n_gpus, rt.jit_compile, rt.mixed_precision, rt.deterministic, rt.strategy_name) == (
        0, False, "float32", True, "default")
    assert "CPU" in rt.describe()


def test_explicit_values_win_over_auto():
    rt = resolve_runtime(train=TrainConfig(jit_compile=True, deterministic=False, mixed_precision=False))
    assert rt.jit_compile and not rt.deterministic and rt.mixed_precision == "float32"


@pytest.mark.parametrize("train, message", [
    (TrainConfig(mixed_precision="half"), r"train.mixed_precision.*'half'"),
    (TrainConfig(strategy="tpu"), r"train.strategy.*'tpu'"),
    (TrainConfig(jit_compile="yes"), r"train.jit_compile.*'yes'"),
])
def test_bad_values_name_key_and_value(train, message):
    with pytest.raises(ConfigError, match=message):
        resolve_runtime(train=train)


def test_set_seed_repeats_python_and_numpy_draws():
    set_seed(3)
    first = (random.random(), np.random.rand())
    set_seed(3)
    assert (random.random(), np.random.rand()) == first
