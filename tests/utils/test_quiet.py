"""ser_tf.utils.quiet: which stderr lines are TensorFlow start-up noise, and when filtering is off."""

import os
import sys

import pytest

from ser_tf.utils import quiet

# Lines TensorFlow 2.21 printed on a CPU-only machine at `import tensorflow` and the first device use.
NOISE = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
    "I0000 00:00:1796042163.887890   11556 port.cc:153] oneDNN custom operations are on. You may see "
    "slightly different numerical results due to floating-point round-off errors from different "
    "computation orders. To turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.\n",
    "I0000 00:00:1796042163.891041   11556 cudart_stub.cc:31] Could not find cuda drivers on your "
    "machine, GPU will not be used.\n",
    "I0000 00:00:1796042163.959612   11556 cpu_feature_guard.cc:227] This TensorFlow binary is "
    "optimized to use available CPU instructions in performance-critical operations.\n",
    "To enable the following instructions: AVX2 AVX512F AVX512_VNNI AVX512_BF16 FMA, in other "
    "operations, rebuild TensorFlow with the appropriate compiler flags.\n",
    "E0000 00:00:1796042168.291773   11556 cuda_platform.cc:52] failed call to cuInit: INTERNAL: "
    "CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)\n",
    "E0000 00:00:1700000000.000000    4242 cuda_dnn.cc:8310] Unable to register cuDNN factory: "
    "Attempting to register factory for plugin cuDNN when one has already been registered\n",
]
REAL = [
    "E0000 00:00:1796042168.291773   11556 op_kernel.cc:1857] OP_REQUIRES failed at "
    "decode_wav_op.cc:55 : INVALID_ARGUMENT: Bad header\n",
    "Traceback (most recent call last):\n",
    "ImportError: libcudnn.so.9: cannot open shared object file\n",
    "audio_test.py: warning: clip.wav: too short; skipped\n",
]


@pytest.mark.parametrize("line", NOISE)
def test_start_up_lines_are_noise(line):
    assert quiet.is_noise(line, min_level=2)


@pytest.mark.parametrize("line", REAL)
def test_real_errors_are_kept(line):
    assert not quiet.is_noise(line, min_level=2)


def test_cpp_lines_below_the_log_level_are_noise_and_others_kept():
    info = "I0000 00:00:1.5   7 some_new_file.cc:9] an info line nobody listed\n"
    warning = "W0000 00:00:1.5   7 some_new_file.cc:9] a warning nobody listed\n"
    assert quiet.is_noise(info, min_level=1)
    assert not quiet.is_noise(info, min_level=0)
    assert quiet.is_noise(warning, min_level=2) and not quiet.is_noise(warning, min_level=1)


def test_filter_noise_keeps_the_real_lines_in_order():
    text = "".join([NOISE[0], REAL[0], NOISE[5], REAL[1], REAL[2]])
    assert quiet.filter_noise(text, min_level=2) == "".join([REAL[0], REAL[1], REAL[2]])


def test_filtered_stderr_drops_noise_written_to_fd_2(capfd):
    with quiet.filtered_stderr():
        os.write(2, (NOISE[5] + REAL[0]).encode())
        print("python stderr line", file=sys.stderr)
    err = capfd.readouterr().err
    assert "cuInit" not in err
    assert REAL[0] in err and "python stderr line" in err


@pytest.mark.parametrize("verbose, env, wanted", [
    (False, None, False), (True, None, True), (False, "1", True), (False, "0", False), (False, "", False),
])
def test_debug_requested(monkeypatch, verbose, env, wanted):
    if env is None:
        monkeypatch.delenv(quiet.DEBUG_ENV, raising=False)
    else:
        monkeypatch.setenv(quiet.DEBUG_ENV, env)
    assert quiet.debug_requested(verbose) is wanted


def test_verbose_leaves_tensorflow_alone(monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    monkeypatch.setattr(quiet, "_started", False)

    def must_not_import():
        raise AssertionError("imported under --verbose")

    assert quiet.quiet_tensorflow(verbose=True, import_tensorflow=must_not_import) is False
    assert "TF_CPP_MIN_LOG_LEVEL" not in os.environ
    monkeypatch.setenv(quiet.DEBUG_ENV, "1")
    assert quiet.quiet_tensorflow(import_tensorflow=must_not_import) is False


def test_quiet_tensorflow_keeps_the_users_log_level(monkeypatch):
    monkeypatch.delenv(quiet.DEBUG_ENV, raising=False)
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "1")
    monkeypatch.setattr(quiet, "_started", False)
    assert quiet.quiet_tensorflow() is True
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "1"
