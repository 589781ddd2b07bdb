"""Convert a local Hugging Face HuBERT / wav2vec 2.0 checkpoint and compare it with ``transformers``.

The tool half of the keras-hub split: the mapping itself is ``ser_tf.models.hubert.convert``
(config mapping, weight porting, the converted-weights format) and the checkpoint reading is
``ser_tf.models.hubert.hf_checkpoint``; this module adds the reference comparison, which needs
``torch`` and ``transformers`` (requirements-test.txt), and the command line::

    python -m ser_tf.tools.convert_hubert --checkpoint ~/ckpt/hubert-base-ls960 \\
        --out models/pretrained/hubert_base.weights.h5 [--compare]

``--out X.weights.h5`` also writes ``X.config.json`` (the backbone kwargs). ``--compare`` prints
the largest absolute differences: preprocessing and modelling measured apart.
"""

from __future__ import annotations

import argparse
import logging
import sys

import numpy as np

from ser_tf.constants import SAMPLE_RATE
from ser_tf.errors import ModelError
from ser_tf.utils.cli import HelpFormatter, add_output_flags, apply_output_flags, start_tensorflow
from ser_tf.utils.progress import bars_enabled


def compare_with_reference(folder, *, backbone=None, seconds: float = 2.0, batch: int = 2, seed: int = 0) -> dict:
    """Largest absolute differences between the converted backbone and ``transformers``.

    Preprocessing and modelling are measured apart: ``preprocessing`` compares the in-model
    waveform normalisation with HF's feature extractor (None when the checkpoint does not
    normalise); ``last_hidden_state`` and ``hidden_states`` (one per layer) feed both models the
    same HF-preprocessed input. ``padded_*`` repeat the modelling check with the second clip
    half padded and an attention mask, over valid frames only.
    """
    try:
        import torch
        import transformers
    except ImportError as err:
        raise ModelError(f"--compare needs torch and transformers (pip install -r requirements-test.txt): {err}") from None
    # Keras is imported here, not at module level: --help stays instant.
    from ser_tf.models.hubert.backbone import HubertBackbone
    from ser_tf.models.hubert.convert import load_hf_checkpoint

    backbone = backbone if backbone is not None else load_hf_checkpoint(folder)
    if not bars_enabled():  # its "Loading weights" bar, also on a log file or with --quiet
        transformers.utils.logging.disable_progress_bar()
    reference = transformers.AutoModel.from_pretrained(str(folder), attn_implementation="eager").eval()
    rng = np.random.default_rng(seed)
    waveform = (0.1 * rng.standard_normal((batch, int(seconds * SAMPLE_RATE)))).astype(np.float32)
    half = waveform.shape[1] // 2
    mask = np.ones(waveform.shape, dtype=np.int32)
    mask[-1, half:] = 0
    waveform[-1, half:] = 0.0

    # The same weights without in-model normalisation, to feed HF-preprocessed input to both.
    raw = HubertBackbone(**{**backbone.get_config(), "normalize_waveform": False})
    raw.set_weights(backbone.get_weights())
    result = {"preprocessing": None}
    inputs = waveform
    if backbone.normalize_waveform:
        extractor = transformers.AutoFeatureExtractor.from_pretrained(str(folder))
        ours = backbone.get_layer("waveform_normalization")(waveform, mask).numpy()
        clips = [clip if i < batch - 1 else clip[:half] for i, clip in enumerate(waveform)]
        theirs = extractor(clips, sampling_rate=SAMPLE_RATE, padding=True, return_tensors="np",
                           return_attention_mask=True).input_values
        result["preprocessing"] = float(np.max(np.abs(ours - theirs)))
        inputs = theirs.astype(np.float32)

    for tag, attention in (("", None), ("padded_", mask)):
        with torch.no_grad():
            ref = reference(torch.from_numpy(inputs), output_hidden_states=True,
                            attention_mask=None if attention is None else torch.from_numpy(attention))
        out = raw({"waveform": inputs, "padding_mask": mask if attention is not None else np.ones_like(mask)})
        valid = out["padding_mask"].numpy() if attention is not None else None

        def diff(a, b):
            a, b = np.asarray(a), b.detach().numpy()
            if valid is not None:
                a, b = a[valid], b[valid]
            return float(np.max(np.abs(a - b)))

        result[tag + "last_hidden_state"] = diff(out["sequence_output"], ref.last_hidden_state)
        result[tag + "hidden_states"] = [diff(o, r) for o, r in zip(out["hidden_states"], ref.hidden_states)]
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ser_tf.tools.convert_hubert",
        description="Convert a local HF HuBERT / wav2vec2 checkpoint folder to Keras weights.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--checkpoint", required=True, help="HF checkpoint folder (config.json + weights)")
    parser.add_argument("--out", help="output X.weights.h5 (X.config.json is written beside it)")
    parser.add_argument("--compare", action="store_true", help="print the largest difference against transformers")
    parser.add_argument("--seconds", type=float, default=2.0, help="length of the random test audio (--compare)")
    add_output_flags(parser)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    apply_output_flags(args)
    if not args.out and not args.compare:
        parser.error("nothing to do: give --out and/or --compare")
    if args.out and not args.out.endswith(".weights.h5"):
        parser.error(f"--out must end in .weights.h5, got {args.out!r}")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    start_tensorflow(args)  # without its start-up noise, unless --verbose
    from ser_tf.models.hubert.convert import load_hf_checkpoint, save_converted

    try:
        backbone = load_hf_checkpoint(args.checkpoint)
        if args.out:
            print(f"wrote {save_converted(backbone, args.out)} ({backbone.count_params():,} parameters)")
        if args.compare:
            result = compare_with_reference(args.checkpoint, backbone=backbone, seconds=args.seconds)
            for key, value in result.items():
                if isinstance(value, list):
                    value = f"max {max(value):.3g} (per layer: {', '.join(f'{v:.2g}' for v in value)})"
                print(f"{key:>26}: {value if value is None or isinstance(value, str) else f'{value:.3g}'}")
    except ModelError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
