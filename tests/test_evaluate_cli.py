"""evaluate.py as a user runs it, on the model trained by the workflow test's recipe."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ser_tf import runs

ROOT = Path(__file__).resolve().parents[1]


def _run(script, args, cwd, timeout=600):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(ROOT))
    env.pop(runs.MODELS_ENV, None)  # train.py and evaluate.py both use ./models under cwd
    return subprocess.run([sys.executable, str(ROOT / script), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def run_and_corpora(tmp_path_factory):
    from ser_tf.data.corpora.demo import ensure_demo_corpus

    demo = ensure_demo_corpus(tmp_path_factory.mktemp("demo"), n_speakers=4, clips_per_emotion=1)
    cwd = tmp_path_factory.mktemp("work")
    proc = _run("train.py", ["--arch", "cnn_lstm_small", "--data", f"demo={demo}", "--epochs", "1",
                             "--batch-size", "8", "--labels", "angry,happy,sad,neutral,calm",
                             "--set", "audio.duration=1.0", "--set", "model.conv_filters=[4, 8]",
                             "--set", "model.rnn_units=8", "--set", "model.dense_units=8"], cwd)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return cwd, demo


def test_cross_corpus_scoring_keeps_shared_classes_and_says_what_was_left_out(run_and_corpora):
    cwd, demo = run_and_corpora
    proc = _run("evaluate.py", ["--data", f"demo={demo}", "--out", "eval"], cwd)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = runs.ReportFolder(cwd / "eval")
    metrics = json.loads(report.metrics.read_text())
    cross = metrics["protocol"]["cross_corpus"]
    assert set(cross["shared_classes"]) == {"angry", "happy", "sad", "neutral", "calm"}
    assert set(cross["data_only_classes"]) == {"fearful", "disgust", "surprised"}
    assert cross["n_clips_dropped"] == 4 * 3  # one clip per speaker and left-out emotion
    assert metrics["n_clips"] == 4 * 5
    assert {"accuracy", "ua", "macro_f1", "per_class", "roc_auc"} <= set(metrics)
    assert report.markdown.is_file() and "UA" in proc.stdout


def test_missing_model_is_a_clear_error(tmp_path, run_and_corpora):
    _, demo = run_and_corpora
    proc = _run("evaluate.py", ["--model", str(tmp_path / "nope.keras"), "--data", f"demo={demo}"], tmp_path)
    assert proc.returncode == 2 and "nope.keras" in proc.stderr and "Traceback" not in proc.stderr


def test_split_scores_only_the_runs_own_test_speakers(run_and_corpora):
    cwd, demo = run_and_corpora
    run = runs.latest_run(cwd / runs.DEFAULT_MODELS_DIR)
    import yaml

    recorded = yaml.safe_load(run.config.read_text())["resolved"]["splits"]["holdout"]["test"]
    proc = _run("evaluate.py", ["--data", f"demo={demo}", "--split", "speaker", "--out", "eval-split"], cwd)
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads(runs.ReportFolder(cwd / "eval-split").metrics.read_text())
    assert sorted(metrics["per_speaker"]) == sorted(recorded)
    assert metrics["protocol"]["speaker_independent"] is True

    proc = _run("evaluate.py", ["--data", f"demo={demo}", "--split", "random"], cwd)
    assert proc.returncode == 2 and "only the split the run was trained with" in proc.stderr


def test_the_default_model_scores_a_corpus(run_and_corpora, tmp_path):
    _, demo = run_and_corpora
    proc = _run("evaluate.py", ["--model", "default", "--data", f"demo={demo}", "--out", "eval"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads(runs.ReportFolder(tmp_path / "eval").metrics.read_text())
    assert metrics["n_clips"] == 4 * 8  # the demo corpus's eight emotions are the model's eight
    assert "/pretrained/default-" in metrics["protocol"]["model"]


def test_label_conflicts_are_reported_and_the_flag_reaches_the_data(run_and_corpora, tmp_path):
    from tests.data.support import write_conflict_corpus

    cwd, _ = run_and_corpora
    paths = write_conflict_corpus(tmp_path / "byclass")
    proc = _run("evaluate.py", ["--data", f"folder={tmp_path / 'byclass'}", "--out", str(tmp_path / "eval"),
                                "--on-label-conflict", "keep-first"], cwd)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = runs.ReportFolder(tmp_path / "eval")
    line = json.loads(report.metrics.read_text())["protocol"]["label_conflicts"]
    assert line.startswith("1 set(s) of identical clips (2 files), the first of each kept: ")
    assert f"`{paths['disgust']}` (disgust) = `{paths['fearful']}` (fearful)" in line
    assert "**Label conflicts**" in report.markdown.read_text()
    assert "1 set(s) of identical clips carry different emotions" in proc.stderr
