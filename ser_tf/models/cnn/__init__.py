"""The plain CNN family: ``cnn``, a 2-D CNN on a fixed 128x128 log-mel image.

Model graph (layer names in brackets): waveform [waveform] -> log-mel (128 bands in its recipe)
[frontend] -> optional SpecAugment [spec_augment] -> ``(frames, n_mels, 1)`` [expand] -> bilinear
resize to ``image_size`` [resize] -> conv blocks [conv_i, bn_i, pool_i, dropout_i] -> flatten
[pooling] -> [dense, dense_dropout] -> [classifier].

Resizing the time axis makes the classifier independent of the clip duration, at the price of
stretching or squeezing the time scale of every clip the same way.
"""

from __future__ import annotations

from typing import Mapping

import keras

from ser_tf.errors import ConfigError
from ser_tf.models.cnn_rnn.backbone import conv_blocks_from_hparams, to_image, to_sequence
from ser_tf.models.head import SEQUENCE_POOLINGS, feature_stem, head_from_hparams, model_hparams
from ser_tf.models.registry import register_arch

DESCRIPTION = "Conv2D 32/64/128 (BN, max-pool, dropout) on a 128x128 log-mel image -> Dense(128)"

# Keys as for the CNN-RNN family (see ser_tf/models/cnn_rnn/presets.py), plus image_size:
# the [time, freq] size the log-mel is resized to.
HPARAMS = {
    "conv_filters": [32, 64, 128],
    "kernel_size": 3,
    "pool_size": 2,
    "conv_dropout": None,
    "bn_before_relu": False,
    "image_size": [128, 128],
    "pooling": "flatten",
    "attention_units": 64,
    "dense_units": 128,
    "dropout": 0.3,
    "l2": 0.0,
}


def build_cnn(*, num_classes: int, config: Mapping) -> keras.Model:
    """Build ``cnn`` from a resolved config: ``HPARAMS`` overridden by ``config["model"]``.

    Raises:
        ConfigError: an unknown ``model`` key or a malformed ``image_size``.
    """
    hp = model_hparams(config, HPARAMS, arch="cnn")
    size = hp["image_size"]
    if not (isinstance(size, (list, tuple)) and len(size) == 2 and all(int(s) > 0 for s in size)):
        raise ConfigError(f"model.image_size must be [time, freq] positive integers, got {size!r}")
    inputs, x = feature_stem(config)
    x = keras.layers.Resizing(int(size[0]), int(size[1]), name="resize")(to_image(x))
    x = conv_blocks_from_hparams(x, hp)
    if hp["pooling"] in SEQUENCE_POOLINGS:
        # Sequence poolings want (batch, time, dim): fold frequency into channels first.
        x = to_sequence(x)
    outputs = head_from_hparams(x, hp, num_classes=num_classes)
    return keras.Model(inputs, outputs, name="cnn")


register_arch("cnn", builder=build_cnn, description=DESCRIPTION)
