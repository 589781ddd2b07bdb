"""Seeds and device settings, decided once per run from the config.

On CPU we train in float32 without XLA (XLA measured 30-45% slower for these models on CPU) and
with op determinism, so two runs with one seed give the same metrics. On GPU the defaults switch to
mixed precision and XLA, and a MirroredStrategy spans several GPUs; ``train.strategy`` also
offers ``multiworker`` (``ser_tf.training.distribute``).
"""

from __future__ import annotations

import dataclasses
import random
from typing import Optional

import numpy as np

from ser_tf.errors import ConfigError
from ser_tf.settings import TrainConfig
from ser_tf.training.distribute import STRATEGIES, make_strategy


@dataclasses.dataclass(frozen=True)
class Runtime:
    """What the run uses: resolved from the ``train`` section's ``auto`` values."""

    n_gpus: int
    jit_compile: bool
    mixed_precision: str  # a keras dtype policy name
    deterministic: bool
    strategy_name: str

    def describe(self) -> str:
        where = f"{self.n_gpus} GPU(s)" if self.n_gpus else "CPU"
        return (
            f"{where}, policy {self.mixed_precision}, XLA {'on' if self.jit_compile else 'off'}, "
            f"strategy {self.strategy_name}, deterministic {self.deterministic}"
        )


def set_seed(seed: int) -> None:
    """Seed Python, NumPy, TensorFlow and Keras from one number.

    ``PYTHONHASHSEED`` is deliberately not set: Python reads it once, at interpreter start-up, so
    setting it here would change nothing (str hashes stay randomised per process). Nothing in a run
    depends on set or dict-of-str iteration order, so results do not need it; export it in the
    shell before ``python train.py`` if some extension ever does.
    """
    import keras

    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(int(seed))  # also seeds tf.random


def _auto_bool(value, default: bool, key: str) -> bool:
    if value in ("auto", None):
        return default
    if isinstance(value, bool):
        return value
    raise ConfigError(f"train.{key} must be auto, true or false, got {value!r}")


def resolve_runtime(*, train: TrainConfig) -> Runtime:
    """Decide device settings from the ``train`` section's ``auto`` values and the devices present."""
    import tensorflow as tf

    n_gpus = len(tf.config.list_physical_devices("GPU"))
    policy = train.mixed_precision
    if policy in ("auto", None):
        policy = _gpu_mixed_policy() if n_gpus else "float32"
    elif policy is False:
        policy = "float32"
    if policy not in ("float32", "mixed_float16", "mixed_bfloat16"):
        raise ConfigError(
            f"train.mixed_precision must be auto, float32, mixed_float16 or mixed_bfloat16, "
            f"got {policy!r}"
        )
    strategy = train.strategy
    if strategy in ("auto", None):
        strategy = "mirrored" if n_gpus > 1 else "default"
    if strategy not in STRATEGIES:
        raise ConfigError(f"train.strategy must be auto, {', '.join(STRATEGIES)}, got {strategy!r}")
    return Runtime(
        n_gpus=n_gpus,
        jit_compile=_auto_bool(train.jit_compile, n_gpus > 0, "jit_compile"),
        mixed_precision=policy,
        deterministic=_auto_bool(train.deterministic, n_gpus == 0, "deterministic"),
        strategy_name=strategy,
    )


def _gpu_mixed_policy() -> str:
    # bfloat16 needs compute capability 8.0 (Ampere) or newer; older GPUs get float16.
    import tensorflow as tf

    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        if tuple(details.get("compute_capability", (0, 0))) < (8, 0):
            return "mixed_float16"
    return "mixed_bfloat16"


def apply_runtime(runtime: Runtime, *, train: Optional[TrainConfig] = None):
    """Create the ``tf.distribute`` strategy to build under, then apply the policy and determinism.

    The strategy comes first: a multi-worker one must exist before any other TensorFlow op runs.
    """
    import keras
    import tensorflow as tf

    train = train or TrainConfig()
    strategy = make_strategy(runtime.strategy_name, collective_timeout_s=train.collective_timeout_s,
                             peer_timeout_s=train.peer_timeout_s, cluster_wait_s=train.cluster_wait_s)
    keras.mixed_precision.set_global_policy(runtime.mixed_precision)
    if runtime.deterministic:
        tf.config.experimental.enable_op_determinism()
    return strategy
