"""Fuzz properties of the command lines' parsing, run in process: ``train.py``, ``evaluate.py``,
``audio_test.py`` and ``python -m ser_tf.data`` each parse and check their flags in library
functions before TensorFlow starts. A drawn argument list must end in a usage error (``SystemExit``
2 with a message naming the value), ser_tf's own error (which each ``main`` prints as one line,
exit 2), or a parse whose values are in range. Anything else escaping is a failure.
"""

from __future__ import annotations

import contextlib
import io
import math

from hypothesis import strategies as st

from ser_tf.errors import SerError
from tests.fuzz.properties import OUTCOMES

# What a user may type for a number: negatives, zero, fractions, words, NaN, huge, empty.
NUMBER_TEXT = st.one_of(st.integers(-5, 5).map(str), st.sampled_from(
    ["0", "-0.5", "0.0", "1e9", "nan", "inf", "-inf", "abc", "", "3s", "1,5", "true", "[1, 2]", "{a: 1}"]),
    st.floats(-10, 10).map(repr), st.text(max_size=5))
# --set keys: real ones (numbers, durations, windows, hops, names) and unknown ones.
SET_KEYS = st.sampled_from([
    "train.epochs", "train.batch_size", "train.learning_rate", "seed", "audio.duration", "audio.sample_rate",
    "features.n_fft", "features.win_length", "features.hop_length", "features.n_mels", "features.kind",
    "features.fmax", "data.val_fraction", "data.test_fraction", "data.n_folds", "data.split",
    "augment.shift.max_seconds", "augment.noise.p", "model.dropout", "train.nope", "nokey", "audio",
    "train.early_stopping.patience", "data.labels", "train.reduce_lr.factor"])


def _flags(choices):
    """An argument list: up to five ``flag value`` pairs drawn from ``choices`` (flag -> values)."""
    pair = st.sampled_from(sorted(choices)).flatmap(
        lambda flag: st.tuples(st.just(flag), choices[flag]) if choices[flag] is not None
        else st.tuples(st.just(flag)))
    return st.lists(pair, max_size=5).map(lambda pairs: [token for p in pairs for token in p])


def usage_or_value(parse):
    """``parse()``'s result, or ``None`` after a usage error (exit 2, the message on stderr naming
    the problem) or ser_tf's own error."""
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            value = parse()
    except SystemExit as stop:
        assert stop.code == 2, stop.code
        assert "error:" in err.getvalue(), err.getvalue()
        OUTCOMES["parse", "usage error"] += 1
        return None
    except SerError as error:
        OUTCOMES["parse", type(error).__name__] += 1
        return None
    OUTCOMES["parse", "output"] += 1
    return value


# -- train.py --------------------------------------------------------------------------------------

TRAIN_FLAGS = {
    "--epochs": NUMBER_TEXT, "--batch-size": NUMBER_TEXT, "--seed": NUMBER_TEXT,
    "--arch": st.sampled_from(["cnn_lstm", "cnn_lstm_small", "tdnn_stats", "nope", ""]),
    "--split": st.sampled_from(["speaker", "kfold", "loso", "random", "none", ""]),
    "--labels": st.sampled_from(["common6", "auto", "angry,happy", "", ",", "nope"]),
    "--set": st.tuples(SET_KEYS, NUMBER_TEXT).map("=".join) | st.text(max_size=8),
    "--data": st.sampled_from(["folder=/nonexistent", "nope=/tmp", "=", "ravdess"]),
    "--strategy": st.sampled_from(["auto", "one", "mirrored", "nope"]),
}


def check_train_args(argv) -> None:
    from ser_tf.training.cli import build_parser, resolve_config

    parser = build_parser()
    config = usage_or_value(lambda: resolve_config(parser.parse_args(argv), parser))
    if config is not None:  # a valid parse holds values in range
        assert config.train.epochs >= 1 and config.train.batch_size >= 1, config.train
        assert math.isfinite(config.audio.duration) and config.audio.duration > 0, config.audio
        assert config.audio.sample_rate > 0, config.audio
        assert min(config.features.n_fft, config.features.win_length, config.features.hop_length) > 0
        assert 0 <= config.data.val_fraction < 1 and 0 <= config.data.test_fraction < 1, config.data
        assert config.data.n_folds >= 2, config.data


