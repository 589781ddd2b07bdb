"""train.py as a user runs it: one short run on a small generated demo corpus, every artefact checked."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

# A tiny network and a short clip keep one epoch to seconds on a 2-core machine.
TINY = [
    "--set", "audio.duration=1.0",
    "--set", "model.conv_filters=[4, 8]",
    "--set", "model.rnn_units=8",
    "--set", "model.dense_units=8",
]


def _train(args, cwd, timeout=600):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, str(ROOT / "train.py"), *args], cwd=cwd, env=env,
        capture_output=True, text=True, timeout=timeout,
    )


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    from ser_tf.data.corpora.demo import ensure_demo_corpus

    return ensure_demo_corpus(tmp_path_factory.mktemp("demo"), n_speakers=6, clips_per_emotion=1)


@pytest.fixture(scope="module")
def trained(demo_root, tmp_path_factory):
    cwd = tmp_path_factory.mktemp("work")
    proc = _train(
        ["--arch", "cnn_lstm_small", "--data", f"demo={demo_root}", "--epochs", "2", "--batch-size", "8",
         "--seed", "7", *TINY],
        cwd=cwd,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return cwd, proc


def test_run_folder_has_every_artefact(trained):
    cwd, proc = trained
    latest = (cwd / "models" / "latest").read_text().strip()
    run = cwd / "models" / latest
    assert latest.startswith("cnn_lstm_small-")
    for name in ("model.keras", "model.h5", "labels.json", "config.yaml", "training_history.csv",
                 "report/metrics.json", "report/report.md", "report/confusion_matrix.png",
                 "report/confusion_matrix_normalized.png", "report/roc_curves.png",
                 "report/training_curves.png"):
        assert (run / name).is_file(), name
    assert any((run / "logs").rglob("*")), "TensorBoard logs missing"
    labels = json.loads((run / "labels.json").read_text())
    assert labels["classes"] == ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"]
    config = yaml.safe_load((run / "config.yaml").read_text())
    splits = config["resolved"]["splits"]["holdout"]
    assert not set(splits["train"]) & set(splits["test"]) and not set(splits["val"]) & set(splits["test"])
    assert config["resolved"]["data_roots"]["demo"]
    with open(run / "training_history.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 and {"loss", "val_loss", "accuracy", "val_accuracy"} <= set(rows[0])
    metrics = json.loads((run / "report" / "metrics.json").read_text())
    assert {"accuracy", "ua", "macro_f1", "per_class", "roc_auc", "protocol"} <= set(metrics)
    assert metrics["protocol"]["speaker_independent"] is True
    assert "UA" in proc.stdout and "DEMO" in proc.stdout.upper()


def test_saved_models_reload_and_predict_like_each_other(trained):
    import keras

    import ser_tf.layers  # noqa: F401  (registers the front-end)
    from ser_tf.models.registry import list_archs

    list_archs()  # registers every family's layers
    cwd, _ = trained
    run = cwd / "models" / (cwd / "models" / "latest").read_text().strip()
    x = np.random.default_rng(0).uniform(-0.3, 0.3, size=(2, 16000)).astype("float32")
    a = keras.saving.load_model(run / "model.keras").predict(x, verbose=0)
    b = keras.saving.load_model(run / "model.h5").predict(x, verbose=0)
    np.testing.assert_allclose(a, b, atol=1e-6)
    np.testing.assert_allclose(a.sum(axis=1), 1.0, atol=1e-5)


def test_same_seed_gives_same_metrics(trained, demo_root, tmp_path):
    cwd, _ = trained
    first = json.loads((cwd / "models" / (cwd / "models" / "latest").read_text().strip() / "report" / "metrics.json").read_text())
    proc = _train(
        ["--arch", "cnn_lstm_small", "--data", f"demo={demo_root}", "--epochs", "2", "--batch-size", "8",
         "--seed", "7", "--out", str(tmp_path / "again"), *TINY],
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    second = json.loads((tmp_path / "again" / "report" / "metrics.json").read_text())
    assert second["accuracy"] == first["accuracy"] and second["ua"] == first["ua"]
    assert second["confusion_matrix"] == first["confusion_matrix"]


@pytest.mark.parametrize("args, message", [
    (["--arch", "nope"], "unknown --arch 'nope'.*cnn_lstm"),
    (["--set", "train.lerning_rate=1"], "unknown config key 'train.lerning_rate'"),
    (["--data", "wav2vec=/tmp"], "unknown corpus"),
    (["--data", "ravdess=/definitely/missing"], "/definitely/missing"),
    (["--data", "ravdess"], "corpus=PATH"),
])
def test_bad_command_lines_give_clear_errors(args, message, tmp_path):
    import re

    proc = _train(args, cwd=tmp_path, timeout=300)
    assert proc.returncode == 2
    assert re.search(message, proc.stderr, re.S | re.I), proc.stderr
    assert "Traceback" not in proc.stderr


def test_label_set_the_data_cannot_fill(demo_root, tmp_path):
    proc = _train(["--data", f"demo={demo_root}", "--labels", "all10", *TINY], cwd=tmp_path, timeout=300)
    assert proc.returncode == 2
    assert "boredom" in proc.stderr and "Traceback" not in proc.stderr


def test_kfold_reports_mean_and_std_and_resume_keeps_finished_folds(demo_root, tmp_path):
    run = tmp_path / "cv"
    args = ["--arch", "cnn_lstm_small", "--data", f"demo={demo_root}", "--split", "kfold", "--epochs", "1",
            "--batch-size", "8", "--set", "data.n_folds=2", "--out", str(run), *TINY]
    proc = _train(args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for fold in ("fold-1", "fold-2"):
        assert (run / fold / "model.keras").is_file() and (run / fold / "report" / "metrics.json").is_file()
        assert (run / fold / "labels.json").is_file()  # a fold model is usable on its own
    cv = json.loads((run / "report" / "metrics.json").read_text())
    assert {"ua", "ua_std", "accuracy", "accuracy_std", "macro_f1"} <= set(cv)
    assert (run / "model.keras").is_file() and json.loads((run / "export.json").read_text())["fold"] in ("fold-1", "fold-2")
    tested = [set(json.loads((run / f / "report" / "metrics.json").read_text())["per_speaker"]) for f in ("fold-1", "fold-2")]
    assert not tested[0] & tested[1] and len(tested[0] | tested[1]) == 6  # every speaker tested once

    # An interrupted run: fold-2 never finished. --resume keeps fold-1 and redoes fold-2 only.
    kept = (run / "fold-1" / "model.keras").stat().st_mtime_ns
    (run / "fold-2" / "report" / "metrics.json").unlink()
    proc = _train(["--resume", str(run)], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "[fold-1] finished earlier; kept" in proc.stdout
    assert (run / "fold-1" / "model.keras").stat().st_mtime_ns == kept
    assert (run / "fold-2" / "report" / "metrics.json").is_file()
