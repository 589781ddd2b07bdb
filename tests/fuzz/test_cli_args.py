"""Fuzz properties of the command lines' flags (``tests/fuzz/cli_properties.py``): a usage error
naming the value, ser_tf's own error, or a parse with every value in range; and one subprocess per
command showing that a bad value reaches the user as one line, with no traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.cli_properties import CLI_PROPERTIES
from tests.fuzz.support import run_property

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", sorted(CLI_PROPERTIES))
def test_property_holds(name):
    strategy, check = CLI_PROPERTIES[name]
    run_property(name, strategy, check)


@pytest.mark.parametrize("argv, named", [
    (["train.py", "--set", "audio.duration=-1"], "audio.duration must be a finite number of seconds > 0, got -1"),
    (["train.py", "--set", "features.hop_length=abc"], "features.hop_length"),
    (["train.py", "--epochs", "0"], "train.epochs must be an integer >= 1, got 0"),
    (["audio_test.py", "--file", "a.wav", "--window", "-2"], "--window must be a finite number of seconds > 0, got -2.0"),
    (["-m", "ser_tf.data", "--val-fraction", "1.5"], "--val-fraction must lie strictly between 0 and 1, got 1.5"),
    (["evaluate.py", "--data", "folder=/x", "--split", "kfold"], "invalid choice: 'kfold'"),
])
def test_bad_value_is_one_line_without_traceback(argv, named, tmp_path):
    """A real process, as a user runs it: exit status 2, the value named, no traceback."""
    cmd = [sys.executable, *(str(ROOT / a) if a.endswith(".py") else a for a in argv)]
    done = subprocess.run(cmd, cwd=tmp_path if argv[0] != "-m" else ROOT, capture_output=True,
                          text=True, timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                                                       "TF_CPP_MIN_LOG_LEVEL": "3", "HOME": str(tmp_path)})
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert named in done.stderr, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
