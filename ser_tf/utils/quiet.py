"""A quiet TensorFlow start-up for the command-line tools.

``import tensorflow`` and the first device look-up print a dozen lines on stderr: oneDNN and
CPU-feature notices, "Could not find cuda drivers", and ``E0000 ... failed call to cuInit: ...
UNKNOWN ERROR (303)`` on a machine without a GPU, which reads like a failure and is not one. Those
lines are written before TensorFlow initialises its logging, so ``TF_CPP_MIN_LOG_LEVEL`` does not
hide them. ``quiet_tensorflow`` imports TensorFlow with the C-level stderr (file descriptor 2)
sent to a temporary file, then restores it and prints back every captured line that is not
start-up noise: a real error or a Python traceback during the import still shows.

A line is start-up noise when it is

* a C++ log line (``I0000 00:00:... file.cc:12] ...``) below ``TF_CPP_MIN_LOG_LEVEL``
  (0 info, 1 warning, 2 error, 3 fatal) -- what TensorFlow itself would hide after start-up;
* or it matches one of ``NOISE_PATTERNS``: known lines, any level, that say nothing is wrong on
  a CPU-only machine or a correctly set-up GPU one.

``--verbose`` on every CLI, or ``SER_TF_DEBUG=1`` in the environment, leaves everything alone.

Nothing here imports TensorFlow at module level: the CLIs import this before they parse
arguments, and ``--help`` stays instant.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import sys
import tempfile
from typing import Callable, Iterator, Optional

DEBUG_ENV = "SER_TF_DEBUG"
# Hides TensorFlow's own C++ info and warning lines once its logging is initialised. Set only
# when the user has not set it; the same number filters the lines captured before that.
DEFAULT_MIN_LOG_LEVEL = "2"

# Known start-up lines that are not a problem (searched anywhere in the line).
NOISE_PATTERNS = tuple(re.compile(p) for p in (
    r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR",
    r"oneDNN custom operations are on",                      # numerics note, every CPU start-up
    r"This TensorFlow binary is optimized to use available CPU instructions",
    r"^To enable the following instructions: .*rebuild TensorFlow",  # continues the line above
    r"Could not find cuda drivers on your machine",          # cudart_stub: CPU-only machine
    r"failed call to cuInit",                                # E line: no GPU driver, runs on CPU
    r"Unable to register cu(DNN|FFT|BLAS) factory",          # plugin registered twice (GPU builds)
    r"Attempting to register factory for plugin",
    r"computation placer already registered",                # computation_placer.cc
    r"TF-TRT Warning: Could not find TensorRT",              # TensorRT is optional
    r"could not open file to read NUMA node",                # cuda_executor on some GPU hosts
    r"successful NUMA node read from SysFS had negative value",
    r"^INFO: Created TensorFlow Lite XNNPACK delegate for CPU",  # LiteRT's default CPU delegate
    r"^fully_quantize: \d+, inference_type: \d+, input_inference_type",  # TFLite's int8 quantiser
))
# A C++ (absl/glog) log line: severity letter, MMDD, time, thread id, file:line].
_CPP_LOG_LINE = re.compile(r"^([IWEF])\d{4} \d\d:\d\d:[\d.]+ +\d+ [^\]]+\] ")
_SEVERITY = {"I": 0, "W": 1, "E": 2, "F": 3}

_started = False  # quiet_tensorflow has run in this process


def debug_requested(verbose: bool = False) -> bool:
    """True when the raw logs are wanted: ``verbose`` (``--verbose``) or ``SER_TF_DEBUG`` set to
    anything but empty or ``0``."""
    return bool(verbose) or os.environ.get(DEBUG_ENV, "").strip() not in ("", "0")


def _min_log_level() -> int:
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        return 0


def is_noise(line: str, *, min_level: Optional[int] = None) -> bool:
    """Whether ``line`` (one stderr line) is TensorFlow start-up noise; see the module docstring.

    Args:
        line: the line, with or without its newline.
        min_level: C++ log lines below this severity (0 info .. 3 fatal) are noise; default:
            ``TF_CPP_MIN_LOG_LEVEL`` (0 when unset).
    """
    level = _min_log_level() if min_level is None else min_level
    match = _CPP_LOG_LINE.match(line)
    if match and _SEVERITY[match.group(1)] < level:
        return True
    return any(p.search(line) for p in NOISE_PATTERNS)


def filter_noise(text: str, *, min_level: Optional[int] = None) -> str:
    """``text`` without its start-up noise lines (``is_noise``); every other line kept as is."""
    return "".join(line for line in text.splitlines(keepends=True) if not is_noise(line, min_level=min_level))


@contextlib.contextmanager
def filtered_stderr() -> Iterator[None]:
    """Send file descriptor 2 to a temporary file for the block, then write back to
    ``sys.stderr`` what ``filter_noise`` keeps. Python's ``sys.stderr`` is flushed either side, so
    messages keep their order. If fd 2 cannot be duplicated (closed), the block runs unfiltered."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = filter_noise(capture.read().decode("utf-8", "replace"))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()


def _import_tensorflow() -> None:
    importlib.import_module("tensorflow")


def quiet_tensorflow(verbose: bool = False, *, import_tensorflow: Optional[Callable[[], None]] = None) -> bool:
    """Import TensorFlow and find its devices without the start-up noise; returns whether the
    filtering was applied (``False`` with ``verbose`` or ``SER_TF_DEBUG=1``: nothing is changed).

    Sets ``TF_CPP_MIN_LOG_LEVEL`` to ``DEFAULT_MIN_LOG_LEVEL`` unless the user set it, runs the
    import and the first device look-up (where ``cuInit`` is called) inside ``filtered_stderr``,
    and sets absl's Python logger to errors only (its warnings are Keras internals, e.g. "Compiled
    the loaded model, but the compiled metrics have yet to be built"). Call it once, in a CLI,
    before anything imports TensorFlow; later calls do nothing.

    Args:
        verbose: keep every log line (``--verbose``).
        import_tensorflow: does the import, e.g. one that imports Keras lean; default
            ``import tensorflow``.
    """
    global _started
    if debug_requested(verbose):
        return False
    if _started:
        return True
    _started = True
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", DEFAULT_MIN_LOG_LEVEL)
    with filtered_stderr():
        (import_tensorflow or _import_tensorflow)()
        tf = importlib.import_module("tensorflow")
        tf.config.list_physical_devices()  # cuInit happens here, not at import
    absl_logging = importlib.import_module("absl.logging")  # imported by TensorFlow
    absl_logging.set_verbosity(absl_logging.ERROR)
    return True
