"""``python train.py``: train an architecture on the demo corpus or on real corpora.

The command line only resolves the config; ``ser_tf.training.runner.run_training`` does the work.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from ser_tf.config import deep_merge, load_config, recipe_path
from ser_tf.errors import SerError
from ser_tf.runs import RunFolder, new_run_folder
from ser_tf.settings import SerConfig, from_run_config, resolve
from ser_tf.settings.sections import LABEL_CONFLICT_POLICIES
from ser_tf.training.distribute import STRATEGIES, read_tf_config
from ser_tf.utils.allocator import use_pooling_allocator
from ser_tf.utils.cli import HelpFormatter, add_output_flags, apply_output_flags, start_tensorflow

SPLITS = ("speaker", "kfold", "loso", "random")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="train.py",
        description="Train a speech-emotion model. With no --data it trains on the built-in demo "
        "corpus (synthetic voices), which needs no download.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--arch", default="cnn_lstm", help="architecture; each has a recipe configs/<arch>.yaml")
    parser.add_argument("--config", type=Path, default=None, help="recipe YAML (default: configs/<arch>.yaml)")
    parser.add_argument("--data", action="append", default=None, metavar="CORPUS=PATH",
                        help="corpus to train on, repeatable: ravdess, tess, cremad, emodb, savee, folder; or "
                        "tfrecord=DIR, shards from `python -m ser_tf.data --export-tfrecord` (alone; their "
                        "stored split is used) (default: the built-in demo corpus)")
    parser.add_argument("--speaker-pattern", default=None, metavar="REGEX",
                        help="folder corpus: regex with a named group 'speaker' searched in each file "
                        "name, e.g. '^(?P<speaker>[A-Z]{2})_'; needed for a speaker-independent split")
    parser.add_argument("--labels", default=None, help="label set: common6, ravdess8, all9, all10, auto or a list "
                        "(default: the recipe's)")
    parser.add_argument("--split", choices=SPLITS, default=None, help="split protocol (default: the recipe's)")
    parser.add_argument("--on-label-conflict", choices=LABEL_CONFLICT_POLICIES, default=None,
                        help="identical clips with different labels: drop every copy, keep the first, or stop "
                        "with an error listing them (default: the recipe's data.on_label_conflict, drop)")
    parser.add_argument("--epochs", type=int, default=None, help="maximum epochs (default: the recipe's; "
                        "on the demo corpus at most demo.epochs)")
    parser.add_argument("--batch-size", type=int, default=None, help="batch size (default: the recipe's)")
    parser.add_argument("--seed", type=int, default=None, help="seed of every random source (default: the recipe's)")
    parser.add_argument("--out", type=Path, default=None,
                        help="run folder (default: <arch>-<timestamp> in $SER_TF_MODELS, else in models/)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, e.g. --set train.learning_rate=3e-4 (repeatable)")
    parser.add_argument("--strategy", choices=STRATEGIES, default=None,
                        help="tf.distribute strategy: one device, mirrored over this machine's GPUs (or "
                        "logical CPUs), or multiworker over the machines in $TF_CONFIG (default: the "
                        "recipe's train.strategy; auto: mirrored with several GPUs)")
    parser.add_argument("--resume", type=Path, default=None, metavar="RUN",
                        help="continue an interrupted run folder: finished folds are kept")
    parser.add_argument("--wandb", default=None, metavar="PROJECT",
                        help="also log to this Weights & Biases project (hyperparameters, metrics, per-class "
                        "recall, confusion matrix); offline into the run folder unless logged in. Needs the "
                        "optional extra: pip install -r requirements-extras.txt")
    parser.add_argument("--pretrain", action="store_true",
                        help="self-supervised HuBERT pretraining on the (unlabelled) --data instead of classification")
    add_output_flags(parser)
    return parser


def resolve_config(args, parser) -> SerConfig:
    """The defaults, the recipe, then the flags, then ``--set`` overrides (last wins), checked
    once by ``ser_tf.settings.resolve``. ``--resume`` reads the run folder's own config (only
    ``--strategy`` may change it)."""
    if args.pretrain and args.wandb is not None:
        parser.error("--wandb tracks classifier training, not --pretrain")
    if args.resume is not None:
        if args.wandb is not None:
            parser.error("--wandb cannot be combined with --resume: a resumed run keeps its own config")
        config = from_run_config(load_config(RunFolder(args.resume).config))
        if args.strategy is None:
            return config
        # The devices may change between the interrupted run and its resumption; the model may not.
        return dataclasses.replace(config, train=dataclasses.replace(config.train, strategy=args.strategy))
    path = args.config or recipe_path(args.arch)
    if args.config is None and not path.is_file():
        from ser_tf.models.registry import list_archs

        parser.error(f"unknown --arch {args.arch!r} (no recipe {path}); choose one of: {', '.join(list_archs())}")
    recipe = load_config(path)
    if args.speaker_pattern is not None:
        pattern = {"data": {"scan_options": {"folder": {"speaker_pattern": args.speaker_pattern}}}}
        recipe = deep_merge(recipe, pattern)
    flags = {
        "model.arch": args.arch if args.config is None else (recipe.get("model") or {}).get("arch", args.arch),
        "data.corpora": args.data,
        "data.labels": args.labels,
        "data.split": args.split,
        "data.on_label_conflict": args.on_label_conflict,
        "train.epochs": args.epochs,
        "train.batch_size": args.batch_size,
        "seed": args.seed,
        "train.tracking.wandb_project": args.wandb,
        "train.strategy": args.strategy,
    }
    config = resolve(recipe, flags=flags, overrides=args.overrides)
    if args.speaker_pattern is not None and not any(
        spec.strip().lower().startswith("folder=") for spec in config.data.corpora
    ):
        parser.error("--speaker-pattern applies to a folder=PATH corpus, and none is given")
    if not config.data.corpora and args.epochs is None and not _sets(args.overrides, "train.epochs"):
        # The demo exists to show the whole job in a minute or two, not to train for 100 epochs.
        epochs = min(config.train.epochs, config.demo.epochs)
        config = dataclasses.replace(config, train=dataclasses.replace(config.train, epochs=epochs))
    return config


def _sets(overrides, key: str) -> bool:
    return any(text.partition("=")[0].strip() == key for text in overrides or ())


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    apply_output_flags(args)
    try:
        config = resolve_config(args, parser)
        if config.train.strategy == "multiworker":
            read_tf_config()  # an invalid TF_CONFIG fails here, before TensorFlow starts
        # TensorFlow's pooling CPU allocator, chosen before TensorFlow starts (it reads the choice
        # once): with malloc, every step mmaps and zero-fills its ~700 MB of buffers afresh
        # (ser_tf.utils.allocator; issue 13).
        use_pooling_allocator()
        start_tensorflow(args)  # without its start-up noise, unless --verbose
        from ser_tf.training.tracking import check_settings, require_wandb

        check_settings(config.train.tracking)
        if config.train.tracking.wandb_project:
            require_wandb()  # a missing optional extra fails before any data is read or model built
        from ser_tf.models.registry import get_arch

        get_arch(config.arch)  # an unknown arch fails before any data is read
        if args.pretrain:
            return _pretrain(config, args)
        from ser_tf.evaluation.report import format_summary
        from ser_tf.training.runner import run_training

        result = run_training(config, run_dir=args.resume or args.out, resume=args.resume is not None)
    except SerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: continue with  python train.py --resume <run folder>", file=sys.stderr)
        return 130
    if not result.is_chief:
        print("\nthis worker is done; the chief wrote the run folder")
        return 0
    print()
    print(format_summary(result.summary, result.summary.get("protocol", {})))
    print(f"\nrun folder: {result.run_dir}\npredict:    python audio_test.py --model {result.run_dir} --file clip.wav")
    return 0


def _pretrain(config, args) -> int:
    from ser_tf.training.hubert_pretrain import run_pretraining
    from ser_tf.training.runner import load_bundle

    bundle = load_bundle(config, labels="auto")
    out = args.out or new_run_folder(f"{config.arch}-pretrain").path
    path = run_pretraining(config=config, paths=[r.path for r in bundle.records], out_dir=Path(out))
    print(f"pretrained encoder: {path}\nfine-tune: python train.py --arch {config.arch} "
          f"--set model.pretrained={path}")
    return 0
