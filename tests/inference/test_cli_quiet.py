"""``audio_test.py`` as a new user sees it: no TensorFlow start-up noise on stderr, unless asked for.

Run without ``TF_CPP_MIN_LOG_LEVEL`` (the suite sets it for itself), as a user's shell would.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from tests.inference import support

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "audio_test.py"
# What TensorFlow prints at start-up on a machine without a GPU: absl's pre-init notice, oneDNN,
# "Could not find cuda drivers", "E0000 ... failed call to cuInit", Python absl warnings.
NOISE = re.compile(r"cuda|oneDNN|absl|^[IEW]0000 ", re.IGNORECASE | re.MULTILINE)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("quiet") / "neutral.wav"
    sf.write(path, support.voice("neutral", 1.0, seed=1), support.SR)
    return path


def _run(args, *, debug=None):
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "SER_TF_DEBUG")}
    if debug is not None:
        env["SER_TF_DEBUG"] = debug
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=240)


def test_a_normal_run_prints_no_tensorflow_noise(clip, run_dir):
    proc = _run(["--file", str(clip), "--model", str(run_dir)])
    assert proc.returncode == 0, proc.stderr
    assert f"{clip} (1.00 s):" in proc.stdout and "%" in proc.stdout
    assert not NOISE.search(proc.stderr), proc.stderr
    assert proc.stderr.startswith("model: "), proc.stderr  # what is left is ours


def test_quiet_leaves_stderr_empty(clip, run_dir):
    proc = _run(["--file", str(clip), "--model", str(run_dir), "--quiet", "--json"])
    assert proc.returncode == 0, proc.stderr
    assert '"label"' in proc.stdout
    assert proc.stderr == ""


@pytest.mark.parametrize("flag, debug", [("--verbose", None), (None, "1")], ids=["--verbose", "SER_TF_DEBUG=1"])
def test_verbose_and_debug_show_the_raw_logs(clip, run_dir, flag, debug):
    proc = _run(["--file", str(clip), "--model", str(run_dir), *([flag] if flag else [])], debug=debug)
    assert proc.returncode == 0, proc.stderr
    assert f"{clip} (1.00 s):" in proc.stdout
    # TensorFlow 2.21 always opens with absl's pre-init notice and, without a GPU, the cuda lines.
    assert NOISE.search(proc.stderr), proc.stderr
