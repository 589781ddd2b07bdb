#!/usr/bin/env python
"""Score a trained model on a corpus and write a report: ``python evaluate.py --model RUN --data ravdess=PATH``."""

import argparse
import sys
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    from ser_tf.settings.sections import LABEL_CONFLICT_POLICIES
    from ser_tf.utils.cli import HelpFormatter, add_output_flags

    parser = argparse.ArgumentParser(
        prog="evaluate.py", formatter_class=HelpFormatter,
        description="Score a model on a corpus (cross-corpus too: only the classes both share count).",
    )
    parser.add_argument("--model", default=None, help="'default' (the bundled model), a run folder, or a .keras/.h5 file; default: the run "
                        "named in models/latest (a DEMO run too, with a warning), else 'default'")
    parser.add_argument("--data", action="append", required=True, metavar="CORPUS=PATH", help="corpus to score, repeatable")
    parser.add_argument("--out", type=Path, default=Path("evaluation"), help="report folder")
    parser.add_argument("--labels", default=None, help="class names in output order, if the model has no labels.json")
    parser.add_argument("--split", choices=("speaker", "random"), default=None,
                        help="score only the test part of the run's own hold-out split (rebuilt with its seed); "
                        "default: every clip")
    parser.add_argument("--speaker-pattern", default=None, metavar="REGEX",
                        help="folder corpus: regex with a named group 'speaker' searched in each file name "
                        "(default: the run's own data.scan_options)")
    parser.add_argument("--on-label-conflict", choices=LABEL_CONFLICT_POLICIES, default=None,
                        help="identical clips with different labels: drop every copy, keep the first, or stop with "
                        "an error listing them (default: the run's data.on_label_conflict, drop)")
    add_output_flags(parser)
    return parser


def main(argv=None) -> int:
    from ser_tf.utils.cli import apply_output_flags, start_tensorflow

    parser = build_parser()
    args = parser.parse_args(argv)
    apply_output_flags(args)
    scan_options = None
    if args.speaker_pattern is not None:
        if not any(spec.strip().lower().startswith("folder=") for spec in args.data):
            parser.error("--speaker-pattern applies to a folder=PATH corpus, and none is given")
        scan_options = {"folder": {"speaker_pattern": args.speaker_pattern}}
    start_tensorflow(args)  # without its start-up noise, unless --verbose
    from ser_tf.errors import SerError
    from ser_tf.runs import ReportFolder
    from ser_tf.evaluation.report import format_summary
    from ser_tf.evaluation.scoring import evaluate_model

    labels = [n.strip() for n in args.labels.split(",")] if args.labels else None
    try:
        result = evaluate_model(args.model, data_specs=args.data, out_dir=args.out, labels=labels,
                                split=args.split, scan_options=scan_options,
                                on_label_conflict=args.on_label_conflict)
    except SerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(format_summary(result, result["protocol"]))
    print(f"\nreport: {ReportFolder(args.out).markdown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
