"""``train.py`` then ``evaluate.py`` on a small good corpus with the bad-input corpus
(``tests/fixtures/bad_audio.py``) mixed in: one tiny run, 1 epoch, shared by the assertions
(issue 14). Both are real subprocesses, as a user runs them."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import re
from tests.fixtures.bad_audio import OK, REFUSED, make_bad_audio, voice, _write

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--arch", "cnn_lstm_small", "--set", "audio.duration=1.0", "--set", "model.conv_filters=[4, 8]",
        "--set", "model.rnn_units=8", "--set", "model.dense_units=8"]


def _run(script, args, cwd):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, str(ROOT / script), *args], cwd=cwd, env=env, capture_output=True,
                          timeout=600)
    stderr = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0 and "Traceback" not in stderr, stderr[-3000:]
    return stderr


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """``(corpus, cases, run folder, train stderr)``: the cases under ``happy/`` beside 6 good clips
    each of ``sad/`` and ``neutral/``, trained on for 1 epoch with a random split."""
    work = tmp_path_factory.mktemp("bad_train")
    corpus = work / "corpus"
    cases = make_bad_audio(corpus / "happy")
    for k, emotion in enumerate(("sad", "neutral")):
        for i in range(6):
            (corpus / emotion).mkdir(parents=True, exist_ok=True)
            _write(corpus / emotion / f"{emotion}{i}.wav", voice(seed=2000 + 10 * k + i))
    stderr = _run("train.py", ["--data", f"folder={corpus}", "--split", "random", "--epochs", "1",
                               "--batch-size", "8", "--seed", "3", "--out", str(work / "run"), *TINY], work)
    return corpus, cases, work / "run", stderr


def _files(cases):
    return [c for c in cases if c.name != "directory"]  # the scanner walks into a directory


def _split_clips(report_md: str) -> int:
    """Clips in the train, val and test rows of a report's split table."""
    return sum(int(n) for n in re.findall(r"^\| (?:train|val|test) \| (\d+) \|", report_md, flags=re.M))


def test_training_skips_each_bad_file_with_a_count_and_loses_no_good_one(mixed):
    _, cases, run, stderr = mixed
    files = _files(cases)
    refused = [c for c in files if c.expected == REFUSED]
    assert f"left out {len(refused)} unreadable or empty audio file(s)" in stderr
    good = sum(c.expected == OK for c in files) + 12
    report_md = (run / "report" / "report.md").read_text(encoding="utf-8")
    assert _split_clips(report_md) == good
    # The report counts what was skipped and why; config.yaml names each file with its reason.
    assert f"**Skipped files** (unreadable or unusable): {len(refused)} file(s) not used:" in report_md
    assert "outside the accepted 4000-384000 Hz" in (run / "config.yaml").read_text(encoding="utf-8")


def test_evaluate_scores_the_valid_clips_and_names_the_skipped(mixed, tmp_path):
    corpus, cases, run, _ = mixed
    stderr = _run("evaluate.py", ["--model", str(run), "--data", f"folder={corpus}", "--out", str(tmp_path / "ev")],
                  tmp_path)
    files = _files(cases)
    refused = [c for c in files if c.expected == REFUSED]
    assert f"left out {len(refused)} unreadable or empty audio file(s)" in stderr
    metrics = json.loads(next((tmp_path / "ev").rglob("metrics.json")).read_text(encoding="utf-8"))
    report_md = next((tmp_path / "ev").rglob("report.md")).read_text(encoding="utf-8")
    assert f"**Skipped files** (unreadable or unusable): {len(refused)} file(s) not used:" in report_md
    assert metrics["n_clips"] == sum(c.expected == OK for c in files) + 12
