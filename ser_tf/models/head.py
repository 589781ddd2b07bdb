"""Pieces every ser_tf model shares: the waveform input, the feature stem and the classifier head.

A family's builder goes ``feature_stem`` (``waveform_input`` -> front-end -> optional
SpecAugment) -> its backbone -> ``classifier_head`` (or ``head_from_hparams``). The stem's and the
head's layer names are fixed (``waveform``, ``frontend``, ``spec_augment``; ``pooling``,
``dense``, ``dense_dropout``, ``classifier``) so evaluation code, tests and saved models can
find them with ``model.get_layer``.
"""

from __future__ import annotations

from typing import Mapping, Optional

import keras

from ser_tf import constants as C
from ser_tf.errors import ConfigError
from ser_tf.layers.frontend import frontend_from_config, spec_augment_from_config
from ser_tf.layers.pooling import AttentionPooling, MaskedMeanPooling, StatisticsPooling

POOLINGS = ("none", "avg", "max", "masked_mean", "stats", "attention", "flatten")


def waveform_input(config: Mapping, *, name: str = "waveform") -> keras.KerasTensor:
    """``keras.Input`` of shape ``(samples,)`` float32 for ``audio.duration`` s at ``sample_rate``.

    Raises:
        ConfigError: a non-positive duration or sample rate.
    """
    audio = config.get("audio") or {}
    sample_rate = audio.get("sample_rate", C.SAMPLE_RATE)
    duration = audio.get("duration", C.DURATION)
    samples = C.samples_for(duration, sample_rate=sample_rate) if duration else 0
    if not sample_rate or sample_rate <= 0 or samples <= 0:
        raise ConfigError(
            f"audio.sample_rate and audio.duration must be > 0, got sample_rate={sample_rate!r}, "
            f"duration={duration!r}"
        )
    return keras.Input(shape=(samples,), dtype="float32", name=name)


def feature_stem(config: Mapping):
    """The input and front-end every CNN/RNN family starts with.

    ``waveform_input`` [waveform] -> ``frontend_from_config`` [frontend] -> SpecAugment
    [spec_augment] when ``augment.specaugment.enabled`` (it only masks while training).

    Returns:
        ``(inputs, features)``: the ``(batch, samples)`` model input, and the ``(batch, frames,
        dim)`` features to build the backbone on.

    Raises:
        ConfigError: a bad ``audio``, ``features`` or ``augment.specaugment`` value.
    """
    inputs = waveform_input(config)
    features = frontend_from_config(config)(inputs)
    spec_augment = spec_augment_from_config(config)
    if spec_augment is not None:
        features = spec_augment(features)
    return inputs, features


# Batch-norm statistics follow the data faster than Keras's default (0.99): an epoch of a small
# corpus is only a handful of steps (the demo: 5), and with 0.99 the moving averages used at
# evaluation time are still near their initial values after tens of epochs, so validation
# accuracy sits at chance while training accuracy climbs.
BN_MOMENTUM = 0.9


def l2_regularizer(l2: float):
    """``keras.regularizers.L2(l2)`` or None for 0 (keeps configs free of no-op regularizers)."""
    l2 = float(l2 or 0.0)
    if l2 < 0:
        raise ConfigError(f"model.l2 must be >= 0, got {l2!r}")
    return keras.regularizers.L2(l2) if l2 > 0 else None


def classifier_head(
    x,
    *,
    num_classes: int,
    pooling: str = "none",
    dense_units: Optional[int] = 128,
    dropout: float = 0.3,
    l2: float = 0.0,
    attention_units: int = 64,
):
    """Pool ``x`` (if a sequence), then ``Dense(relu) -> Dropout -> Dense(softmax)``.

    Args:
        x: ``(batch, dim)`` when ``pooling="none"``; ``(batch, time, dim)`` for the sequence
            poolings; any rank for ``"flatten"``.
        num_classes: outputs of the softmax layer ``classifier`` (>= 2).
        pooling: ``none`` | ``avg`` (GlobalAveragePooling1D) | ``max`` | ``masked_mean``
            (honours a Keras mask) | ``stats`` (mean and std, ``StatisticsPooling``) | ``attention`` (``AttentionPooling``) | ``flatten``.
        dense_units: units of the hidden ``dense`` layer; 0 or None skips it and its dropout.
        dropout: rate of ``dense_dropout`` after the hidden layer, in [0, 1).
        l2: L2 factor on the hidden layer's kernel (0: none).
        attention_units: hidden size of the attention scorer (``pooling="attention"``).

    Returns:
        ``(batch, num_classes)`` probabilities, always float32 (mixed precision safe).
    """
    if pooling not in POOLINGS:
        raise ConfigError(f"head pooling must be one of {POOLINGS}, got {pooling!r}")
    if not 0.0 <= float(dropout) < 1.0:
        raise ConfigError(f"model.dropout must be in [0, 1), got {dropout!r}")
    if pooling == "avg":
        x = keras.layers.GlobalAveragePooling1D(name="pooling")(x)
    elif pooling == "max":
        x = keras.layers.GlobalMaxPooling1D(name="pooling")(x)
    elif pooling == "masked_mean":
        x = MaskedMeanPooling(name="pooling")(x)
    elif pooling == "stats":
        x = StatisticsPooling(name="pooling")(x)
    elif pooling == "attention":
        x = AttentionPooling(units=attention_units, name="pooling")(x)
    elif pooling == "flatten":
        x = keras.layers.Flatten(name="pooling")(x)
    if dense_units:
        x = keras.layers.Dense(
            int(dense_units), activation="relu", kernel_regularizer=l2_regularizer(l2), name="dense"
        )(x)
        if dropout:
            x = keras.layers.Dropout(float(dropout), name="dense_dropout")(x)
    return keras.layers.Dense(
        int(num_classes), activation="softmax", dtype="float32", name="classifier"
    )(x)


def head_from_hparams(x, hp: Mapping, *, num_classes: int):
    """``classifier_head`` with the family hyper-parameter keys ``pooling``, ``dense_units``,
    ``dropout``, ``l2`` and ``attention_units`` taken from ``hp`` (see ``model_hparams``)."""
    return classifier_head(
        x,
        num_classes=num_classes,
        pooling=hp["pooling"],
        dense_units=hp["dense_units"],
        dropout=hp["dropout"],
        l2=hp["l2"],
        attention_units=hp["attention_units"],
    )


def model_hparams(config: Mapping, defaults: Mapping, *, arch: str) -> dict:
    """``defaults`` overridden by ``config["model"]``; unknown keys are an error, not ignored.

    ``model.arch`` is skipped (the registry has already chosen the builder).

    Raises:
        ConfigError: a key of ``config["model"]`` that ``arch`` does not use (lists the valid ones).
    """
    section = dict(config.get("model") or {})
    section.pop("arch", None)
    unknown = sorted(set(section) - set(defaults))
    if unknown:
        raise ConfigError(
            f"model keys {unknown} are not used by arch {arch!r}; valid keys: {sorted(defaults)}"
        )
    return {**defaults, **section}
