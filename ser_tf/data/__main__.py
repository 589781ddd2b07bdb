"""``python -m ser_tf.data``: what would a run train and test on?

Scans the corpora, probes every file, applies the label set, splits by speaker and prints the
summary of ``ser_tf.data.summary``. Nothing here imports TensorFlow, so it answers in about a
second. Examples::

    python -m ser_tf.data                                   # the built-in demo corpus
    python -m ser_tf.data --data ravdess=/data/ravdess --split kfold
    python -m ser_tf.data --data ravdess=/data/r --data tess=/data/t --labels common6 --json
    python -m ser_tf.data --data ravdess=/data/r --export-tfrecord /data/r-shards --shard-size 1000
    python -m ser_tf.data --data tfrecord=/data/r-shards --verify

Exporting (``--export-tfrecord``) and reading shards (``--data tfrecord=DIR``) import TensorFlow.

Exit status 2 with a one-line message on stderr for bad arguments or unusable data.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from typing import Optional, Sequence

from ser_tf.data.corpora import corpus_names
from ser_tf.data.labels import LABEL_SETS
from ser_tf.data.manifest import LABEL_CONFLICT_POLICIES, load_data
from ser_tf.data.shard_files import MANIFEST_FILE, TFRECORD, verify_shards
from ser_tf.data.shards import DEFAULT_SHARD_SIZE, export_shards, stored_splits
from ser_tf.data.splits import METHODS, make_splits
from ser_tf.data.summary import summarize, summary_dict
from ser_tf.errors import AudioError, DataError, ParameterError
from ser_tf.settings import DataConfig, SerConfig
from ser_tf.utils.cli import HelpFormatter, add_output_flags, apply_output_flags, emit_json

# The defaults of a training run (ser_tf.settings), so that this answers for what train.py does.
_DATA = DataConfig()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ser_tf.data",
        description="Scan speech-emotion corpora, apply a label set, split by speaker, and print "
        "what a training run would see (clips, speakers, skipped files, split protocol).",
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "--data", action="append", metavar="CORPUS=PATH", default=None,
        help=f"a corpus to read, repeatable; CORPUS is one of {', '.join(corpus_names())}, or "
        f"{TFRECORD}=DIR for shards written by --export-tfrecord. "
        "None given: the built-in demo corpus",
    )
    parser.add_argument(
        "--labels", default=_DATA.labels,
        help=f"label set: {', '.join(LABEL_SETS)}, auto (emotions present) or a comma-separated "
        "list of emotions",
    )
    parser.add_argument(
        "--split", choices=(*METHODS, "none"), default=_DATA.split,
        help="split protocol; random mixes speakers (optimistic), none skips splitting",
    )
    parser.add_argument("--seed", type=int, default=SerConfig.seed, help="seed of the split draw")
    parser.add_argument(
        "--val-fraction", type=float, default=_DATA.val_fraction,
        help="share of speakers (clips for random) held out for validation",
    )
    parser.add_argument(
        "--test-fraction", type=float, default=_DATA.test_fraction,
        help="share of speakers (clips for random) held out for testing; speaker and random only "
        "(speaker: 0 for none, a final model)",
    )
    parser.add_argument("--n-folds", type=int, default=_DATA.n_folds, help="folds of --split kfold")
    parser.add_argument(
        "--speaker-pattern", default=None, metavar="REGEX",
        help="folder corpus: regex with a named group 'speaker' searched in each file name",
    )
    parser.add_argument(
        "--on-label-conflict", choices=LABEL_CONFLICT_POLICIES, default=_DATA.on_label_conflict,
        help="identical clips with different labels: drop every copy, keep the first, or stop "
        "with an error listing them",
    )
    parser.add_argument(
        "--no-probe", action="store_true",
        help="do not open the files (faster; unreadable files go unnoticed until training)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument(
        "--export-tfrecord", metavar="OUT", default=None,
        help="also write the clips as TFRecord shards (16 kHz int16 audio, labels, speakers) and a "
        "manifest with the split into OUT (a new folder; any tf.io.gfile path, e.g. gs://)",
    )
    parser.add_argument("--shard-size", type=int, default=DEFAULT_SHARD_SIZE,
                        help="clips per shard of --export-tfrecord")
    parser.add_argument(
        "--verify", action="store_true",
        help="with --data tfrecord=DIR: read every shard (size, SHA-256, records) and report the bad "
        "ones; exit status 1 if any",
    )
    add_output_flags(parser)
    return parser


def check_args(parser: argparse.ArgumentParser, args) -> None:
    """Usage errors (``parser.error``: exit 2, naming the value) before any file is read."""
    if args.export_tfrecord and args.split == "none":
        parser.error("--export-tfrecord stores the split in the manifest; choose a --split other than none")
    if args.export_tfrecord and args.no_probe:
        parser.error("--export-tfrecord decodes every clip; --no-probe does not apply")
    if args.shard_size < 1:
        parser.error(f"--shard-size must be >= 1 clip, got {args.shard_size}")
    # Checked here as well as by make_splits, so that a typo fails before a corpus is scanned.
    if not 0 < args.val_fraction < 1:
        parser.error(f"--val-fraction must lie strictly between 0 and 1, got {args.val_fraction!r}")
    if not 0 <= args.test_fraction < 1 or args.val_fraction + args.test_fraction >= 1:
        parser.error(f"--test-fraction must lie in [0, 1) and leave clips for training with "
                     f"--val-fraction {args.val_fraction!r}, got {args.test_fraction!r}")
    if args.n_folds < 2:
        parser.error(f"--n-folds must be >= 2, got {args.n_folds}")
    if args.verify and not any(spec.strip().lower().startswith(TFRECORD) for spec in args.data or ()):
        parser.error("--verify checks shards: give --data tfrecord=DIR")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    apply_output_flags(args)
    check_args(parser, args)
    if args.export_tfrecord or any(spec.strip().lower().startswith(TFRECORD) for spec in args.data or ()):
        from ser_tf.utils.cli import start_tensorflow

        start_tensorflow(args)  # shards are read and written with tf.io; quietly
    scan_options = None
    if args.speaker_pattern is not None:
        if not any(spec.strip().lower().startswith("folder") for spec in args.data or ()):
            parser.error("--speaker-pattern applies to a folder=PATH corpus, and none is given")
        scan_options = {"folder": {"speaker_pattern": args.speaker_pattern}}
    # Warnings (skipped files, duplicates) are shown as one line each, not with source lines.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            bundle = load_data(
                args.data, labels=args.labels, probe=not args.no_probe,
                dedupe_content=not args.no_probe, scan_options=scan_options,
                on_label_conflict=args.on_label_conflict,
            )
            if args.verify:
                return _verify(bundle.shards)
            splits = None
            if bundle.shards is not None and args.split != "none":
                splits = stored_splits(bundle.shards, bundle.records, method=args.split)
            elif args.split != "none":
                splits = make_splits(
                    bundle.records, method=args.split, val_fraction=args.val_fraction,
                    test_fraction=args.test_fraction, n_folds=args.n_folds, seed=args.seed,
                )
            if args.export_tfrecord:
                _export(bundle, splits, args)
        except (DataError, ParameterError, AudioError) as err:
            _print_warnings(caught)
            print(f"error: {err}", file=sys.stderr)
            return 2
    _print_warnings(caught)
    if args.json:
        emit_json(summary_dict(bundle, splits))  # UTF-8, names as written
        return 0
    text = summarize(bundle, splits)
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `... | head`: the reader left; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _export(bundle, splits, args) -> None:
    manifest = export_shards(
        bundle.records, classes=bundle.label_set.classes, out=args.export_tfrecord, splits=splits,
        shard_size=args.shard_size, label_set_name=bundle.label_set.name,
        extra={"roots": dict(bundle.roots), "is_demo": bool(bundle.is_demo),
               "skipped": [list(s) for s in bundle.skipped], "duplicates": [list(d) for d in bundle.duplicates],
               "label_conflicts": [[kind, [list(c) for c in clips]] for kind, clips in bundle.conflicts],
               "on_label_conflict": bundle.on_label_conflict,
               "dropped": {str(k): v for k, v in bundle.dropped.items()}},
    )
    counts = manifest["counts"]
    print(f"wrote {counts['clips']} clips in {counts['shards']} shard(s) and {MANIFEST_FILE} to "
          f"{args.export_tfrecord}", file=sys.stderr)


def _verify(shard_set) -> int:
    report = verify_shards(shard_set)
    for path, reason in report.bad:
        print(f"bad shard: {path}: {reason}", file=sys.stderr)
    total = len(shard_set.manifest["shards"])
    print(f"{len(report.good)} of {total} shard(s) good ({report.clips} clips); {len(report.bad)} bad")
    return 0 if report.ok else 1


def _print_warnings(caught) -> None:
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
