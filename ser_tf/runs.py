"""The run folder: the one place that knows where a training run's artefacts live.

Training writes this layout, and inference, evaluation, benchmarks and tests find things in it
through :class:`RunFolder`; no other module spells out an artefact's file name::

    <models>/                          $SER_TF_MODELS, else ./models (training and inference alike)
        latest                         text file naming the newest run folder (a symlink works too)
        <arch>-<YYYYmmdd-HHMMSS>[-n]/  one run; -2, -3 ... only if two runs start in one second
            config.yaml                the resolved recipe, with the speakers of every split
            labels.json                class order, label set, sample rate, clip duration, arch,
                                       demo_data (trained on the synthetic demo corpus), corpora
            model.keras, model.h5      the best weights (selected on validation speakers)
            training_history.csv       per-epoch metrics
            logs/                      TensorBoard logs
            wandb/                     with train.py --wandb: the fold's W&B run (offline-run-* without a login)
            backup/                    per-epoch backup of an unfinished fold (for --resume)
            selection.json             the validation score the model was selected on
            report/                    metrics.json, report.md and the figures (test speakers;
                                       a final model, data.test_fraction 0, has none: "test": null)
            export.json                k-fold runs: which fold's model was copied up, and why
            fold-1/ ... fold-k/        k-fold runs: one run folder per fold (loso: the split's name)

Imports only the standard library and ``ser_tf``'s bottom floor, so the command-line tools can
resolve ``--model`` and report a missing model before TensorFlow is imported.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

from ser_tf.errors import ModelError, ParameterError
from ser_tf.utils.io import write_json, write_text

MODELS_ENV = "SER_TF_MODELS"
DEFAULT_MODELS_DIR = Path("models")  # relative to the current directory
LATEST = "latest"
MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
TRAIN_COMMAND = "python train.py --arch cnn_lstm"
FOLD_PREFIX = "fold-"

PathLike = Union[str, os.PathLike]


class NoModelError(ModelError):
    """No ``--model`` was given and no trained run exists yet."""


def fold_name(number: int) -> str:
    """``3`` -> ``"fold-3"``: the name of k-fold split ``number`` (1-based) and of its folder."""
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise ParameterError(f"fold number must be an integer >= 1, got {number!r}")
    return f"{FOLD_PREFIX}{number}"


@dataclasses.dataclass(frozen=True)
class ReportFolder:
    """A report folder (a run's ``report/``, or ``evaluate.py --out``): its two text artefacts.

    The figures beside them are named by :mod:`ser_tf.evaluation.report`, which draws them.
    """

    path: Path

    def __post_init__(self):
        object.__setattr__(self, "path", Path(self.path))

    @property
    def metrics(self) -> Path:
        """``metrics.json``: every number of the report, with its protocol."""
        return self.path / "metrics.json"

    @property
    def markdown(self) -> Path:
        """``report.md``: the readable report."""
        return self.path / "report.md"


@dataclasses.dataclass(frozen=True)
class RunFolder:
    """One run folder (or one fold's folder inside a k-fold run) and the paths of its artefacts.

    Nothing is created or checked on construction; the properties only name paths.
    """

    path: Path

    def __post_init__(self):
        object.__setattr__(self, "path", Path(self.path))

    @property
    def config(self) -> Path:
        """``config.yaml``: the resolved recipe and the speakers of every split."""
        return self.path / "config.yaml"

    @property
    def labels(self) -> Path:
        """``labels.json``: class order, label set, sample rate, duration and arch."""
        return self.path / "labels.json"

    @property
    def model_keras(self) -> Path:
        return self.path / "model.keras"

    @property
    def model_h5(self) -> Path:
        return self.path / "model.h5"

    @property
    def model_files(self) -> Tuple[Path, Path]:
        """``(model.keras, model.h5)``: both are saved; inference prefers the first that exists."""
        return (self.model_keras, self.model_h5)

    @property
    def history_csv(self) -> Path:
        """``training_history.csv``: one row of metrics per epoch (appended across --resume)."""
        return self.path / "training_history.csv"

    @property
    def logs(self) -> Path:
        """``logs/``: TensorBoard event files."""
        return self.path / "logs"

    @property
    def backup(self) -> Path:
        """``backup/``: the per-epoch backup of a fold still training; gone once it finishes."""
        return self.path / "backup"

    @property
    def wandb(self) -> Path:
        """``wandb/``: the fold's Weights & Biases run files (``train.py --wandb``); wandb names
        this folder itself inside the folder it is given."""
        return self.path / "wandb"

    @property
    def selection(self) -> Path:
        """``selection.json``: the monitored validation score the saved model was chosen on."""
        return self.path / "selection.json"

    @property
    def export(self) -> Path:
        """``export.json`` (k-fold runs): which fold's model was copied to the top level."""
        return self.path / "export.json"

    @property
    def report(self) -> ReportFolder:
        """``report/``: the evaluation on the test speakers (k-fold: aggregated over folds)."""
        return ReportFolder(self.path / "report")

    def fold(self, name_or_number: Union[int, str]) -> "RunFolder":
        """The folder of one split: ``fold(2)`` is ``fold-2/``; a string is a split's name."""
        name = fold_name(name_or_number) if not isinstance(name_or_number, str) else name_or_number
        if not name or Path(name).name != name or name in (".", ".."):
            raise ParameterError(f"fold name must be a plain folder name, got {name_or_number!r}")
        return RunFolder(self.path / name)

    def folds(self) -> List["RunFolder"]:
        """The ``fold-*`` folders that exist, sorted by name."""
        return [RunFolder(p) for p in sorted(self.path.glob(FOLD_PREFIX + "*")) if p.is_dir()]

    def model_file(self) -> Path:
        """The model inference loads: ``model.keras``, else ``model.h5``.

        Raises:
            ModelError: neither exists; for a k-fold run without an exported model, the message
                names its folds and how to pass one.
        """
        for path in self.model_files:
            if path.is_file():
                return path
        folds = [f.path.name for f in self.folds()]
        if folds:
            raise ModelError(
                f"{self.path}: k-fold run with one model per fold ({', '.join(folds)}); "
                f"pass one of them, e.g. --model {self.path / folds[0]}"
            )
        names = " or ".join(p.name for p in self.model_files)
        raise ModelError(f"{self.path}: no {names} here; is this a ser_tf run folder?")


# ---------------------------------------------------------------------------------------------
# The models folder: new runs and the latest pointer


def models_dir() -> Path:
    """Where runs live: ``$SER_TF_MODELS``, else ``models`` relative to the current directory."""
    return Path(os.environ.get(MODELS_ENV) or DEFAULT_MODELS_DIR)


def new_run_folder(arch: str, *, models: Optional[PathLike] = None,
                   now: Optional[_dt.datetime] = None) -> RunFolder:
    """Create ``<models>/<arch>-<YYYYmmdd-HHMMSS>`` (``-2``, ``-3`` ... appended if taken).

    Args:
        arch: the architecture name (or any prefix, e.g. ``"hubert-pretrain"``).
        models: the models folder; default :func:`models_dir`.
        now: the timestamp's time; default the current local time.
    """
    if not arch or Path(arch).name != arch:
        raise ParameterError(f"arch must be a plain name to start a run folder with, got {arch!r}")
    root = models_dir() if models is None else Path(models)
    stamp = (now or _dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    path, n = root / f"{arch}-{stamp}", 1
    while path.exists():
        n += 1
        path = root / f"{arch}-{stamp}-{n}"
    path.mkdir(parents=True)
    return RunFolder(path)


def point_latest(run: RunFolder) -> Path:
    """Write ``latest`` beside ``run`` (in its models folder) naming it; returns the pointer."""
    pointer = run.path.parent / LATEST
    write_text(pointer, run.path.name + "\n")
    return pointer


def latest_run(models: Optional[PathLike] = None) -> Optional[RunFolder]:
    """The run named by ``<models>/latest`` (a text file or a symlink), or ``None`` if there is none.

    Args:
        models: the models folder; default :func:`models_dir`.
    """
    directory = models_dir() if models is None else Path(models)
    pointer = directory / LATEST
    if pointer.is_symlink() or pointer.is_dir():
        target = pointer.resolve()
        return RunFolder(target) if target.is_dir() else None
    if not pointer.is_file():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    run = directory / name
    return RunFolder(run) if name and run.is_dir() else None


def resolve_model_path(model: Optional[PathLike] = None, *, models: Optional[PathLike] = None) -> Path:
    """The model file that ``--model`` designates.

    Args:
        model: a ``.keras``/``.h5`` file; a run folder or a fold's folder (its ``model.keras``,
            else ``model.h5``); or ``None`` for the run named by ``<models>/latest``.
        models: the models folder for ``None``; default :func:`models_dir`.

    Raises:
        NoModelError: ``model`` is ``None`` and there is no ``latest`` run; the message says how to
            train one.
        ModelError: the path does not exist, or is neither a model file nor a run folder.
    """
    if model is None:
        directory = models_dir() if models is None else Path(models)
        run = latest_run(directory)
        if run is None:
            raise NoModelError(
                f"no trained model found ({directory / LATEST} does not name a run folder). "
                f"Train one with:\n    {TRAIN_COMMAND}\nor pass --model PATH "
                f"(a .keras/.h5 file or a run folder)"
            )
        return run.model_file()
    path = Path(model)
    if path.is_dir():
        return RunFolder(path).model_file()
    if not path.exists():
        raise ModelError(f"{path}: model not found (expected a .keras/.h5 file or a run folder)")
    if path.suffix.lower() not in MODEL_SUFFIXES:
        raise ModelError(f"{path}: expected a .keras or .h5 model file or a run folder")
    return path


def write_labels(run: RunFolder, *, classes: Sequence[str], label_set: str, sample_rate: int,
                 duration: float, arch: str, demo_data: Optional[bool] = None,
                 corpora: Optional[Sequence[str]] = None) -> Path:
    """Write the run's ``labels.json``; returns its path.

    Args:
        classes: class names in model-output order.
        label_set: the label set's name (``ravdess8``, ``common6``, ``custom`` ...).
        sample_rate: the rate the model expects, in Hz.
        duration: the training clip length, in seconds.
        arch: the architecture name.
        demo_data: the run trained on the built-in synthetic demo corpus (``"demo_data"``);
            left out when None.
        corpora: names of the corpora it trained on, e.g. ``["ravdess"]`` (``"corpora"``); left
            out when None.
    """
    labels = {
        "classes": list(classes),
        "label_set": label_set,
        "sample_rate": int(sample_rate),
        "duration": float(duration),
        "arch": arch,
    }
    if demo_data is not None:
        labels["demo_data"] = bool(demo_data)
    if corpora is not None:
        labels["corpora"] = [str(name) for name in corpora]
    write_json(run.labels, labels)
    return run.labels


def demo_status(run_dir: PathLike) -> Optional[bool]:
    """Whether the run in ``run_dir`` trained on the built-in synthetic demo corpus; ``None`` if
    neither file says.

    Reads ``"demo_data"`` from ``labels.json``; a run written before that key existed falls back
    to ``config.yaml``: an empty ``data.corpora`` (or a ``demo=...`` entry) means the demo corpus.
    """
    run = RunFolder(run_dir)
    try:
        labels = json.loads(run.labels.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        labels = {}
    if isinstance(labels, dict) and isinstance(labels.get("demo_data"), bool):
        return labels["demo_data"]
    return demo_from_config(run.config)


def is_demo_run(run_dir: PathLike) -> bool:
    """True when the run in ``run_dir`` trained on the demo corpus (``demo_status``; unknown: False)."""
    return bool(demo_status(run_dir))


def demo_from_config(path: Path) -> Optional[bool]:
    """``data.corpora`` of a run's ``config.yaml``: empty or naming ``demo`` -> True; None if unreadable."""
    if not path.is_file():
        return None
    import yaml  # only for runs whose labels.json predates the "demo_data" key

    try:
        corpora = (yaml.safe_load(path.read_text(encoding="utf-8")) or {})["data"].get("corpora")
    except (OSError, UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError, AttributeError):
        return None
    if not corpora:
        return True
    return any(str(spec).partition("=")[0].strip() == "demo" for spec in corpora)
