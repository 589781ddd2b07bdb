"""Pieces every ser_tf model shares: the waveform input, the feature stem and the classifier head.

A CNN/RNN family's builder goes ``feature_stem`` (``waveform_input`` -> front-end -> optional
SpecAugment) -> its backbone -> ``head_from_hparams`` (``classifier_head`` with the family's
``model.*`` hyper-parameters). Encoder families (HuBERT, wav2vec 2.0) take the waveform into their
own backbone and use the same head, with its encoder options (a learned weighted sum over the
hidden states, a projection, the backbone's padding mask). Every family's hyper-parameters are
resolved by ``model_hparams``, which rejects unknown keys. The stem's and the head's layer names
are fixed (``waveform``, ``frontend``, ``spec_augment``; ``weighted_layer_sum``, ``projector``,
``pooling``, ``dense``, ``dense_dropout``, ``classifier``) so evaluation code, tests and saved
models can find them with ``model.get_layer``.
"""

from __future__ import annotations

import numbers
from typing import Mapping, Optional

import keras

from ser_tf import constants as C
from ser_tf.errors import ConfigError
from ser_tf.layers.frontend import frontend_from_config, spec_augment_from_config
from ser_tf.layers.layer_sum import WeightedLayerSum
from ser_tf.layers.pooling import (
    AttentionPooling,
    AttentiveStatisticsPooling,
    MaskedMeanPooling,
    StatisticsPooling,
)

POOLINGS = ("none", "avg", "max", "masked_mean", "stats", "attention", "attentive_stats", "flatten")
# The poolings over the time axis of a ``(batch, time, dim)`` sequence.
SEQUENCE_POOLINGS = ("avg", "max", "masked_mean", "stats", "attention", "attentive_stats")
# The poolings that honour a padding mask (a ``mask`` argument or a Keras mask on the input).
MASKED_POOLINGS = ("avg", "masked_mean", "stats", "attention", "attentive_stats")


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
    if isinstance(l2, bool) or not isinstance(l2 or 0.0, numbers.Real) or (l2 or 0.0) < 0:
        raise ConfigError(f"model.l2 must be a number >= 0, got {l2!r}")
    l2 = float(l2 or 0.0)
    return keras.regularizers.L2(l2) if l2 > 0 else None


# The head's hyper-parameters as a family's ``model.*`` keys, with their defaults. A family puts
# the keys it lets a recipe set into its own defaults (``model_hparams``); ``head_from_hparams``
# fills in the rest from here. ``classifier_proj_size`` keeps HF's name for the projection.
HEAD_HPARAMS = {
    "weighted_layer_sum": False,
    "concat_layers": False,
    "normalize_pooled": False,
    "classifier_proj_size": 0,
    "pooling": "none",
    "attention_units": 64,
    "dense_units": 128,
    "dropout": 0.3,
    "l2": 0.0,
}


