"""train.py killed with SIGKILL mid-epoch and continued with --resume equals an uninterrupted run.

Real processes and a real SIGKILL: the run is started as a subprocess, the test waits until the
epoch backup of epoch ``KILL_AFTER`` is committed (``backup/training_metadata.json``), kills the
process while it trains the next epoch, and resumes the folder. Metrics must match exactly
(tolerance 0): on one CPU thread every op here is deterministic, which the two uninterrupted
reference runs of the same seed in this file also show by agreeing with their resumed twins.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ser_tf import runs
from ser_tf.training.resume import METADATA
from tests.processes import sigkilled_on_exit

ROOT = Path(__file__).resolve().parents[2]
EPOCHS = 4
KILL_AFTER = 2  # backups committed before the kill; the kill lands inside epoch KILL_AFTER + 1
# A tiny TDNN (dropout and SpecAugment on, so the layers' random state matters), short clips,
# and augmentation on, so the data order and the per-epoch draws matter too.
TINY = [
    "--arch", "tdnn_stats", "--epochs", str(EPOCHS), "--batch-size", "4", "--seed", "11",
    "--set", "audio.duration=0.5",
    "--set", "model.conv_filters=[4, 4, 4, 4]",
    "--set", "model.dense_units=8",
    "--set", "augment.noise.enabled=true",
    "--set", "augment.shift.enabled=true",
    "--set", "train.early_stopping.patience=10",
]


def _env():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(ROOT), TF_NUM_INTEROP_THREADS="1",
               TF_NUM_INTRAOP_THREADS="1", TF_DETERMINISTIC_OPS="1")
    env.pop(runs.MODELS_ENV, None)
    return env


def _train(args, cwd):
    proc = subprocess.run([sys.executable, str(ROOT / "train.py"), *args], cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    return proc


def _kill_inside_next_epoch(args, cwd, backup_dir: Path) -> None:
    """Start train.py, SIGKILL it once the backup of epoch KILL_AFTER is committed, and check
    the kill came before the next epoch's backup (i.e. inside that epoch)."""
    meta = backup_dir / METADATA
    with sigkilled_on_exit([sys.executable, str(ROOT / "train.py"), *args], cwd=cwd, env=_env(),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as proc:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            if meta.is_file() and json.loads(meta.read_text())["epoch"] >= KILL_AFTER:
                break
            time.sleep(0.02)
        assert proc.poll() is None, f"train.py ended before the kill: {proc.stderr.read()[-2000:]}"
    assert proc.returncode == -signal.SIGKILL
    assert json.loads(meta.read_text())["epoch"] == KILL_AFTER  # killed inside epoch KILL_AFTER + 1


def _history(path: Path):
    with open(path, newline="") as fh:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(fh)]


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    from ser_tf.data.corpora.demo import ensure_demo_corpus

    return ensure_demo_corpus(tmp_path_factory.mktemp("demo"), n_speakers=6, clips_per_emotion=1)


def _reference_and_resumed(tmp_path_factory, demo_root, extra, fold: str):
    """One uninterrupted run and one killed-and-resumed run of the same seed; their run folders."""
    cwd = tmp_path_factory.mktemp("work")
    args = [*TINY, "--data", f"demo={demo_root}", *extra]
    _train([*args, "--out", str(cwd / "reference")], cwd)
    resumed = cwd / "resumed"
    _kill_inside_next_epoch([*args, "--out", str(resumed)], cwd, resumed / fold / "backup")
    proc = _train(["--resume", str(resumed)], cwd)
    return cwd / "reference", resumed, proc


@pytest.fixture(scope="module")
def single(tmp_path_factory, demo_root):
    return _reference_and_resumed(tmp_path_factory, demo_root, [], fold="")


@pytest.fixture(scope="module")
def kfold(tmp_path_factory, demo_root):
    extra = ["--split", "kfold", "--set", "data.n_folds=3", "--set", "data.only_folds=[1, 2]"]
    return _reference_and_resumed(tmp_path_factory, demo_root, extra, fold="fold-2")


def _assert_same_run(reference: Path, resumed: Path, folds):
    for fold in folds:
        ref_hist, got_hist = _history(reference / fold / "training_history.csv"), \
            _history(resumed / fold / "training_history.csv")
        assert len(got_hist) == len(ref_hist) == EPOCHS  # no epoch lost or logged twice
        assert got_hist == ref_hist  # tolerance 0: every epoch, every metric
        assert not (resumed / fold / "backup").exists()  # removed once the fold finished
    ref = json.loads((reference / "report" / "metrics.json").read_text())
    got = json.loads((resumed / "report" / "metrics.json").read_text())
    for key in ("ua", "accuracy", "macro_f1"):
        value = ref.get(key, ref.get("mean", {}).get(key))
        assert value is not None
        assert got.get(key, got.get("mean", {}).get(key)) == value


def test_resumed_run_equals_the_uninterrupted_one(single):
    reference, resumed, proc = single
    _assert_same_run(reference, resumed, folds=[""])
    assert runs.latest_run(resumed.parent).path == resumed  # the pointer names the finished run


def test_kfold_run_killed_in_fold_2_equals_the_uninterrupted_one(kfold):
    reference, resumed, proc = kfold
    assert "[fold-1] finished earlier; kept" in proc.stdout
    _assert_same_run(reference, resumed, folds=["fold-1", "fold-2"])
