"""The BiLSTM family: ``bilstm_mfcc``, stacked bidirectional LSTMs over MFCC+delta+delta-delta.

Model graph (layer names in brackets): waveform [waveform] -> 120-D MFCC features [frontend]
-> optional SpecAugment [spec_augment] -> BiLSTM x ``num_layers`` [bilstm_1, bilstm_2, ...; the
last returns its final states unless a sequence pooling is configured] -> [pooling] -> [dense,
dense_dropout] -> [classifier]. Its recipe (``configs/bilstm_mfcc.yaml``) takes up to 10 s of
audio.
"""

from __future__ import annotations

from typing import Mapping

import keras

from ser_tf.errors import ConfigError
from ser_tf.models.cnn_rnn.backbone import recurrent
from ser_tf.models.head import feature_stem, head_from_hparams, model_hparams
from ser_tf.models.registry import register_arch

DESCRIPTION = "MFCC+delta+delta-delta (120-D) -> BiLSTM(256) x2 -> Dense(128) -> softmax"

HPARAMS = {
    "rnn": "lstm",  # lstm | gru
    "rnn_units": 256,  # per direction
    "num_layers": 2,
    "rnn_dropout": 0.0,  # input dropout of each recurrent layer
    "pooling": "none",  # none: the last layer's final states; or avg | max | attention | ...
    "attention_units": 64,
    "dense_units": 128,
    "dropout": 0.3,
    "l2": 0.0,  # on the hidden dense kernel
}


def build_bilstm(*, num_classes: int, config: Mapping) -> keras.Model:
    """Build ``bilstm_mfcc`` from a resolved config (``HPARAMS`` over ``config["model"]``).

    Raises:
        ConfigError: an unknown ``model`` key or ``num_layers < 1``.
    """
    hp = model_hparams(config, HPARAMS, arch="bilstm_mfcc")
    if int(hp["num_layers"]) < 1:
        raise ConfigError(f"model.num_layers must be >= 1, got {hp['num_layers']!r}")
    inputs, x = feature_stem(config)
    num_layers = int(hp["num_layers"])
    for i in range(1, num_layers + 1):
        x = recurrent(
            x,
            kind=hp["rnn"],
            units=hp["rnn_units"],
            dropout=hp["rnn_dropout"],
            bidirectional=True,
            return_sequences=i < num_layers or hp["pooling"] != "none",
            name=f"bilstm_{i}",
        )
    outputs = head_from_hparams(x, hp, num_classes=num_classes)
    return keras.Model(inputs, outputs, name="bilstm_mfcc")


register_arch("bilstm_mfcc", builder=build_bilstm, description=DESCRIPTION)
