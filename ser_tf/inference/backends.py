"""What runs a model for ``Predictor``: a Keras model, or a TFLite (LiteRT) file exported by
``python -m ser_tf.export``.

A backend answers two questions, so the windowing, voice-activity gate, smoothing and output
formats of ``Predictor`` stay one piece of code whatever the engine:

* ``fixed_length``: samples per input when the model fixes them (``None``: any length);
* ``predict_batch(batch)``: class probabilities for windows ``(batch, samples)``.

The TFLite file is run by the LiteRT interpreter (``ai_edge_litert``, pinned in requirements.txt),
or by ``tf.lite.Interpreter`` where LiteRT is not installed. Its ``serving_default`` signature takes
``waveform`` ``(1, samples)`` and returns ``probabilities``, ``label`` and ``class_names`` (the
labels travel inside the file; see ``ser_tf.export``); batches are run one window at a time.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from ser_tf.errors import ModelError, ParameterError

TFLITE_SUFFIX = ".tflite"
# Names of the exported signature's input and outputs (ser_tf.export writes them).
WAVEFORM_INPUT = "waveform"
PROBABILITIES_OUTPUT = "probabilities"
CLASS_NAMES_OUTPUT = "class_names"


def is_tflite_path(path) -> bool:
    """True when ``path`` (a ``--model`` value) names a TFLite file."""
    return isinstance(path, (str, Path)) and Path(path).suffix.lower() == TFLITE_SUFFIX


def quiet_tone(samples: int) -> np.ndarray:
    """``(samples,)`` float32 tone at -40 dBFS: a harmless input for warming a model up.

    Not zeros: an int8 TFLite export's front-end divides by the clip's range, 0 for digital
    silence, and TFLite's int8 DIV then refuses to run (``Predictor`` never sends silence).
    """
    return (0.01 * np.sin(0.1 * np.arange(int(samples)))).astype(np.float32)


def _check_batch(batch) -> np.ndarray:
    batch = np.ascontiguousarray(batch, dtype=np.float32)
    if batch.ndim != 2:
        raise ParameterError(f"predict_batch expects (batch, samples), got shape {batch.shape}")
    return batch


class KerasBackend:
    """A loaded ``keras.Model`` (waveform ``(batch, samples)`` -> probabilities)."""

    def __init__(self, model):
        self.model = model
        self.num_outputs = int(model.outputs[0].shape[-1])
        fixed = tuple(model.inputs[0].shape)[1]
        self.fixed_length: Optional[int] = int(fixed) if fixed else None
        self.embedded_classes: Optional[List[str]] = None
        self._infer_fns: Dict[int, object] = {}

    def _infer_fn(self, length: int):
        """The inference graph for windows of ``length`` samples, any batch size: traced once, then
        called as a concrete function, which skips ``tf.function``'s argument binding per call.

        A graph with the batch fixed at 1 was measured for the one-window calls of a stream
        (issue 13): 4 % less CPU per window for the default model, but 60 % more for the CNN-LSTM,
        so every call shares this one.
        """
        fn = self._infer_fns.get(length)
        if fn is None:
            import tensorflow as tf

            model = self.model
            fn = tf.function(
                lambda x: model(x, training=False),
                input_signature=[tf.TensorSpec([None, length], tf.float32)],
                jit_compile=False,  # XLA on CPU: less CPU per call, but slower wall time and seconds to compile
                autograph=False,  # Keras layers are graph-safe; converting them only costs cold start
            ).get_concrete_function()
            self._infer_fns[length] = fn
        return fn

    def predict_batch(self, batch: np.ndarray) -> np.ndarray:
        """Probabilities ``(batch, num_classes)`` float64 for windows ``(batch, samples)`` float32."""
        batch = _check_batch(batch)
        return np.asarray(self._infer_fn(batch.shape[1])(batch), dtype=np.float64)


def tflite_interpreter(*, model_path=None, model_content=None, num_threads: Optional[int] = None):
    """A LiteRT ``Interpreter`` (``ai_edge_litert``), else ``tf.lite.Interpreter``, tensors allocated."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:  # LiteRT not installed: TensorFlow's own (deprecated) copy of the runtime
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter
    from ser_tf.utils.quiet import debug_requested, filtered_stderr

    # LiteRT announces its CPU delegate on stderr ("INFO: Created TensorFlow Lite XNNPACK ...").
    with contextlib.nullcontext() if debug_requested() else filtered_stderr():
        interpreter = Interpreter(model_path=None if model_path is None else str(model_path),
                                  model_content=model_content, num_threads=num_threads)
        interpreter.allocate_tensors()
    return interpreter


class TFLiteBackend:
    """A ``.tflite`` file written by ``ser_tf.export``, run by the LiteRT interpreter.

    Args:
        path: the ``.tflite`` file.

    Raises:
        ModelError: not a TFLite file, or not one of ser_tf's exports (no ``serving_default``
            signature mapping ``waveform`` to ``probabilities``).
    """

    def __init__(self, path):
        self.path = Path(path)
        if not self.path.is_file():
            raise ModelError(f"{self.path}: TFLite model not found")
        from ser_tf.inference.loading import check_container

        check_container(self.path)
        try:
            self.interpreter = tflite_interpreter(model_path=self.path)
            signatures = self.interpreter.get_signature_list()
        except (RuntimeError, ValueError) as err:
            raise ModelError(f"{self.path}: the LiteRT interpreter cannot load it: {err}") from None
        spec = signatures.get("serving_default", {})
        if WAVEFORM_INPUT not in spec.get("inputs", ()) or PROBABILITIES_OUTPUT not in spec.get("outputs", ()):
            raise ModelError(
                f"{self.path}: not a ser_tf export: expected a serving_default signature from "
                f"{WAVEFORM_INPUT!r} to {PROBABILITIES_OUTPUT!r}, got {signatures}"
            )
        self._runner = self.interpreter.get_signature_runner("serving_default")
        self._lock = threading.Lock()
        shape = self._runner.get_input_details()[WAVEFORM_INPUT]["shape"]
        self.fixed_length: Optional[int] = int(shape[1])
        outputs = self._run(quiet_tone(self.fixed_length)[None, :])  # reads the constant class names
        self.num_outputs = int(outputs[PROBABILITIES_OUTPUT].shape[-1])
        names = outputs.get(CLASS_NAMES_OUTPUT)
        self.embedded_classes = None if names is None else [
            n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in np.ravel(names)]

    def _run(self, window: np.ndarray) -> dict:
        # One interpreter holds one set of tensors: calls from several threads (the web app
        # classifies concurrently) must take turns, or they overwrite each other's input.
        with self._lock:
            return self._runner(**{WAVEFORM_INPUT: window})

    def predict_batch(self, batch: np.ndarray) -> np.ndarray:
        """Probabilities ``(batch, num_classes)`` float64; windows of ``fixed_length`` samples."""
        batch = _check_batch(batch)
        if batch.shape[1] != self.fixed_length:
            raise ParameterError(f"{self.path} takes windows of {self.fixed_length} samples, got {batch.shape[1]}")
        rows = [self._run(row[None, :])[PROBABILITIES_OUTPUT][0] for row in batch]
        return np.asarray(rows, dtype=np.float64).reshape(len(batch), self.num_outputs)
