"""train.py from TFRecord shards (``--data tfrecord=DIR``): the same run as from the corpus files,
for the same seed, and a truncated shard refused by name."""

from __future__ import annotations

import csv
import json
import shutil

import pytest

from ser_tf import runs
from ser_tf.training.cli import main

# A tiny network and short clips keep each run to a few seconds.
TINY = ["--arch", "cnn_lstm_small", "--epochs", "2", "--batch-size", "8", "--seed", "7", "--quiet",
        "--set", "audio.duration=0.5", "--set", "model.conv_filters=[4, 8]", "--set", "model.rnn_units=8",
        "--set", "model.dense_units=8", "--set", "augment.noise.enabled=true", "--set", "augment.noise.p=1.0"]


@pytest.fixture(scope="module")
def shard_export(tmp_path_factory):
    """A 4-speaker demo corpus and its shards (speaker split drawn with the runs' seed, 7)."""
    from ser_tf.data.__main__ import main as data_main
    from ser_tf.data.corpora.demo import ensure_demo_corpus

    root = tmp_path_factory.mktemp("train-shards")
    corpus = ensure_demo_corpus(root / "corpus", n_speakers=4, clips_per_emotion=1)
    assert data_main(["--data", f"demo={corpus}", "--export-tfrecord", str(root / "shards"),
                      "--shard-size", "6", "--seed", "7", "--quiet"]) == 0
    return corpus, root / "shards"


def _history(run):
    with open(run.history_csv) as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def two_runs(shard_export, tmp_path_factory):
    """The same recipe and seed trained from the corpus files and from their shards."""
    corpus, shards = shard_export
    folder = tmp_path_factory.mktemp("runs")
    from_files, from_shards = runs.RunFolder(folder / "files"), runs.RunFolder(folder / "shards")
    assert main([*TINY, "--data", f"demo={corpus}", "--out", str(from_files.path)]) == 0
    assert main([*TINY, "--data", f"tfrecord={shards}", "--out", str(from_shards.path)]) == 0
    return from_files, from_shards


def test_training_from_shards_gives_the_metrics_of_training_from_files(two_runs, shard_export):
    from_files, from_shards = two_runs
    shards = shard_export[1]
    expected = json.loads(from_files.report.metrics.read_text())
    got = json.loads(from_shards.report.metrics.read_text())
    assert got["protocol"].pop("shards") == str(shards)
    assert got == expected  # every figure, the split and its speakers, to the last digit
    assert _history(from_shards) == _history(from_files)
    assert len(_history(from_files)) == 2 and expected["protocol"]["speaker_independent"] is True


def test_evaluating_on_shards_scores_the_run_like_the_files(two_runs, shard_export, tmp_path):
    from ser_tf.evaluation.scoring import evaluate_model

    corpus, shards = shard_export
    run = str(two_runs[0].path)
    expected = evaluate_model(run, data_specs=[f"demo={corpus}"], out_dir=tmp_path / "f", split="speaker")
    got = evaluate_model(run, data_specs=[f"tfrecord={shards}"], out_dir=tmp_path / "s", split="speaker")
    assert got == expected and got["protocol"]["test"]["n_clips"] == 8


def test_training_refuses_a_truncated_shard_by_name(shard_export, tmp_path, capsys):
    copy = shutil.copytree(shard_export[1], tmp_path / "shards")
    victim = copy / "shard-00000-of-00006.tfrecord"
    victim.write_bytes(victim.read_bytes()[:-10])
    code = main([*TINY, "--data", f"tfrecord={copy}", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{victim} has" in err and "truncated" in err and "--verify" in err


def test_training_refuses_another_split_method_than_the_stored_one(shard_export, tmp_path, capsys):
    code = main([*TINY, "--data", f"tfrecord={shard_export[1]}", "--split", "kfold", "--out", str(tmp_path / "r")])
    assert code == 2
    assert "stores a 'speaker' split but the run asks for 'kfold'" in capsys.readouterr().err