# -- evaluate.py -----------------------------------------------------------------------------------

EVALUATE_FLAGS = {
    "--data": st.sampled_from(["folder=/tmp", "ravdess=/nope", "x"]),
    "--split": st.sampled_from(["speaker", "random", "kfold", ""]),
    "--speaker-pattern": st.sampled_from(["(?P<speaker>a)", "(", "x"]),
    "--labels": st.sampled_from(["a,b", "", ","]),
    "--model": st.sampled_from(["default", "/nope"]),
}


def check_evaluate_args(argv) -> None:
    import evaluate

    usage_or_value(lambda: evaluate.build_parser().parse_args(argv))


# -- audio_test.py ---------------------------------------------------------------------------------

AUDIO_TEST_FLAGS = {
    "--window": NUMBER_TEXT, "--hop": NUMBER_TEXT, "--record-duration": NUMBER_TEXT,
    "--stream-seconds": NUMBER_TEXT, "--top-k": NUMBER_TEXT, "--batch-size": NUMBER_TEXT,
    "--alpha": NUMBER_TEXT, "--file": st.sampled_from(["a.wav", "b.wav"]),
    "--dir": st.sampled_from(["clips"]), "--stream": None, "--recursive": None, "--json": None,
    "--csv": st.just("out.csv"), "--plot": st.just("p.png"), "--device": st.sampled_from(["0", "mic"]),
}


def _parse_and_check(build_parser, check_args, argv):
    """``argv`` parsed and checked as a command's ``main`` does before its work starts."""
    parser = build_parser()

    def parse():
        args = parser.parse_args(argv)
        check_args(parser, args)
        return args

    return usage_or_value(parse)


def check_audio_test_args(argv) -> None:
    from ser_tf.inference.cli import _check_args, build_parser

    args = _parse_and_check(build_parser, _check_args, argv)
    if args is not None:
        for name in ("window", "hop", "record_duration", "stream_seconds"):
            value = getattr(args, name)
            assert value is None or (math.isfinite(value) and value > 0), (name, value)
        assert args.top_k >= 1 and args.batch_size >= 1 and 0 < args.alpha <= 1


# -- python -m ser_tf.data -------------------------------------------------------------------------

DATA_FLAGS = {
    "--val-fraction": NUMBER_TEXT, "--test-fraction": NUMBER_TEXT, "--n-folds": NUMBER_TEXT,
    "--seed": NUMBER_TEXT, "--shard-size": NUMBER_TEXT,
    "--split": st.sampled_from(["speaker", "kfold", "loso", "random", "none", "x"]),
    "--export-tfrecord": st.just("/tmp/out"), "--no-probe": None, "--verify": None,
    "--data": st.sampled_from(["tfrecord=/nope", "folder=/nope", "demo"]),
    "--speaker-pattern": st.sampled_from(["(?P<speaker>a)", "("]),
}


def check_data_args(argv) -> None:
    from ser_tf.data.__main__ import build_parser, check_args

    args = _parse_and_check(build_parser, check_args, argv)
    if args is not None:
        assert 0 <= args.val_fraction < 1 and 0 <= args.test_fraction < 1, args
        assert args.n_folds >= 2 and args.shard_size >= 1, args


CLI_PROPERTIES = {
    "train_args": (_flags(TRAIN_FLAGS), check_train_args),
    "evaluate_args": (_flags(EVALUATE_FLAGS), check_evaluate_args),
    "audio_test_args": (_flags(AUDIO_TEST_FLAGS), check_audio_test_args),
    "data_args": (_flags(DATA_FLAGS), check_data_args),
}