def _check_head_options(*, num_classes, pooling, dense_units, dropout, l2, attention_units,
                        projection_units, weighted_layer_sum, concat_layers, normalize_pooled,
                        x, mask) -> None:
    """Raise ``ConfigError`` naming the first bad option of ``classifier_head`` and its value."""
    if pooling not in POOLINGS:
        raise ConfigError(f"head pooling must be one of {POOLINGS}, got {pooling!r}")
    for option, value, low in (("num_classes", num_classes, 2), ("dense_units", dense_units or 0, 0),
                               ("attention_units", attention_units, 1),
                               ("projection_units", projection_units or 0, 0)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
            raise ConfigError(f"head {option} must be an integer >= {low}, got {value!r}")
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0.0 <= dropout < 1.0:
        raise ConfigError(f"head dropout must be a number in [0, 1), got {dropout!r}")
    l2_regularizer(l2)  # raises for a negative factor
    for option, value in (("weighted_layer_sum", weighted_layer_sum), ("concat_layers", concat_layers),
                          ("normalize_pooled", normalize_pooled)):
        if not isinstance(value, bool):
            raise ConfigError(f"head {option} must be true or false, got {value!r}")
    if weighted_layer_sum and concat_layers:
        raise ConfigError("head weighted_layer_sum and concat_layers exclude each other (mix the hidden "
                          "states, or pool each and concatenate); got both true")
    takes_list = weighted_layer_sum or concat_layers
    if takes_list != isinstance(x, (list, tuple)):
        raise ConfigError(
            "head weighted_layer_sum / concat_layers need a list of hidden states, and neither a single "
            f"tensor; got weighted_layer_sum={weighted_layer_sum!r}, concat_layers={concat_layers!r} "
            f"with a {type(x).__name__}"
        )
    if concat_layers and pooling not in SEQUENCE_POOLINGS:
        raise ConfigError(f"head concat_layers pools each hidden state over time: pooling must be one of "
                          f"{SEQUENCE_POOLINGS}, got {pooling!r}")
    if mask is not None and pooling not in MASKED_POOLINGS:
        raise ConfigError(f"head pooling {pooling!r} cannot honour a padding mask; use one of {MASKED_POOLINGS}")


def classifier_head(
    x,
    *,
    num_classes: int,
    pooling: str = "none",
    dense_units: Optional[int] = 128,
    dropout: float = 0.3,
    l2: float = 0.0,
    attention_units: int = 64,
    weighted_layer_sum: bool = False,
    concat_layers: bool = False,
    normalize_pooled: bool = False,
    projection_units: Optional[int] = 0,
    mask=None,
):
    """The one classifier head: ``[weighted sum] -> [projection] -> pooling -> [Dense(relu)]
    -> [Dropout] -> Dense(softmax)``.

    Layer names: ``weighted_layer_sum``, ``projector``, ``pooling``, ``dense``, ``dense_dropout``,
    ``classifier``; each present only when used. With ``concat_layers`` the hidden states are
    pooled one by one (``pooling_0`` ... ``pooling_L``, after ``projector_0`` ... when projecting)
    and joined by ``layer_concat``; ``normalize_pooled`` adds ``pooled_norm`` after pooling.

    Args:
        x: ``(batch, dim)`` when ``pooling="none"``; ``(batch, time, dim)`` for the sequence
            poolings; any rank for ``"flatten"``. With ``weighted_layer_sum``, a list of such
            tensors of one shape (e.g. every hidden state of an encoder).
        num_classes: outputs of the softmax layer ``classifier`` (>= 2).
        pooling: ``none`` | ``avg`` (GlobalAveragePooling1D) | ``max`` | ``masked_mean``
            (``MaskedMeanPooling``) | ``stats`` (mean and std, ``StatisticsPooling``) |
            ``attention`` (``AttentionPooling``) | ``attentive_stats`` (attention-weighted mean
            and std, ``AttentiveStatisticsPooling``) | ``flatten``.
        dense_units: units of the hidden ``dense`` layer (ReLU); 0 or None: no hidden layer.
        dropout: rate of ``dense_dropout`` just before ``classifier``, in [0, 1); 0: no layer.
        l2: L2 factor on the hidden layer's kernel (0: none).
        attention_units: hidden size of the attention scorer (``attention``, ``attentive_stats``).
        weighted_layer_sum: mix the list ``x`` with a learned softmax weight per entry
            (``WeightedLayerSum``, as in SUPERB) before anything else.
        concat_layers: instead of mixing, pool each entry of the list ``x`` on its own (its own
            pooling layer, the same kind) and concatenate the pooled vectors, so the classifier
            sees every layer's statistics side by side (the layer-wise probe that beats a single
            layer on frozen Whisper, see the README).
        normalize_pooled: standardise the pooled vector per feature (``BatchNormalization``):
            hidden states of different depths differ in scale by orders of magnitude.
        projection_units: units of a linear ``projector`` Dense applied frame-wise before pooling
            (HF's ``classifier_proj_size``); 0 or None: none.
        mask: optional ``(batch, time)`` bool padding mask (True = real frame) for the pooling;
            only ``avg``, ``masked_mean``, ``stats``, ``attention`` and ``attentive_stats`` take
            one. A Keras mask carried by ``x`` is honoured by the same poolings.

    Returns:
        ``(batch, num_classes)`` probabilities, always float32 (mixed precision safe).

    Raises:
        ConfigError: a bad option; the message names it and repeats the value.
    """
    _check_head_options(num_classes=num_classes, pooling=pooling, dense_units=dense_units,
                        dropout=dropout, l2=l2, attention_units=attention_units,
                        projection_units=projection_units, weighted_layer_sum=weighted_layer_sum,
                        concat_layers=concat_layers, normalize_pooled=normalize_pooled, x=x, mask=mask)
    if concat_layers:
        pooled = [
            _project_and_pool(state, pooling=pooling, projection_units=projection_units,
                              attention_units=attention_units, mask=mask, suffix=f"_{i}")
            for i, state in enumerate(x)
        ]
        x = keras.layers.Concatenate(name="layer_concat")(pooled)
    else:
        if weighted_layer_sum:
            x = WeightedLayerSum(name="weighted_layer_sum")(list(x))
        x = _project_and_pool(x, pooling=pooling, projection_units=projection_units,
                              attention_units=attention_units, mask=mask)
    if normalize_pooled:
        x = keras.layers.BatchNormalization(name="pooled_norm")(x)
    if dense_units:
        x = keras.layers.Dense(
            int(dense_units), activation="relu", kernel_regularizer=l2_regularizer(l2), name="dense"
        )(x)
    if dropout:
        x = keras.layers.Dropout(float(dropout), name="dense_dropout")(x)
    return keras.layers.Dense(
        int(num_classes), activation="softmax", dtype="float32", name="classifier"
    )(x)


def _project_and_pool(x, *, pooling, projection_units, attention_units, mask, suffix: str = ""):
    """``[projector] -> pooling`` of one sequence; layer names end in ``suffix``."""
    if projection_units:
        x = keras.layers.Dense(int(projection_units), name="projector" + suffix)(x)
    pool_kwargs = {} if mask is None else {"mask": mask}
    name = "pooling" + suffix
    if pooling == "avg":
        x = keras.layers.GlobalAveragePooling1D(name=name)(x, **pool_kwargs)
    elif pooling == "max":
        x = keras.layers.GlobalMaxPooling1D(name=name)(x)
    elif pooling == "masked_mean":
        x = MaskedMeanPooling(name=name)(x, **pool_kwargs)
    elif pooling == "stats":
        x = StatisticsPooling(name=name)(x, **pool_kwargs)
    elif pooling == "attention":
        x = AttentionPooling(units=int(attention_units), name=name)(x, **pool_kwargs)
    elif pooling == "attentive_stats":
        x = AttentiveStatisticsPooling(units=int(attention_units), name=name)(x, **pool_kwargs)
    elif pooling == "flatten":
        x = keras.layers.Flatten(name=name)(x)
    return x


def encoder_states_for_head(outputs: Mapping, hp: Mapping):
    """What a pretrained encoder hands the head: every hidden state (a list) when the head mixes
    or concatenates layers (``weighted_layer_sum`` / ``concat_layers``), else ``sequence_output``."""
    hp = {**HEAD_HPARAMS, **hp}
    if hp["weighted_layer_sum"] is True or hp["concat_layers"] is True:
        return outputs["hidden_states"]
    return outputs["sequence_output"]


def head_from_hparams(x, hp: Mapping, *, num_classes: int, mask=None):
    """``classifier_head`` with its options read from a family's hyper-parameters ``hp`` (see
    ``model_hparams``); a key of ``HEAD_HPARAMS`` that ``hp`` lacks takes its default there."""
    hp = {**HEAD_HPARAMS, **hp}
    return classifier_head(
        x,
        num_classes=num_classes,
        pooling=hp["pooling"],
        dense_units=hp["dense_units"],
        dropout=hp["dropout"],
        l2=hp["l2"],
        attention_units=hp["attention_units"],
        weighted_layer_sum=hp["weighted_layer_sum"],
        concat_layers=hp["concat_layers"],
        normalize_pooled=hp["normalize_pooled"],
        projection_units=hp["classifier_proj_size"],
        mask=mask,
    )


def features_kind(config: Mapping, *, arch: str, allowed: tuple) -> str:
    """``config["features"]["kind"]`` (default ``allowed[0]``), checked against what ``arch`` takes.

    For families that do not use ``frontend_from_config``: e.g. the HuBERT family takes the raw
    waveform (``allowed=("raw",)``) and must refuse a recipe asking for a log-mel front-end.

    Raises:
        ConfigError: a kind outside ``allowed`` (names ``features.kind``, the value and the arch).
    """
    kind = (config.get("features") or {}).get("kind", allowed[0])
    if kind not in allowed:
        raise ConfigError(f"arch {arch!r} takes features.kind in {tuple(allowed)}, got {kind!r}")
    return kind


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
