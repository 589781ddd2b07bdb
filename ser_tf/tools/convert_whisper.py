"""Convert a local Whisper checkpoint folder (Hugging Face or CTranslate2) to Keras encoder weights.

    python -m ser_tf.tools.convert_whisper --checkpoint DIR --out models/whisper_tiny.weights.h5 [--compare]

``DIR`` holds ``config.json`` + ``model.safetensors`` / ``pytorch_model.bin`` (what
``huggingface-cli download openai/whisper-tiny --local-dir DIR`` writes) or a CTranslate2
conversion (``model.bin`` + ``config.json``, e.g. faster-whisper's models). Nothing is downloaded.
``--out X.weights.h5`` also writes ``X.config.json`` (the backbone kwargs), which
``ser_tf.models.whisper.convert.load_converted`` reads back. ``--compare`` prints the largest
difference of the front-end and of the encoder against the reference implementation
(``transformers`` / ``ctranslate2``, test requirements).
"""

from __future__ import annotations

import argparse
import sys

from ser_tf.errors import SerError


def main(argv=None) -> int:
    from ser_tf.models.whisper.presets import list_presets

    parser = argparse.ArgumentParser(
        prog="python -m ser_tf.tools.convert_whisper",
        description="Convert a local Whisper checkpoint folder (HF or CTranslate2) to Keras encoder weights.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--checkpoint", required=True, help="HF or CTranslate2 Whisper folder")
    parser.add_argument("--out", help="output X.weights.h5 (X.config.json is written beside it)")
    parser.add_argument("--preset", choices=sorted(list_presets()), help="check the checkpoint has this architecture")
    parser.add_argument("--compare", action="store_true", help="print the largest difference against the reference")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of the synthetic test vowel (--compare)")
    args = parser.parse_args(argv)
    if not args.out and not args.compare:
        parser.error("nothing to do: give --out and/or --compare")
    if args.out and not args.out.endswith(".weights.h5"):
        parser.error(f"--out must end in .weights.h5, got {args.out!r}")
    if args.seconds <= 0 or args.seconds > 30:
        parser.error(f"--seconds must be in (0, 30], got {args.seconds!r}")

    from ser_tf.models.whisper.convert import load_checkpoint, save_converted

    try:
        backbone = load_checkpoint(args.checkpoint, preset=args.preset)
        print(f"converted {args.checkpoint}: {backbone.num_layers} layers, {backbone.hidden_dim} wide, "
              f"{backbone.n_mels} mels, {backbone.count_params():,} parameters")
        if args.out:
            print(f"wrote {save_converted(backbone, args.out)}")
        if args.compare:
            from ser_tf.models.whisper.compare import compare_checkpoint

            for part, diff in compare_checkpoint(args.checkpoint, backbone, seconds=args.seconds).items():
                shown = "no reference installed" if diff is None else f"{diff:.3g}"
                print(f"max |ours - reference| {part}: {shown}")
    except SerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
