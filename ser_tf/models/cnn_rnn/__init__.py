"""The CNN-RNN family: ``cnn_gru``, ``cnn_lstm``, ``cnn_lstm_small``, ``cnn_lstm_l2`` and
``crnn_attention``.

Model graph (layer names in brackets): waveform ``(batch, samples)`` [waveform] -> log-mel
[frontend] -> optional SpecAugment [spec_augment] -> conv blocks + RNN (see ``backbone.py``) ->
classifier head [pooling, dense, dense_dropout, classifier].
"""

from __future__ import annotations

import functools
from typing import Mapping

import keras

from ser_tf.models.cnn_rnn.backbone import cnn_rnn_backbone
from ser_tf.models.cnn_rnn.presets import PRESETS
from ser_tf.models.head import feature_stem, head_from_hparams, model_hparams
from ser_tf.models.registry import register_arch


def build_cnn_rnn(*, arch: str, num_classes: int, config: Mapping) -> keras.Model:
    """Build the CNN-RNN architecture ``arch`` (a key of ``PRESETS``) for a resolved config.

    Hyper-parameters come from ``PRESETS[arch]["hparams"]``, overridden by ``config["model"]``.

    Raises:
        ConfigError: an unknown ``model`` key, or a value the graph cannot use.
    """
    hp = model_hparams(config, PRESETS[arch]["hparams"], arch=arch)
    inputs, x = feature_stem(config)
    x = cnn_rnn_backbone(x, hp)
    outputs = head_from_hparams(x, hp, num_classes=num_classes)
    return keras.Model(inputs, outputs, name=arch)


for _arch, _preset in PRESETS.items():
    register_arch(
        _arch,
        builder=functools.partial(build_cnn_rnn, arch=_arch),
        description=_preset["description"],
    )
