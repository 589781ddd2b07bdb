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

from ser_tf.layers.frontend import frontend_from_config, spec_augment_from_config
from ser_tf.models.cnn_rnn.backbone import cnn_rnn_backbone
from ser_tf.models.cnn_rnn.presets import PRESETS
from ser_tf.models.head import classifier_head, model_hparams, waveform_input
from ser_tf.models.registry import register_arch


def build_cnn_rnn(*, arch: str, num_classes: int, config: Mapping) -> keras.Model:
    """Build the CNN-RNN architecture ``arch`` (a key of ``PRESETS``) for a resolved config.

    Hyper-parameters come from ``PRESETS[arch]["hparams"]``, overridden by ``config["model"]``.

    Raises:
        ConfigError: an unknown ``model`` key, or a value the graph cannot use.
    """
    hp = model_hparams(config, PRESETS[arch]["hparams"], arch=arch)
    inputs = waveform_input(config)
    x = frontend_from_config(config)(inputs)
    spec_augment = spec_augment_from_config(config)
    if spec_augment is not None:
        x = spec_augment(x)
    x = cnn_rnn_backbone(x, hp)
    outputs = classifier_head(
        x,
        num_classes=num_classes,
        pooling=hp["pooling"],
        dense_units=hp["dense_units"],
        dropout=hp["dropout"],
        l2=hp["l2"],
        attention_units=hp["attention_units"],
    )
    return keras.Model(inputs, outputs, name=arch)


for _arch, _preset in PRESETS.items():
    register_arch(
        _arch,
        builder=functools.partial(build_cnn_rnn, arch=_arch),
        description=_preset["description"],
    )
