"""Hyper-parameters of the CNN-RNN architectures; ``config["model"]`` overrides any of them.

Keys (all architectures):
    conv_filters: channels of each conv block; its length is the number of blocks.
    kernel_size: conv kernel, an int or ``[time, freq]``.
    pool_size: max-pool size: an int, ``[time, freq]``, or one of those per block.
    conv_dropout: dropout after each conv block; ``null`` means "same as ``dropout``".
    bn_before_relu: ``Conv -> BN -> ReLU`` instead of ``Conv(relu) -> BN``.
    rnn: ``lstm`` | ``gru``; rnn_units: its units; rnn_dropout: its input dropout.
    bidirectional: wrap the RNN in ``Bidirectional``.
    return_sequences: keep the RNN's sequence (needs a sequence ``pooling``).
    sequence_dropout: dropout on the RNN output (0: none).
    pooling: head pooling (see ``ser_tf.models.head.POOLINGS``); ``none`` for a last state.
    attention_units: hidden size of attention pooling.
    dense_units: hidden dense layer of the head (0: none); dropout: its dropout.
    l2: L2 factor on the conv kernels and the hidden dense kernel.
"""

from __future__ import annotations

_CNN_RNN = {
    "conv_filters": [32, 64],
    "kernel_size": 3,
    "pool_size": 2,
    "conv_dropout": None,
    "bn_before_relu": False,
    "rnn": "lstm",
    "rnn_units": 128,
    "rnn_dropout": 0.0,
    "bidirectional": False,
    "return_sequences": False,
    "sequence_dropout": 0.0,
    "pooling": "none",
    "attention_units": 64,
    "dense_units": 128,
    "dropout": 0.3,
    "l2": 0.0,
}

PRESETS = {
    "cnn_gru": {
        "description": "Conv2D 32/64 (BN, max-pool, dropout) -> GRU(128) -> Dense(128) -> softmax",
        "hparams": {**_CNN_RNN, "rnn": "gru"},
    },
    "cnn_lstm": {
        "description": "Conv2D 32/64 (BN, max-pool, dropout) -> LSTM(128) -> Dense(128) -> softmax",
        "hparams": dict(_CNN_RNN),
    },
    "cnn_lstm_small": {
        "description": (
            "Conv2D 16/32 (BN, 3x3 max-pool, dropout) -> LSTM(64) sequence -> average "
            "-> Dense(32) -> softmax"
        ),
        "hparams": {
            **_CNN_RNN,
            "conv_filters": [16, 32],
            "pool_size": 3,
            "rnn_units": 64,
            "return_sequences": True,
            "pooling": "avg",
            "dense_units": 32,
        },
    },
    "cnn_lstm_l2": {
        "description": (
            "cnn_lstm with L2(0.001) on convs and dense, LSTM(128, dropout 0.3), Dense(64)"
        ),
        "hparams": {**_CNN_RNN, "rnn_dropout": 0.3, "dense_units": 64, "l2": 0.001},
    },
    # Our own: a small CRNN. Pooling mostly over frequency keeps time resolution for the BiGRU;
    # attention pooling lets it weight the emotional frames of a mostly neutral utterance. Kept
    # small (~0.3 M parameters) because RAVDESS speech has at most 1,440 clips.
    "crnn_attention": {
        "description": (
            "Conv2D 32/64/64 (BN, ReLU, pooling mostly over frequency) -> BiGRU(64) -> "
            "attention pooling -> Dense(64) -> softmax"
        ),
        "hparams": {
            **_CNN_RNN,
            "conv_filters": [32, 64, 64],
            "pool_size": [[2, 2], [2, 2], [1, 2]],
            "conv_dropout": 0.1,
            "bn_before_relu": True,
            "rnn": "gru",
            "rnn_units": 64,
            "bidirectional": True,
            "return_sequences": True,
            "sequence_dropout": 0.2,
            "pooling": "attention",
            "attention_units": 64,
            "dense_units": 64,
        },
    },
}
