"""``python -m ser_tf.export``: a trained model to TFLite (LiteRT) or SavedModel (TF Serving).

Examples::

    python -m ser_tf.export --model default --format tflite --out exports/ser.tflite
    python -m ser_tf.export --model models/latest --format tflite --quantize int8 \\
        --calibration-data ravdess=/data/ravdess --out exports/ser-int8.tflite
    python -m ser_tf.export --model models/latest --format savedmodel --out exports/ser_savedmodel

Prints the path written and its labels.json. Exit status 2 with a one-line message on stderr for
a model that cannot convert (naming the layer and the op) or bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from ser_tf.export.api import FORMATS  # no TensorFlow at import: --help stays instant
from ser_tf.export.calibration import DEFAULT_CALIBRATION_CLIPS
from ser_tf.export.tflite import QUANTIZE_MODES
from ser_tf.utils.cli import HelpFormatter, add_output_flags, apply_output_flags, start_tensorflow

# Below this share of labels kept on the calibration windows, an int8 export is flagged.
MIN_SAME_LABEL = 0.9


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ser_tf.export", formatter_class=HelpFormatter,
        description="Export a trained model: a .tflite file for LiteRT (phones, edge boxes) or a "
        "SavedModel for TF Serving. Both take a float32 16 kHz waveform and return probabilities, "
        "the label and the class names; a labels.json is written beside the export.",
    )
    parser.add_argument("--model", default="default",
                        help="'default' (the bundled model), a run folder, or a .keras/.h5 file")
    parser.add_argument("--format", choices=FORMATS, required=True, help="what to write")
    parser.add_argument("--quantize", choices=QUANTIZE_MODES, default="none",
                        help="TFLite weights/compute: float32, float16 weights, int8 weights "
                        "(dynamic), or int8 weights and activations (int8, calibrated)")
    parser.add_argument("--calibration-data", default=None, metavar="CORPUS=PATH",
                        help="int8: corpus whose clips calibrate the activations, e.g. "
                        "ravdess=/data/ravdess; default: the demo corpus")
    parser.add_argument("--calibration-clips", type=int, default=DEFAULT_CALIBRATION_CLIPS, metavar="N",
                        help="int8: clips read for calibration, spread evenly over the corpus")
    parser.add_argument("--select-tf-ops", action="store_true",
                        help="TFLite: let ops with no builtin kernel run as TensorFlow ops (the file "
                        "then needs LiteRT's Flex delegate); default: builtins only")
    parser.add_argument("--labels", default=None, help="class names in output order, if the model has no labels.json")
    parser.add_argument("--out", required=True, metavar="PATH",
                        help="a .tflite file, or a new folder for the SavedModel")
    add_output_flags(parser)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    apply_output_flags(args)
    if args.format == "savedmodel" and args.quantize != "none":
        parser.error("--quantize applies to --format tflite")
    if args.calibration_data is not None and args.quantize != "int8":
        parser.error("--calibration-data applies to --quantize int8")
    start_tensorflow(args)
    from ser_tf.errors import SerError
    from ser_tf.export.api import export_model
    from ser_tf.inference.loading import parse_labels

    try:
        labels = parse_labels(args.labels) if args.labels else None
        result = export_model(args.model, format=args.format, out=args.out, quantize=args.quantize,
                              calibration_data=args.calibration_data, calibration_clips=args.calibration_clips,
                              select_tf_ops=args.select_tf_ops, labels=labels)
    except SerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{result.format} ({result.quantize}): {result.path} ({result.size_bytes / 1e6:.2f} MB), "
          f"{len(result.classes)} classes: {', '.join(result.classes)}")
    print(f"labels: {result.labels}")
    if result.agreement is not None:
        a = result.agreement
        print(f"int8 against the Keras model on {a['windows']} calibration windows: same label "
              f"{100 * a['same_label']:.0f}%, largest probability difference {a['max_abs_diff']:.3f}")
        if a["same_label"] < MIN_SAME_LABEL:
            print(f"warning: this model does not survive int8 quantisation ({100 * a['same_label']:.0f}% "
                  f"of labels kept); ship --quantize float16 or none instead", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
