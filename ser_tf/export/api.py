"""``export_model``: a trained ser_tf model (a run, a ``.keras`` file, or ``default``) to TFLite or
SavedModel, with its labels inside the file and in a ``labels.json`` beside it.

    from ser_tf.export import export_model
    result = export_model("models/latest", format="tflite", quantize="int8",
                          calibration_data="ravdess=/data/ravdess", out="exports/ser.tflite")

Layout written:

    tflite:      OUT (a .tflite file) and labels.json in the same folder
    savedmodel:  OUT/ (saved_model.pb, variables/) with OUT/labels.json

``labels.json`` is the run's own (classes, sample rate, window, arch, ...) plus an ``export``
section saying the format, quantisation, input and outputs, so ``audio_test.py --model OUT`` and
any other reader know what the file takes and returns.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import List, Optional

from ser_tf.errors import ExportError, ParameterError
from ser_tf.export import tflite
from ser_tf.export.calibration import DEFAULT_CALIBRATION_CLIPS, calibration_windows
from ser_tf.export.signature import OUTPUT_NAMES
from ser_tf.inference import loading
from ser_tf.inference.backends import TFLITE_SUFFIX, WAVEFORM_INPUT, KerasBackend
from ser_tf.inference.choice import choose_model
from ser_tf.runs import RunFolder
from ser_tf.utils.io import write_json

FORMATS = ("tflite", "savedmodel")
LABELS_FILE = "labels.json"
# Calibration windows on which an int8 export is compared with its Keras model (a quick check, on
# clips the calibration saw: it catches a model that int8 breaks, it does not measure accuracy).
AGREEMENT_WINDOWS = 32
DEMO_CALIBRATION = "demo"


@dataclasses.dataclass(frozen=True)
class ExportResult:
    """What ``export_model`` wrote.

    Attributes:
        path: the ``.tflite`` file or the SavedModel folder.
        labels: the ``labels.json`` beside it.
        format, quantize: as asked.
        classes: class names in output order.
        window_samples: samples per input (TFLite: fixed; SavedModel: ``None`` when any length goes).
        size_bytes: the ``.tflite`` file's size, or the SavedModel folder's total.
        source: the Keras model file exported.
        agreement: ``int8`` only: ``{"windows", "same_label", "max_abs_diff"}`` of the export against
            the Keras model on the calibration windows (``None`` otherwise). A low ``same_label``
            means the model does not survive int8 (the default Whisper model does not).
    """

    path: Path
    labels: Path
    format: str
    quantize: str
    classes: List[str]
    window_samples: Optional[int]
    size_bytes: int
    source: Path
    agreement: Optional[dict] = None


def _check_out(out: Path, fmt: str) -> Path:
    out = Path(out)
    if fmt == "tflite" and out.suffix.lower() != TFLITE_SUFFIX:
        raise ParameterError(f"--out for a TFLite export must end in {TFLITE_SUFFIX}, got {str(out)!r}")
    if fmt == "savedmodel" and out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ExportError(f"{out}: exists and is not an empty folder; a SavedModel needs a new folder")
    return out


def _size(path: Path) -> int:
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def export_model(model="default", *, format: str, out, quantize: str = "none",
                 calibration_data: Optional[str] = None, calibration_clips: int = DEFAULT_CALIBRATION_CLIPS,
                 select_tf_ops: bool = False, labels: Optional[List[str]] = None) -> ExportResult:
    """Export ``model`` as ``format`` to ``out``.

    Args:
        model: ``"default"`` (the bundled model), a run folder or a ``.keras`` / ``.h5`` file.
        format: ``"tflite"`` or ``"savedmodel"``.
        out: a ``.tflite`` file path, or a new folder for the SavedModel.
        quantize: TFLite only: ``none``, ``float16``, ``dynamic`` or ``int8``
            (see ``ser_tf.export.tflite``).
        calibration_data: ``int8`` only: ``corpus=PATH`` or ``"demo"`` (default ``"demo"``).
        calibration_clips: clips read for ``int8`` calibration (>= 1).
        select_tf_ops: TFLite: let ops without a builtin run as TensorFlow ops (needs Flex).
        labels: class names in output order, for a model file without ``labels.json``.

    Raises:
        ExportError: an op TFLite lacks (the layer and op are named), or an unusable ``out``.
        ModelError: no such model, or one that is not a ser_tf model.
        ParameterError: an unknown format or quantisation, or options that do not fit together.
    """
    if format not in FORMATS:
        raise ParameterError(f"format must be one of {FORMATS}, got {format!r}")
    tflite.check_quantize(quantize)
    if format == "savedmodel" and quantize != "none":
        raise ParameterError(f"--quantize {quantize} applies to TFLite; a SavedModel keeps the model's own weights")
    if calibration_data is not None and quantize != "int8":
        raise ParameterError(f"--calibration-data applies to --quantize int8, not {quantize!r}")
    out = _check_out(out, format)
    agreement = None
    path = choose_model(model).path
    info = loading.describe_model(path)
    backend = KerasBackend(loading.load_keras_model(path))
    classes = loading.resolve_classes(info, backend.num_outputs, labels=labels)
    window = loading.window_samples(backend.fixed_length, info)
    out.parent.mkdir(parents=True, exist_ok=True)
    if format == "tflite":
        representative = None
        if quantize == "int8":
            windows = calibration_windows(calibration_data or DEMO_CALIBRATION, window_samples=window,
                                          limit=calibration_clips, sample_rate=info.sample_rate)
            representative = lambda: iter(windows)  # noqa: E731
        content = tflite.convert(backend.model, classes, window_samples=window, quantize=quantize,
                                 representative=representative, select_tf_ops=select_tf_ops)
        out.write_bytes(content)
        labels_path, input_samples = out.parent / LABELS_FILE, window
        if quantize == "int8":
            agreement = check_agreement(out, backend, windows[:AGREEMENT_WINDOWS])
    else:
        from ser_tf.export.savedmodel import write_savedmodel

        write_savedmodel(backend.model, classes, out, samples=backend.fixed_length)
        labels_path, input_samples = out / LABELS_FILE, backend.fixed_length
    meta = json.loads(RunFolder(path.parent).labels.read_text(encoding="utf-8")) if info.classes else {}
    meta.update({"classes": list(classes), "sample_rate": info.sample_rate, "duration": window / info.sample_rate})
    meta["export"] = {
        "format": format, "quantize": quantize, "file": out.name, "source": str(path),
        "input": {"name": WAVEFORM_INPUT, "dtype": "float32", "shape": [1 if format == "tflite" else None, input_samples],
                  "sample_rate": info.sample_rate},
        "outputs": list(OUTPUT_NAMES), "signature": "serving_default",
        "calibration": (calibration_data or DEMO_CALIBRATION) if quantize == "int8" else None,
        "agreement": agreement,
    }
    write_json(labels_path, meta)
    return ExportResult(path=out, labels=labels_path, format=format, quantize=quantize, classes=list(classes),
                        window_samples=input_samples, size_bytes=_size(out), source=path, agreement=agreement)


def check_agreement(path: Path, backend: KerasBackend, windows) -> dict:
    """How far the ``.tflite`` file at ``path`` is from the Keras model on ``windows``."""
    import numpy as np

    from ser_tf.inference.backends import TFLiteBackend

    got = TFLiteBackend(path).predict_batch(np.stack(windows))
    want = backend.predict_batch(np.stack(windows))
    return {"windows": len(windows), "same_label": float((got.argmax(1) == want.argmax(1)).mean()),
            "max_abs_diff": float(np.abs(got - want).max())}
