"""A trained model's class names and settings, and loading it safely.

``--model`` is resolved to a file by :func:`ser_tf.runs.resolve_model_path` (a ``.keras``/``.h5``
file, a run folder, or the ``latest`` run). The class names come from the run's ``labels.json``
beside the file, or from ``--labels``.

Models are always loaded with Keras safe mode on; a file that needs unsafe deserialization (a
``Lambda`` layer holding Python bytecode) is refused, never loaded. Everything except
``load_keras_model`` runs without importing TensorFlow, so the CLI can report a missing model at
once.
"""

from __future__ import annotations

import dataclasses
import json
import re
import zipfile
from pathlib import Path
from typing import List, Optional, Sequence

from ser_tf.constants import DURATION, SAMPLE_RATE
from ser_tf.errors import ModelError, ParameterError
from ser_tf.runs import RunFolder, demo_status


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    """Where a model lives and what its run folder says about it.

    Attributes:
        path: the ``.keras`` / ``.h5`` file.
        run_dir: the run folder holding it, or ``None`` for a bare file.
        classes: class names in output order, or ``None`` when no ``labels.json`` was found.
        sample_rate: rate the model expects, in Hz.
        duration: training clip length in seconds (``None`` if the run does not say).
        arch: architecture name from ``labels.json`` (``None`` if unknown).
        demo_data: the run trained on the synthetic demo corpus: ``labels.json``'s ``demo_data``,
            else (older runs) read from ``config.yaml``'s ``data.corpora``; ``None`` if neither
            says (a bare model file).
    """

    path: Path
    run_dir: Optional[Path]
    classes: Optional[List[str]]
    sample_rate: int
    duration: Optional[float]
    arch: Optional[str]
    demo_data: Optional[bool] = None


