"""The TDNN family: ``tdnn_stats``, dilated 1-D convolutions over log-mel frames and statistics pooling.

Model graph (layer names in brackets): waveform [waveform] -> log-mel [frontend] -> optional
SpecAugment [spec_augment] -> per block: Conv1D over time with the mel bands as channels
[conv_i] -> BN [bn_i] -> ReLU [relu_i] -> dropout [dropout_i] -> mean and std over time
[pooling] -> [dense, dense_dropout] -> [classifier].

Why this shape for emotion on small corpora: an utterance's emotion lives in its statistics
(average pitch and energy, and how much they move), which statistics pooling reads directly, and
1-D convolutions cost a fraction of a 2-D CNN-RNN on a CPU (no recurrent loop), so many more
epochs and augmented views fit in the same time. The same design (x-vectors) is the standard
speaker and paralinguistics baseline.
"""

from __future__ import annotations

from typing import Mapping

import keras

from ser_tf.errors import ConfigError
from ser_tf.models.head import (
    BN_MOMENTUM,
    feature_stem,
    head_from_hparams,
    l2_regularizer,
    model_hparams,
)
from ser_tf.models.registry import register_arch

DESCRIPTION = "Conv1D 128x4 (dilations 1,2,3,1; BN, ReLU) over log-mel frames -> mean+std pooling -> Dense(128)"

HPARAMS = {
    "conv_filters": [128, 128, 128, 128],  # channels per block; its length is the number of blocks
    "kernel_sizes": [5, 3, 3, 1],  # frames; 10 ms each
    "dilations": [1, 2, 3, 1],  # receptive field 1 + 4 + 4 + 6 = 15 frames (150 ms) before pooling
    "conv_dropout": 0.1,
    "pooling": "stats",
    "dense_units": 128,
    "dropout": 0.3,
    "l2": 0.0,
    "attention_units": 64,
}


def build_tdnn_stats(*, num_classes: int, config: Mapping) -> keras.Model:
    """Build ``tdnn_stats`` from a resolved config: ``HPARAMS`` overridden by ``config["model"]``.

    Raises:
        ConfigError: an unknown ``model`` key, or block lists of different lengths.
    """
    hp = model_hparams(config, HPARAMS, arch="tdnn_stats")
    blocks = list(zip(hp["conv_filters"], hp["kernel_sizes"], hp["dilations"]))
    if not blocks or not len(hp["conv_filters"]) == len(hp["kernel_sizes"]) == len(hp["dilations"]):
        raise ConfigError(
            "model.conv_filters, model.kernel_sizes and model.dilations must be non-empty lists of "
            f"one length, got {hp['conv_filters']!r}, {hp['kernel_sizes']!r}, {hp['dilations']!r}"
        )
    inputs, x = feature_stem(config)  # x: (batch, frames, n_mels)
    for i, (filters, kernel, dilation) in enumerate(blocks, 1):
        x = keras.layers.Conv1D(
            int(filters), int(kernel), dilation_rate=int(dilation), padding="same", use_bias=False,
            kernel_regularizer=l2_regularizer(hp["l2"]), name=f"conv_{i}",
        )(x)
        x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"bn_{i}")(x)
        x = keras.layers.ReLU(name=f"relu_{i}")(x)
        if hp["conv_dropout"]:
            x = keras.layers.Dropout(float(hp["conv_dropout"]), name=f"dropout_{i}")(x)
    outputs = head_from_hparams(x, hp, num_classes=num_classes)
    return keras.Model(inputs, outputs, name="tdnn_stats")


register_arch("tdnn_stats", builder=build_tdnn_stats, description=DESCRIPTION)
