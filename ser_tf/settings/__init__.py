"""The resolved config as frozen dataclasses: built once, at the edge, then passed by section.

The field defaults in ``ser_tf.settings.sections`` are the one source of every default a run uses
(audio and front-end numbers from ``ser_tf.constants``). A recipe (``configs/<arch>.yaml``) names
only what it changes. :func:`resolve` merges defaults, recipe, command-line flags and ``--set``
overrides and checks the result once: an unknown key anywhere, a value of the wrong type, or a
corpus folder that does not exist is a ``ConfigError`` naming the key and the value. Consumers then
receive the sections they use, e.g. ``make_dataset(audio=cfg.audio, augment=cfg.augment,
seed=cfg.seed)`` or ``make_optimizer(train=cfg.train)``.

Every section is also a read-only ``Mapping`` (``cfg["audio"]["duration"]``), so code that reads a
config as nested dicts -- the model builders, and readers of older run folders -- takes either.
``model`` and ``pretrain`` stay open mappings: each architecture checks its own hyper-parameters
(``ser_tf.models.head.model_hparams``), and HuBERT pretraining fills its own defaults
(``PRETRAIN_DEFAULTS``).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, ClassVar, Iterable, Mapping, Optional

from ser_tf.config import apply_overrides, deep_merge, dump_config, set_key
from ser_tf.errors import ConfigError, SerError
from ser_tf.settings.base import Section, section
from ser_tf.settings.sections import (
    AudioConfig, AugmentConfig, DataConfig, DemoConfig, EncoderCacheConfig, FeaturesConfig, TrackingConfig,
    TrainConfig,
)

__all__ = [
    "SerConfig", "DataConfig", "DemoConfig", "AudioConfig", "FeaturesConfig", "AugmentConfig",
    "EncoderCacheConfig", "TrackingConfig", "TrainConfig", "resolve", "from_run_config",
]

DEFAULT_MODEL = {"arch": "cnn_lstm", "dropout": 0.3, "l2": 0.0}

# Values no run can use, refused when the config is resolved (before TensorFlow starts) rather than
# deep in the pipeline: `--epochs 0`, `--set audio.duration=-1`, `--set features.hop_length=0`
# (found by the fuzz tests of issue 14). (key, test, what is expected)
RANGES = (
    ("train.epochs", lambda v: v >= 1, "an integer >= 1"),
    ("train.batch_size", lambda v: v >= 1, "an integer >= 1"),
    ("audio.duration", lambda v: 0 < v < float("inf"), "a finite number of seconds > 0"),
    ("audio.sample_rate", lambda v: v >= 1, "an integer rate in Hz >= 1"),
    ("features.n_fft", lambda v: v >= 1, "an integer >= 1"),
    ("features.win_length", lambda v: v >= 1, "an integer >= 1"),
    ("features.hop_length", lambda v: v >= 1, "an integer >= 1"),
    ("features.n_mels", lambda v: v >= 1, "an integer >= 1"),
    ("data.val_fraction", lambda v: 0 <= v < 1, "a fraction in [0, 1)"),
    ("data.test_fraction", lambda v: 0 <= v < 1, "a fraction in [0, 1)"),
    ("data.n_folds", lambda v: v >= 2, "an integer >= 2"),
)


@section
class SerConfig(Section):
    """The whole resolved config. Build it with :func:`resolve` (recipes, flags, ``--set``)."""

    key: ClassVar[str] = ""
    seed: int = 42  # every random source (python, numpy, tensorflow, keras) starts here
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    demo: DemoConfig = dataclasses.field(default_factory=DemoConfig)
    audio: AudioConfig = dataclasses.field(default_factory=AudioConfig)
    features: FeaturesConfig = dataclasses.field(default_factory=FeaturesConfig)
    augment: AugmentConfig = dataclasses.field(default_factory=AugmentConfig)
    # Open: `arch` plus that architecture's hyper-parameters (checked by its builder).
    model: Mapping[str, Any] = dataclasses.field(default_factory=lambda: dict(DEFAULT_MODEL))
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
    pretrain: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # HuBERT --pretrain

    def __post_init__(self):
        super().__post_init__()
        arch = self.model.get("arch")
        if not isinstance(arch, str) or not arch:
            raise ConfigError(f"model.arch must name an architecture, got {arch!r}")
        for key, ok, expected in RANGES:
            part, name = key.split(".")
            value = getattr(getattr(self, part), name)
            if not ok(value):  # NaN fails every comparison, so it is refused too
                raise ConfigError(f"{key} must be {expected}, got {value!r}")

    @property
    def arch(self) -> str:
        return self.model["arch"]

    def dump(self) -> str:
        """The config as YAML text, sections in declaration order."""
        return dump_config(self.to_dict())


def resolve(recipe: Mapping, *, flags: Optional[Mapping[str, Any]] = None,
            overrides: Iterable[str] = (), check_paths: bool = True) -> SerConfig:
    """Defaults, then ``recipe``, then ``flags`` (``{"train.epochs": 5}``; None values skipped),
    then ``--set`` ``overrides`` (``["train.epochs=5"]``); checked once at the end.

    Args:
        recipe: a loaded recipe (``ser_tf.config.load_config``) or a run's ``config.yaml``; its
            ``resolved:`` record (what a run found) is left out.
        check_paths: refuse ``data.corpora`` folders that do not exist (off for the config of a
            finished run, whose corpora may have moved since).

    Raises:
        ConfigError: an unknown key, a wrong type or a missing corpus folder (names key and value).
    """
    recipe = {k: v for k, v in recipe.items() if k != "resolved"}
    raw = deep_merge(SerConfig().to_dict(), recipe)
    for key, value in (flags or {}).items():
        if value is not None:
            set_key(raw, key.split("."), value, text=f"{key}={value!r}")
    config = SerConfig.from_mapping(apply_overrides(raw, overrides))
    if check_paths:
        _check_corpus_paths(config.data.corpora)
    return config


def from_run_config(raw: Mapping) -> SerConfig:
    """The config of a finished run (its ``config.yaml``); corpus folders are not checked."""
    return resolve(raw, check_paths=False)


def _check_corpus_paths(specs) -> None:
    # The spec grammar and corpus names belong to the manifest; here only "is the folder there",
    # so that a typo fails before anything is built, naming the key.
    from ser_tf.data.manifest import parse_data_spec

    for spec in specs:
        try:
            _, path = parse_data_spec(spec)
        except SerError as err:
            raise ConfigError(f"data.corpora: {err}") from None
        if path is not None and "://" not in path and not os.path.isdir(path):  # URLs: tf.io.gfile's
            raise ConfigError(f"data.corpora: {spec!r}: the folder {path!r} does not exist")
