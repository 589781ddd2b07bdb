"""Which model a command or ``ser_tf.load_model`` uses: the one owner of that rule.

* ``"default"``: the bundled default model (``ser_tf.pretrained``), assembled on first use.
* a path: that ``.keras``/``.h5`` file or run folder, or a ``.tflite`` export. A run trained on the synthetic DEMO corpus
  is used, with a warning that it learned synthetic voices.
* nothing: the newest real (non-demo) run in the models folder (``$SER_TF_MODELS``, else
  ``models/``), else the default model. A DEMO run is never picked implicitly.

Choosing needs no TensorFlow, except assembling the default model the first time.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable, Optional

from ser_tf import pretrained, runs
from ser_tf.errors import ModelError
from ser_tf.inference import loading
from ser_tf.inference.backends import is_tflite_path

__all__ = ["ModelChoice", "choose_model", "newest_real_run", "DEMO_WARNING"]

DEMO_WARNING = ("{path} was trained on the synthetic DEMO corpus: its predictions on real speech "
                "mean nothing (use --model default, or a model trained on real speech)")


@dataclasses.dataclass(frozen=True)
class ModelChoice:
    """The model chosen, and why.

    Attributes:
        path: the ``.keras`` / ``.h5`` file.
        source: ``"default"`` (the bundled model), ``"run"`` (found in the models folder) or
            ``"given"`` (named by the caller).
        demo: the model learned the synthetic DEMO corpus.
        note: one line for the user about an implicit choice, or ``None``.
        warning: one line of warning (a DEMO model), or ``None``.
    """

    path: Path
    source: str
    demo: bool = False
    note: Optional[str] = None
    warning: Optional[str] = None


def newest_real_run(models=None) -> Optional[runs.RunFolder]:
    """The newest run in ``models`` (default ``runs.models_dir()``) not trained on the DEMO corpus.

    ``latest`` is taken when it is real; otherwise the run folders are compared by the time their
    model file was written.
    """
    latest = runs.latest_run(models)
    if latest is not None and not runs.is_demo_run(latest.path) and _has_model(latest):
        return latest
    directory = runs.models_dir() if models is None else Path(models)
    if not directory.is_dir():
        return None
    found = []
    for child in directory.iterdir():
        if child.is_dir() and not child.is_symlink():
            run = runs.RunFolder(child)
            if _has_model(run) and not runs.is_demo_run(child):
                found.append((run.model_file().stat().st_mtime, child.name, run))
    return max(found, key=lambda item: item[:2])[2] if found else None


def _has_model(run: runs.RunFolder) -> bool:
    return any(path.is_file() for path in run.model_files)


def choose_model(model=None, *, models=None, log: Optional[Callable[[str], None]] = None,
                 latest_even_if_demo: bool = False) -> ModelChoice:
    """Resolve ``model`` (``"default"``, a path, or ``None``) to a model file, as described above.

    Args:
        model: ``"default"``, a ``.keras``/``.h5`` file or run folder, or ``None``.
        models: the models folder searched when ``model`` is ``None``; default ``runs.models_dir()``.
        log: receives the ``note`` of an implicit choice, and one line before the default model
            is assembled (first use only), as they happen.
        latest_even_if_demo: with ``model=None``, take the ``latest`` run even when it learned the
            DEMO corpus (with the warning): ``evaluate.py`` scores the run just trained, whatever
            its data, where ``audio_test.py`` wants a model of real speech.

    Raises:
        ModelError: a path that is not a model; or the default model cannot be assembled (its
            encoder package is missing or altered).
    """
    if pretrained.is_default_name(model):
        return ModelChoice(pretrained.default_model_path(log=log), "default")
    if is_tflite_path(model):  # an export: no run folder, never a DEMO warning of its own
        if not Path(model).is_file():
            raise ModelError(f"{model}: TFLite model not found")
        return ModelChoice(Path(model), "given")
    if model is not None:
        path = runs.resolve_model_path(model)
        demo = bool(loading.describe_model(path).demo_data)  # None for a bare file: not a run
        return ModelChoice(path, "given", demo=demo,
                           warning=DEMO_WARNING.format(path=path) if demo else None)
    if latest_even_if_demo:
        latest = runs.latest_run(models)
        if latest is not None and _has_model(latest) and runs.is_demo_run(latest.path):
            path = latest.model_file()
            return ModelChoice(path, "run", demo=True, warning=DEMO_WARNING.format(path=path))
    run = newest_real_run(models)
    if run is not None:
        return ModelChoice(run.model_file(), "run")
    directory = runs.models_dir() if models is None else Path(models)
    latest = runs.latest_run(directory)
    skipped = (f"; the DEMO run {latest.path} is used only when named with --model"
               if latest is not None else "")
    note = f"no model trained on real speech in {directory}{skipped}: using the default model"
    if log is not None:
        log(note)
    return ModelChoice(pretrained.default_model_path(log=log), "default", note=note)
