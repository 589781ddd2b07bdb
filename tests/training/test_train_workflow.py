"""train.py as a user runs it: one short run on a small generated demo corpus, every artefact checked."""

import csv
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from ser_tf import runs

ROOT = Path(__file__).resolve().parents[2]

# A tiny network and a short clip keep one epoch to seconds on a 2-core machine.
TINY = [
    "--set", "audio.duration=1.0",
    "--set", "model.conv_filters=[4, 8]",
    "--set", "model.rnn_units=8",
    "--set", "model.dense_units=8",
]


def _train(args, cwd, timeout=600, models=None, extra_env=None):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(ROOT), **(extra_env or {}))
    env.pop(runs.MODELS_ENV, None)
    if models is not None:
        env[runs.MODELS_ENV] = str(models)
    return subprocess.run(
        [sys.executable, str(ROOT / "train.py"), *args], cwd=cwd, env=env,
        capture_output=True, text=True, timeout=timeout,
    )


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    from ser_tf.data.corpora.demo import ensure_demo_corpus

    return ensure_demo_corpus(tmp_path_factory.mktemp("demo"), n_speakers=6, clips_per_emotion=1)


def _wandb_args(home):
    """``--wandb`` and an offline, sandboxed W&B environment when the optional extra is installed
    (the same run then also checks the W&B logging; never any network)."""
    if importlib.util.find_spec("wandb") is None:
        return [], {}
    env = {"WANDB_MODE": "offline", "WANDB_CONFIG_DIR": str(home / "config"),
           "WANDB_CACHE_DIR": str(home / "cache"), "WANDB_DATA_DIR": str(home / "data")}
    return ["--wandb", "ser-tf-test"], env


