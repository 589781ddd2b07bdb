"""Experiment tracking: what a training run shows in TensorBoard and, on request, in Weights & Biases.

Keras's own ``TensorBoard`` callback writes the per-epoch scalars (loss and accuracy under
``logs/train`` and ``logs/validation``, and the validation UA as ``epoch_ua`` under
``logs/validation``). On top of it, :class:`Tracker` sends to every sink:

* the hyperparameters: TensorBoard's HParams plug-in (the whole resolved config, flattened to
  ``train.learning_rate``-style keys, written to ``logs/``), and the W&B run's config;
* the recall of each class on the validation speakers, every epoch (TensorBoard ``recall/<class>``
  in ``logs/validation``; W&B ``val_recall/<class>``). A class with no validation clip has no
  recall and is left out that epoch;
* the row-normalised validation confusion matrix as an image every
  ``train.tracking.confusion_matrix_every`` epochs and at the last epoch, early stopping included
  (TensorBoard ``confusion_matrix`` in ``logs/validation``; W&B ``val_confusion_matrix``).

Steps are Keras's epoch indices (0-based, as its own epoch scalars), so images and recall line up
with loss and accuracy: with ``confusion_matrix_every: 5`` the images sit at steps 4, 9, 14, ...

Weights & Biases (``wandb``) is an optional extra (``requirements-extras.txt``). Without an API key
(``WANDB_API_KEY``, or the ``.netrc`` entry ``wandb login`` writes) it logs offline into the fold's
``wandb/`` folder, and says so on stderr; ``wandb sync`` uploads such a run later. An explicit
``WANDB_MODE`` always wins.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import json
import netrc
import os
import sys
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple
from urllib.parse import urlparse

import keras

from ser_tf.errors import ConfigError, MissingDependencyError
from ser_tf.settings import TrackingConfig

EXTRAS_HINT = "pip install -r requirements-extras.txt"
_WANDB_HOST = "https://api.wandb.ai"  # wandb's default WANDB_BASE_URL: the host its .netrc entry names


@dataclasses.dataclass(frozen=True)
class TrackingContext:
    """What the trackers of one fold need to know about it.

    Attributes:
        settings: the config's ``train.tracking`` section.
        class_names: the model's classes in output order.
        hparams: the resolved config as nested plain data (``SerConfig.to_dict()``).
        group: the run folder's name: one W&B group per ``train.py`` run.
        name: the split's name (``holdout``, ``fold-2``, ...): one W&B run per fold.
    """

    settings: TrackingConfig
    class_names: Tuple[str, ...]
    hparams: Mapping[str, Any]
    group: str
    name: str


def tracking_context(config, *, class_names, fold_dir: Path, split_name: str) -> TrackingContext:
    """The context of the fold trained in ``fold_dir`` from ``config`` (a ``SerConfig``).

    A k-fold run keeps each fold in a subfolder named after its split, so the group is then the
    parent folder's name; a single-split run's fold folder is the run folder itself.
    """
    fold_dir = Path(fold_dir)
    group = fold_dir.parent.name if fold_dir.name == split_name else fold_dir.name
    check_settings(config.train.tracking)
    return TrackingContext(config.train.tracking, tuple(str(c) for c in class_names), config.to_dict(),
                           group, split_name)


def check_settings(settings: TrackingConfig) -> None:
    """Refuse a ``train.tracking`` section that cannot work, naming the key and the value."""
    every = settings.confusion_matrix_every
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ConfigError(f"train.tracking.confusion_matrix_every must be an integer >= 1 (epochs), got {every!r}")
    project = settings.wandb_project
    if project is not None and (not isinstance(project, str) or not project.strip() or "/" in project):
        raise ConfigError(f"train.tracking.wandb_project must be a W&B project name without '/', got {project!r}")


def require_wandb():
    """The ``wandb`` module, or a :class:`MissingDependencyError` saying what to install."""
    try:
        import wandb
    except ImportError as err:
        raise MissingDependencyError(
            f"--wandb needs the optional package 'wandb', which is not installed ({err}); "
            f"install it with: {EXTRAS_HINT}"
        ) from None
    return wandb


def wandb_mode(environ: Mapping[str, str] = os.environ) -> Tuple[str, Optional[str]]:
    """``(mode, why)``: the W&B mode to run in, and a note for the user when it had to be offline.

    ``WANDB_MODE`` as given; else ``online`` with an API key in ``WANDB_API_KEY`` or in the
    ``.netrc`` entry of the W&B host (``WANDB_BASE_URL``; the file ``$NETRC``, else ``~/.netrc``),
    as ``wandb login`` leaves it; else ``offline``.
    """
    if environ.get("WANDB_MODE"):
        return environ["WANDB_MODE"], None
    if environ.get("WANDB_API_KEY") or _netrc_has_key(environ):
        return "online", None
    return "offline", ("W&B: no API key or login found (WANDB_API_KEY, `wandb login`), so the run is "
                       "logged offline into its run folder's wandb/; upload it later with `wandb sync`")


def _netrc_has_key(environ: Mapping[str, str]) -> bool:
    host = urlparse(environ.get("WANDB_BASE_URL", _WANDB_HOST)).hostname
    path = environ.get("NETRC") or os.path.join(os.path.expanduser("~"), ".netrc")
    try:
        entry = netrc.netrc(path).authenticators(host)
    except (OSError, netrc.NetrcParseError):
        return False  # no readable .netrc: no login
    return bool(entry and entry[2])


def flat_hparams(hparams: Mapping[str, Any], prefix: str = "") -> Dict[str, Any]:
    """``{"train.learning_rate": 0.001, ...}``: nested config as the scalar values HParams takes
    (bool, int, float, str). Lists, empty mappings and ``None`` become their JSON text."""
    flat = {}
    for key, value in hparams.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flat_hparams(value, prefix=f"{name}."))
        elif isinstance(value, (bool, int, float, str)):
            flat[name] = value
        else:
            flat[name] = json.dumps(value, default=str)
    return flat


class Tracker(keras.callbacks.Callback):
    """Sends the validation recall and confusion matrix, and the hyperparameters, to its sinks.

    It reads the metrics ``validation`` (a ``ValidationMetrics`` callback) measured this epoch, so it
    must come after it, and after ``EarlyStopping``, whose stop decision makes an epoch the last.

    Args:
        validation: the run's ``ser_tf.training.callbacks.ValidationMetrics``.
        context: the fold's :class:`TrackingContext`.
        sinks: objects with ``start(context)``, ``log_epoch(epoch, *, logs, recall, confusion_png)``
            and ``close()``: :class:`TensorBoardSink`, :class:`WandbSink`.
    """

    def __init__(self, validation, *, context: TrackingContext, sinks):
        super().__init__()
        self.validation = validation
        self.context = context
        self.sinks = list(sinks)

    def on_train_begin(self, logs=None):
        for sink in self.sinks:
            sink.start(self.context)

    def on_epoch_end(self, epoch, logs=None):
        from ser_tf.evaluation.figures import confusion_matrix_png

        metrics = self.validation.metrics
        recall, png = {}, None
        if metrics is not None:
            recall = {name: row["recall"] for name, row in metrics["per_class"].items() if row["recall"] is not None}
            last = epoch + 1 == self.params.get("epochs") or self.model.stop_training
            if (epoch + 1) % self.context.settings.confusion_matrix_every == 0 or last:
                png = confusion_matrix_png(
                    metrics["confusion_matrix"], class_names=self.context.class_names,
                    title=f"Validation confusion matrix, epoch {epoch + 1} (row-normalised: diagonal = recall)")
        for sink in self.sinks:
            sink.log_epoch(epoch, logs=dict(logs or {}), recall=recall, confusion_png=png)

    def on_train_end(self, logs=None):
        for sink in self.sinks:
            sink.close()


class TensorBoardSink:
    """HParams in ``log_dir``; recall scalars and confusion-matrix images in ``log_dir/validation``,
    beside the event file of Keras's own ``TensorBoard`` callback (TensorBoard reads both)."""

    def __init__(self, log_dir: Path):
        self.log_dir = Path(log_dir)
        self.writer = None

    def start(self, context: TrackingContext) -> None:
        import tensorflow as tf
        from tensorboard.plugins.hparams import api as hp

        hparams = {**flat_hparams(context.hparams), "classes": ",".join(context.class_names)}
        writer = tf.summary.create_file_writer(str(self.log_dir))
        with writer.as_default():
            hp.hparams(hparams, trial_id=f"{context.group}/{context.name}")
        writer.close()
        self.writer = tf.summary.create_file_writer(str(self.log_dir / "validation"))

    def log_epoch(self, epoch: int, *, logs, recall, confusion_png) -> None:
        import tensorflow as tf

        with self.writer.as_default(step=epoch):
            for name, value in recall.items():
                tf.summary.scalar(f"recall/{name}", value)
            if confusion_png is not None:
                tf.summary.image("confusion_matrix", tf.image.decode_png(confusion_png, channels=4)[tf.newaxis])
        self.writer.flush()  # a run stopped mid-way keeps what it logged

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class WandbSink:
    """One W&B run per fold, in ``directory/wandb``: the config, every epoch's Keras metrics
    (``loss``, ``val_ua``, ...) with ``val_recall/<class>``, and ``val_confusion_matrix`` images."""

    def __init__(self, project: str, directory: Path):
        self.project = project
        self.directory = Path(directory)
        self.run = None

    def start(self, context: TrackingContext) -> None:
        wandb = require_wandb()
        mode, why = wandb_mode()
        if why:
            _tell_once(why)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.run = wandb.init(
            project=self.project, dir=str(self.directory), group=context.group, name=context.name,
            job_type="train", mode=mode, reinit="create_new",
            config={**context.hparams, "classes": list(context.class_names)},
        )

    def log_epoch(self, epoch: int, *, logs, recall, confusion_png) -> None:
        import wandb
        from PIL import Image

        payload = {key: float(value) for key, value in logs.items() if _is_number(value)}
        payload["epoch"] = epoch + 1
        payload.update({f"val_recall/{name}": value for name, value in recall.items()})
        if confusion_png is not None:
            image = Image.open(io.BytesIO(confusion_png))
            payload["val_confusion_matrix"] = wandb.Image(image, caption=f"validation, epoch {epoch + 1}")
        self.run.log(payload, step=epoch)

    def close(self) -> None:
        if self.run is not None:
            self.run.finish()
            self.run = None


def _is_number(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


@functools.lru_cache(maxsize=None)
def _tell_once(message: str) -> None:
    print(message, file=sys.stderr)  # once per process, not once per fold


def make_trackers(validation, *, context: TrackingContext, log_dir: Path, fold_dir: Path):
    """The :class:`Tracker` callback for ``context.settings``, or ``None`` when nothing is tracked."""
    sinks = []
    if context.settings.tensorboard:
        sinks.append(TensorBoardSink(log_dir))
    if context.settings.wandb_project:
        sinks.append(WandbSink(context.settings.wandb_project, fold_dir))  # wandb adds RunFolder.wandb
    return Tracker(validation, context=context, sinks=sinks) if sinks else None