def read_labels_file(path: Path) -> dict:
    """Parse and check a run's ``labels.json`` (``{"classes": [...], ...}``)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelError(f"{path}: cannot read labels.json ({err})") from None
    classes = data.get("classes") if isinstance(data, dict) else None
    if not isinstance(classes, list) or not all(isinstance(c, str) and c for c in classes):
        raise ModelError(f"{path}: expected {{\"classes\": [names...]}}, got {str(data)[:120]!r}")
    if len(set(classes)) != len(classes):
        raise ModelError(f"{path}: duplicate class names in {classes}")
    return data


def parse_labels(text: str) -> List[str]:
    """``"neutral, happy,sad"`` -> ``["neutral", "happy", "sad"]``; rejects empty or repeated names."""
    names = [part.strip() for part in str(text).split(",")]
    if len(names) < 2 or not all(names):
        raise ParameterError(f"--labels must list at least two comma-separated names, got {text!r}")
    if len(set(names)) != len(names):
        raise ParameterError(f"--labels repeats a name: {text!r}")
    return names


def _duration_from_config(run_dir: Path) -> Optional[float]:
    path = RunFolder(run_dir).config
    if not path.is_file():
        return None
    import yaml  # only for runs whose labels.json predates the "duration" key

    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return float(config["audio"]["duration"])
    except (yaml.YAMLError, KeyError, TypeError, ValueError):
        return None


def describe_model(path: Path) -> ModelInfo:
    """Read what ``labels.json`` (and, failing that, ``config.yaml``) beside ``path`` say."""
    path = Path(path)
    folder = RunFolder(path.parent)
    labels_path = folder.labels
    run_dir = folder.path if labels_path.is_file() or folder.config.is_file() else None
    meta = read_labels_file(labels_path) if labels_path.is_file() else {}
    duration = meta.get("duration")
    if duration is None and run_dir is not None:
        duration = _duration_from_config(run_dir)
    demo_data = demo_status(run_dir) if run_dir is not None else None  # runs.py owns the rule
    rate = meta.get("sample_rate", SAMPLE_RATE)
    if not isinstance(rate, int) or rate <= 0:
        raise ModelError(f"{labels_path}: sample_rate must be a positive integer, got {rate!r}")
    return ModelInfo(
        path=path,
        run_dir=run_dir,
        classes=meta.get("classes"),
        sample_rate=rate,
        duration=None if duration is None else float(duration),
        arch=meta.get("arch"),
        demo_data=demo_data,
    )


def check_container(path: Path) -> None:
    """Refuse a file that is not even a Keras archive / HDF5 file, with a message saying so."""
    suffix = path.suffix.lower()
    if suffix == ".tflite":
        with open(path, "rb") as f:
            head = f.read(8)
        if head[4:8] != b"TFL3":  # the flatbuffer's file identifier
            raise ModelError(f"{path}: not a TFLite flatbuffer (corrupt or truncated .tflite?)")
    if suffix == ".keras" and not zipfile.is_zipfile(path):
        raise ModelError(f"{path}: not a Keras .keras archive (corrupt or truncated file?)")
    if suffix in (".h5", ".hdf5"):
        with open(path, "rb") as f:
            head = f.read(8)
        if head != b"\x89HDF\r\n\x1a\n":
            raise ModelError(f"{path}: not an HDF5 file (corrupt or truncated .h5?)")


def load_keras_model(path: Path):
    """Load ``path`` with ``safe_mode=True`` after registering ser_tf's custom layers.

    The model must map a waveform batch ``(batch, samples)`` to probabilities
    ``(batch, num_classes)``.

    Raises:
        ModelError: corrupt file, unknown (non-ser_tf) layers, unsafe content, or wrong signature.
    """
    from ser_tf.models import saving  # the one owner of "which modules register ser_tf classes"

    path = Path(path)
    if path.suffix.lower() == ".tflite":
        raise ModelError(
            f"{path}: a TFLite export, which this command cannot use: it needs the Keras model "
            f"(a .keras/.h5 file or a run folder), such as the one the export was made from; "
            f"to check the export itself, run: python audio_test.py --model {path} --file CLIP.wav"
        )
    check_container(path)
    saving.register_serializables()  # outside the try: a broken ser_tf module is a bug, not a bad file
    try:
        model = saving.load_model(path, compile=False, safe_mode=True)
    except Exception as err:  # noqa: BLE001 -- Keras raises many types; all mean "cannot load"
        text = " ".join(str(err).split())
        unknown = re.search(r"Could not locate (?:class|function) '([^']+)'", text)
        if "safe_mode" in text or "unsafe" in text.lower() or "lambda" in text.lower():
            reason = "it needs unsafe deserialization (Python code in a Lambda layer), which is refused"
        elif unknown:
            reason = f"it uses {unknown.group(1)!r}, which is neither a Keras nor a ser_tf layer"
        else:
            reason = f"{type(err).__name__}: {text[:300]}"
        raise ModelError(f"{path}: cannot load as a ser_tf model; {reason}") from None
    _check_signature(model, path)
    return model


def _check_signature(model, path: Path) -> None:
    inputs, outputs = list(model.inputs or []), list(model.outputs or [])
    if len(inputs) != 1 or len(outputs) != 1:
        raise ModelError(
            f"{path}: not a ser_tf model: expected one waveform input and one output, "
            f"got {len(inputs)} inputs and {len(outputs)} outputs"
        )
    in_shape, out_shape = tuple(inputs[0].shape), tuple(outputs[0].shape)
    if len(in_shape) != 2 or len(out_shape) != 2 or not out_shape[1] or out_shape[1] < 2:
        raise ModelError(
            f"{path}: not a ser_tf model: expected input (batch, samples) and output "
            f"(batch, num_classes), got input {in_shape} and output {out_shape}"
        )


def resolve_classes(info: ModelInfo, num_outputs: int, *, labels: Optional[Sequence[str]]) -> List[str]:
    """Class names in output order: ``labels`` if given, else the run's ``labels.json``.

    Raises:
        ModelError: no names available, or their count differs from the model's output size.
    """
    if labels is not None:
        names, origin = list(labels), "--labels"
    elif info.classes is not None:
        names, origin = list(info.classes), str(RunFolder(info.path.parent).labels)
    else:
        raise ModelError(
            f"{info.path}: no labels.json beside the model; pass the class names in output order "
            f'with --labels "name1,name2,..."'
        )
    if len(names) != num_outputs:
        raise ModelError(
            f"{origin} names {len(names)} classes ({', '.join(names)}) but the model "
            f"{info.path} outputs {num_outputs} probabilities"
        )
    return names


def window_samples(fixed_length: Optional[int], info: ModelInfo) -> int:
    """Samples per model input: the model's fixed input length (``None``: not fixed), else the
    run's clip duration."""
    if fixed_length:
        return int(fixed_length)
    return int(round((info.duration or DURATION) * info.sample_rate))
