"""Convolutional blocks over a log-mel "image", then a recurrent layer over time.

The front-end's ``(frames, n_mels)`` output is treated as a one-channel image ``(frames,
n_mels, 1)``; each block is Conv2D -> BatchNorm -> (ReLU) -> MaxPool -> Dropout. The result
``(frames', n_mels', channels)`` is reshaped to a sequence ``(frames', n_mels' * channels)`` and
fed to an LSTM or GRU. Layer names are deterministic: ``expand``, ``conv_i``, ``bn_i``,
``relu_i``, ``pool_i``, ``dropout_i`` (i from 1), ``to_sequence``, ``rnn``.
"""

from __future__ import annotations

from typing import Sequence

import keras

from ser_tf.errors import ConfigError
from ser_tf.models.head import BN_MOMENTUM, l2_regularizer

RNN_KINDS = ("lstm", "gru")


def _pair(value, *, what: str) -> tuple:
    if isinstance(value, int):
        return (value, value)
    if isinstance(value, Sequence) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return tuple(value)
    raise ConfigError(f"{what} must be an integer or a pair of integers, got {value!r}")


def pool_sizes(pool_size, num_blocks: int) -> list:
    """One ``(time, freq)`` pool size per block from an int, a pair, or a list of those."""
    if isinstance(pool_size, Sequence) and pool_size and not isinstance(pool_size[0], int):
        if len(pool_size) != num_blocks:
            raise ConfigError(
                f"model.pool_size lists {len(pool_size)} sizes for {num_blocks} conv blocks: "
                f"{pool_size!r}"
            )
        return [_pair(p, what="model.pool_size entry") for p in pool_size]
    return [_pair(pool_size, what="model.pool_size")] * num_blocks


def conv_blocks(
    x,
    *,
    filters: Sequence[int],
    kernel_size=3,
    pool_size=2,
    dropout: float = 0.3,
    l2: float = 0.0,
    bn_before_relu: bool = False,
):
    """Stack ``len(filters)`` conv blocks on an image ``(batch, height, width, channels)``.

    Args:
        filters: output channels of each block's ``Conv2D`` (``same`` padding).
        kernel_size: an int or ``(time, freq)`` pair, shared by all blocks.
        pool_size: max-pool size: an int, a ``(time, freq)`` pair, or one of those per block.
        dropout: rate of each block's ``Dropout`` (0 skips it).
        l2: L2 factor on the conv kernels (0: none).
        bn_before_relu: ``Conv(no bias) -> BN -> ReLU`` (the usual modern order) instead of
            ``Conv(relu) -> BN`` (the order of the classic RAVDESS CNN-LSTM recipes).

    Raises:
        ConfigError: pooling would shrink an axis to zero (the message gives the shapes).
    """
    if not filters:
        raise ConfigError("model.conv_filters must list at least one block")
    kernel = _pair(kernel_size, what="model.kernel_size")
    for i, (n_filters, pool) in enumerate(zip(filters, pool_sizes(pool_size, len(filters))), 1):
        x = keras.layers.Conv2D(
            int(n_filters),
            kernel,
            padding="same",
            activation=None if bn_before_relu else "relu",
            use_bias=not bn_before_relu,
            kernel_regularizer=l2_regularizer(l2),
            name=f"conv_{i}",
        )(x)
        x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"bn_{i}")(x)
        if bn_before_relu:
            x = keras.layers.ReLU(name=f"relu_{i}")(x)
        height, width = x.shape[1], x.shape[2]
        if (height is not None and height < pool[0]) or (width is not None and width < pool[1]):
            raise ConfigError(
                f"conv block {i}: feature map {height}x{width} (time x freq) is smaller than "
                f"pool_size {pool}; use longer audio, more mel bands, or fewer/smaller pools"
            )
        if pool != (1, 1):
            x = keras.layers.MaxPooling2D(pool, name=f"pool_{i}")(x)
        if dropout:
            x = keras.layers.Dropout(float(dropout), name=f"dropout_{i}")(x)
    return x


def conv_blocks_from_hparams(image, hp: dict):
    """``conv_blocks`` with the family keys ``conv_filters``, ``kernel_size``, ``pool_size``,
    ``conv_dropout`` (``None``: use ``dropout``), ``l2`` and ``bn_before_relu`` from ``hp``."""
    return conv_blocks(
        image,
        filters=hp["conv_filters"],
        kernel_size=hp["kernel_size"],
        pool_size=hp["pool_size"],
        dropout=hp["dropout"] if hp["conv_dropout"] is None else hp["conv_dropout"],
        l2=hp["l2"],
        bn_before_relu=hp["bn_before_relu"],
    )


def to_image(features):
    """``(batch, frames, bins)`` -> ``(batch, frames, bins, 1)``, layer ``expand``."""
    return keras.layers.Reshape((-1, features.shape[-1], 1), name="expand")(features)


def to_sequence(image):
    """``(batch, frames', bins', channels)`` -> ``(batch, frames', bins' * channels)``."""
    return keras.layers.Reshape((-1, image.shape[2] * image.shape[3]), name="to_sequence")(image)


def recurrent(
    x,
    *,
    kind: str = "lstm",
    units: int = 128,
    dropout: float = 0.0,
    bidirectional: bool = False,
    return_sequences: bool = False,
    name: str = "rnn",
):
    """An LSTM/GRU (optionally bidirectional) named ``name`` over ``(batch, time, dim)``.

    ``dropout`` is the RNN's input dropout (Keras ``dropout=``); recurrent dropout stays 0 so
    the cuDNN kernels remain usable on GPU.
    """
    if kind not in RNN_KINDS:
        raise ConfigError(f"model.rnn must be one of {RNN_KINDS}, got {kind!r}")
    cell = keras.layers.LSTM if kind == "lstm" else keras.layers.GRU
    layer = cell(
        int(units),
        dropout=float(dropout),
        return_sequences=bool(return_sequences),
        name=f"{name}_{kind}" if bidirectional else name,
    )
    if bidirectional:
        layer = keras.layers.Bidirectional(layer, name=name)
    return layer(x)


def cnn_rnn_backbone(features, hp: dict):
    """Front-end features ``(batch, frames, bins)`` -> RNN output, per the hyper-parameters ``hp``.

    Returns ``(batch, units)`` (last state) or ``(batch, frames', units)`` when
    ``hp["return_sequences"]``; doubled units when bidirectional.
    """
    x = to_sequence(conv_blocks_from_hparams(to_image(features), hp))
    x = recurrent(
        x,
        kind=hp["rnn"],
        units=hp["rnn_units"],
        dropout=hp["rnn_dropout"],
        bidirectional=hp["bidirectional"],
        return_sequences=hp["return_sequences"],
    )
    if hp["sequence_dropout"]:
        x = keras.layers.Dropout(float(hp["sequence_dropout"]), name="sequence_dropout")(x)
    return x