@pytest.fixture(scope="module")
def trained(demo_root, tmp_path_factory):
    """One run, written where $SER_TF_MODELS says (not ./models); returns (run folder, process)."""
    cwd = tmp_path_factory.mktemp("work")
    wandb_args, wandb_env = _wandb_args(cwd / "wandb-home")
    proc = _train(
        ["--arch", "cnn_lstm_small", "--data", f"demo={demo_root}", "--epochs", "2", "--batch-size", "8",
         "--seed", "7", *TINY, *wandb_args],
        cwd=cwd, models=cwd / "shared-models", extra_env=wandb_env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not (cwd / runs.DEFAULT_MODELS_DIR).exists()  # training honours $SER_TF_MODELS
    return runs.latest_run(cwd / "shared-models"), proc


def test_run_folder_has_every_artefact(trained, monkeypatch):
    run, proc = trained
    monkeypatch.setenv(runs.MODELS_ENV, str(run.path.parent))
    assert runs.resolve_model_path() == run.model_keras  # where inference looks by default
    assert run.path.name.startswith("cnn_lstm_small-")
    figures = [run.report.path / f"{name}.png" for name in (
        "confusion_matrix", "confusion_matrix_normalized", "roc_curves", "training_curves")]
    for path in [*run.model_files, run.labels, run.config, run.history_csv, run.selection,
                 run.report.metrics, run.report.markdown, *figures]:
        assert path.is_file(), path
    assert any(run.logs.rglob("*")), "TensorBoard logs missing"
    assert not run.backup.exists()  # removed once the run finished
    labels = json.loads(run.labels.read_text())
    assert labels["classes"] == ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"]
    assert labels["demo_data"] is True and labels["corpora"] == ["demo"]
    config = yaml.safe_load(run.config.read_text())
    splits = config["resolved"]["splits"]["holdout"]
    assert not set(splits["train"]) & set(splits["test"]) and not set(splits["val"]) & set(splits["test"])
    assert config["resolved"]["data_roots"]["demo"]
    with open(run.history_csv) as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 and {"loss", "val_loss", "accuracy", "val_accuracy"} <= set(rows[0])
    metrics = json.loads(run.report.metrics.read_text())
    assert {"accuracy", "ua", "macro_f1", "per_class", "roc_auc", "protocol"} <= set(metrics)
    assert metrics["protocol"]["speaker_independent"] is True
    assert "UA" in proc.stdout and "DEMO" in proc.stdout.upper()


def test_final_model_split_trains_on_every_speaker_and_reports_no_test_figures(demo_root, tmp_path, capsys):
    """data.test_fraction=0: train + validation speakers only; no test metrics anywhere."""
    from ser_tf.training.cli import main

    run = runs.RunFolder(tmp_path / "final")
    code = main(["--arch", "cnn_lstm_small", "--data", f"demo={demo_root}", "--epochs", "1",
                 "--batch-size", "8", "--seed", "7", "--out", str(run.path), "--split", "speaker",
                 "--set", "data.test_fraction=0", "--set", "train.early_stopping.monitor=val_ua", *TINY])
    out = capsys.readouterr().out
    assert code == 0
    for path in [*run.model_files, run.labels, run.config, run.history_csv, run.selection,
                 run.report.metrics, run.report.markdown]:
        assert path.is_file(), path
    splits = yaml.safe_load(run.config.read_text())["resolved"]["splits"]
    assert list(splits) == ["final"] and splits["final"]["test"] == []
    assert len(splits["final"]["train"]) + len(splits["final"]["val"]) == 6 and len(splits["final"]["val"]) == 1
    metrics = json.loads(run.report.metrics.read_text())
    assert metrics["test"] is None and "ua" not in metrics and "accuracy" not in metrics
    assert metrics["protocol"]["final_model"] is True and metrics["protocol"]["test"]["n_speakers"] == 0
    assert "no test speakers" in run.report.markdown.read_text()
    assert json.loads(run.selection.read_text())["monitor"] == "val_ua"
    assert json.loads(run.labels.read_text())["demo_data"] is True
    summary = out.split("Evaluation protocol")[-1]  # the console summary train.py ends with
    assert "No test speakers: a final model; see the cross-validation run" in summary and "UA " not in summary
    assert not (run.report.path / "confusion_matrix.png").exists()


def test_saved_models_reload_and_predict_like_each_other(trained):
    import keras

    import ser_tf.layers  # noqa: F401  (registers the front-end)
    from ser_tf.models.registry import list_archs

    list_archs()  # registers every family's layers
    run, _ = trained
    x = np.random.default_rng(0).uniform(-0.3, 0.3, size=(2, 16000)).astype("float32")
    a, b = (keras.saving.load_model(path).predict(x, verbose=0) for path in run.model_files)
    np.testing.assert_allclose(a, b, atol=1e-6)
    np.testing.assert_allclose(a.sum(axis=1), 1.0, atol=1e-5)


def test_same_seed_gives_same_metrics(trained, demo_root, tmp_path):
    run, _ = trained
    first = json.loads(run.report.metrics.read_text())
    proc = _train(
        ["--arch", "cnn_lstm_small", "--data", f"demo={demo_root}", "--epochs", "2", "--batch-size", "8",
         "--seed", "7", "--out", str(tmp_path / "again"), *TINY],
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    second = json.loads(runs.RunFolder(tmp_path / "again").report.metrics.read_text())
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
    run = runs.RunFolder(tmp_path / "cv")
    args = ["--arch", "cnn_lstm_small", "--data", f"demo={demo_root}", "--split", "kfold", "--epochs", "1",
            "--batch-size", "8", "--set", "data.n_folds=2", "--out", str(run.path), *TINY]
    proc = _train(args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    folds = [run.fold(1), run.fold(2)]
    assert run.folds() == folds
    for fold in folds:
        assert fold.model_keras.is_file() and fold.report.metrics.is_file()
        assert fold.labels.is_file()  # a fold model is usable on its own
        assert runs.resolve_model_path(fold.path) == fold.model_keras
    cv = json.loads(run.report.metrics.read_text())
    assert {"ua", "ua_std", "accuracy", "accuracy_std", "macro_f1"} <= set(cv)
    assert [row["fold"] for row in cv["per_fold"]] == [1, 2]
    assert sorted(p.name for p in run.report.path.glob("training_curves_fold*")) == [
        "training_curves_fold1.png", "training_curves_fold2.png"]  # numbered like fold-1, fold-2
    exported = json.loads(run.export.read_text())["fold"]
    assert run.model_keras.is_file() and exported in [f.path.name for f in folds]
    tested = [set(json.loads(f.report.metrics.read_text())["per_speaker"]) for f in folds]
    assert not tested[0] & tested[1] and len(tested[0] | tested[1]) == 6  # every speaker tested once

    # An interrupted run: fold-2 never finished. --resume keeps fold-1 and redoes fold-2 only.
    kept = folds[0].model_keras.stat().st_mtime_ns
    folds[1].report.metrics.unlink()
    proc = _train(["--resume", str(run.path)], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "[fold-1] finished earlier; kept" in proc.stdout
    assert folds[0].model_keras.stat().st_mtime_ns == kept
    assert folds[1].report.metrics.is_file()


def _event_values(log_dir):
    """``{tag: {step: summary value}}`` of every event file directly in ``log_dir``."""
    import tensorflow as tf

    found = {}
    for path in sorted(log_dir.glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                found.setdefault(value.tag, {})[event.step] = value
    return found


def test_tensorboard_logs_hparams_per_class_recall_and_confusion_matrix(trained):
    """Two epochs with the default confusion_matrix_every (5): recall at both epochs, the image at
    the last one only (step 1; steps are Keras's 0-based epochs)."""
    import io

    import tensorflow as tf
    from PIL import Image
    from tensorboard.plugins.hparams import plugin_data_pb2

    run, _ = trained
    classes = json.loads(run.labels.read_text())["classes"]
    session = _event_values(run.logs)["_hparams_/session_start_info"][0]
    content = plugin_data_pb2.HParamsPluginData.FromString(session.metadata.plugin_data.content)
    hparams = {key: value.WhichOneof("kind") and getattr(value, value.WhichOneof("kind"))
               for key, value in content.session_start_info.hparams.items()}
    assert hparams["seed"] == 7 and hparams["train.batch_size"] == 8 and hparams["model.arch"] == "cnn_lstm_small"
    assert hparams["model.rnn_units"] == 8 and hparams["classes"] == ",".join(classes)

    validation = _event_values(run.logs / "validation")
    recall_tags = {tag for tag in validation if tag.startswith("recall/")}
    assert recall_tags == {f"recall/{name}" for name in classes}  # every demo speaker has every emotion
    for tag in recall_tags:
        values = {step: float(tf.make_ndarray(v.tensor)) for step, v in validation[tag].items()}
        assert sorted(values) == [0, 1] and all(0.0 <= x <= 1.0 for x in values.values()), (tag, values)
    assert sorted(validation["epoch_ua"]) == [0, 1]  # Keras's own scalars carry the UA too
    images = validation["confusion_matrix"]
    assert sorted(images) == [1]
    width, height, png = images[1].tensor.string_val
    image = np.asarray(Image.open(io.BytesIO(png)))
    assert image.shape[:2] == (int(height), int(width)) and image.shape[0] > 200


def _wandb_records(path):
    """The protobuf records of a W&B ``.wandb`` transaction log: wandb's LevelDB-style framing (a
    7-byte file header, 32 KiB blocks of chunks with a 7-byte ``crc32, length, type`` header),
    read here because wandb 0.31 writes no ``wandb-summary.json`` for an offline run."""
    import struct

    from wandb.proto import wandb_internal_pb2

    data, block, pos, pending, records = path.read_bytes(), 32768, 7, b"", []
    assert data[:4] == b":W&B"
    while pos + 7 <= len(data):
        if block - pos % block < 7:  # a block's tail too short for a header is padding
            pos += block - pos % block
            continue
        _, length, kind = struct.unpack("<IHB", data[pos:pos + 7])
        pending += data[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):  # a full record, or the last chunk of one
            records.append(wandb_internal_pb2.Record.FromString(pending))
            pending = b""
    return records


def test_wandb_offline_run_logs_config_metrics_recall_and_confusion_matrix(trained):
    pytest.importorskip("wandb", reason="wandb is an optional extra: pip install -r requirements-extras.txt")
    run, _ = trained
    classes = json.loads(run.labels.read_text())["classes"]
    (folder,) = run.wandb.glob("offline-run-*")
    records = _wandb_records(next(folder.glob("run-*.wandb")))
    (started,) = [r.run for r in records if r.WhichOneof("record_type") == "run"]
    assert started.project == "ser-tf-test" and started.run_group == run.path.name
    assert started.display_name == "holdout"
    config = {item.key: json.loads(item.value_json) for item in started.config.update}
    assert config["seed"] == 7 and config["train"]["batch_size"] == 8 and config["classes"] == classes
    rows = [{"/".join(item.nested_key) or item.key: json.loads(item.value_json) for item in r.history.item}
            for r in records if r.WhichOneof("record_type") == "history"]
    assert [row["epoch"] for row in rows] == [1, 2] and [row["_step"] for row in rows] == [0, 1]
    for row in rows:
        assert {"loss", "accuracy", "val_loss", "val_accuracy", "val_ua"} <= set(row)
        assert all(0.0 <= row[f"val_recall/{name}"] <= 1.0 for name in classes)
    assert "val_confusion_matrix/path" not in rows[0]  # the image: at the last epoch only (default every 5)
    image = folder / "files" / rows[1]["val_confusion_matrix/path"]
    assert rows[1]["val_confusion_matrix/_type"] == "image-file" and image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
