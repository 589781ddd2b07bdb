"""``python -m ser_tf.data``: what would a run train and test on?

Scans the corpora, probes every file, applies the label set, splits by speaker and prints the
summary of ``ser_tf.data.summary``. Nothing here imports TensorFlow, so it answers in about a
second. Examples::

    python -m ser_tf.data                                   # the built-in demo corpus
    python -m ser_tf.data --data ravdess=/data/ravdess --split kfold
    python -m ser_tf.data --data ravdess=/data/r --data tess=/data/t --labels common6 --json

Exit status 2 with a one-line message on stderr for bad arguments or unusable data.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from typing import Optional, Sequence

from ser_tf.data.corpora import corpus_names
from ser_tf.data.labels import LABEL_SETS
from ser_tf.data.manifest import load_data
from ser_tf.data.splits import METHODS, make_splits
from ser_tf.data.summary import summarize, summary_dict
from ser_tf.errors import DataError, ParameterError
from ser_tf.settings import DataConfig, SerConfig
from ser_tf.utils.cli import HelpFormatter, add_output_flags, apply_output_flags

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
        help=f"a corpus to read, repeatable; CORPUS is one of {', '.join(corpus_names())}. "
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
        "--no-probe", action="store_true",
        help="do not open the files (faster; unreadable files go unnoticed until training)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    add_output_flags(parser)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    apply_output_flags(args)
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
            )
            splits = None
            if args.split != "none":
                splits = make_splits(
                    bundle.records, method=args.split, val_fraction=args.val_fraction,
                    test_fraction=args.test_fraction, n_folds=args.n_folds, seed=args.seed,
                )
        except (DataError, ParameterError) as err:
            _print_warnings(caught)
            print(f"error: {err}", file=sys.stderr)
            return 2
    _print_warnings(caught)
    if args.json:
        text = json.dumps(summary_dict(bundle, splits), indent=2)
    else:
        text = summarize(bundle, splits)
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `... | head`: the reader left; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _print_warnings(caught) -> None:
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
